from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("rankings/", views.rankings_page, name="rankings"),
    path("workload/", views.workload_page, name="workload"),
    path("orders/", views.orders_page, name="orders"),
    path("appraisals/", views.appraisal_list, name="appraisals"),
    path("appraisals/compute/", views.appraisal_compute, name="appraisal-compute"),
    path("appraisals/<str:month>/", views.appraisal_detail, name="appraisal"),
    path("appraisals/<str:month>/sign/", views.appraisal_sign, name="appraisal-sign"),
]

from django.urls import path

from . import forecast_views, report_views, views

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
    path("reports/", report_views.report_list, name="report-list"),
    path("reports/generate/", report_views.report_generate, name="report-generate"),
    path("reports/<int:pk>/<str:fmt>/", report_views.report_download, name="report-download"),
    path(
        "reports/subscriptions/",
        report_views.subscription_create,
        name="reportsubscription-create",
    ),
    path(
        "reports/subscriptions/<int:pk>/toggle/",
        report_views.subscription_toggle,
        name="reportsubscription-toggle",
    ),
    path(
        "reports/subscriptions/<int:pk>/delete/",
        report_views.subscription_delete,
        name="reportsubscription-delete",
    ),
    path("forecast/", forecast_views.forecast_page, name="forecast"),
    path("hotspots/", forecast_views.hotspots_page, name="hotspots"),
    path("hotspots/orders/", forecast_views.hotspot_orders_page, name="hotspot-orders"),
]

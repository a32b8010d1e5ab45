from __future__ import annotations

from django.urls import path

from . import views

app_name = "feedback"

urlpatterns = [
    path("t/<str:token>/rate/", views.rate, name="rate"),
    path("visits/", views.visit_queue, name="visit-queue"),
    path("visits/<str:number>/", views.visit, name="visit"),
    path("referrals/", views.referrals, name="referrals"),
    path("referrals/<int:pk>/close/", views.close_referral, name="referral-close"),
    path("qc/", views.qc_queue, name="qc-queue"),
    path("qc/<int:pk>/", views.qc_check, name="qc-check"),
    path("complaints/", views.complaint_list, name="complaint-list"),
    path("complaints/new/", views.complaint_new, name="complaint-new"),
    path("complaints/<str:number>/", views.complaint_detail, name="complaint-detail"),
    path("inspections/", views.inspection_list, name="inspection-list"),
    path("inspections/<int:pk>/", views.inspection_detail, name="inspection-detail"),
]

from django.urls import path

from . import views

app_name = "workorders"

urlpatterns = [
    path("", views.order_list, name="order-list"),
    path("dispatch/", views.dispatch_board, name="dispatch-board"),
    path("mine/", views.tech_list, name="tech-list"),
    path("changes/", views.change_queue, name="change-queue"),
    path("expert/", views.expert_queue, name="expert-queue"),
    path("<str:number>/", views.order_detail, name="order-detail"),
    path("<str:number>/actions/<str:action>/", views.order_action, name="order-action"),
]

from django.urls import path

from . import views

app_name = "places"

urlpatterns = [
    path("room/<str:code>/qr.svg", views.room_qr_svg, name="room-qr-svg"),
    path("room/<str:code>/qr.png", views.room_qr_png, name="room-qr-png"),
    path("asset/<str:code>/qr.svg", views.asset_qr_svg, name="asset-qr-svg"),
    path("asset/<str:code>/qr.png", views.asset_qr_png, name="asset-qr-png"),
    path("<str:code>/qr.pdf", views.building_qr_pdf, name="building-qr-pdf"),
]

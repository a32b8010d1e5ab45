from django.urls import path

from repairhub.intake import views

app_name = "intake"

urlpatterns = [
    path("report/", views.report, name="report"),
    path("r/<str:code>", views.qr, name="qr"),
    path("r/a/<str:code>", views.qr_asset, name="qr-asset"),
    path("report/duplicates/", views.duplicates, name="duplicates"),
    path("report/follow/<str:number>/", views.follow, name="follow"),
    path("report/rework/", views.rework, name="rework"),
    path("report/places/", views.places, name="places"),
    path("t/<str:token>", views.track, name="track"),
    path("t/<str:token>/<str:action>", views.track_action, name="track-action"),
    path("my/", views.my_orders, name="my-orders"),
    path("desk/", views.desk, name="desk"),
    path("desk/caller/", views.desk_caller, name="desk-caller"),
    path("desk/place/", views.desk_place, name="desk-place"),
    path("desk/rework/", views.desk_rework, name="desk-rework"),
    path("desk/queue/", views.desk_queue, name="desk-queue"),
    path("desk/orders/<str:number>/<str:action>", views.desk_action, name="desk-action"),
]

from django.urls import path

from . import views

app_name = "notify"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:message_id>/read/", views.mark_read, name="message-read"),
    path("read/", views.mark_all_read, name="read-all"),
    path("preferences/", views.preference_edit, name="preferences"),
]

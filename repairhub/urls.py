from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

from repairhub.accounts import views as account_views

urlpatterns = [
    path("", account_views.home, name="home"),
    path("accounts/", include("repairhub.accounts.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]

# Uploaded files: served by RepairHub in the embedded mode only; a shared storage or the
# reverse proxy serves them when scaled out.
if settings.DEBUG or settings.TESTING:
    urlpatterns += [path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT})]

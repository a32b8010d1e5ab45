import os

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

from repairhub.accounts import views as account_views
from repairhub.api.urls import urlpatterns as api_urlpatterns

urlpatterns = [
    path("", account_views.home, name="home"),
    path("", include("repairhub.intake.urls")),
    path("orders/", include("repairhub.workorders.urls")),
    path("dispatch/", include("repairhub.dispatch.urls")),
    path("sla/", include("repairhub.sla.urls")),
    path("places/", include("repairhub.places.urls")),
    path("feedback/", include("repairhub.feedback.urls")),
    path("notifications/", include("repairhub.notify.urls")),
    path("analytics/", include("repairhub.analytics.urls")),
    path("accounts/", include("repairhub.accounts.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    *api_urlpatterns,
]

# Uploaded files: served by RepairHub in the embedded mode only; a shared storage or the
# reverse proxy serves them when scaled out.
if settings.DEBUG or settings.TESTING:
    urlpatterns += [path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT})]

# The benchmark's floor (bench/intake.py): a bare view inserting one row, same server.
if os.environ.get("REPAIRHUB_BENCH_FLOOR") == "1":
    from bench.floor import floor_view

    urlpatterns += [path("_bench/floor", floor_view)]

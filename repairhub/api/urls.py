"""Spliced into the root URLconf (repairhub/urls.py): everything under /api/v1/."""

from __future__ import annotations

from django.urls import path

from .api import api
from .docs import docs_asset

urlpatterns = [
    path("api/v1/docs/assets/<str:name>", docs_asset, name="api-docs-asset"),
    path("api/v1/", api.urls),
]

"""The live map and position reports (DP3)."""

from django.urls import path

from . import map_views

urlpatterns: list = [
    path("map/", map_views.live_map, name="map"),
    path("map/feed.json", map_views.map_feed, name="map-feed"),
    path("position/", map_views.report_position, name="position-report"),
]

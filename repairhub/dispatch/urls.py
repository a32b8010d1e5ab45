from django.urls import include, path

from . import views

app_name = "dispatch"

urlpatterns = [
    path("", include("repairhub.dispatch.map_urls")),
    path("orders/<str:number>/candidates/", views.candidates, name="candidates"),
    path("orders/<str:number>/auto/", views.auto, name="auto"),
    path("pool/", views.pool, name="pool"),
    path("pool/<str:number>/claim/", views.claim, name="claim"),
    path("teams/<str:code>/rebalance/", views.rebalance, name="rebalance"),
    path("plans/", views.plans_page, name="plans"),
    path("plans/<int:pk>/", views.plan_detail, name="plan-detail"),
    path("plans/<int:pk>/<str:verb>/", views.plan_action, name="plan-action"),
]

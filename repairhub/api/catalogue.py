"""/api/v1/categories and /api/v1/places: what a report form offers to choose from."""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from repairhub.places.models import Place, PlaceKind
from repairhub.workorders.errors import NotVisible
from repairhub.workorders.models import Category

from .auth import OPTIONAL
from .schemas import CategoryListOut, ErrorOut, PlaceListOut, category_out, place_out

router = Router(tags=["catalogue"])


@router.get(
    "/categories",
    auth=OPTIONAL,
    response={200: CategoryListOut, 401: ErrorOut},
    summary="报修类别",
)
def list_categories(request: HttpRequest):
    """Active categories. Staff see all of them; everyone else only those reporters may pick."""
    user = request.auth
    qs = Category.objects.active()
    if not (user.is_authenticated and user.is_staff_member):
        qs = qs.filter(reporter_selectable=True)
    items = [category_out(c) for c in qs.select_related("parent")]
    return {"items": items, "count": len(items)}


@router.get(
    "/places",
    auth=OPTIONAL,
    response={200: PlaceListOut, 401: ErrorOut, 404: ErrorOut},
    summary="报修地点",
)
def list_places(request: HttpRequest, parent: str = ""):
    """The active children of `parent`, or the campuses when it is absent."""
    qs = Place.objects.active()
    parent = parent.strip()
    if parent:
        node = qs.filter(code=parent).first()
        if node is None:
            raise NotVisible(
                _("未知的地点编码“%(code)s”。") % {"code": parent}, code="unknown_place"
            )
        qs = qs.filter(parent=node)
    else:
        qs = qs.filter(parent__isnull=True, kind=PlaceKind.CAMPUS)
    children = Place.objects.active().filter(parent=OuterRef("pk"))
    qs = qs.annotate(has_children=Exists(children)).order_by("sort", "code")
    items = [place_out(p) for p in qs]
    return {"items": items, "count": len(items)}

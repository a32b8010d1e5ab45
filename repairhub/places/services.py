"""Writes for the place tree (campus → building → floor → room) and the assets in it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction

from .models import Asset, Place


@transaction.atomic
def create_place(
    *,
    kind: str,
    code: str,
    name: str,
    parent: Place | None = None,
    latitude: Decimal | str | None = None,
    longitude: Decimal | str | None = None,
    sort: int = 0,
) -> Place:
    """Add a node to the tree. The kind must fit under the parent's (ValidationError if not)."""
    place = Place(
        kind=kind,
        code=code,
        name=name,
        parent=parent,
        latitude=Decimal(str(latitude)) if latitude is not None else None,
        longitude=Decimal(str(longitude)) if longitude is not None else None,
        sort=sort,
    )
    place.full_clean(exclude=["path", "full_name"])
    place.save()
    return place


@transaction.atomic
def create_asset(
    *,
    code: str,
    name: str,
    place: Place,
    category=None,
    model: str = "",
    serial: str = "",
    installed_on: date | None = None,
) -> Asset:
    """Register an asset at a place (ValidationError, in words, for a bad code, a campus or
    an inactive place, a category that is not a selectable leaf, a future installation date)."""
    asset = Asset(
        code=(code or "").strip(),
        name=(name or "").strip(),
        place=place,
        category=category,
        model=(model or "").strip(),
        serial=(serial or "").strip(),
        installed_on=installed_on,
    )
    asset.full_clean()
    asset.save()
    return asset

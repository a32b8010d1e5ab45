"""Writes for the place tree: campus → building → floor → room."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from .models import Place


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

from __future__ import annotations

import pytest

from repairhub.places.services import create_place


@pytest.fixture
def building(db):
    """东校区 / 3号楼 with 14 active rooms on floors 2 and 10, and one inactive room."""
    campus = create_place(kind="campus", code="E", name="东校区")
    building = create_place(
        kind="building", code="E03", name="3号楼", parent=campus, latitude="30.5", longitude="114.4"
    )
    for floor_no in (10, 2):  # created out of order: the sheet still lists floor 2 first
        floor = create_place(
            kind="floor", code=f"E03-{floor_no}F", name=f"{floor_no}层", parent=building
        )
        for n in range(1, 8):
            create_place(
                kind="room",
                code=f"E03-{floor_no}{n:02d}",
                name=f"{floor_no}{n:02d}",
                parent=floor,
            )
    return building

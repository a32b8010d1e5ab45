from __future__ import annotations

import pytest
import time_machine

from .support import at


@pytest.fixture
def clock():
    """Time stands still at 09:00 on Tuesday 14 October 2025 until `clock.move_to(...)`."""
    with time_machine.travel(at(2025, 10, 14, 9, 0), tick=False) as traveller:
        yield traveller

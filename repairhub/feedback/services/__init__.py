"""The only write path of the feedback app, one module per subject:

ratings (FQ1) · visits (FQ2) · complaints (FQ3) · quality (FQ4) · warranty (FQ5) ·
inspections (FQ6). Every function takes the actor as `by` and raises workorders.errors.
"""

from .complaints import add_entry, assign_handler, register_complaint
from .inspections import (
    add_rectification,
    complete_rectification,
    plan_inspection,
    record_inspection,
    verify_rectification,
)
from .quality import add_check_photos, draw_sample, record_check, replay
from .ratings import auto_confirm_due, change_rating, rate_order
from .visits import close_referral, record_visit, schedule_follow_up
from .warranty import link_rework, rework_candidate, warranty_days


def on_order_event(event) -> None:
    """Subscriber for workorders/subscribers.py (called inside the event's transaction)."""
    from .visits import on_order_event as schedule

    schedule(event)


__all__ = [
    "add_check_photos",
    "add_entry",
    "add_rectification",
    "assign_handler",
    "auto_confirm_due",
    "change_rating",
    "close_referral",
    "complete_rectification",
    "draw_sample",
    "link_rework",
    "on_order_event",
    "plan_inspection",
    "rate_order",
    "record_check",
    "record_inspection",
    "record_visit",
    "register_complaint",
    "replay",
    "rework_candidate",
    "schedule_follow_up",
    "verify_rectification",
    "warranty_days",
]

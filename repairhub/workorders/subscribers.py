"""Who reacts to work-order events, by dotted path (no Django signals for our own flow).

Each subscriber is called inside the transaction that wrote the event, so the outbox rows it
writes commit or roll back with the change; anything that talks to the outside world must be
deferred with transaction.on_commit.

A new order is first shown to the preparers, before its transaction begins: what they can
work out from the unsaved order (the SLA clocks and the deadline that goes into the order's
own row) is then not computed while the database is held for writing.
"""

from __future__ import annotations

from django.utils.module_loading import import_string

SUBSCRIBERS: list[str] = [
    "repairhub.notify.receipts.on_order_event",
    "repairhub.dispatch.services.on_order_event",
    "repairhub.sla.services.on_order_event",
    "repairhub.supervision.services.on_order_event",
    "repairhub.feedback.services.on_order_event",
]

PREPARERS: list[str] = [
    "repairhub.sla.services.prepare_new_order",
]


def prepare(order) -> None:
    """Before a new (unsaved) order's transaction; its submission is published after."""
    for path in PREPARERS:
        import_string(path)(order)


def publish(event) -> None:
    for path in SUBSCRIBERS:
        import_string(path)(event)

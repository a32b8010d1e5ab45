"""Who reacts to work-order events, by dotted path (no Django signals for our own flow).

Each subscriber is called inside the transaction that wrote the event, so the outbox rows it
writes commit or roll back with the change; anything that talks to the outside world must be
deferred with transaction.on_commit.
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


def publish(event) -> None:
    for path in SUBSCRIBERS:
        import_string(path)(event)

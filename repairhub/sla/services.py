"""Placeholder: reacts to work-order events (subscribers.py); being built."""

from __future__ import annotations


def on_order_event(event) -> None:
    return None

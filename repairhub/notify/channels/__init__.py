"""Delivery channels of the outbox: SMS (Aliyun, Tencent, console), e-mail, WeCom and DingTalk
group robots, signed partner webhooks. See docs/notify-channels.md.

    channel_for("sms").send(Outgoing(key="msg-1", to="13800138000", body="…",
                                     template="workorder.dispatched", params={...}))
"""

from __future__ import annotations

from .base import (
    BACKENDS,
    Channel,
    Outcome,
    Outgoing,
    build_channel,
    channel_for,
    configured_channels,
)
from .webhook import verify_signature

__all__ = [
    "BACKENDS",
    "Channel",
    "Outcome",
    "Outgoing",
    "build_channel",
    "channel_for",
    "configured_channels",
    "verify_signature",
]

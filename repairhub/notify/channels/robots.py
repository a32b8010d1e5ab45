"""Group robots: WeCom (企业微信群机器人) and DingTalk (钉钉自定义机器人).

- WeCom: https://developer.work.weixin.qq.com/document/path/91770 (message format, @ lists,
  "每个机器人发送的消息不能超过20条/分钟")
- DingTalk: https://open.dingtalk.com/document/robots/custom-robot-access (message format, at)
  and https://open.dingtalk.com/document/robots/customize-robot-security-settings (加签:
  timestamp in ms, sign = urlEncode(base64(HmacSHA256(secret, timestamp + "\\n" + secret))))

Both answer HTTP 200 when they refuse a message, so the `errcode` in the body decides. Both
allow 20 messages a minute per robot (DingTalk then blocks the robot for 10 minutes), so each
robot has a rolling-minute budget in the shared cache; a message over budget is not sent and
comes back as a retry for the worker's next round — nothing here sleeps.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping
from contextlib import suppress
from typing import Any
from urllib.parse import quote_plus

from django.core.cache import BaseCache, caches
from django.core.exceptions import ImproperlyConfigured

from .base import Clock, HttpChannel, Outcome, Outgoing, Reply, status_outcome

RATE_LIMIT = 20  # messages per robot per rolling minute, both providers
WECOM_MAX_BYTES = 2048  # text.content limit of the WeCom robot

_MOBILE = re.compile(r"^(?:\+?86|0086)?1[3-9]\d{9}$", re.ASCII)


class RateLimiter:
    """At most `limit` messages per rolling `window` seconds per key, across processes.

    Counts live in `bucket`-second slots of the Django cache (one atomic `incr` per message on
    Redis or locmem). A message counts against its key until between `window` and
    `window + bucket` seconds later: never more than `limit` in any `window` seconds, at the
    price of waiting up to one slot longer than a provider might. The database cache of the
    embedded mode increments read-then-write, so two workers racing may let one extra
    message through; the provider's own errcode for "too fast" is then a retry too.
    """

    def __init__(
        self,
        *,
        limit: int = RATE_LIMIT,
        window: int = 60,
        bucket: int = 10,
        clock: Clock = time.time,
        cache_alias: str = "default",
    ) -> None:
        self.limit = limit
        self.window = window
        self.bucket = bucket
        self.clock = clock
        self.cache_alias = cache_alias

    @property
    def cache(self) -> BaseCache:
        return caches[self.cache_alias]

    def _key(self, key: str, slot: int) -> str:
        return f"notify:rate:{key}:{slot}"

    def acquire(self, key: str) -> bool:
        """Take one message's place in the budget of `key`; False when it is spent."""
        cache = self.cache
        slot = int(self.clock() // self.bucket)
        ttl = self.window + 2 * self.bucket
        current = self._key(key, slot)
        cache.add(current, 0, timeout=ttl)
        try:
            mine = cache.incr(current)
        except ValueError:  # expired between add and incr
            cache.set(current, 1, timeout=ttl)
            mine = 1
        earlier = [self._key(key, s) for s in range(slot - self.window // self.bucket, slot)]
        total = mine + sum(int(v) for v in cache.get_many(earlier).values())
        if total > self.limit:
            with suppress(ValueError):
                cache.decr(current)
            return False
        return True


def split_mentions(mentions: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(user ids, mobiles). "mobile:…" and "user:…" say which; otherwise a mainland mobile
    number is a mobile and anything else a user id."""
    users: list[str] = []
    mobiles: list[str] = []
    for raw in mentions:
        value = raw.strip()
        if not value:
            continue
        kind, sep, rest = value.partition(":")
        if sep and kind in ("mobile", "user"):
            (mobiles if kind == "mobile" else users).append(rest.strip())
        elif _MOBILE.match(value):
            mobiles.append(value[-11:])  # the providers match bare mainland numbers
        else:
            users.append(value)
    return users, mobiles


def _truncate_utf8(text: str, limit: int) -> str:
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode(errors="ignore") + "…"


class _Robot(HttpChannel):
    """A channel of named robots: `to` names the robot, `robots` maps names to webhook URLs
    (DingTalk: to {"url": …, "secret": …} for the signed mode)."""

    # Provider errcodes worth another attempt (system busy, rate limited); other known codes
    # are configuration faults. Unknown codes are retried, within the worker's attempt limit.
    retry_codes: frozenset[int] = frozenset()
    permanent_codes: frozenset[int] = frozenset()

    def __init__(
        self,
        *,
        name: str,
        robots: Mapping[str, str | Mapping[str, str]],
        rate_limit: int = RATE_LIMIT,
        timeout: float | None = None,
        clock: Clock = time.time,
        cache_alias: str = "default",
    ) -> None:
        super().__init__(name=name, timeout=timeout, clock=clock)
        self.robots: dict[str, tuple[str, str]] = {}
        for robot, spec in robots.items():
            url, secret = (
                (spec, "")
                if isinstance(spec, str)
                else (spec.get("url", ""), spec.get("secret", ""))
            )
            if not url:
                raise ImproperlyConfigured(
                    f"NOTIFY_CHANNELS[{name!r}]: robot {robot!r} has no URL."
                )
            self.robots[robot] = (url, secret)
        self.limiter = RateLimiter(limit=rate_limit, clock=clock, cache_alias=cache_alias)

    def payload(self, out: Outgoing) -> dict[str, Any]:
        raise NotImplementedError

    def url(self, base: str, secret: str) -> str:
        return base

    def deliver(self, out: Outgoing) -> Outcome:
        robot = self.robots.get(out.to)
        if robot is None:
            return Outcome.failed(f"unknown_robot: {out.to}", retry=False)
        base, secret = robot
        # The budget belongs to the robot (its URL), however many channel names point at it.
        if not self.limiter.acquire(hashlib.sha256(base.encode()).hexdigest()[:24]):
            return Outcome.failed("rate_limited", retry=True)
        reply = self._request(
            "POST",
            self.url(base, secret),
            content=_json(self.payload(out)),
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        if isinstance(reply, Outcome):
            return reply
        return self.outcome(reply)

    def outcome(self, reply: Reply) -> Outcome:
        data = reply.json()
        if reply.status != 200 or not isinstance(data, dict) or "errcode" not in data:
            return status_outcome(reply.status)
        try:
            code = int(data["errcode"])
        except (TypeError, ValueError):
            return Outcome.failed(f"unexpected_reply: errcode {data['errcode']!r}", retry=True)
        if code == 0:
            return Outcome.sent("ok")
        retry = code in self.retry_codes or code not in self.permanent_codes
        return Outcome.failed(f"errcode {code}: {data.get('errmsg') or ''}", retry=retry)


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


class WeComRobot(_Robot):
    # -1 system busy, 45009 api freq out of limit, 45033 too many concurrent calls.
    retry_codes = frozenset({-1, 45009, 45033})
    # 93000 invalid webhook key, 93004/93008 robot removed or not in the chat, 40008 invalid
    # message type, 44004 empty content, 45002 content too long, 40058 bad parameter.
    permanent_codes = frozenset({93000, 93004, 93008, 40008, 44004, 45002, 40058})

    def payload(self, out: Outgoing) -> dict[str, Any]:
        users, mobiles = split_mentions(out.mentions)
        text: dict[str, Any] = {"content": _truncate_utf8(out.body, WECOM_MAX_BYTES)}
        if users:
            text["mentioned_list"] = users
        if mobiles:
            text["mentioned_mobile_list"] = mobiles
        return {"msgtype": "text", "text": text}


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """base64(HmacSHA256(key=secret, msg=f"{timestamp}\\n{secret}")), before URL-encoding."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


class DingTalkRobot(_Robot):
    # -1 system busy; 130101 and 410100 "send too fast" (over 20 a minute).
    retry_codes = frozenset({-1, 130101, 410100})
    # 300001 token invalid, 310000 sign/keyword/IP whitelist refused, 400013 chat dissolved,
    # 400101 access_token missing, 400102 robot disabled, 400105 message type, 400106 no
    # such robot, 430101-430104 content refused, 460101 message too large.
    permanent_codes = frozenset(
        {300001, 310000, 400013, 400101, 400102, 400105, 400106, 430101, 430102, 430103, 430104}
        | {460101}
    )

    def url(self, base: str, secret: str) -> str:
        if not secret:
            return base
        timestamp = int(self.clock() * 1000)  # ms, within an hour of DingTalk's clock
        sep = "&" if "?" in base else "?"
        return (
            f"{base}{sep}timestamp={timestamp}&sign={quote_plus(dingtalk_sign(secret, timestamp))}"
        )

    def payload(self, out: Outgoing) -> dict[str, Any]:
        users, mobiles = split_mentions(out.mentions)
        # DingTalk highlights an @ only when the text names the person too.
        tags = [f"@{m}" for m in [*mobiles, *users] if f"@{m}" not in out.body]
        content = f"{out.body} {' '.join(tags)}" if tags else out.body
        return {
            "msgtype": "text",
            "text": {"content": content},
            "at": {"atMobiles": mobiles, "atUserIds": users, "isAtAll": False},
        }

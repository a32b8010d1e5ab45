"""What every delivery channel shares: the request and answer types, HTTP with hard limits, SMS
template specs, and the registry that builds channels from the `NOTIFY_CHANNELS` setting.

Channels never raise and never retry. `send()` turns every provider answer and every exception
into an `Outcome`; the outbox worker decides when to try again (architecture rule 4), so a
provider that errs or hangs costs one bounded attempt and never holds up other messages.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

log = logging.getLogger("repairhub.notify")

Clock = Callable[[], float]

# What a provider may answer before we stop reading: every provider answer we parse is a small
# JSON object; anything bigger is a misconfigured URL or a hostile server.
MAX_REPLY_BYTES = 64 * 1024
DETAIL_MAX = 500


@dataclass(frozen=True)
class Outgoing:
    """What a channel is asked to send, built by the outbox worker from a `Message`."""

    key: str  # idempotency key of the message ("msg-123"), passed on where a provider takes one
    to: str  # phone number / e-mail address / robot or webhook name / user id
    body: str  # rendered text, already in the recipient's language
    subject: str = ""
    template: str = ""  # event template name, e.g. "workorder.dispatched"
    params: Mapping[str, str] = field(default_factory=dict)  # template variables (SMS)
    mentions: tuple[str, ...] = ()  # robots: user ids or mobiles to @
    urgent: bool = False
    # SMS: the provider template an administrator set for this message ("SMS_1:a,b"); it wins
    # over the channel's `templates` setting.
    provider_template: str = ""


@dataclass(frozen=True)
class Outcome:
    """How one attempt went; `retry` is False when trying again cannot help."""

    ok: bool
    retry: bool
    detail: str  # provider's code and message, recorded on the attempt
    provider_id: str = ""  # provider's message or request id when ok

    @classmethod
    def sent(cls, detail: str = "ok", provider_id: str = "") -> Outcome:
        return cls(ok=True, retry=False, detail=clip(detail), provider_id=provider_id)

    @classmethod
    def failed(cls, detail: str, *, retry: bool) -> Outcome:
        return cls(ok=False, retry=retry, detail=clip(detail))


class Channel(Protocol):
    name: str

    def send(self, out: Outgoing) -> Outcome: ...


def clip(text: str, limit: int = DETAIL_MAX) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class BaseChannel:
    """`send()` for every channel: whatever goes wrong inside becomes a retryable Outcome."""

    name: str

    def __init__(self, *, name: str) -> None:
        self.name = name

    def send(self, out: Outgoing) -> Outcome:
        try:
            return self.deliver(out)
        except Exception as exc:  # a bug must not kill the worker loop or lose the message
            log.exception("notify channel %s failed on %s", self.name, out.key)
            return Outcome.failed(f"internal_error: {type(exc).__name__}", retry=True)

    def deliver(self, out: Outgoing) -> Outcome:
        raise NotImplementedError

    def close(self) -> None:
        """Release pooled connections; the registry calls it when settings change."""


# --- HTTP ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes

    def json(self) -> Any:
        """The parsed body, or None when it is not JSON (a proxy's error page, say)."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


def status_outcome(status: int, what: str = "") -> Outcome:
    """Classify an HTTP status that carried no usable provider answer."""
    detail = f"http_{status}" + (f": {what}" if what else "")
    if 200 <= status < 300:
        return Outcome.failed(f"unexpected_reply: {detail}", retry=True)
    if status in (408, 425, 429) or status >= 500:
        return Outcome.failed(detail, retry=True)
    # 3xx (we never follow redirects: a moved endpoint is a configuration fix) and other 4xx.
    return Outcome.failed(detail, retry=False)


class HttpChannel(BaseChannel):
    """A channel that speaks HTTP: one pooled client, connect/read timeouts, a capped reply.

    The per-phase timeouts of httpx bound each wait; `_request` also stops reading a reply that
    trickles in past connect + read seconds, so one attempt is bounded in wall time.
    """

    def __init__(self, *, name: str, timeout: float | None = None, clock: Clock = time.time):
        super().__init__(name=name)
        connect = float(
            timeout if timeout is not None else getattr(settings, "NOTIFY_CONNECT_TIMEOUT", 5.0)
        )
        read = float(
            timeout if timeout is not None else getattr(settings, "NOTIFY_READ_TIMEOUT", 5.0)
        )
        self.clock = clock
        self._deadline = connect + read
        self._timeout = httpx.Timeout(read, connect=connect, pool=connect)
        self._client: httpx.Client | None = None
        self._client_lock = threading.Lock()

    @property
    def client(self) -> httpx.Client:
        with self._client_lock:
            if self._client is None:
                self._client = httpx.Client(
                    timeout=self._timeout,
                    follow_redirects=False,
                    headers={"User-Agent": "RepairHub-notify/1"},
                )
            return self._client

    def close(self) -> None:
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def _request(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply | Outcome:
        """One HTTP exchange; a network failure or timeout comes back as a retry Outcome."""
        started = time.monotonic()
        try:
            with self.client.stream(method, url, content=content, headers=headers) as response:
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_REPLY_BYTES:
                        return Outcome.failed(
                            f"reply_too_large: http_{response.status_code}", retry=True
                        )
                    if time.monotonic() - started > self._deadline:
                        return Outcome.failed("timeout: reply too slow", retry=True)
                    chunks.append(chunk)
                return Reply(status=response.status_code, body=b"".join(chunks))
        except httpx.TimeoutException as exc:
            return Outcome.failed(f"timeout: {type(exc).__name__}", retry=True)
        except httpx.HTTPError as exc:
            # The message of a transport error names the cause, never the URL (which may carry
            # a robot key or access token).
            return Outcome.failed(f"network: {type(exc).__name__}: {exc}", retry=True)


# --- SMS templates ------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateSpec:
    """A provider template: its code and the variable names it takes, in the provider's order.

    Written in settings as "SMS_123456" or "SMS_123456:number,technician", or as a mapping
    {"code": "SMS_123456", "params": ["number", "technician"]}. Without a list, Aliyun gets all
    of the message's variables and Tencent (whose variables are positional) gets none.
    """

    code: str
    params: tuple[str, ...] | None = None

    @classmethod
    def parse(cls, raw: str | Mapping[str, Any]) -> TemplateSpec:
        if isinstance(raw, Mapping):
            code = str(raw.get("code", "")).strip()
            names = raw.get("params")
            params = tuple(str(n).strip() for n in names) if names is not None else None
        else:
            code, sep, rest = str(raw).partition(":")
            code = code.strip()
            params = tuple(n.strip() for n in rest.split(",") if n.strip()) if sep else None
        if not code:
            raise ImproperlyConfigured(f"SMS template {raw!r} has no template code.")
        return cls(code=code, params=params)

    def missing(self, values: Mapping[str, str]) -> list[str]:
        return [n for n in self.params or () if n not in values]


def parse_templates(raw: Mapping[str, str | Mapping[str, Any]] | None) -> dict[str, TemplateSpec]:
    return {name: TemplateSpec.parse(spec) for name, spec in (raw or {}).items()}


def template_spec(templates: Mapping[str, TemplateSpec], out: Outgoing) -> TemplateSpec | None:
    """The provider template of `out`: the administrator's, else the settings' for its name."""
    if out.provider_template.strip():
        try:
            return TemplateSpec.parse(out.provider_template)
        except ImproperlyConfigured:
            return None
    return templates.get(out.template)


def require(channel: str, **options: str) -> None:
    """Refuse to build a provider channel with an empty credential (settings from env)."""
    empty = [k for k, v in options.items() if not str(v or "").strip()]
    if empty:
        raise ImproperlyConfigured(
            f"NOTIFY_CHANNELS[{channel!r}] needs {', '.join(empty)} "
            "(set the provider's variables in the environment; see docs/notify-channels.md)."
        )


# --- registry -----------------------------------------------------------------------------

BACKENDS: dict[str, str] = {
    "aliyun_sms": "repairhub.notify.channels.sms_aliyun.AliyunSms",
    "tencent_sms": "repairhub.notify.channels.sms_tencent.TencentSms",
    "console_sms": "repairhub.notify.channels.sms_console.ConsoleSms",
    "email": "repairhub.notify.channels.email.EmailChannel",
    "wecom_robot": "repairhub.notify.channels.robots.WeComRobot",
    "dingtalk_robot": "repairhub.notify.channels.robots.DingTalkRobot",
    "webhook": "repairhub.notify.channels.webhook.Webhook",
}
DEFAULT_CHANNELS: dict[str, dict[str, Any]] = {
    "sms": {"backend": "console_sms"},
    "email": {"backend": "email"},
}

_built: dict[str, tuple[str, Channel]] = {}
_built_lock = threading.Lock()


def _configs() -> Mapping[str, Mapping[str, Any]]:
    return getattr(settings, "NOTIFY_CHANNELS", DEFAULT_CHANNELS)


def build_channel(name: str, config: Mapping[str, Any]) -> Channel:
    """A new channel from one NOTIFY_CHANNELS entry; a bad entry is ImproperlyConfigured."""
    options = dict(config)
    backend = options.pop("backend", None)
    path = BACKENDS.get(str(backend))
    if path is None:
        raise ImproperlyConfigured(
            f"NOTIFY_CHANNELS[{name!r}] has backend {backend!r}; "
            f"use one of {', '.join(sorted(BACKENDS))}."
        )
    cls = import_string(path)
    try:
        return cls(name=name, **options)
    except TypeError as exc:  # an unknown or missing option
        raise ImproperlyConfigured(f"NOTIFY_CHANNELS[{name!r}] ({backend}): {exc}") from exc


def channel_for(name: str) -> Channel:
    """The channel configured under `name`, built once and reused (its connections pooled).

    A changed setting (tests, a reload) builds it anew, so nobody has to reset this cache.
    """
    config = _configs().get(name)
    if config is None:
        raise ImproperlyConfigured(
            f"No notification channel named {name!r}: add it to NOTIFY_CHANNELS."
        )
    fingerprint = repr(config)
    with _built_lock:
        cached = _built.get(name)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        channel = build_channel(name, config)
        if cached is not None:
            getattr(cached[1], "close", lambda: None)()
        _built[name] = (fingerprint, channel)
        return channel


def configured_channels() -> dict[str, Channel]:
    """Every configured channel, built now: call it from a system check so that a missing
    credential stops start-up instead of failing the first message."""
    return {name: channel_for(name) for name in _configs()}

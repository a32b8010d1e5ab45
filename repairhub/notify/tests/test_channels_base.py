"""The channel registry and template specs, and the fake provider servers that every channel
test uses: real HTTP servers on 127.0.0.1, one per test, answering as the provider would."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core.exceptions import ImproperlyConfigured

from repairhub.notify.channels import Outgoing, channel_for, configured_channels
from repairhub.notify.channels.base import TemplateSpec, build_channel
from repairhub.notify.channels.sms_aliyun import AliyunSms
from repairhub.notify.channels.sms_console import ConsoleSms

# --- helpers shared by the channel tests ----------------------------------------------------


class FakeClock:
    """A clock the test moves by hand; channels read it for timestamps and rate windows."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class Received:
    """One request as the fake provider saw it on the wire."""

    method: str
    path: str
    query: str
    headers: Message
    body: bytes

    def params(self) -> dict[str, str]:
        return dict(parse_qsl(self.query, keep_blank_values=True))

    def json(self) -> Any:
        return json.loads(self.body)


Respond = Callable[[Received], tuple[int, Any]]


class FakeProvider:
    """An HTTP server on 127.0.0.1 (random port) in a thread; `respond` plays the provider and
    returns (status, JSON-able answer or raw bytes). Every request is kept in `received`."""

    def __init__(self, respond: Respond) -> None:
        self.received: list[Received] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                request = Received(
                    method=self.command,
                    path=parts.path,
                    query=parts.query,
                    headers=self.headers,
                    body=self.rfile.read(length) if length else b"",
                )
                provider.received.append(request)
                status, answer = respond(request)
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def __enter__(self) -> FakeProvider:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@contextmanager
def silent_server() -> Iterator[str]:
    """A URL whose server accepts the connection (the kernel's backlog) but never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        sock.close()


def refused_url() -> str:
    """A URL on a port nobody listens on: the connection is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/"


# --- registry ----------------------------------------------------------------------------


def test_without_settings_sms_goes_to_the_console_and_email_through_django(settings):
    del settings.NOTIFY_CHANNELS
    assert isinstance(channel_for("sms"), ConsoleSms)
    assert type(channel_for("email")).__name__ == "EmailChannel"
    with pytest.raises(ImproperlyConfigured, match="wecom"):
        channel_for("wecom")


def test_a_channel_is_built_once_and_rebuilt_when_its_settings_change(settings):
    settings.NOTIFY_CHANNELS = {"sms": {"backend": "console_sms"}}
    first = channel_for("sms")
    assert channel_for("sms") is first
    settings.NOTIFY_CHANNELS = {
        "sms": {
            "backend": "aliyun_sms",
            "access_key_id": "id",
            "access_key_secret": "secret",
            "sign_name": "报修云",
            "templates": {"workorder.dispatched": "SMS_1:number"},
        }
    }
    rebuilt = channel_for("sms")
    assert isinstance(rebuilt, AliyunSms)
    assert rebuilt.templates == {"workorder.dispatched": TemplateSpec("SMS_1", ("number",))}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"backend": "carrier_pigeon"}, "use one of aliyun_sms"),
        ({"backend": "console_sms", "colour": "red"}, "colour"),
        ({"backend": "aliyun_sms", "sign_name": "x", "templates": {}}, "access_key_id"),
        (
            {
                "backend": "tencent_sms",
                "secret_id": "id",
                "secret_key": "",
                "sdk_app_id": "1400000000",
                "sign_name": "报修云",
                "templates": {},
            },
            "needs secret_key",
        ),
        ({"backend": "webhook", "endpoints": {"erp": {"url": "http://x/"}}}, "secret"),
        ({"backend": "dingtalk_robot", "robots": {"ops": {"secret": "SEC"}}}, "no URL"),
    ],
)
def test_a_bad_channel_setting_is_a_clear_configuration_error(config, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        build_channel("sms", config)


def test_configured_channels_builds_every_entry_so_a_check_can_fail_start_up(settings):
    settings.NOTIFY_CHANNELS = {
        "sms": {"backend": "console_sms"},
        "wecom": {"backend": "wecom_robot", "robots": {"ops": "http://127.0.0.1:9/"}},
    }
    assert sorted(configured_channels()) == ["sms", "wecom"]
    settings.NOTIFY_CHANNELS = {"sms": {"backend": "aliyun_sms"}}
    with pytest.raises(ImproperlyConfigured):
        configured_channels()


@pytest.mark.parametrize(
    ("raw", "spec"),
    [
        ("SMS_1", TemplateSpec("SMS_1", None)),
        ("SMS_1:number, technician", TemplateSpec("SMS_1", ("number", "technician"))),
        ("1234567:", TemplateSpec("1234567", ())),
        ({"code": "1234567", "params": ["number"]}, TemplateSpec("1234567", ("number",))),
    ],
)
def test_template_specs_read_from_settings(raw, spec):
    assert TemplateSpec.parse(raw) == spec


def test_the_console_sms_logs_the_masked_number_and_always_succeeds(caplog):
    caplog.set_level("INFO", logger="repairhub.notify")
    outcome = ConsoleSms(name="sms").send(
        Outgoing(key="msg-7", to="13800138000", body="【报修云】报修单 BX-1 已受理。")
    )
    assert (outcome.ok, outcome.retry, outcome.provider_id) == (True, False, "console:msg-7")
    assert caplog.messages == ["SMS to 138****8000 [msg-7]: 【报修云】报修单 BX-1 已受理。"]
    assert "13800138000" not in caplog.text

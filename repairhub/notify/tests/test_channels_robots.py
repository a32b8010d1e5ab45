"""WeCom and DingTalk group robots against local servers playing each robot, and the shared
per-robot budget of 20 messages a rolling minute (a hand-moved clock, no sleeping)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from urllib.parse import quote_plus

import pytest

from repairhub.notify.channels import Outgoing
from repairhub.notify.channels.robots import DingTalkRobot, RateLimiter, WeComRobot
from repairhub.notify.tests.test_channels_base import (
    FakeClock,
    FakeProvider,
    Received,
    refused_url,
    silent_server,
)

# The rate limiter counts in the Django cache, the database cache in the embedded mode.
pytestmark = pytest.mark.django_db

T0 = 1_763_700_000.0  # a multiple of 10 s: the limiter's slots start here
TEXT = "【报修云】新工单 BX-20251121-0042：水电，3 号楼 201。"


def order(key: str = "msg-1", to: str = "ops", mentions: tuple[str, ...] = ()) -> Outgoing:
    return Outgoing(key=key, to=to, body=TEXT, mentions=mentions)


# --- WeCom --------------------------------------------------------------------------------
# https://developer.work.weixin.qq.com/document/path/91770: POST JSON to
# /cgi-bin/webhook/send?key=KEY; errors come as HTTP 200 with errcode != 0.


def wecom_server(errcode: int = 0):
    def respond(req: Received):
        if req.path != "/cgi-bin/webhook/send" or req.params().get("key") != "KEY-1":
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
        body = req.json()
        if body.get("msgtype") != "text" or not body.get("text", {}).get("content"):
            return 200, {"errcode": 44004, "errmsg": "empty content"}
        if errcode:
            return 200, {"errcode": errcode, "errmsg": "refused"}
        return 200, {"errcode": 0, "errmsg": "ok"}

    return FakeProvider(respond)


def wecom(url: str, *, clock: FakeClock | None = None, timeout: float = 2.0, **robots: str):
    return WeComRobot(
        name="wecom",
        robots=robots or {"ops": f"{url}cgi-bin/webhook/send?key=KEY-1"},
        timeout=timeout,
        clock=clock or FakeClock(T0),
    )


def test_wecom_posts_text_and_mentions_by_user_id_and_mobile():
    with wecom_server() as server:
        outcome = wecom(server.url).send(
            order(mentions=("wangshifu", "13800138000", "+8613900139000", "user:13700137000"))
        )
    assert (outcome.ok, outcome.retry, outcome.detail) == (True, False, "ok")
    assert server.received[0].json() == {
        "msgtype": "text",
        "text": {
            "content": TEXT,
            "mentioned_list": ["wangshifu", "13700137000"],
            "mentioned_mobile_list": ["13800138000", "13900139000"],
        },
    }


@pytest.mark.parametrize(
    ("errcode", "retry"),
    [(93000, False), (45002, False), (45009, True), (-1, True), (12345, True)],
)
def test_wecom_http_200_with_an_errcode_is_a_failure(errcode, retry):
    with wecom_server(errcode) as server:
        outcome = wecom(server.url).send(order())
    assert (outcome.ok, outcome.retry, outcome.detail) == (
        False,
        retry,
        f"errcode {errcode}: refused",
    )


def test_wecom_wrong_key_is_permanent():
    with wecom_server() as server:
        outcome = wecom(server.url, ops=f"{server.url}cgi-bin/webhook/send?key=OLD").send(order())
    assert (outcome.ok, outcome.retry) == (False, False)
    assert outcome.detail == "errcode 93000: invalid webhook url"


def test_an_unknown_robot_name_is_permanent_and_sends_nothing():
    with wecom_server() as server:
        outcome = wecom(server.url).send(order(to="night-shift"))
    assert (outcome.ok, outcome.retry, outcome.detail) == (
        False,
        False,
        "unknown_robot: night-shift",
    )
    assert server.received == []


def test_wecom_text_is_cut_to_the_robots_2048_bytes():
    with wecom_server() as server:
        wecom(server.url).send(Outgoing(key="m", to="ops", body="报" * 1000))
    content = server.received[0].json()["text"]["content"]
    assert len(content.encode()) <= 2048
    assert content.endswith("报…")


# --- DingTalk -----------------------------------------------------------------------------
# https://open.dingtalk.com/document/robots/customize-robot-security-settings (加签):
# string_to_sign = timestamp + "\n" + secret; sign = urlEncode(base64(HmacSHA256(secret, it)));
# both appended to the webhook URL; timestamp in ms, within one hour of DingTalk's clock.

SECRET = "SEC0123456789abcdef"


def dingtalk_server(clock: FakeClock, errcode: int = 0):
    def respond(req: Received):
        params = req.params()
        if params.get("access_token") != "TOKEN-1":
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}
        timestamp = params.get("timestamp", "")
        mac = hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(), hashlib.sha256)
        expected = base64.b64encode(mac.digest()).decode()
        if f"sign={quote_plus(expected)}" not in req.query or params.get("sign") != expected:
            return 200, {"errcode": 310000, "errmsg": "sign not match"}
        if abs(int(timestamp) - clock() * 1000) > 3600_000:
            return 200, {"errcode": 310000, "errmsg": "invalid timestamp"}
        if errcode:
            return 200, {"errcode": errcode, "errmsg": "refused"}
        return 200, {"errcode": 0, "errmsg": "ok"}

    return FakeProvider(respond)


def dingtalk(url: str, clock: FakeClock, *, secret: str = SECRET) -> DingTalkRobot:
    return DingTalkRobot(
        name="dingtalk",
        robots={"ops": {"url": f"{url}robot/send?access_token=TOKEN-1", "secret": secret}},
        timeout=2.0,
        clock=clock,
    )


def test_dingtalk_signed_mode_and_mentions():
    clock = FakeClock(T0 + 0.123)
    with dingtalk_server(clock) as server:
        outcome = dingtalk(server.url, clock).send(order(mentions=("13800138000", "manager7")))
    assert (outcome.ok, outcome.detail) == (True, "ok")
    [req] = server.received
    assert req.params()["timestamp"] == "1763700000123"
    assert req.json() == {
        "msgtype": "text",
        "text": {"content": f"{TEXT} @13800138000 @manager7"},
        "at": {"atMobiles": ["13800138000"], "atUserIds": ["manager7"], "isAtAll": False},
    }


def test_dingtalk_wrong_secret_is_http_200_with_errcode_and_permanent():
    clock = FakeClock(T0)
    with dingtalk_server(clock) as server:
        outcome = dingtalk(server.url, clock, secret="SECwrong").send(order())
    assert (outcome.ok, outcome.retry, outcome.detail) == (
        False,
        False,
        "errcode 310000: sign not match",
    )


def test_dingtalk_without_a_secret_sends_no_signature():
    clock = FakeClock(T0)
    with FakeProvider(lambda req: (200, {"errcode": 0, "errmsg": "ok"})) as server:
        robot = DingTalkRobot(
            name="dingtalk", robots={"ops": f"{server.url}robot/send?access_token=T"}, clock=clock
        )
        assert robot.send(order()).ok
    assert server.received[0].params() == {"access_token": "T"}


@pytest.mark.parametrize(("errcode", "retry"), [(410100, True), (130101, True), (400102, False)])
def test_dingtalk_errcodes_are_classified(errcode, retry):
    clock = FakeClock(T0)
    with dingtalk_server(clock, errcode) as server:
        outcome = dingtalk(server.url, clock).send(order())
    assert (outcome.ok, outcome.retry) == (False, retry)


# --- both: limits and failures ------------------------------------------------------------


def test_the_21st_message_in_a_rolling_minute_waits_for_the_next_round():
    clock = FakeClock(T0)
    with wecom_server() as server:
        robot = wecom(server.url, clock=clock)
        for i in range(20):
            assert robot.send(order(key=f"m{i}")).ok
            clock.advance(1)  # T0 … T0+19
        over = robot.send(order(key="m20"))
        assert (over.ok, over.retry, over.detail) == (False, True, "rate_limited")
        # A new calendar minute is no reset: all twenty were sent less than a minute ago.
        clock.now = T0 + 60
        assert robot.send(order(key="m20")).detail == "rate_limited"
        # Once the first ten have left the rolling minute, ten more may go, and no more.
        clock.now = T0 + 70
        assert [robot.send(order(key=f"n{i}")).ok for i in range(11)] == [True] * 10 + [False]
    assert len(server.received) == 30


def test_the_budget_belongs_to_the_robot_and_is_shared_by_every_worker():
    clock = FakeClock(T0)
    with wecom_server() as server:
        url = f"{server.url}cgi-bin/webhook/send?key=KEY-1"
        worker_a = wecom(server.url, clock=clock, ops=url)
        worker_b = wecom(server.url, clock=clock, other_name=url, spare=f"{url}&x=2")
        assert all(worker_a.send(order(key=f"a{i}")).ok for i in range(10))
        assert all(worker_b.send(order(key=f"b{i}", to="other_name")).ok for i in range(10))
        assert worker_a.send(order(key="a10")).detail == "rate_limited"
        assert worker_b.send(order(key="b10", to="other_name")).detail == "rate_limited"
        # Another robot has its own budget.
        assert worker_b.send(order(key="c0", to="spare")).ok


def test_a_hanging_robot_times_out_and_does_not_hold_up_the_next_robot():
    clock = FakeClock(T0)
    with silent_server() as silent, wecom_server() as server:
        robot = WeComRobot(
            name="wecom",
            robots={"stuck": silent, "ops": f"{server.url}cgi-bin/webhook/send?key=KEY-1"},
            timeout=0.3,
            clock=clock,
        )
        stuck = robot.send(order(to="stuck"))
        fine = robot.send(order(to="ops"))
    assert (stuck.ok, stuck.retry, stuck.detail) == (False, True, "timeout: ReadTimeout")
    assert fine.ok


def test_a_refused_connection_is_retried():
    outcome = wecom("", ops=refused_url()).send(order())
    assert (outcome.ok, outcome.retry) == (False, True)
    assert outcome.detail.startswith("network: ConnectError")


def test_a_robot_answering_an_http_error_is_classified_by_status():
    with FakeProvider(lambda req: (503, b"busy")) as server:
        busy = wecom(server.url).send(order())
    with FakeProvider(lambda req: (404, b"gone")) as server:
        gone = wecom(server.url).send(order())
    assert (busy.retry, busy.detail) == (True, "http_503")
    assert (gone.retry, gone.detail) == (False, "http_404")


def test_workers_racing_for_one_robot_get_exactly_its_budget(settings):
    # An atomic cache (locmem here, Redis in the scaled mode): 40 concurrent takers, 20 places.
    settings.CACHES = {
        **settings.CACHES,
        "limits": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    limiter = RateLimiter(clock=FakeClock(T0), cache_alias="limits")
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        for _ in range(5):
            results.append(limiter.acquire("robot-1"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 20
    assert limiter.acquire("robot-2")

"""Aliyun and Tencent SMS against local servers that check the signature the way each provider
documents it, computed here independently of the channel code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import quote_plus

import pytest

from repairhub.notify.channels import Outgoing
from repairhub.notify.channels.sms_aliyun import AliyunSms, signature
from repairhub.notify.channels.sms_tencent import TencentSms
from repairhub.notify.tests.test_channels_base import (
    FakeClock,
    FakeProvider,
    Received,
    refused_url,
    silent_server,
)

NOW = 1_763_700_000.0  # 2025-11-21T04:40:00Z
DISPATCHED = Outgoing(
    key="msg-42",
    to="13800138000",
    body="【报修云】报修单 BX-20251121-0042 已派给维修人员 王师傅。",
    template="workorder.dispatched",
    params={"number": "BX-20251121-0042", "technician": "王师傅", "url": "https://x/t/1"},
)

# --- Aliyun -------------------------------------------------------------------------------
# https://help.aliyun.com/document_detail/28839.html: sort the parameters (Signature excluded),
# encode names and values as java.net.URLEncoder does then "+"→"%20", "*"→"%2A", "%7E"→"~",
# join as name=value with &, StringToSign = GET&%2F&encode(that), key = secret + "&",
# Signature = base64(HMAC-SHA1).

ALIYUN_SECRET = "aliyun-secret/with+odd*chars"


def _aliyun_encode(value: str) -> str:
    return quote_plus(value, safe="").replace("+", "%20").replace("*", "%2A").replace("%7E", "~")


def aliyun_expected_signature(secret: str, method: str, params: dict[str, str]) -> str:
    canonical = "&".join(f"{_aliyun_encode(k)}={_aliyun_encode(params[k])}" for k in sorted(params))
    to_sign = f"{method}&{_aliyun_encode('/')}&{_aliyun_encode(canonical)}"
    mac = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


def aliyun_server(code: str = "OK", status: int = 200):
    """Plays dysmsapi: refuses a bad signature as Aliyun's gateway does, else answers `code`."""

    def respond(req: Received):
        params = req.params()
        given = params.pop("Signature", "")
        if given != aliyun_expected_signature(ALIYUN_SECRET, req.method, params):
            return 400, {
                "Code": "SignatureDoesNotMatch",
                "Message": "Specified signature is not matched",
            }
        if code == "OK":
            return 200, {
                "Code": "OK",
                "Message": "OK",
                "BizId": "900619746936498440^0",
                "RequestId": "R1",
            }
        return status, {"Code": code, "Message": "refused", "RequestId": "R2"}

    return FakeProvider(respond)


def aliyun(url: str, *, secret: str = ALIYUN_SECRET, timeout: float = 2.0) -> AliyunSms:
    return AliyunSms(
        name="sms",
        access_key_id="LTAI-test",
        access_key_secret=secret,
        sign_name="报修云",
        templates={"workorder.dispatched": "SMS_460105:number,technician"},
        endpoint=url,
        timeout=timeout,
        clock=FakeClock(NOW),
        nonce=lambda: "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
    )


def test_aliyun_signature_matches_the_worked_example_of_its_documentation():
    # The DescribeRegions example of https://help.aliyun.com/document_detail/28839.html.
    params = {
        "TimeStamp": "2016-02-23T12:46:24Z",
        "Format": "XML",
        "AccessKeyId": "testid",
        "Action": "DescribeRegions",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "Version": "2014-05-26",
        "SignatureVersion": "1.0",
    }
    assert signature("testsecret", "GET", params) == "CT9X0VtwR86fNWSnsc6v8YGOjuE="


def test_aliyun_sends_a_signed_sendsms_with_the_template_code_and_the_message_key():
    with aliyun_server() as server:
        outcome = aliyun(server.url).send(DISPATCHED)
    assert (outcome.ok, outcome.provider_id) == (True, "900619746936498440^0")
    [req] = server.received
    params = req.params()
    del params["Signature"]
    assert req.method == "GET"
    assert params == {
        "AccessKeyId": "LTAI-test",
        "Action": "SendSms",
        "Format": "JSON",
        "RegionId": "cn-hangzhou",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "SignatureVersion": "1.0",
        "Timestamp": "2025-11-21T04:40:00Z",
        "Version": "2017-05-25",
        "PhoneNumbers": "13800138000",
        "SignName": "报修云",
        "TemplateCode": "SMS_460105",
        "OutId": "msg-42",
        "TemplateParam": '{"number":"BX-20251121-0042","technician":"王师傅"}',
    }


def test_aliyun_refusing_the_signature_is_permanent():
    with aliyun_server() as server:
        outcome = aliyun(server.url, secret="wrong").send(DISPATCHED)
    assert (outcome.ok, outcome.retry) == (False, False)
    assert outcome.detail.startswith("SignatureDoesNotMatch")


@pytest.mark.parametrize(
    ("code", "retry"),
    [
        ("isv.MOBILE_NUMBER_ILLEGAL", False),
        ("isv.SMS_TEMPLATE_ILLEGAL", False),
        ("isv.DAY_LIMIT_CONTROL", False),
        ("isv.BUSINESS_LIMIT_CONTROL", True),
        ("isv.AMOUNT_NOT_ENOUGH", True),
        ("isp.SYSTEM_ERROR", True),
        ("isp.RAM_PERMISSION_DENY", False),
        ("Throttling.User", True),
        ("SomethingNew", True),
    ],
)
def test_aliyun_error_codes_are_classified(code, retry):
    with aliyun_server(code) as server:
        outcome = aliyun(server.url).send(DISPATCHED)
    assert (outcome.ok, outcome.retry) == (False, retry)
    assert outcome.detail == f"{code}: refused"


def test_aliyun_a_template_without_a_code_is_permanent_and_sends_nothing():
    with aliyun_server() as server:
        channel = aliyun(server.url)
        unknown = channel.send(Outgoing(key="m", to="13800138000", body="x", template="x.y"))
        short = channel.send(
            Outgoing(key="m", to="13800138000", body="x", template="workorder.dispatched")
        )
    assert (unknown.ok, unknown.retry, unknown.detail) == (
        False,
        False,
        "template_not_configured: x.y",
    )
    assert (short.retry, short.detail) == (False, "template_param_missing: number,technician")
    assert server.received == []


def test_aliyun_a_server_error_page_is_retried():
    with FakeProvider(lambda req: (502, b"<html>Bad Gateway</html>")) as server:
        outcome = aliyun(server.url).send(DISPATCHED)
    assert (outcome.ok, outcome.retry, outcome.detail) == (False, True, "http_502")


def test_aliyun_hanging_gateway_times_out_and_is_retried():
    with silent_server() as url:
        outcome = aliyun(url, timeout=0.3).send(DISPATCHED)
    assert (outcome.ok, outcome.retry, outcome.detail) == (False, True, "timeout: ReadTimeout")


def test_aliyun_connection_refused_is_retried():
    outcome = aliyun(refused_url()).send(DISPATCHED)
    assert (outcome.ok, outcome.retry) == (False, True)
    assert outcome.detail.startswith("network: ConnectError")


# --- Tencent ------------------------------------------------------------------------------
# https://cloud.tencent.com/document/api/382/52072 (签名方法 v3): CanonicalRequest = method \n
# URI \n query \n CanonicalHeaders (lower-cased "key:value\n" of SignedHeaders) \n SignedHeaders
# \n hex(SHA256(body)); StringToSign = "TC3-HMAC-SHA256" \n timestamp \n date/sms/tc3_request
# \n hex(SHA256(CanonicalRequest)); key = HMAC chain "TC3"+SecretKey → date → "sms" →
# "tc3_request"; Signature = hex(HMAC-SHA256(key, StringToSign)).

TENCENT_SECRET = "tencent-secret-key"


def tencent_expected_authorization(req: Received, secret_id: str, secret_key: str) -> str:
    auth = req.headers["Authorization"]
    signed_headers = auth.split("SignedHeaders=")[1].split(",")[0]
    timestamp = int(req.headers["X-TC-Timestamp"])
    date = time.strftime("%Y-%m-%d", time.gmtime(timestamp))
    canonical_headers = "".join(
        f"{name}:{req.headers[name].strip().lower()}\n" for name in signed_headers.split(";")
    )
    canonical = "\n".join(
        [
            req.method,
            req.path,
            req.query,
            canonical_headers,
            signed_headers,
            hashlib.sha256(req.body).hexdigest(),
        ]
    )
    scope = f"{date}/sms/tc3_request"
    to_sign = (
        f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    )

    def mac(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    key = mac(mac(mac(f"TC3{secret_key}".encode(), date), "sms"), "tc3_request")
    sig = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={sig}"
    )


def tencent_server(*, error: str = "", send_code: str = "Ok"):
    """Plays sms.tencentcloudapi.com: AuthFailure on a bad signature, else `error` for the
    whole request or `send_code` for the number."""

    def respond(req: Received):
        expected = tencent_expected_authorization(req, "AKID-test", TENCENT_SECRET)
        signed = req.headers["Authorization"].split("SignedHeaders=")[1].split(",")[0]
        if req.headers["Authorization"] != expected or "host" not in signed.split(";"):
            error_code = "AuthFailure.SignatureFailure"
        else:
            error_code = error
        if error_code:
            return 200, {
                "Response": {
                    "Error": {"Code": error_code, "Message": "refused"},
                    "RequestId": "req-err",
                }
            }
        body = req.json()
        return 200, {
            "Response": {
                "SendStatusSet": [
                    {
                        "SerialNo": "5000:1045710669157053657849499619",
                        "PhoneNumber": body["PhoneNumberSet"][0],
                        "Fee": 1,
                        "SessionContext": body["SessionContext"],
                        "Code": send_code,
                        "Message": "send success" if send_code == "Ok" else "refused",
                        "IsoCode": "CN",
                    }
                ],
                "RequestId": "req-ok",
            }
        }

    return FakeProvider(respond)


def tencent(url: str, *, secret: str = TENCENT_SECRET, timeout: float = 2.0) -> TencentSms:
    return TencentSms(
        name="sms",
        secret_id="AKID-test",
        secret_key=secret,
        sdk_app_id="1400006666",
        sign_name="报修云",
        templates={"workorder.dispatched": {"code": "449739", "params": ["number", "technician"]}},
        endpoint=url,
        timeout=timeout,
        clock=FakeClock(NOW),
    )


def test_tencent_sends_a_tc3_signed_sendsms_with_positional_parameters_and_the_key():
    with tencent_server() as server:
        outcome = tencent(server.url).send(DISPATCHED)
    assert (outcome.ok, outcome.provider_id) == (True, "5000:1045710669157053657849499619")
    [req] = server.received
    assert req.method == "POST"
    assert req.headers["X-TC-Action"] == "SendSms"
    assert req.headers["X-TC-Version"] == "2021-01-11"
    assert req.headers["X-TC-Region"] == "ap-guangzhou"
    assert req.headers["X-TC-Timestamp"] == "1763700000"
    assert req.headers["Authorization"].startswith(
        "TC3-HMAC-SHA256 Credential=AKID-test/2025-11-21/sms/tc3_request, "
        "SignedHeaders=content-type;host;x-tc-action, Signature="
    )
    assert req.json() == {
        "PhoneNumberSet": ["+8613800138000"],
        "SmsSdkAppId": "1400006666",
        "SignName": "报修云",
        "TemplateId": "449739",
        "SessionContext": "msg-42",
        "TemplateParamSet": ["BX-20251121-0042", "王师傅"],
    }


def test_tencent_signature_scope_uses_the_utc_date():
    # 00:30 on the 22nd in Shanghai is still the 21st in UTC, and the scope follows UTC.
    with tencent_server() as server:
        channel = tencent(server.url)
        channel.clock = FakeClock(1_763_742_600.0)  # 2025-11-21T16:30:00Z = 00:30 +08:00
        outcome = channel.send(DISPATCHED)
    assert outcome.ok
    assert "/2025-11-21/sms/tc3_request" in server.received[0].headers["Authorization"]


def test_tencent_a_wrong_secret_is_refused_and_permanent():
    with tencent_server() as server:
        outcome = tencent(server.url, secret="wrong").send(DISPATCHED)
    assert (outcome.ok, outcome.retry) == (False, False)
    assert outcome.detail == "AuthFailure.SignatureFailure: refused (RequestId req-err)"


@pytest.mark.parametrize(
    ("error", "retry"),
    [
        ("InternalError.Timeout", True),
        ("RequestLimitExceeded", True),
        ("FailedOperation.TemplateIncorrectOrUnapproved", False),
        ("InvalidParameterValue.IncorrectPhoneNumber", False),
        ("UnauthorizedOperation.SmsSdkAppIdVerifyFail", False),
    ],
)
def test_tencent_request_errors_are_classified(error, retry):
    with tencent_server(error=error) as server:
        outcome = tencent(server.url).send(DISPATCHED)
    assert (outcome.ok, outcome.retry) == (False, retry)
    assert outcome.detail.startswith(f"{error}: refused")


@pytest.mark.parametrize(
    ("code", "retry"),
    [
        ("LimitExceeded.PhoneNumberThirtySecondLimit", True),
        ("LimitExceeded.PhoneNumberDailyLimit", False),
        ("FailedOperation.InsufficientBalanceInSmsPackage", True),
        ("FailedOperation.PhoneNumberInBlacklist", False),
        ("InvalidParameterValue.IncorrectPhoneNumber", False),
    ],
)
def test_tencent_a_number_refused_in_sendstatusset_is_classified(code, retry):
    with tencent_server(send_code=code) as server:
        outcome = tencent(server.url).send(DISPATCHED)
    assert (outcome.ok, outcome.retry, outcome.detail) == (False, retry, f"{code}: refused")


def test_tencent_hanging_endpoint_times_out_and_is_retried():
    with silent_server() as url:
        outcome = tencent(url, timeout=0.3).send(DISPATCHED)
    assert (outcome.ok, outcome.retry, outcome.detail) == (False, True, "timeout: ReadTimeout")


def test_tencent_connection_refused_is_retried():
    outcome = tencent(refused_url()).send(DISPATCHED)
    assert (outcome.ok, outcome.retry) == (False, True)


def test_tencent_non_json_reply_is_classified_by_status():
    with FakeProvider(lambda req: (403, b"forbidden")) as server:
        outcome = tencent(server.url).send(DISPATCHED)
    assert (outcome.ok, outcome.retry, outcome.detail) == (False, False, "http_403")


def test_reply_bodies_are_capped():
    huge = json.dumps({"Code": "OK", "pad": "x" * 100_000}).encode()
    with FakeProvider(lambda req: (200, huge)) as server:
        outcome = aliyun(server.url).send(DISPATCHED)
    assert (outcome.ok, outcome.retry, outcome.detail) == (False, True, "reply_too_large: http_200")

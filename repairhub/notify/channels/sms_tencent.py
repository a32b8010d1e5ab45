"""Tencent Cloud SMS (腾讯云短信): SendSms of API version 2021-01-11, signed TC3-HMAC-SHA256.

- SendSms: https://cloud.tencent.com/document/api/382/55981
- signature v3: https://cloud.tencent.com/document/api/382/52072 ("签名方法 v3")
- error codes: the "错误码" section at the end of the SendSms page

A JSON POST to the endpoint; the signature covers the method, path, the signed headers
(content-type, host, x-tc-action; names and values lower-cased) and the SHA-256 of the body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .base import (
    Clock,
    HttpChannel,
    Outcome,
    Outgoing,
    Reply,
    parse_templates,
    require,
    status_outcome,
    template_spec,
)

ENDPOINT = "https://sms.tencentcloudapi.com/"
SERVICE = "sms"
API_VERSION = "2021-01-11"
ACTION = "SendSms"
ALGORITHM = "TC3-HMAC-SHA256"
CONTENT_TYPE = "application/json; charset=utf-8"

_RETRY_CODES = frozenset(
    {
        "LimitExceeded.PhoneNumberThirtySecondLimit",
        "LimitExceeded.PhoneNumberOneHourLimit",
        "LimitExceeded.DeliveryFrequencyLimit",
        "FailedOperation.InsufficientBalanceInSmsPackage",  # an operator can top it up
    }
)
_RETRY_PREFIXES = ("InternalError", "RequestLimitExceeded", "ServiceUnavailable")
# The request itself is wrong or not allowed: credentials, parameters, template, sign name,
# number, daily caps. Trying the same request again cannot help.
_PERMANENT_PREFIXES = (
    "AuthFailure",
    "FailedOperation",
    "InvalidParameter",
    "InvalidParameterValue",
    "LimitExceeded",
    "MissingParameter",
    "UnauthorizedOperation",
    "UnknownParameter",
    "UnsupportedOperation",
    "InvalidAction",
    "ResourceNotFound",
)


def is_retryable(code: str) -> bool:
    """Whether a Tencent error code may succeed on a later attempt; unknown codes do."""
    if code in _RETRY_CODES or code.startswith(_RETRY_PREFIXES):
        return True
    return not code.startswith(_PERMANENT_PREFIXES)


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def authorization(
    *,
    secret_id: str,
    secret_key: str,
    timestamp: int,
    host: str,
    payload: bytes,
    service: str = SERVICE,
    action: str = ACTION,
) -> str:
    """The Authorization header of a POST to "/" with no query string."""
    date = time.strftime("%Y-%m-%d", time.gmtime(timestamp))  # UTC date of the timestamp
    canonical_headers = (
        f"content-type:{CONTENT_TYPE.lower()}\nhost:{host.lower()}\nx-tc-action:{action.lower()}\n"
    )
    signed_headers = "content-type;host;x-tc-action"
    canonical_request = "\n".join(
        ["POST", "/", "", canonical_headers, signed_headers, _sha256_hex(payload)]
    )
    scope = f"{date}/{service}/tc3_request"
    to_sign = "\n".join([ALGORITHM, str(timestamp), scope, _sha256_hex(canonical_request.encode())])
    secret_date = _hmac(f"TC3{secret_key}".encode(), date)
    secret_service = _hmac(secret_date, service)
    secret_signing = _hmac(secret_service, "tc3_request")
    sig = hmac.new(secret_signing, to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"{ALGORITHM} Credential={secret_id}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={sig}"
    )


def e164(number: str) -> str:
    """Tencent wants +[country code][number]; our stored numbers are mainland digits."""
    number = number.strip()
    if number.startswith("+"):
        return number
    if number.startswith("00"):
        return f"+{number[2:]}"
    if len(number) == 13 and number.startswith("86"):
        return f"+{number}"
    return f"+86{number}"


class TencentSms(HttpChannel):
    """SMS through Tencent Cloud; `templates` maps event template names to template ids, with
    the variable names in the template's order (Tencent's parameters are positional)."""

    def __init__(
        self,
        *,
        name: str,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        sign_name: str,
        templates: Mapping[str, Any],
        endpoint: str = ENDPOINT,
        region: str = "ap-guangzhou",
        timeout: float | None = None,
        clock: Clock = time.time,
    ) -> None:
        require(
            name,
            secret_id=secret_id,
            secret_key=secret_key,
            sdk_app_id=sdk_app_id,
            sign_name=sign_name,
        )
        super().__init__(name=name, timeout=timeout, clock=clock)
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.sdk_app_id = sdk_app_id
        self.sign_name = sign_name
        self.templates = parse_templates(templates)
        self.endpoint = endpoint
        self.region = region

    def request_parts(self, out: Outgoing) -> tuple[bytes, dict[str, str]] | Outcome:
        """The body and headers of the signed request."""
        spec = template_spec(self.templates, out)
        if spec is None:
            return Outcome.failed(
                f"template_not_configured: {out.template or '(none)'}", retry=False
            )
        if missing := spec.missing(out.params):
            return Outcome.failed(f"template_param_missing: {','.join(missing)}", retry=False)
        payload: dict[str, Any] = {
            "PhoneNumberSet": [e164(out.to)],
            "SmsSdkAppId": self.sdk_app_id,
            "SignName": self.sign_name,
            "TemplateId": spec.code,
            # Echoed back in the answer and in delivery receipts: a retry is recognisable.
            "SessionContext": out.key,
        }
        if spec.params:
            payload["TemplateParamSet"] = [str(out.params[n]) for n in spec.params]
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = int(self.clock())
        host = urlsplit(self.endpoint).netloc
        headers = {
            "Authorization": authorization(
                secret_id=self.secret_id,
                secret_key=self.secret_key,
                timestamp=timestamp,
                host=host,
                payload=body,
            ),
            "Content-Type": CONTENT_TYPE,
            "Host": host,
            "X-TC-Action": ACTION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": API_VERSION,
            "X-TC-Region": self.region,
        }
        return body, headers

    def deliver(self, out: Outgoing) -> Outcome:
        parts = self.request_parts(out)
        if isinstance(parts, Outcome):
            return parts
        body, headers = parts
        reply = self._request("POST", self.endpoint, content=body, headers=headers)
        if isinstance(reply, Outcome):
            return reply
        return self.outcome(reply)

    @staticmethod
    def outcome(reply: Reply) -> Outcome:
        """`Response.Error` fails the whole request; otherwise the one number's status in
        `SendStatusSet` decides (`Code == "Ok"`)."""
        data = reply.json()
        response = data.get("Response") if isinstance(data, dict) else None
        if not isinstance(response, dict):
            return status_outcome(reply.status)
        request_id = str(response.get("RequestId") or "")
        error = response.get("Error")
        if isinstance(error, dict):
            code = str(error.get("Code") or "")
            return Outcome.failed(
                f"{code}: {error.get('Message') or ''} (RequestId {request_id})",
                retry=is_retryable(code),
            )
        statuses = response.get("SendStatusSet")
        if not isinstance(statuses, list) or not statuses or not isinstance(statuses[0], dict):
            return Outcome.failed(f"unexpected_reply: no SendStatusSet ({request_id})", retry=True)
        status = statuses[0]
        code = str(status.get("Code") or "")
        if code == "Ok":
            return Outcome.sent("Ok", provider_id=str(status.get("SerialNo") or request_id))
        return Outcome.failed(f"{code}: {status.get('Message') or ''}", retry=is_retryable(code))

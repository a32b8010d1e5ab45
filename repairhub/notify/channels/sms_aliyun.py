"""Aliyun SMS (阿里云短信服务): SendSms through the RPC-style API, version 2017-05-25.

Signed with the RPC signature the SendSms reference points to (SignatureMethod HMAC-SHA1,
SignatureVersion 1.0, a fresh SignatureNonce per request):

- SendSms: https://help.aliyun.com/zh/sms/developer-reference/api-dysmsapi-2017-05-25-sendsms
- RPC signature: https://help.aliyun.com/document_detail/28839.html ("签名机制"; English:
  https://help.aliyun.com/en/document_detail/145075.html)
- error codes: https://help.aliyun.com/zh/sms/developer-reference/api-error-codes

Every parameter travels in the query string of a GET, as the signature page describes it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

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

ENDPOINT = "https://dysmsapi.aliyuncs.com/"
API_VERSION = "2017-05-25"

# Codes worth another attempt later: flow control, balance, the platform's own faults, and a
# nonce collision (the next attempt draws a new one). Checked before the permanent prefixes.
_RETRY_CODES = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",  # per-number flow control (minute/hour)
        "isv.AMOUNT_NOT_ENOUGH",  # account balance; an operator can top it up
        "isv.OUT_OF_SERVICE",  # service suspended for arrears
        "SignatureNonceUsed",
    }
)
_RETRY_PREFIXES = ("isp.", "Throttling", "ServiceUnavailable", "InternalError")
_RETRY_EXCEPTIONS = frozenset({"isp.RAM_PERMISSION_DENY"})  # an isp. code that will not heal
# The request itself is wrong: number, sign name, template, parameters, credentials, clock.
_PERMANENT_PREFIXES = (
    "isv.",
    "Signature",
    "IncompleteSignature",
    "InvalidAccessKeyId",
    "InvalidTimeStamp",
    "InvalidParameter",
    "InvalidVersion",
    "InvalidAction",
    "MissingParameter",
    "Forbidden",
    "UnsupportedSignatureMethod",
)


def is_retryable(code: str) -> bool:
    """Whether an Aliyun error code may succeed on a later attempt; unknown codes do."""
    if code in _RETRY_EXCEPTIONS:
        return False
    if code in _RETRY_CODES or code.startswith(_RETRY_PREFIXES):
        return True
    return not code.startswith(_PERMANENT_PREFIXES)


def percent_encode(value: str) -> str:
    """Aliyun's encoding of names and values: UTF-8, every byte %XY except A-Z a-z 0-9 - _ . ~
    (so a space is %20, never +, and * is %2A)."""
    return quote(value, safe="-_.~")


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """HTTPMethod & percentEncode("/") & percentEncode(canonicalized query string), the query
    string being the sorted, encoded `name=value` pairs joined by &, Signature excluded."""
    canonical = "&".join(
        f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items())
    )
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"


def signature(secret: str, method: str, params: Mapping[str, str]) -> str:
    """Base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign))."""
    key = f"{secret}&".encode()
    digest = hmac.new(key, string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _iso8601(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class AliyunSms(HttpChannel):
    """SMS through Aliyun; `templates` maps event template names to Aliyun template codes."""

    def __init__(
        self,
        *,
        name: str,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        templates: Mapping[str, Any],
        endpoint: str = ENDPOINT,
        region: str = "cn-hangzhou",
        timeout: float | None = None,
        clock: Clock = time.time,
        nonce: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        require(
            name,
            access_key_id=access_key_id,
            access_key_secret=access_key_secret,
            sign_name=sign_name,
        )
        super().__init__(name=name, timeout=timeout, clock=clock)
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.sign_name = sign_name
        self.templates = parse_templates(templates)
        self.endpoint = endpoint
        self.region = region
        self.nonce = nonce

    def signed_params(self, out: Outgoing) -> dict[str, str] | Outcome:
        """Every query parameter of the request, Signature included."""
        spec = template_spec(self.templates, out)
        if spec is None:
            return Outcome.failed(
                f"template_not_configured: {out.template or '(none)'}", retry=False
            )
        if missing := spec.missing(out.params):
            return Outcome.failed(f"template_param_missing: {','.join(missing)}", retry=False)
        values = (
            {n: str(out.params[n]) for n in spec.params}
            if spec.params is not None
            else {k: str(v) for k, v in out.params.items()}
        )
        params = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "RegionId": self.region,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": self.nonce(),
            "SignatureVersion": "1.0",
            "Timestamp": _iso8601(self.clock()),
            "Version": API_VERSION,
            "PhoneNumbers": out.to,
            "SignName": self.sign_name,
            "TemplateCode": spec.code,
            # Aliyun's OutId comes back in delivery receipts: a retried message is recognisable.
            "OutId": out.key,
        }
        if values:
            params["TemplateParam"] = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
        params["Signature"] = signature(self.access_key_secret, "GET", params)
        return params

    def deliver(self, out: Outgoing) -> Outcome:
        params = self.signed_params(out)
        if isinstance(params, Outcome):
            return params
        query = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in params.items())
        reply = self._request("GET", f"{self.endpoint.split('?')[0]}?{query}")
        if isinstance(reply, Outcome):
            return reply
        return self.outcome(reply)

    @staticmethod
    def outcome(reply: Reply) -> Outcome:
        """`Code == "OK"` is success; errors come as a Code in a 200 (business errors) or in a
        4xx/5xx (gateway errors such as SignatureDoesNotMatch)."""
        data = reply.json()
        if not isinstance(data, dict) or "Code" not in data:
            return status_outcome(reply.status)
        code = str(data["Code"])
        if code == "OK":
            return Outcome.sent("OK", provider_id=str(data.get("BizId") or ""))
        message = str(data.get("Message") or "")
        return Outcome.failed(f"{code}: {message}", retry=is_retryable(code))

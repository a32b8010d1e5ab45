"""Every API refusal is JSON `{code, message}` (+ `field`), in the request's language.

Service refusals (workorders.errors.OrderError and subclasses) carry their own status and code;
this module adds the API's own (401, CSRF) and turns ninja's and Pydantic's errors into the
same shape, with messages people can act on.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFilesSent
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from repairhub.workorders.errors import OrderError


class Unauthorized(OrderError):
    status = 401
    code = "unauthorized"


class CsrfFailed(OrderError):
    status = 403
    code = "csrf_failed"


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if field:
        body["field"] = field
    return body


def _respond(api: NinjaAPI, request: HttpRequest, status: int, body: dict) -> HttpResponse:
    response = api.create_response(request, body, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="repairhub"'
    return response


# --- Pydantic errors in words -----------------------------------------------------------------


def _field_name(loc: tuple | list) -> str:
    """("body", "payload", "reporter_phone") → "reporter_phone"; ("query", "limit") → "limit"."""
    parts = [str(p) for p in loc[1:]]
    # Body parameters are nested under the endpoint's argument name; callers name only fields.
    if parts and parts[0] in {"payload", "filters"}:
        parts = parts[1:]
    return ".".join(parts)


def _problem(error: dict) -> str:
    """What is wrong with one value, in words (the field name is added by the caller)."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("必须填写。")
    if kind in {"string_type", "string_unicode"}:
        return _("必须是文字。")
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return _("必须是整数。")
    if kind in {"float_type", "float_parsing", "decimal_parsing", "decimal_type"}:
        return _("必须是数字。")
    if kind in {"bool_type", "bool_parsing"}:
        return _("必须是 true 或 false。")
    if kind.startswith("datetime") or kind in {"timezone_naive", "timezone_aware"}:
        return _("日期时间格式不正确，请使用 ISO 8601 格式，例如 2026-05-01T09:00:00+08:00。")
    if kind.startswith("date"):
        return _("日期格式不正确，请使用 YYYY-MM-DD，例如 2026-05-01。")
    if kind in {"literal_error", "enum"}:
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        choices = _("、").join(c.strip() for c in expected.split(",") if c.strip())
        return _("只能是以下之一：%(choices)s。") % {"choices": choices}
    if kind == "string_too_long":
        return _("最多 %(max)s 个字。") % {"max": ctx.get("max_length")}
    if kind == "string_too_short":
        return _("至少 %(min)s 个字。") % {"min": ctx.get("min_length")}
    if kind in {"greater_than_equal", "greater_than"}:
        limit = ctx.get("ge", ctx.get("gt"))
        return _("不能小于 %(limit)s。") % {"limit": limit}
    if kind in {"less_than_equal", "less_than"}:
        limit = ctx.get("le", ctx.get("lt"))
        return _("不能大于 %(limit)s。") % {"limit": limit}
    if kind == "extra_forbidden":
        return _("不是该操作支持的字段。")
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return _("必须是 JSON 对象。")
    if kind in {"list_type", "too_long", "too_short"}:
        return _("数量或格式不正确。")
    return _("格式不正确。")


def describe_validation(errors: list[dict]) -> list[dict[str, str]]:
    described = []
    for error in errors:
        field = _field_name(error.get("loc", ()))
        problem = _problem(error)
        if field:
            message = _("字段 %(field)s：%(problem)s") % {"field": field, "problem": problem}
        else:
            message = _("请求体必须是 JSON 对象。")
        described.append({"field": field, "message": message})
    return described


# --- handlers -----------------------------------------------------------------------------------


def install(api: NinjaAPI) -> None:
    """Register the JSON error shape for everything an endpoint may raise."""

    def order_error(request, exc: OrderError):
        return _respond(api, request, exc.status, error_body(exc.code, exc.message, exc.field))

    def validation_error(request, exc: ValidationError):
        described = describe_validation(list(exc.errors))
        first = described[0] if described else {"field": "", "message": _("输入不正确。")}
        body = error_body("invalid", first["message"], first["field"] or None)
        if len(described) > 1:
            body["errors"] = described
        return _respond(api, request, 422, body)

    def authentication_error(request, exc: AuthenticationError):
        message = _("请先登录，或在 Authorization 头中提供有效的接口令牌（Bearer）。")
        return _respond(api, request, 401, error_body("unauthorized", message))

    def too_big(request, exc: Exception):
        message = _("请求体过大：JSON 最大 %(max)s KB，照片和视频请用附件接口上传。") % {
            "max": _max_body_kb()
        }
        return _respond(api, request, 413, error_body("too_large", message))

    def too_many_files(request, exc: Exception):
        return _respond(
            api, request, 422, error_body("too_many_files", _("一次上传的文件过多。"), "files")
        )

    def http_error(request, exc: HttpError):
        cause = exc.__cause__
        if isinstance(cause, RequestDataTooBig):
            return too_big(request, cause)
        if isinstance(cause, json.JSONDecodeError | UnicodeDecodeError):
            return _respond(
                api, request, 422, error_body("invalid", _("请求体不是合法的 JSON，请检查格式。"))
            )
        if exc.status_code == 404:
            return not_found(request, exc)
        return _respond(api, request, exc.status_code, error_body("error", str(exc)))

    def not_found(request, exc: Exception):
        return _respond(api, request, 404, error_body("not_found", _("找不到请求的资源。")))

    def forbidden(request, exc: Exception):
        return _respond(api, request, 403, error_body("forbidden", _("您无权执行此操作。")))

    api.add_exception_handler(OrderError, order_error)
    api.add_exception_handler(ValidationError, validation_error)
    api.add_exception_handler(AuthenticationError, authentication_error)
    api.add_exception_handler(RequestDataTooBig, too_big)
    api.add_exception_handler(TooManyFilesSent, too_many_files)
    api.add_exception_handler(HttpError, http_error)
    api.add_exception_handler(Http404, not_found)
    api.add_exception_handler(PermissionDenied, forbidden)


def _max_body_kb() -> int:
    from django.conf import settings

    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024)

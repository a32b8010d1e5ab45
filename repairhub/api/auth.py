"""Who is calling: a bearer token, the browser session (with CSRF on unsafe methods), or nobody.

Tokens are looked up by their SHA-256 digest (accounts.services.user_for_token): one indexed
query, never a password hash, because every API call pays for it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from repairhub.accounts.services import user_for_token

from .errors import CsrfFailed, Unauthorized


class BearerToken(HttpBearer):
    """`Authorization: Bearer rh_…`. A header that is present but wrong is a 401, never anonymous."""

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get("Authorization")
        if not header:
            return None
        scheme, _sep, secret = header.partition(" ")
        if scheme.lower() != "bearer":
            raise Unauthorized(_("Authorization 头只支持 Bearer 接口令牌。"))
        return self.authenticate(request, secret.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_token(token)
        if user is None:
            raise Unauthorized(_("接口令牌无效、已撤销，或其账号已停用。"))
        return user


class SessionCookie(APIKeyCookie):
    """The signed-in browser. Unsafe methods must carry the CSRF token (X-CSRFToken header)."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        # CSRF is checked below, and only for signed-in sessions: anonymous callers have no
        # session to ride on, and partners' servers send no cookies.
        super().__init__(csrf=False)

    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if check_csrf(request) is not None:
            raise CsrfFailed(_("CSRF 校验失败：请刷新页面后重试，或在请求头中带上 X-CSRFToken。"))
        return user

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:  # pragma: no cover
        return None


def anonymous(request: HttpRequest) -> AnonymousUser:
    """Last in the chain where callers without an account are welcome."""
    return AnonymousUser()


REQUIRED = [BearerToken(), SessionCookie()]
OPTIONAL = [BearerToken(), SessionCookie(), anonymous]

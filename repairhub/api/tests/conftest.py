"""An HTTP client for /api/v1 speaking JSON, as a token holder, a browser session or nobody."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from repairhub.accounts.services import issue_token


class Api:
    def __init__(self, client: Client, token: str | None = None):
        self.client = client
        self.token = token

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        out = dict(headers or {})
        if self.token:
            out.setdefault("Authorization", f"Bearer {self.token}")
        return out

    def get(self, path: str, params: dict[str, Any] | None = None, **headers):
        return self.client.get("/api/v1" + path, params or {}, headers=self._headers(headers))

    def post(self, path: str, body: Any = None, **headers):
        data = "" if body is None else body if isinstance(body, str) else json.dumps(body)
        return self.client.post(
            "/api/v1" + path,
            data=data,
            content_type="application/json",
            headers=self._headers(headers),
        )

    def put(self, path: str, body: Any = None, **headers):
        return self.client.put(
            "/api/v1" + path,
            data=json.dumps(body),
            content_type="application/json",
            headers=self._headers(headers),
        )

    def upload(self, path: str, files: list, **headers):
        return self.client.post("/api/v1" + path, {"files": files}, headers=self._headers(headers))


@pytest.fixture
def anon(db, client) -> Api:
    return Api(client)


@pytest.fixture
def api_as(world):
    """api_as("dispatcher") → an Api holding a fresh token of world.dispatcher."""

    def make(who: str) -> Api:
        user = getattr(world, who)
        return Api(Client(), issue_token(user, name="test"))

    return make

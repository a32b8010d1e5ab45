"""Login: Argon2 in production, brute force locked out, CSRF on every form."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_production_settings_hash_passwords_with_argon2(tmp_path):
    env = {**os.environ, "REPAIRHUB_TESTING": "0", "REPAIRHUB_VAR": str(tmp_path)}
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='repairhub.settings'; django.setup();"
        "from django.contrib.auth.hashers import make_password, check_password;"
        "h = make_password('correct horse'); print(h.split('$')[0], check_password('correct horse', h))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split()[-2:] == ["argon2", "True"]


def test_repeated_failures_lock_the_login(world, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    for _ in range(3):
        client.post("/accounts/login/", {"username": "agent", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "agent", "password": "pass-agent"})
    assert response.status_code == 429
    assert "登录已暂时锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_right_password_logs_in(world):
    client = Client()
    response = client.post("/accounts/login/", {"username": "agent", "password": "pass-agent"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(world.agent.pk)


def test_forms_refuse_posts_without_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "agent", "password": "pass-agent"})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session

"""Browser-test fixtures: Playwright driving Debian's Chromium against the live test server.

Use with `pytestmark = pytest.mark.browser` and the `page` / `phone_page` fixtures; screenshots
go to docs/screenshots/ through `screenshot(page, name)`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) "
        "NetType/WIFI Language/zh_CN"
    ),
}
DESKTOP = {"viewport": {"width": 1280, "height": 860}}


@pytest.fixture(scope="session")
def browser():
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Browser tests need Chromium at {CHROMIUM}: run scripts/ensure-test-tools.sh")
    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


def _context(browser, live_server, options):
    ctx = browser.new_context(base_url=live_server.url, locale="zh-CN", **options)
    ctx.set_default_timeout(10_000)
    return ctx


@pytest.fixture
def page(browser, live_server):
    ctx = _context(browser, live_server, DESKTOP)
    yield ctx.new_page()
    ctx.close()


@pytest.fixture
def phone_page(browser, live_server):
    ctx = _context(browser, live_server, PHONE)
    yield ctx.new_page()
    ctx.close()


def _scratch() -> Path:
    import tempfile

    return Path(tempfile.gettempdir()) / "repairhub-screenshots"


def login(page, username: str, password: str | None = None) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password or "pass-" + username)
    page.click("button.primary")
    page.wait_for_load_state()


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot: into docs/screenshots/ when REPAIRHUB_SCREENSHOTS=1 (to
    refresh the docs), otherwise into a temporary folder, so a test run leaves the tree clean."""
    folder = SCREENSHOTS if os.environ.get("REPAIRHUB_SCREENSHOTS") == "1" else _scratch()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path

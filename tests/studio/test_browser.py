"""The studio in a real browser: Debian's Chromium, headless, driven by Playwright.

Playwright only drives the browser the machine already has (``executable_path``); it never
downloads one. Without ``/usr/bin/chromium`` the test is skipped (``apt-get install chromium``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.support.gated import GatedProvider
from tests.support.server import RunningServer, make_settings, run_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "studio.png"
PASSWORD = "correct horse battery"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()


@pytest.fixture
def gated() -> GatedProvider:
    return GatedProvider()


@pytest.fixture
def studio(tmp_path: Path, gated: GatedProvider) -> AsyncIterator[RunningServer]:
    with run_server(make_settings(tmp_path), providers=[gated]) as server:
        yield server


async def open_studio(browser: Browser, server: RunningServer) -> tuple[Page, list[str]]:
    page = await browser.new_page(viewport={"width": 1120, "height": 720})
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    await page.goto(server.base_url + "/")
    return page, problems


async def test_a_user_generates_watches_reads_downloads_and_deletes(
    browser: Browser, studio: RunningServer, gated: GatedProvider
) -> None:
    page, problems = await open_studio(browser, studio)

    # Create an account (which logs in), log out, log back in.
    await page.get_by_label("Email").fill("ada@example.org")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page.locator("#viewer-email")).to_have_text("ada@example.org")
    await page.get_by_role("button", name="Log out").click()
    await page.get_by_label("Email").fill("ada@example.org")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("#empty")).to_be_visible()

    # Generate a quiz and watch it stream: the provider holds the job after its first chunk.
    await page.get_by_label("Topic").fill("Photosynthesis")
    await page.get_by_label("Type").select_option("QUIZ")
    await page.get_by_label("Level").select_option("HIGH_SCHOOL")
    await page.get_by_role("button", name="Generate").click()
    await expect(page.locator("#job-text")).to_contain_text('{"title"')
    await expect(page.locator("#job-status")).to_have_text("asking offline (offline-template-v1)")
    in_flight = await page.locator("#job-progress").evaluate("bar => bar.value")
    gated.gate.set()
    await expect(page.locator("#job-status")).to_have_attribute("data-state", "succeeded")
    await expect(page.locator("#job-percent")).to_have_text("100%")
    status = await page.locator("#job-status").inner_text()

    # It is listed, open, and readable.
    items = page.locator(".content-item")
    await expect(items).to_have_count(1)
    await expect(items.first).to_contain_text("Quiz · high school")
    title = await items.first.locator("strong").inner_text()
    await expect(page.locator("#reader-body h2")).to_have_text(title)
    await expect(page.locator("#reader-body li").first).to_be_visible()
    await page.screenshot(path=SCREENSHOT)

    # Exports download with the user's credential.
    async with page.expect_download() as download_info:
        await page.get_by_role("button", name="Moodle GIFT").click()
    download = await download_info.value
    gift = await asyncio.to_thread(Path(await download.path()).read_text, encoding="utf-8")

    # Delete it: the list empties.
    await page.get_by_role("button", name="Delete").click()
    await expect(items).to_have_count(0)
    await expect(page.locator("#empty")).to_be_visible()
    await expect(page.locator("#reader")).to_be_hidden()

    assert 0.1 <= in_flight < 0.9
    assert status == f"Done: {title}"
    assert "Photosynthesis" in title
    assert download.suggested_filename.endswith(".gift.txt")
    assert "photosynthesis" in download.suggested_filename
    assert "Photosynthesis" in gift
    assert problems == []


async def test_a_wrong_password_is_shown_not_thrown(
    browser: Browser, studio: RunningServer
) -> None:
    page, problems = await open_studio(browser, studio)

    await page.get_by_label("Email").fill("nobody@example.org")
    await page.get_by_label("Password").fill("wrong password")
    await page.get_by_role("button", name="Log in").click()

    await expect(page.locator("#auth-error")).to_have_text("the email or password is incorrect")
    await expect(page.locator("#workspace")).to_be_hidden()
    assert problems == []

"""A user's account page and their own password in the browser (docs/features/accounts.md,
"Your password"): the secretariat's temporary password is pointed out on every page without
standing in the way, the owner changes it on a tablet, their other device is signed out and the
new password (with Vietnamese letters) signs them in."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import FRONTEND, PageFactory, WebApp, format_violations

pytestmark = pytest.mark.browser

CATALOGUE = {
    locale: json.loads((FRONTEND / "messages" / "common" / f"{locale}.json").read_text("utf-8"))
    for locale in ("vi", "en")
}
PORTRAIT = (800, 1280)
LANDSCAPE = (1280, 800)
NEW = "Mật khẩu riêng của tôi"


def msg(locale: str, key: str) -> str:
    return str(CATALOGUE[locale][key])


async def new_member(app: WebApp, username: str, name: str) -> str:
    """An account made by the secretariat, as the desk makes it: its temporary password."""
    status, made, _ = await app.http(
        "POST",
        f"/api/councils/{app.council_id}/accounts",
        token=await app.token(app.secretary),
        json={"username": username, "name": name, "role": "delegate"},
    )
    assert status == 201, made
    return str(made["password"])


async def fill_password_form(page: Page, current: str, new: str, repeat: str) -> None:
    await page.locator("#current-password").fill(current)
    await page.locator("#new-password").fill(new)
    await page.locator("#repeat-password").fill(repeat)
    await page.locator("form button[type=submit]").click()


async def test_a_temporary_password_is_replaced_by_its_owner(
    fresh_webapp: WebApp, new_page: PageFactory, axe: Any, shot: Any
) -> None:
    app = fresh_webapp
    temporary = await new_member(app, "hoa.tt", "Trần Thị Hoa")
    elsewhere = await new_page("hoa.tt", LANDSCAPE, app=app, password=temporary)
    desk = await new_page(
        app.secretary, LANDSCAPE, app=app, path=f"/desk/councils/{app.council_id}"
    )
    row = desk.locator("tr[data-username='hoa.tt']")
    await expect(row.get_by_test_id("temporary-tag")).to_be_visible()
    page = await new_page("hoa.tt", PORTRAIT, app=app, password=temporary)

    # every signed-in page points it out, and the meetings are still there to open
    notice = page.get_by_test_id("temporary-password")
    await expect(notice).to_contain_text(msg("vi", "common_temporary_notice"))
    await expect(page.locator("li.meeting").first).to_be_visible()
    await shot(page, "account-temporary-notice-vi-portrait")
    violations = await axe(page)
    assert not violations, format_violations(violations)
    # "Later" hides it in this tab, across a reload; the name in the header opens the account
    await notice.get_by_role("button", name=msg("vi", "common_temporary_later")).click()
    await expect(notice).to_have_count(0)
    await page.reload()
    await expect(page.locator("li.meeting").first).to_be_visible()
    await expect(page.get_by_test_id("temporary-password")).to_have_count(0)
    await page.get_by_test_id("account-link").click()
    await page.wait_for_url(re.compile(r"/account$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        msg("vi", "common_account_title")
    )
    await expect(page.get_by_test_id("account-temporary")).to_be_visible()

    # mistakes are said in words, next to the field, which takes the focus
    error = page.get_by_test_id("account-error")
    await fill_password_form(page, "không phải mật khẩu", NEW, NEW)
    await expect(error).to_have_text(msg("vi", "common_account_err_current"))
    await expect(page.locator("#current-password")).to_be_focused()
    await expect(page.locator("#current-password")).to_have_attribute("aria-invalid", "true")
    await fill_password_form(page, temporary, NEW, NEW + "!")
    await expect(error).to_have_text(msg("vi", "common_account_err_mismatch"))
    await expect(page.locator("#repeat-password")).to_be_focused()
    await fill_password_form(page, temporary, temporary, temporary)
    await expect(error).to_have_text(msg("vi", "common_account_err_same"))
    await expect(page.locator("#new-password")).to_be_focused()
    await shot(page, "account-error-vi-portrait")
    violations = await axe(page)
    assert not violations, format_violations(violations)

    await fill_password_form(page, temporary, NEW, NEW)
    await expect(page.get_by_test_id("account-saved")).to_have_text(
        msg("vi", "common_account_saved")
    )
    await expect(page.get_by_test_id("account-temporary")).to_have_count(0)
    await expect(page.locator("#current-password")).to_have_value("")
    await shot(page, "account-saved-vi-portrait")

    # the other device is signed out; this one is not, and no longer hears of a temporary one
    await elsewhere.reload()
    await elsewhere.wait_for_url(re.compile(r"/login\?expired=1"))
    await page.goto("/")
    await expect(page.locator("li.meeting").first).to_be_visible()
    await expect(page.get_by_test_id("temporary-password")).to_have_count(0)

    # the secretariat sees that she chose her own
    await desk.reload()
    await expect(row).to_be_visible()
    await expect(row.get_by_test_id("temporary-tag")).to_have_count(0)

    # the new password signs in (typed on the login page)
    await page.get_by_role("button", name=msg("vi", "common_logout")).click()
    await page.wait_for_url(re.compile(r"/login$"))
    await page.locator("#username").fill("hoa.tt")
    await page.locator("#password").fill(NEW)
    await page.locator("form button[type=submit]").click()
    await expect(page.locator("li.meeting").first).to_be_visible()
    assert not new_page.errors(page)


async def test_the_account_page_in_english_on_a_landscape_tablet(
    webapp: WebApp, new_page: PageFactory, axe: Any, shot: Any
) -> None:
    page = await new_page(webapp.delegates[5], LANDSCAPE, "en", path="/account")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        msg("en", "common_account_title")
    )
    # the rehearsal's accounts were made by the operator: nothing temporary about them
    await expect(page.get_by_test_id("account-temporary")).to_have_count(0)
    await page.locator("#current-password").fill("whatever it is")
    await page.locator("form button[type=submit]").click()
    await expect(page.get_by_test_id("account-error")).to_have_text(
        msg("en", "common_account_err_missing")
    )
    await expect(page.locator("#new-password")).to_be_focused()
    await page.locator("#new-password").fill("short")
    await page.locator("#repeat-password").fill("short")
    await page.locator("form button[type=submit]").click()
    await expect(page.get_by_test_id("account-error")).to_have_text(
        msg("en", "common_account_err_weak")
    )
    await shot(page, "account-error-en-landscape")
    # a message on screen is said again in the language switched to
    await page.get_by_role("button", name=msg("en", "common_lang_vi")).click()
    await expect(page.get_by_test_id("account-error")).to_have_text(
        msg("vi", "common_account_err_weak")
    )
    await page.get_by_role("button", name=msg("en", "common_lang_en")).click()
    violations = await axe(page)
    assert not violations, format_violations(violations)
    assert not new_page.errors(page)

"""Browser check of the English interface: switch on the login page, sign in, read the people list."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests import factories as f
from tests.e2e.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(("viewport", "size"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_worker_uses_the_english_interface(open_page: Any, city: Any, shot: Any, viewport: dict[str, int],
                                           size: str) -> None:
    # given a community worker on the login page, who picks English
    page = open_page(viewport)
    page.goto("/login/")
    page.get_by_role("button", name="English").click()
    page.wait_for_selector("html[lang=en]")
    # then the login page is in English
    assert page.get_by_role("heading", level=1).inner_text() == "Community Cloud · Log in"
    shot(page, f"en-login-{size}")
    # when they sign in and open People
    page.get_by_label("Username").fill("worker_a1")
    page.get_by_label("Password").fill(f.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="People").click()
    page.wait_for_url(re.compile(r"/registry/people/"))
    # then the list, its filters and the top bar are in English, and nothing overflows the viewport
    assert page.get_by_role("heading", level=1).inner_text() == "People"
    assert page.get_by_role("button", name="Filter").is_visible()
    assert page.get_by_role("button", name="Log out").is_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    shot(page, f"en-people-{size}")
    # when they switch back to Chinese from the top bar
    page.get_by_role("button", name="中文").click()
    page.wait_for_selector("html[lang=zh-hans]")
    # then they stay on the people list, in Chinese
    assert page.get_by_role("heading", level=1).inner_text() == "人员"

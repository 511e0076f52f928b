"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server.

Never ``playwright install``: the browser is the system one. Screenshots go to
``test-output/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from shequ.registry import services
from shequ.registry.choices import Relation
from tests import factories as f

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--lang=zh-CN"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser: Any, live_server: Any, transactional_db: Any) -> Iterator[Callable[..., Any]]:
    """Open a fresh browser context (own cookies) at a viewport size: ``open_page(PHONE)``."""
    contexts: list[Any] = []

    def make(viewport: dict[str, int] | None = None) -> Any:
        context = browser.new_context(viewport=viewport or DESKTOP, locale="zh-CN", base_url=live_server.url,
                                      device_scale_factor=1)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_page: Callable[..., Any]) -> Any:
    return open_page(DESKTOP)


@pytest.fixture
def shot() -> Callable[[Any, str], Path]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def sign_in(page: Any, username: str, password: str = f.PASSWORD) -> None:
    page.goto("/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/")


@pytest.fixture
def city(tree: Any, actors: Any) -> SimpleNamespace:
    """People, a household and a grid in community A1; one person in street B."""
    services.grid_create(actor=None, community=tree.a1, code="31010500100101", name="秀水第一网格",
                         geometry=f.square(121.4005, 31.2005, 0.008))
    services.grid_create(actor=None, community=tree.a1, code="31010500100102", name="秀水第二网格",
                         geometry=f.square(121.4095, 31.2005, 0.008))
    household = services.household_create(actor=None, unit=tree.a1_unit, number="0101户")
    head = f.person(tree.a1_unit, name="张秀英", household=household, relation=Relation.HEAD,
                    id_number=f.id_number(), phone="13812345678", tags=["living_alone", "oldest_old"])
    spouse = f.person(tree.a1_unit, name="李国强", household=household, relation=Relation.SPOUSE, sex="male",
                      phone="13900002222", tags=["disabled"])
    other = f.person(tree.a2_unit, name="王建华", phone="13700003333")
    in_b = f.person(tree.b1_unit, name="赵明", phone="13600004444")
    return SimpleNamespace(household=household, head=head, spouse=spouse, other=other, in_b=in_b, **vars(tree))

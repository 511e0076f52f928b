"""Browser walks through the registry spine: drill-down, reveal with a reason, scope, phone layout."""

from __future__ import annotations

import re
from typing import Any

import pytest

from shequ.core.models import AuditAction, AuditEntry
from tests.e2e.conftest import DESKTOP, PHONE, sign_in

pytestmark = pytest.mark.e2e


def _map_polygons(page: Any) -> int:
    page.wait_for_selector("#place-map[data-ready]")
    return page.locator("#place-map path.leaflet-interactive").count()


def test_worker_drills_down_and_reveals_phone(page: Any, city: Any, actors: Any, shot: Any) -> None:
    # given a community worker of 秀水居委会
    page.goto("/login/")
    shot(page, "login-desktop")
    sign_in(page, "worker_a1")
    shot(page, "home-desktop")
    # when they open 区域, they land on their community with its map
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="区域").click()
    page.wait_for_url(re.compile(rf"/registry/places/{city.a1.pk}/$"))
    assert _map_polygons(page) >= 3  # the community, its compound and two grids
    shot(page, "place-community-desktop")
    # and drill down compound → building → unit → household → person
    page.locator(".list-links").get_by_role("link", name=re.compile("秀水小区")).click()
    assert _map_polygons(page) >= 1
    shot(page, "place-compound-desktop")
    page.locator(".list-links").get_by_role("link", name=re.compile("1号楼")).click()
    shot(page, "place-building-desktop")
    page.locator(".list-links").get_by_role("link", name=re.compile("0101室")).click()
    shot(page, "place-unit-desktop")
    page.get_by_role("link", name=re.compile("0101户")).click()
    shot(page, "household-desktop")
    page.get_by_role("link", name=re.compile("张")).first.click()
    page.wait_for_url(re.compile(rf"/registry/people/{city.head.pk}/$"))
    # then the phone is masked
    phone = page.locator("#pii-phone")
    assert "138****5678" in phone.inner_text()
    assert "13812345678" not in page.content()
    shot(page, "person-desktop")
    # when they reveal it with a reason
    phone.get_by_text("查看", exact=True).click()
    phone.get_by_label("查看事由").fill("电话回访核实")
    shot(page, "person-reveal-form-desktop")
    phone.get_by_role("button", name="确认查看").click()
    # then the full number shows and the audit trail has the reveal with that reason
    page.wait_for_selector("[data-revealed=phone]")
    assert page.locator("[data-revealed=phone]").inner_text() == "13812345678"
    shot(page, "person-revealed-desktop")
    entry = AuditEntry.objects.get(action=AuditAction.REVEAL, object_id=str(city.head.pk))
    assert (entry.actor_id, entry.field, entry.reason) == (actors.worker_a1.pk, "phone", "电话回访核实")


def test_reveal_without_reason_shows_error(page: Any, city: Any) -> None:
    sign_in(page, "worker_a1")
    page.goto(f"/registry/people/{city.head.pk}/")
    id_box = page.locator("#pii-id_number")
    id_box.get_by_text("查看", exact=True).click()
    id_box.get_by_label("查看事由").fill("看")
    id_box.get_by_role("button", name="确认查看").click()
    page.wait_for_selector("#pii-id_number .errorlist")
    assert "请填写查看事由" in page.locator("#pii-id_number .errorlist").inner_text()
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_street_officers_see_their_own_street_only(open_page: Any, city: Any, shot: Any) -> None:
    # given officers of street A and street B
    page_b = open_page(DESKTOP)
    sign_in(page_b, "officer_b")
    # when B opens a person of street A
    response = page_b.goto(f"/registry/people/{city.head.pk}/")
    # then the answer is the 404 page
    assert response is not None and response.status == 404
    assert "页面不存在" in page_b.content()
    shot(page_b, "not-found-desktop")
    # and A's people list holds A's people only
    page_a = open_page(DESKTOP)
    sign_in(page_a, "officer_a")
    page_a.goto("/registry/people/")
    names = page_a.locator(".person-link").all_inner_texts()
    assert sorted(names) == sorted(["张**", "李**", "王**"])
    assert "赵*" not in names
    shot(page_a, "people-list-desktop")
    page_a.goto(f"/registry/places/{city.street_a.pk}/")
    assert _map_polygons(page_a) >= 3
    shot(page_a, "place-street-desktop")


def test_phone_layout(open_page: Any, city: Any, shot: Any) -> None:
    page = open_page(PHONE)
    page.goto("/login/")
    shot(page, "login-phone")
    sign_in(page, "worker_a1")
    shot(page, "home-phone")
    page.goto("/registry/people/")
    _no_horizontal_overflow(page)
    shot(page, "people-list-phone")
    page.goto(f"/registry/people/{city.head.pk}/")
    _no_horizontal_overflow(page)
    shot(page, "person-phone")
    page.locator("#pii-phone").get_by_text("查看", exact=True).click()
    shot(page, "person-reveal-form-phone")
    page.goto(f"/registry/places/{city.a1.pk}/")
    assert _map_polygons(page) >= 3
    _no_horizontal_overflow(page)
    shot(page, "place-community-phone")
    page.goto(f"/registry/places/{city.a1_unit.pk}/")
    shot(page, "place-unit-phone")
    page.goto(f"/registry/households/{city.household.pk}/")
    shot(page, "household-phone")
    page.goto(f"/registry/people/{city.head.pk}/edit/")
    _no_horizontal_overflow(page)
    shot(page, "person-edit-phone")
    page.goto(f"/registry/people/new/?place={city.a1_unit2.pk}")
    page.get_by_role("button", name="保存").click()
    shot(page, "person-create-errors-phone")
    assert page.locator("#name-errors").is_visible()


def test_resident_home(open_page: Any, city: Any, shot: Any) -> None:
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = open_page(viewport)
        sign_in(page, "resident_a1")
        assert "欢迎使用社区云" in page.content()
        shot(page, f"home-resident-{name}")


def test_wrong_password_message(page: Any, city: Any, shot: Any) -> None:
    page.goto("/login/")
    page.get_by_label("用户名").fill("worker_a1")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    assert page.get_by_role("alert").inner_text().startswith("用户名或密码不正确")
    shot(page, "login-error-desktop")


def _no_horizontal_overflow(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"page is {width}px wide"

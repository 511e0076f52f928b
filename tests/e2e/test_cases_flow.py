"""Browser walk of issue 4: a resident reports on a phone → the community accepts and escalates (社区呼叫) →
the street whistles to 城管 (街道吹哨) → the handler checks in (部门报到) and reports → the street verifies and
closes → the resident rates 5 stars. Every step goes through the pages.

Screenshots of every page, desktop and phone, go to test-output/screenshots/cases-*.png.
"""

from __future__ import annotations

from typing import Any

import pytest

from shequ.cases.choices import CaseState
from shequ.cases.models import Case
from tests.cases.conftest import departments, grids, reporter  # noqa: F401  (shared fixtures, used by name)
from tests.cases.fixtures_pages import PNG, cats  # noqa: F401
from tests.e2e.conftest import DESKTOP, PHONE, sign_in

pytestmark = pytest.mark.e2e



def _top(shot: Any) -> Any:
    """Full-page screenshots from the top (the sticky header would otherwise cover the middle)."""
    def take(page: Any, name: str) -> Any:
        page.evaluate("window.scrollTo(0, 0)")
        return shot(page, name)
    return take


def _as(open_page: Any, username: str, viewport: dict[str, int]) -> Any:
    page = open_page(viewport)
    sign_in(page, username)
    return page


def _both(open_page: Any, username: str, url: str, name: str, shot: Any, *, ready: str | None = None) -> None:
    """Screenshots of one page on a desktop and on a phone."""
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = _as(open_page, username, viewport)
        page.goto(url)
        if ready:
            page.wait_for_selector(ready)
        shot(page, f"cases-{name}-{label}")
        page.context.close()


def _confirm(page: Any, summary: str, button: str, fill: dict[str, str] | None = None) -> None:
    page.locator("summary", has_text=summary).first.click()
    for label, value in (fill or {}).items():
        page.locator("details[open]").get_by_label(label).fill(value)
    page.get_by_role("button", name=button).click()
    page.wait_for_load_state()


def test_report_to_rating(open_page: Any, tree: Any, actors: Any, grids: Any, departments: Any,  # noqa: F811
                          reporter: Any, cats: Any, shot: Any, tmp_path: Any) -> None:  # noqa: F811
    shot = _top(shot)
    # when the resident reports on a phone: category, description, a photo, a pin on the map
    resident = _as(open_page, reporter.username, PHONE)
    resident.goto("/cases/report/")
    resident.wait_for_selector("#pick-map[data-ready='1']")
    resident.get_by_label("问题类别").select_option(label="市容环境")
    resident.get_by_label("问题描述").fill("小区东门口垃圾堆积三天没人清运，气味很大")
    photo = tmp_path / "photo.png"
    photo.write_bytes(PNG)
    resident.get_by_label("照片").set_input_files(str(photo))
    resident.locator("#pick-map").click()
    resident.wait_for_selector("#pick-map[data-picked='1']")
    resident.get_by_label("联系电话").fill("13811112222")
    shot(resident, "cases-report-filled-phone")
    resident.get_by_role("button", name="提交").click()
    resident.wait_for_selector("text=已提交，工单编号")
    number = resident.get_by_test_id("case-number").inner_text()
    case = Case.objects.get(number=number)
    assert case.lon is not None and case.grid == grids.a1 and case.state == CaseState.NEW
    shot(resident, "cases-detail-new-phone")

    # then the community worker accepts it from the inbox and escalates it to the street
    worker = _as(open_page, actors.worker_a1.username, DESKTOP)
    worker.goto("/cases/inbox/")
    shot(worker, "cases-inbox-desktop")
    assert "13811112222" not in worker.content()
    worker.get_by_text(number).click()
    assert "138****2222" in worker.content()
    _confirm(worker, "受理", "确认受理")
    worker.wait_for_selector("text=已受理。")
    shot(worker, "cases-detail-accepted-desktop")
    _confirm(worker, "社区呼叫（上报街道）", "确认社区呼叫（上报街道）", {"理由": "涉及占道执法，社区无权处置"})
    worker.wait_for_selector("text=已上报街道")
    shot(worker, "cases-detail-escalated-desktop")

    # when the resident starts a second report of the same problem at the same spot, the open case is suggested
    resident.goto("/cases/report/")
    resident.wait_for_selector("#pick-map[data-ready='1']")
    resident.get_by_label("问题类别").select_option(label="市容环境")
    resident.locator("#pick-map").click()
    resident.wait_for_selector(f"#duplicates >> text={number}")
    shot(resident, "cases-report-duplicate-phone")

    # then the street officer whistles to 城管 (the suggested department)
    officer = _as(open_page, actors.officer_a.username, DESKTOP)
    officer.goto("/cases/street/")
    shot(officer, "cases-street-desktop")
    officer.get_by_text(number).click()
    officer.get_by_role("link", name="街道吹哨（派单到部门）").click()
    assert "建议派给：区城管执法局" in officer.content()
    shot(officer, "cases-dispatch-desktop")
    officer.get_by_role("button", name="吹哨派单").click()
    officer.wait_for_selector("text=已吹哨派单")
    case.refresh_from_db()
    assert case.state == CaseState.DISPATCHED

    # then the 城管 handler checks in and reports, on a phone
    handler = _as(open_page, departments.urban_handler.username, PHONE)
    handler.goto("/cases/dispatches/")
    shot(handler, "cases-dispatches-phone")
    handler.get_by_text(number).click()
    handler.get_by_role("button", name="报到", exact=True).click()
    handler.wait_for_selector("text=已报到。")
    handler.get_by_label("处置情况").fill("已清运垃圾，对责任商户立案处罚")
    handler.get_by_label("现场照片").set_input_files(str(photo))
    shot(handler, "cases-dispatch-work-phone")
    handler.get_by_role("button", name="提交处置情况").click()
    handler.wait_for_selector("text=已反馈处置情况")

    # then the officer finds it among the whistled cases and verifies and closes it
    officer.goto("/cases/street/")
    shot(officer, "cases-street-followup-desktop")
    officer.get_by_text(number).click()
    _confirm(officer, "核查通过", "确认核查通过")
    officer.wait_for_selector("text=已核查。")
    _confirm(officer, "结案", "确认结案")
    officer.wait_for_selector("text=已结案。")
    shot(officer, "cases-detail-closed-desktop")
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED

    # then the resident sees the timeline in 我的报事 and rates 5 stars
    resident.goto("/cases/mine/")
    shot(resident, "cases-mine-phone")
    resident.get_by_text(number).click()
    resident.locator(".star-input label[for$='_5']").click()
    resident.get_by_label("评价意见").fill("处理很及时，谢谢！")
    shot(resident, "cases-rate-phone")
    resident.get_by_role("button", name="提交评价").click()
    resident.wait_for_selector("text=感谢您的评价")
    shot(resident, "cases-detail-rated-phone")
    case.refresh_from_db()
    assert case.rating == 5 and case.rating_comment == "处理很及时，谢谢！"

    # and every list page, on a desktop and a phone
    _both(open_page, actors.worker_a1.username, "/cases/all/", "list", shot)
    _both(open_page, actors.worker_a1.username, "/cases/map/", "map", shot, ready="#case-map[data-ready]")
    _both(open_page, actors.officer_a.username, "/cases/figures/", "figures", shot, ready="[data-chart][data-ready]")
    _both(open_page, actors.worker_a1.username, f"/cases/{case.pk}/", "detail", shot)
    _both(open_page, reporter.username, "/cases/report/", "report", shot, ready="#pick-map[data-ready]")
    _both(open_page, reporter.username, "/cases/mine/", "mine", shot)
    _both(open_page, actors.worker_a1.username, "/cases/inbox/", "inbox", shot)
    _both(open_page, actors.officer_a.username, "/cases/street/", "street", shot)
    _both(open_page, departments.urban_handler.username, "/cases/dispatches/?state=verified", "dispatches", shot)

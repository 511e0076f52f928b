"""The case pages: who sees which page (scope), forms with errors next to their fields, the phone masked,
and the whole loop driven through the pages (report → accept → escalate → 吹哨 → 报到 → 反馈 → 核查 → 结案 → 评价)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from shequ.cases.choices import CaseSource, CaseState, DispatchState
from shequ.cases.models import Case
from shequ.core.errors import CONFLICT
from tests.cases.fixtures_pages import *  # noqa: F403  (fixtures: cats, reported)
from tests.cases.fixtures_pages import REPORTER_PHONE, report_case

pytestmark = pytest.mark.django_db


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response: Any) -> str:
    return response.content.decode()


# --- scope -------------------------------------------------------------------------------------


def test_another_communitys_worker_gets_404_on_the_case(actors, reported):
    # given a case in A1, when the worker of A2 opens it or acts on it, then 404
    client = login(actors.worker_a2)
    assert client.get(reverse("cases:detail", args=[reported.pk])).status_code == 404
    response = client.post(reverse("cases:act", args=[reported.pk, "accept"]), {"version": reported.version})
    assert response.status_code == 404
    assert reported.number not in text(client.get(reverse("cases:inbox")))


def test_a_resident_cannot_open_someone_elses_case(actors, tree, reported):
    # given a second resident of the same compound
    from shequ.accounts.roles import Role
    from tests import factories as f

    neighbour = f.user("neighbour", place=tree.a1_compound, role=Role.RESIDENT)
    client = login(neighbour)
    # then the reporter's case is not found, and it is not in their list
    assert client.get(reverse("cases:detail", args=[reported.pk])).status_code == 404
    assert reported.number not in text(client.get(reverse("cases:mine")))


def test_staff_pages_are_404_for_residents(reporter, reported):
    client = login(reporter)
    for name in ("cases:inbox", "cases:street", "cases:list", "cases:map", "cases:figures", "cases:dispatches"):
        assert client.get(reverse(name)).status_code == 404, name


def test_a_handler_of_another_department_cannot_open_the_dispatch(actors, departments, reported):
    case = _escalate(actors, reported)
    _dispatch(actors, case, departments.urban)
    item = case.dispatches.get()
    client = login(departments.housing_handler)
    assert client.get(reverse("cases:dispatch_work", args=[item.pk, "report"])).status_code == 404
    assert client.post(reverse("cases:dispatch_work", args=[item.pk, "checkin"])).status_code == 404


# --- report ------------------------------------------------------------------------------------


def test_report_form_shows_errors_next_to_the_fields(reporter, grids, cats):
    client = login(reporter)
    page = client.get(reverse("cases:report"))
    assert page.status_code == 200
    assert 'accept="image/*"' in text(page) and 'capture="environment"' in text(page)
    assert "秀水居委会" in text(page)  # the community's map data
    response = client.post(reverse("cases:report"), {"description": ""})
    assert response.status_code == 400
    body = text(response)
    assert 'id="field-category"' in body and 'id="id_category-errors"' in body
    assert 'id="id_description-errors"' in body
    assert 'id="id_address-errors"' in body and "请在地图上标出位置，或填写地址。" in body


def test_resident_reports_and_sees_the_case_number(reporter, tree, grids, cats):
    client = login(reporter)
    response = client.post(reverse("cases:report"), {
        "category": cats.city_appearance.pk, "description": "楼道堆物挡路", "lon": tree.a1.lon, "lat": tree.a1.lat,
        "address": "", "contact_phone": REPORTER_PHONE, "anonymous": "on",
    }, follow=True)
    case = Case.objects.get()
    assert case.source == CaseSource.RESIDENT and case.anonymous and case.reporter == reporter
    assert case.number in text(response) and "已提交，工单编号" in text(response)
    assert case.number in text(client.get(reverse("cases:mine")))


def test_grid_patrol_report_has_the_grid_patrol_source(actors, tree, grids, cats):
    client = login(actors.grid_a1)
    client.post(reverse("cases:report") + "?source=grid_patrol", {
        "source": "grid_patrol", "category": cats.city_appearance.pk, "description": "井盖松动",
        "lon": tree.a1.lon, "lat": tree.a1.lat,
    })
    assert Case.objects.get().source == CaseSource.GRID_PATROL


def test_possible_duplicates_are_shown_before_submitting(reporter, tree, reported, cats):
    client = login(reporter)
    response = client.get(reverse("cases:duplicates"), {"category": cats.city_appearance.pk,
                                                         "lon": tree.a1.lon + 0.001, "lat": tree.a1.lat + 0.001})
    assert reported.number in text(response)
    assert reported.title not in text(response)  # residents see numbers and categories, not what others wrote


# --- masking -----------------------------------------------------------------------------------


def test_the_reporters_phone_never_appears_unmasked(actors, reporter, reported):
    for user in (actors.worker_a1, actors.officer_a, actors.admin, reporter):
        client = login(user)
        for url in (reverse("cases:detail", args=[reported.pk]), reverse("cases:list"), reverse("cases:inbox"),
                    reverse("cases:mine"), reverse("cases:map_data")):
            response = client.get(url)
            assert REPORTER_PHONE not in text(response), (user.username, url)
    worker_page = text(login(actors.worker_a1).get(reverse("cases:detail", args=[reported.pk])))
    assert "138****2222" in worker_page


# --- actions -----------------------------------------------------------------------------------


def test_a_stale_version_says_refresh_and_retry(actors, reported):
    client = login(actors.worker_a1)
    response = client.post(reverse("cases:act", args=[reported.pk, "accept"]), {"version": reported.version + 1},
                           follow=True)
    assert str(CONFLICT) in text(response)
    reported.refresh_from_db()
    assert reported.state == CaseState.NEW


def test_reject_without_a_reason_shows_the_error_next_to_the_field(actors, reported):
    client = login(actors.worker_a1)
    response = client.post(reverse("cases:act", args=[reported.pk, "reject"]), {"version": reported.version})
    assert response.status_code == 400
    assert 'id="id_reject-reason-errors"' in text(response)
    reported.refresh_from_db()
    assert reported.state == CaseState.NEW


def test_inbox_lists_new_cases_and_overdue_is_highlighted(actors, reported):
    Case.objects.filter(pk=reported.pk).update(overdue=True)
    body = text(login(actors.worker_a1).get(reverse("cases:inbox")))
    assert reported.number in body and "is-overdue" in body


def _escalate(actors: Any, case: Case) -> Case:
    client = login(actors.worker_a1)
    client.post(reverse("cases:act", args=[case.pk, "accept"]), {"version": case.version})
    case.refresh_from_db()
    client.post(reverse("cases:act", args=[case.pk, "escalate"]), {"version": case.version,
                                                                  "escalate-reason": "涉及执法，社区无权处置"})
    case.refresh_from_db()
    assert case.state == CaseState.ESCALATED
    return case


def _dispatch(actors: Any, case: Case, department: Any, override_reason: str = "") -> Any:
    due = (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    return login(actors.officer_a).post(reverse("cases:dispatch", args=[case.pk]), {
        "version": case.version, "t0-department": department.pk, "t0-task": "清运垃圾并查处", "t0-due_at": due,
        "override_reason": override_reason,
    })


def test_dispatch_page_suggests_the_routed_department_and_asks_a_reason_to_change(actors, departments, reported):
    case = _escalate(actors, reported)
    officer = login(actors.officer_a)
    page = text(officer.get(reverse("cases:dispatch", args=[case.pk])))
    assert "建议派给：区城管执法局" in page
    response = _dispatch(actors, case, departments.housing)
    assert response.status_code == 400
    assert 'id="id_override_reason-errors"' in text(response)
    assert text(officer.get(reverse("cases:street"))).count(case.number) == 1


def test_the_whole_loop_through_the_pages(actors, reporter, departments, reported):
    case = _escalate(actors, reported)
    assert _dispatch(actors, case, departments.urban).status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.DISPATCHED
    item = case.dispatches.get()
    handler = login(departments.urban_handler)
    assert case.number in text(handler.get(reverse("cases:dispatches")))
    handler.post(reverse("cases:dispatch_work", args=[item.pk, "checkin"]), {"version": item.version})
    item.refresh_from_db()
    assert item.state == DispatchState.CHECKED_IN
    handler.post(reverse("cases:dispatch_work", args=[item.pk, "report"]), {"version": item.version,
                                                                            "report": "已清运，已对责任单位立案"})
    item.refresh_from_db()
    assert item.state == DispatchState.REPORTED
    officer = login(actors.officer_a)
    case.refresh_from_db()
    officer.post(reverse("cases:act", args=[case.pk, "verify"]), {"version": case.version})
    case.refresh_from_db()
    street_page = text(officer.get(reverse("cases:street")))
    assert street_page.split("已核查待结案")[1].count(case.number) == 1
    officer.post(reverse("cases:act", args=[case.pk, "close"]), {"version": case.version})
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    resident = login(reporter)
    page = text(resident.get(reverse("cases:detail", args=[case.pk])))
    assert "提交评价" in page and 'id="dispatch-h"' not in page  # the timeline, not the dispatch card
    assert "区城管执法局处置员" not in page  # offices, not staff names
    resident.post(reverse("cases:act", args=[case.pk, "rate"]), {"version": case.version, "rate-rating": "5",
                                                                "rate-comment": "处理很快"})
    case.refresh_from_db()
    assert case.rating == 5 and case.rating_comment == "处理很快"


# --- list, map, figures ------------------------------------------------------------------------


def test_list_filters_map_and_figures_for_staff(actors, reported, cats):
    client = login(actors.worker_a1)
    assert reported.number in text(client.get(reverse("cases:list"), {"state": "new"}))
    assert reported.number not in text(client.get(reverse("cases:list"), {"state": "closed"}))
    assert reported.number in text(client.get(reverse("cases:list"), {"category": cats.city_appearance.pk,
                                                                      "period": "7"}))
    data = client.get(reverse("cases:map_data")).json()
    assert [f["properties"]["number"] for f in data["features"]] == [reported.number]
    figures = client.get(reverse("cases:figures"))
    assert figures.status_code == 200 and 'id="case-figures"' in text(figures)
    assert login(actors.worker_b1).get(reverse("cases:map_data")).json()["features"] == []


# --- assign, resolve, merge, reopen, return -----------------------------------------------------


def _accept(actors: Any, case: Case) -> Case:
    login(actors.worker_a1).post(reverse("cases:act", args=[case.pk, "accept"]), {"version": case.version})
    case.refresh_from_db()
    return case


def test_assign_to_a_grid_worker_who_resolves_it_from_my_tasks(actors, reported):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.cases.fixtures_pages import PNG

    case = _accept(actors, reported)
    worker = login(actors.worker_a1)
    assert "秀水网格员" in text(worker.get(reverse("cases:detail", args=[case.pk])))
    worker.post(reverse("cases:act", args=[case.pk, "assign"]), {"version": case.version,
                                                                 "assign-assignee": actors.grid_a1.pk})
    case.refresh_from_db()
    assert case.assignee == actors.grid_a1
    grid = login(actors.grid_a1)
    assert case.number in text(grid.get(reverse("cases:tasks")))
    response = grid.post(reverse("cases:act", args=[case.pk, "resolve"]), {
        "version": case.version, "resolve-result": "已联系环卫清运",
        "resolve-photos": SimpleUploadedFile("after.png", PNG, content_type="image/png"),
    })
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.RESOLVED and case.result == "已联系环卫清运"
    page = text(grid.get(reverse("cases:detail", args=[case.pk])))
    file_url = [u for u in page.split('"') if u.startswith(f"/cases/{case.pk}/files/")][0]
    assert grid.get(file_url).status_code == 200
    assert login(actors.worker_a2).get(file_url).status_code == 404


def test_merge_into_a_suggested_duplicate(actors, tree, reporter, reported, cats):
    second = report_case(actor=actors.grid_a1, tree=tree, cats=cats, description="门口垃圾没人管")
    worker = login(actors.worker_a1)
    page = text(worker.get(reverse("cases:detail", args=[second.pk])))
    assert "合并到重复工单" in page and reported.number in page
    worker.post(reverse("cases:act", args=[second.pk, "merge"]), {"version": second.version,
                                                                  "merge-into": reported.pk})
    second.refresh_from_db()
    assert second.state == CaseState.MERGED and second.merged_into == reported


def test_an_unhappy_resident_reopens_once(actors, reporter, reported):
    from shequ.cases import services

    case = _accept(actors, reported)
    case = services.case_act(actor=actors.worker_a1, case=case, action="resolve", version=case.version,
                             result="已清运")
    case = services.case_act(actor=actors.worker_a1, case=case, action="close", version=case.version)
    resident = login(reporter)
    resident.post(reverse("cases:act", args=[case.pk, "rate"]), {"version": case.version, "rate-rating": "1"})
    case.refresh_from_db()
    page = text(resident.get(reverse("cases:detail", args=[case.pk])))
    assert "不满意，重新处理" in page
    resident.post(reverse("cases:act", args=[case.pk, "reopen"]), {"version": case.version,
                                                                   "reopen-reason": "垃圾又堆起来了"})
    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS and case.reopened_count == 1


def test_returning_a_dispatch_needs_a_reason_next_to_the_field(actors, departments, reported):
    case = _escalate(actors, reported)
    _dispatch(actors, case, departments.urban)
    item = case.dispatches.get()
    handler = login(departments.urban_handler)
    response = handler.post(reverse("cases:dispatch_work", args=[item.pk, "return"]), {"version": item.version})
    assert response.status_code == 400 and 'id="id_reason-errors"' in text(response)
    handler.post(reverse("cases:dispatch_work", args=[item.pk, "return"]), {"version": item.version,
                                                                           "reason": "不属于城管职责"})
    item.refresh_from_db()
    assert item.state == DispatchState.RETURNED


def test_a_photo_that_is_not_an_image_is_refused_next_to_the_photos_field(reporter, tree, grids, cats):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = login(reporter)
    response = client.post(reverse("cases:report"), {
        "category": cats.city_appearance.pk, "description": "楼道堆物", "lon": tree.a1.lon, "lat": tree.a1.lat,
        "photos": SimpleUploadedFile("note.png", b"not really a picture", content_type="image/png"),
    })
    assert response.status_code == 400 and 'id="id_photos-errors"' in text(response)
    assert not Case.objects.exists()

"""Cases API v1 against the real endpoints: report (idempotent, uploads checked), list, detail with the
timeline and masking, actions with versions, department steps, figures, and the scope matrix."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from shequ.accounts.roles import Role
from shequ.cases.models import Case
from shequ.core.attachments import FILE_TYPE_NOT_ALLOWED
from shequ.core.errors import CONFLICT
from shequ.core.idempotency import KEY_REUSED
from tests import factories as f
from tests.api_fixtures import API
from tests.cases.fixtures_api import *  # noqa: F403
from tests.cases.fixtures_api import PNG


def _body(tree, **extra):
    return {"category": "city_appearance", "title": "楼道堆物", "description": "3号楼楼道堆放杂物",
            "lon": tree.a1.lon, "lat": tree.a1.lat, **extra}


def _act(api, case_id, action, version, **payload):
    return api.post(f"/cases/{case_id}/actions/{action}", {"version": version, "payload": payload})


# --- Create -------------------------------------------------------------------------------------------


def test_resident_reports_a_case_and_gets_its_number(api_as, tree, grids, categories, reporter):
    # given the resident of A1
    api = api_as(reporter)
    # when they report a problem at a point inside their community, with a phone
    response = api.post("/cases", _body(tree, anonymous=True, contact_phone="13911112222"))
    # then the case is new, located in A1's grid, and only the masked phone comes back
    assert response.status_code == 201, response.content
    body = response.json()
    case = Case.objects.get(pk=body["id"])
    assert body["number"] == case.number and body["state"] == "new" and body["source"] == "resident"
    assert case.community_id == tree.a1.pk and case.grid_id == grids.a1.pk
    assert body["contact_phone_masked"] == "139****2222"
    assert "13911112222" not in response.content.decode()
    assert body["reporter"] == {"id": reporter.pk, "name": "居*"}  # the reporter sees themself, masked
    assert [e["action"] for e in body["timeline"]] == ["reported"]


def test_retried_create_with_the_same_key_opens_one_case(api_as, tree, grids, categories, reporter):
    # given a phone that sends its report, loses the answer, and sends it again with the same key
    api = api_as(reporter)
    headers = {**api.headers, "Idempotency-Key": "phone-7f3a"}
    client = Client()
    body = _body(tree)
    first = client.post(API + "/cases", body, content_type="application/json", headers=headers)
    again = client.post(API + "/cases", body, content_type="application/json", headers=headers)
    # then one case exists and the retry gets the first answer
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
    assert Case.objects.count() == 1
    # and the same key with another body is refused
    other = client.post(API + "/cases", _body(tree, title="另一件事"), content_type="application/json",
                        headers=headers)
    assert other.status_code == 422 and other.json()["message"] == str(KEY_REUSED)
    assert Case.objects.count() == 1


def test_upload_of_a_renamed_exe_is_refused_naming_the_file(api_as, tree, grids, categories, reporter):
    # given a Windows program renamed to look like a photo
    api = api_as(reporter)
    fake = SimpleUploadedFile("现场照片.jpg", b"MZ\x90\x00" + b"\x00" * 200, content_type="image/jpeg")
    # when it is sent with a report
    response = api.client.post(API + "/cases", {**_body(tree), "photos": [fake]}, headers=api.headers)
    # then nothing is created and the message names the file
    assert response.status_code == 400
    assert response.json()["message"].endswith(str(FILE_TYPE_NOT_ALLOWED).format(name="现场照片.jpg"))
    assert Case.objects.count() == 0


def test_multipart_report_with_a_photo(api_as, tree, grids, categories, reporter):
    api = api_as(reporter)
    photo = SimpleUploadedFile("p.png", PNG, content_type="image/png")
    response = api.client.post(API + "/cases", {**_body(tree), "photos": [photo]}, headers=api.headers)
    assert response.status_code == 201, response.content
    assert [(a["name"], a["mime_type"]) for a in response.json()["attachments"]] == [("p.png", "image/png")]


def test_create_refuses_bad_input(api_as, tree, grids, categories, reporter):
    api = api_as(reporter)
    assert api.post("/cases", _body(tree, category="nope")).json()["errors"][0]["field"] == "category"
    assert api.post("/cases", _body(tree, source="sensor")).json()["errors"][0]["field"] == "source"
    response = api.post("/cases", _body(tree, extra=1))
    assert response.status_code == 400 and response.json()["code"] == "validation_failed"
    assert api_as(reporter).post("/cases", _body(tree, lon=None, lat=None)).status_code == 400


# --- List and detail --------------------------------------------------------------------------------


def test_list_filters_and_pagination(api_as, actors, tree, report, reporter, categories):
    first = report(reporter)
    second = report(actors.worker_a1, category=categories["noise"], title="夜间施工噪声", description="22点后施工",
                    source="grid_patrol")
    api = api_as(actors.worker_a1)
    ids = lambda r: [c["id"] for c in r.json()["items"]]  # noqa: E731
    assert ids(api.get("/cases")) == [second.pk, first.pk]
    assert ids(api.get("/cases", {"category": "noise"})) == [second.pk]
    assert ids(api.get("/cases", {"category": "safety"})) == [second.pk]  # a group includes its leaves
    assert ids(api.get("/cases", {"q": "噪声"})) == [second.pk]
    assert ids(api.get("/cases", {"state": "new", "within": tree.a1.pk})) == [second.pk, first.pk]
    assert ids(api.get("/cases", {"within": tree.a2.pk})) == []
    assert ids(api.get("/cases", {"source": "resident"})) == [first.pk]
    assert ids(api.get("/cases", {"since": timezone.localdate().isoformat()})) == [second.pk, first.pk]
    assert ids(api.get("/cases", {"until": (timezone.localdate() - dt.timedelta(days=1)).isoformat()})) == []
    page = api.get("/cases", {"limit": 1, "offset": 1}).json()
    assert page["count"] == 2 and [c["id"] for c in page["items"]] == [first.pk]
    assert api.get("/cases", {"limit": 501}).status_code == 400


def test_anonymous_reporter_is_hidden_from_other_residents_only(api_as, actors, tree, report, reporter):
    # given an anonymous case of resident 1 and a case of resident 2 merged into it (resident 2 now follows it)
    other = f.user("resident2_a1", place=tree.a1_compound, role=Role.RESIDENT, display_name="孙二")
    target = report(reporter, anonymous=True)
    duplicate = report(other)
    staff = api_as(actors.worker_a1)
    assert _act(staff, duplicate.pk, "merge", duplicate.version, into=target.pk).status_code == 200
    # when resident 2 reads the case they now follow
    seen_by_other = api_as(other).get(f"/cases/{target.pk}").json()
    # then the reporter is anonymous to them, but the community worker sees the masked name
    assert seen_by_other["reporter"] == {"id": None, "name": "匿名"}
    assert all(e["actor"] != "居*" for e in seen_by_other["timeline"])
    assert staff.get(f"/cases/{target.pk}").json()["reporter"] == {"id": reporter.pk, "name": "居*"}


def test_detail_has_timeline_and_allowed_actions(api_as, actors, case_a1):
    body = api_as(actors.worker_a1).get(f"/cases/{case_a1.pk}").json()
    assert body["allowed_actions"] == ["accept", "reject", "merge"]
    assert body["timeline"][0]["action"] == "reported" and body["timeline"][0]["to_state"] == "new"
    assert body["contact_phone_masked"] == "139****2222"


# --- Actions ----------------------------------------------------------------------------------------


def test_accept_then_stale_version_answers_409(api_as, actors, case_a1):
    api = api_as(actors.worker_a1)
    accepted = _act(api, case_a1.pk, "accept", case_a1.version)
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"
    # a second person acting on the version they loaded before is refused
    stale = _act(api_as(actors.head_a1), case_a1.pk, "reject", case_a1.version, reason="重复上报")
    assert stale.status_code == 409 and stale.json() == {"code": "conflict", "message": str(CONFLICT), "errors": []}


def test_illegal_move_and_unknown_action(api_as, actors, case_a1):
    api = api_as(actors.worker_a1)
    response = _act(api, case_a1.pk, "close", case_a1.version)
    assert response.status_code == 400 and response.json()["code"] == "invalid_transition"
    assert _act(api, case_a1.pk, "fly", case_a1.version).status_code == 404
    reject = _act(api, case_a1.pk, "reject", case_a1.version)  # a reason is required
    assert reject.status_code == 400 and reject.json()["errors"][0]["field"] == "reason"


def test_escalate_dispatch_and_department_steps(api_as, actors, departments, case_a1):
    worker, officer = api_as(actors.worker_a1), api_as(actors.officer_a)
    version = _act(worker, case_a1.pk, "accept", case_a1.version).json()["version"]
    version = _act(worker, case_a1.pk, "escalate", version, reason="需城管执法").json()["version"]
    due = (timezone.now() + dt.timedelta(days=3)).isoformat()
    dispatched = _act(officer, case_a1.pk, "dispatch", version,
                      tasks=[{"department": departments.urban.pk, "task": "清理堆物", "due_at": due}])
    assert dispatched.status_code == 200, dispatched.content
    dispatch_id = dispatched.json()["dispatches"][0]["id"]
    handler = api_as(departments.urban_handler)
    base = f"/cases/{case_a1.pk}/dispatches/{dispatch_id}"
    checked = handler.post(f"{base}/checkin", {})
    assert checked.status_code == 200 and checked.json()["state"] == "checked_in"
    # the housing department was not dispatched to: it cannot even see the case
    assert api_as(departments.housing_handler).post(f"{base}/checkin", {}).status_code == 404
    reported = handler.post(f"{base}/report", {"report": "已清理完毕"})
    assert reported.status_code == 200 and reported.json()["state"] == "reported"
    detail = officer.get(f"/cases/{case_a1.pk}").json()
    assert "verify" in detail["allowed_actions"]
    assert [e["action"] for e in detail["timeline"]][-2:] == ["dispatch_checkin", "dispatch_report"]


def test_figures_endpoint(api_as, actors, case_a1):
    response = api_as(actors.officer_a).get("/cases/figures", {"within": case_a1.community_id})
    assert response.status_code == 200
    assert response.json()


# --- Scope matrix -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["worker_a2", "worker_b1", "officer_b", "housing_handler", "other_resident"])
def test_out_of_scope_actors_get_404_and_lists_exclude(who, api_as, actors, tree, departments, case_a1):
    # given the A1 case dispatched to the urban department only
    worker, officer = api_as(actors.worker_a1), api_as(actors.officer_a)
    version = _act(worker, case_a1.pk, "accept", case_a1.version).json()["version"]
    version = _act(worker, case_a1.pk, "escalate", version, reason="需城管执法").json()["version"]
    due = (timezone.now() + dt.timedelta(days=3)).isoformat()
    body = _act(officer, case_a1.pk, "dispatch", version,
                tasks=[{"department": departments.urban.pk, "task": "清理", "due_at": due}]).json()
    version, dispatch_id = body["version"], body["dispatches"][0]["id"]
    users = {
        "worker_a2": actors.worker_a2, "worker_b1": actors.worker_b1, "officer_b": actors.officer_b,
        "housing_handler": departments.housing_handler,
        "other_resident": f.user("resident2_a1", place=tree.a1_compound, role=Role.RESIDENT),
    }
    api = api_as(users[who])
    # then detail, actions and department steps answer 404, and the list leaves the case out
    assert api.get(f"/cases/{case_a1.pk}").status_code == 404
    assert _act(api, case_a1.pk, "verify", version).status_code == 404
    assert api.post(f"/cases/{case_a1.pk}/dispatches/{dispatch_id}/checkin", {}).status_code == 404
    assert api.get("/cases").json()["count"] == 0
    # while the parties see it
    for party in (actors.worker_a1, actors.officer_a, departments.urban_handler, case_a1.reporter, actors.admin):
        assert api_as(party).get(f"/cases/{case_a1.pk}").status_code == 200
        assert [c["id"] for c in api_as(party).get("/cases").json()["items"]] == [case_a1.pk]


def test_anonymous_request_is_401(client, case_a1):
    assert client.get(API + "/cases").status_code == 401
    assert client.get(API + f"/cases/{case_a1.pk}").status_code == 401


def test_resolve_with_photos_as_multipart(api_as, actors, case_a1):
    # given an accepted case
    api = api_as(actors.worker_a1)
    version = _act(api, case_a1.pk, "accept", case_a1.version).json()["version"]
    url = f"{API}/cases/{case_a1.pk}/actions/resolve"
    form = {"version": version, "payload": '{"result": "已清理"}'}
    # when the worker sends a renamed program as the photo, it is refused naming the file
    fake = SimpleUploadedFile("清理后.png", b"MZ" + b"\x00" * 100, content_type="image/png")
    refused = api.client.post(url, {**form, "photos": [fake]}, headers=api.headers)
    assert refused.status_code == 400 and "清理后.png" in refused.json()["message"]
    # and with a real photo the case is resolved with the photo attached
    photo = SimpleUploadedFile("after.png", PNG, content_type="image/png")
    response = api.client.post(url, {**form, "photos": [photo]}, headers=api.headers)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "resolved" and body["result"] == "已清理"
    assert [a["name"] for a in body["attachments"]] == ["after.png"]

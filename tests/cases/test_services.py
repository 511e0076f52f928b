"""Reporting a case and acting on it: location, scope, numbers, events, audit, notifications, concurrency."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.utils import timezone

from shequ.cases import numbers, selectors, services
from shequ.cases import workflow as wf
from shequ.cases.choices import CaseSource, CaseState, DispatchState
from shequ.cases.models import Case, CaseEvent, CaseFollower, CategoryRoute, Dispatch
from shequ.core.attachments import Attachment
from shequ.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from shequ.core.models import AuditEntry, Notification
from tests.cases.fixtures_flow import *  # noqa: F403
from tests.cases.fixtures_flow import POINTS, png

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL only: real concurrent transactions, day sequences (SQLite serialises writers)",
)


def test_report_locates_grid_and_community_and_sets_deadlines(flow):
    # given a resident of A1 reporting a point inside A1's grid
    # when they report a lift fault (accept 1 h, resolve 1 working day)
    case = flow.report(category=flow.cats.lift_fault, photos=[png()], contact_phone="138 1111 2222")
    # then the grid and community come from the location, the deadlines from the category
    assert case.grid == flow.grids.a1 and case.community == flow.tree.a1
    assert case.scope_path == flow.tree.a1.path and case.street_code == flow.tree.street_a.path
    assert case.state == CaseState.NEW
    assert case.number.startswith(f"SQ{timezone.localtime(case.created_at):%Y%m%d}-")
    assert len(case.number) == len("SQ20261123-000001")
    assert case.accept_due_at - case.created_at == pytest.approx(dt.timedelta(hours=1), abs=dt.timedelta(seconds=5))
    assert case.resolve_due_at > case.accept_due_at
    assert case.contact_phone == "13811112222"
    assert Attachment.objects.for_object(case).count() == 1
    assert CaseFollower.objects.filter(case=case, user=flow.reporter).exists()
    event = CaseEvent.objects.get(case=case)
    assert (event.action, event.to_state) == ("reported", CaseState.NEW)
    assert AuditEntry.objects.filter(object_type="cases.case", object_id=str(case.pk), action="create").exists()
    # and the community's case handlers are told, not the other community's
    notified = set(Notification.objects.values_list("user__username", flat=True))
    assert {"worker_a1", "head_a1", "grid_a1"} <= notified
    assert "worker_a2" not in notified and "resident_a1" not in notified


def test_numbers_are_sequential_per_day(flow):
    first = flow.report()
    second = flow.report(offset=0.001)
    assert int(second.number[-6:]) == int(first.number[-6:]) + 1


def test_numbering_continues_after_numbers_already_given_that_day(flow):
    # given a case of today numbered 41 that did not come through the report (an import, an upgrade)
    first = flow.report()
    day = timezone.localtime(first.created_at).date()
    Case.objects.filter(pk=first.pk).update(number=numbers.format_number(day, 41))
    numbers._READY.clear()  # as a process that has not numbered anything today
    if connection.vendor == "postgresql":  # and no day sequence yet
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SEQUENCE IF EXISTS {numbers.SEQUENCE_PREFIX}{day:%Y%m%d}")
    # when the next case is reported, then it is number 42
    assert flow.report(offset=0.001).number == numbers.format_number(day, 42)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_report_rolled_back_with_the_day_sequence_does_not_break_numbering(flow):
    # given the day's first report, rolled back together with the day sequence it made
    day = timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SEQUENCE IF EXISTS {numbers.SEQUENCE_PREFIX}{day:%Y%m%d}")
    numbers._READY.clear()
    with pytest.raises(RuntimeError), transaction.atomic():
        flow.report()
        raise RuntimeError("rolled back")
    # when reports follow, then they are numbered from 1 and the sequence is remembered once committed
    first = flow.report(offset=0.001)
    second = flow.report(offset=0.002)
    assert (first.number, second.number) == (numbers.format_number(day, 1), numbers.format_number(day, 2))
    assert f"{numbers.SEQUENCE_PREFIX}{day:%Y%m%d}" in numbers._READY


@postgres_only
def test_old_day_sequences_are_pruned(flow):
    flow.report()
    today = timezone.localdate()
    with connection.cursor() as cursor:
        for days in (1, 3, 4, 30):
            cursor.execute(f"CREATE SEQUENCE {numbers.SEQUENCE_PREFIX}{today - dt.timedelta(days=days):%Y%m%d}")
    assert numbers.number_sequences_prune(today=today) == 2  # 4 and 30 days old
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relkind = 'S' AND relname LIKE 'cases_number_%%'")
        left = {name for (name,) in cursor.fetchall()}
    assert f"{numbers.SEQUENCE_PREFIX}{today - dt.timedelta(days=3):%Y%m%d}" in left
    assert f"{numbers.SEQUENCE_PREFIX}{today - dt.timedelta(days=4):%Y%m%d}" not in left


def test_resident_cannot_report_outside_own_community(flow):
    with pytest.raises(ValidationFailed) as exc:
        flow.report(key="a2")
    assert exc.value.code == "outside_community"
    assert exc.value.errors == {"place": [str(services.OUTSIDE_OWN_COMMUNITY)]}
    assert not Case.objects.exists()


def test_grid_worker_reports_on_patrol_in_own_community_only(flow):
    case = flow.report(actor=flow.actors.grid_a1, source=CaseSource.GRID_PATROL)
    assert case.reporter == flow.actors.grid_a1
    with pytest.raises((NotFound, PermissionDenied)):
        flow.report(actor=flow.actors.grid_a1, key="b1")


def test_report_by_place_without_coordinates_finds_community(flow):
    case = services.case_report(actor=flow.reporter, category=flow.cats.noise, title="夜间噪声",
                                description="楼上夜里装修", source=CaseSource.RESIDENT, place=flow.tree.a1_building)
    assert case.community == flow.tree.a1 and case.grid is None
    assert case.scope_path == flow.tree.a1_building.path


def test_report_validation(flow):
    with pytest.raises(ValidationFailed) as exc:
        services.case_report(actor=flow.reporter, category=flow.cats.city, title="", description="",
                             source="fax", contact_phone="123")
    assert set(exc.value.errors) == {"title", "description", "category", "source", "contact_phone"}
    with pytest.raises(ValidationFailed) as exc:
        services.case_report(actor=flow.reporter, category=flow.cats.noise, title="t", description="d",
                             source=CaseSource.RESIDENT)
    assert exc.value.errors == {"location": [str(services.LOCATION_REQUIRED)]}
    with pytest.raises(ValidationFailed) as exc:
        services.case_report(actor=flow.reporter, category=flow.cats.noise, title="t", description="d",
                             source=CaseSource.RESIDENT, lon=121.80, lat=31.60)
    assert exc.value.errors == {"location": [str(services.LOCATION_OUTSIDE_GRIDS)]}


def test_bad_photo_is_refused_and_nothing_is_saved(flow):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with pytest.raises(ValidationFailed) as exc:
        flow.report(photos=[SimpleUploadedFile("x.png", b"MZ not an image")])
    assert "photos" in exc.value.errors
    assert not Case.objects.exists()


def test_act_writes_event_audit_and_notifies_followers(flow):
    case = flow.report()
    Notification.objects.all().delete()
    case = services.case_act(actor=flow.actors.worker_a1, case=case, action=wf.ACCEPT, version=case.version,
                             note="已受理")
    assert case.state == CaseState.ACCEPTED and case.version == 2 and case.accepted_at is not None
    event = CaseEvent.objects.filter(case=case).last()
    assert (event.action, event.from_state, event.to_state, event.actor) == (
        "accept", CaseState.NEW, CaseState.ACCEPTED, flow.actors.worker_a1)
    assert AuditEntry.objects.filter(object_id=str(case.pk), action="update", reason="已受理").exists()
    assert list(Notification.objects.values_list("user__username", flat=True)) == ["resident_a1"]


def test_notifications_roll_back_with_a_failed_transaction(flow):
    case = flow.report()
    Notification.objects.all().delete()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.case_act(actor=flow.actors.worker_a1, case=case, action=wf.ACCEPT, version=case.version)
        assert Notification.objects.exists()  # written inside the transaction (the outbox)
        raise RuntimeError("boom")
    assert not Notification.objects.exists()
    case.refresh_from_db()
    assert case.state == CaseState.NEW and not CaseEvent.objects.filter(action="accept").exists()


def test_stale_version_is_a_conflict(flow):
    case = flow.report()
    with pytest.raises(Conflict) as exc:
        services.case_act(actor=flow.actors.worker_a1, case=case, action=wf.ACCEPT, version=case.version + 1)
    assert exc.value.status == 409


def test_two_people_acting_at_once_cannot_both_succeed(flow):
    # given two workers who loaded the same case at the same version
    case = flow.report()
    mine = selectors.case_get(actor=flow.actors.worker_a1, case_id=case.pk)
    theirs = selectors.case_get(actor=flow.actors.head_a1, case_id=case.pk)
    # when both act on it
    services.case_act(actor=flow.actors.worker_a1, case=mine, action=wf.ACCEPT, version=mine.version)
    with pytest.raises(Conflict):
        services.case_act(actor=flow.actors.head_a1, case=theirs, action=wf.REJECT, version=theirs.version,
                          reason="重复上报")
    # then only the first move happened
    case.refresh_from_db()
    assert case.state == CaseState.ACCEPTED
    assert list(CaseEvent.objects.filter(case=case).values_list("action", flat=True)) == ["reported", "accept"]


def test_other_community_cannot_see_or_act(flow):
    case = flow.report()
    with pytest.raises(NotFound):
        selectors.case_get(actor=flow.actors.worker_a2, case_id=case.pk)
    with pytest.raises(NotFound):
        services.case_act(actor=flow.actors.worker_a2, case=case, action=wf.ACCEPT, version=case.version)
    assert case not in selectors.case_list(actor=flow.actors.worker_a2)
    assert case not in selectors.community_inbox(actor=flow.actors.worker_a2)
    assert case in selectors.community_inbox(actor=flow.actors.worker_a1)
    assert case in selectors.my_cases(actor=flow.reporter)


def test_payload_rules(flow):
    case = flow.report()
    with pytest.raises(ValidationFailed) as exc:
        services.case_act(actor=flow.actors.worker_a1, case=case, action=wf.REJECT, version=1)
    assert exc.value.errors == {"reason": [str(services.REASON_REQUIRED)]}
    case = flow.in_state(CaseState.ACCEPTED)
    with pytest.raises(ValidationFailed) as exc:
        services.case_act(actor=flow.actors.worker_a1, case=case, action=wf.ASSIGN, version=1,
                          assignee=flow.actors.worker_a2)
    assert exc.value.errors == {"assignee": [str(services.ASSIGNEE_OUT_OF_SCOPE)]}
    with pytest.raises(ValidationFailed):
        services.case_act(actor=flow.actors.worker_a1, case=case, action=wf.ACCEPT, version=1, bogus=1)


def test_grid_worker_assigned_resolves_with_photos(flow):
    case = flow.in_state(CaseState.ACCEPTED)
    case = services.case_act(actor=flow.actors.worker_a1, case=case, action=wf.ASSIGN, version=case.version,
                             assignee=flow.actors.grid_a1)
    assert case.state == CaseState.IN_PROGRESS and case.assignee == flow.actors.grid_a1
    assert case in selectors.assigned_to_me(actor=flow.actors.grid_a1)
    case = services.case_act(actor=flow.actors.grid_a1, case=case, action=wf.RESOLVE, version=case.version,
                             result="杂物已清理", photos=[png()])
    assert case.state == CaseState.RESOLVED and case.result == "杂物已清理"
    assert Attachment.objects.for_object(case).count() == 1


def test_default_department_route_then_kind(flow):
    cat = flow.cats.illegal_building
    assert services.default_department(category=cat, street=flow.tree.street_a) == flow.departments.urban
    CategoryRoute.objects.create(category=cat, street=flow.tree.street_a, department=flow.departments.housing)
    assert services.default_department(category=cat, street=flow.tree.street_a) == flow.departments.housing
    assert services.default_department(category=flow.cats.noise, street=flow.tree.street_a) is None


def _escalated(flow, category):
    case = flow.in_state(CaseState.ESCALATED, category=category)
    return case


def test_full_dispatch_loop(flow):
    # given an escalated illegal-building case (default department: 城管)
    case = _escalated(flow, flow.cats.illegal_building)
    officer, handler = flow.actors.officer_a, flow.departments.urban_handler
    due = timezone.now() + dt.timedelta(days=5)
    # when the street dispatches it to 城管 and 房管, with a reason for the extra one
    case = services.case_act(actor=officer, case=case, action=wf.DISPATCH, version=case.version, tasks=[
        {"department": flow.departments.urban, "task": "拆除违建", "due_at": due},
        {"department": flow.departments.housing.pk, "task": "核查房屋用途", "due_at": due},
    ], override_reason="同时涉及房屋用途")
    assert case.state == CaseState.DISPATCHED
    urban, housing = selectors.case_dispatches(case=case)
    assert urban.checkin_due_at - urban.created_at == pytest.approx(
        dt.timedelta(hours=flow.cats.illegal_building.checkin_hours), abs=dt.timedelta(seconds=5))
    assert urban.override_reason == "" and housing.override_reason == "同时涉及房屋用途"
    assert Notification.objects.filter(user=handler, title__contains="街道吹哨").exists()
    assert case in selectors.case_list(actor=handler)  # the department sees what it was dispatched
    assert urban in selectors.department_dispatches(actor=handler)
    assert housing not in selectors.department_dispatches(actor=handler)
    # the street cannot verify before every department reported
    with pytest.raises(ValidationFailed) as exc:
        services.case_act(actor=officer, case=case, action=wf.VERIFY, version=case.version)
    assert exc.value.code == "verify_not_ready"
    # a handler of the wrong department cannot check in
    with pytest.raises(PermissionDenied):
        services.dispatch_checkin(actor=flow.departments.housing_handler, dispatch=urban)
    # and cannot report before checking in
    with pytest.raises(ValidationFailed) as exc:
        services.dispatch_report(actor=handler, dispatch=urban, report="已拆除")
    assert exc.value.code == "invalid_transition"
    urban = services.dispatch_checkin(actor=handler, dispatch=urban)
    urban = services.dispatch_report(actor=handler, dispatch=urban, report="已拆除", photos=[png()])
    housing = services.dispatch_return(actor=flow.departments.housing_handler, dispatch=housing,
                                       reason="不属于房管职责")
    assert (urban.state, housing.state) == (DispatchState.REPORTED, DispatchState.RETURNED)
    case.refresh_from_db()
    assert case.state == CaseState.DISPATCHED  # one department still on it
    case = services.case_act(actor=officer, case=case, action=wf.VERIFY, version=case.version, note="现场核查属实")
    assert case.state == CaseState.RESOLVED
    urban.refresh_from_db()
    assert urban.state == DispatchState.VERIFIED
    # the community cannot close what the street dispatched; the street closes it
    with pytest.raises(PermissionDenied):
        services.case_act(actor=flow.actors.worker_a1, case=case, action=wf.CLOSE, version=case.version)
    case = services.case_act(actor=officer, case=case, action=wf.CLOSE, version=case.version)
    assert case.state == CaseState.CLOSED
    actions = list(CaseEvent.objects.filter(case=case).values_list("action", flat=True))
    assert actions[-6:] == ["dispatch", "dispatch_checkin", "dispatch_report", "dispatch_return", "verify", "close"]


def test_dispatch_needs_reason_when_overriding_default(flow):
    case = _escalated(flow, flow.cats.illegal_building)
    task = {"department": flow.departments.housing, "task": "核查", "due_at": timezone.now() + dt.timedelta(days=2)}
    with pytest.raises(ValidationFailed) as exc:
        services.case_act(actor=flow.actors.officer_a, case=case, action=wf.DISPATCH, version=1, tasks=[task])
    assert exc.value.errors == {"override_reason": [str(services.OVERRIDE_REASON_REQUIRED).format(name="区城管执法局")]}
    with pytest.raises(ValidationFailed) as exc:
        services.case_act(actor=flow.actors.officer_a, case=case, action=wf.DISPATCH, version=1, tasks=[
            {**task, "department": flow.departments.urban, "due_at": timezone.now() - dt.timedelta(hours=1)}])
    assert list(exc.value.errors) == ["tasks.1.due_at"]
    with pytest.raises(ValidationFailed):
        services.case_act(actor=flow.actors.officer_a, case=case, action=wf.DISPATCH, version=1, tasks=[])


def test_all_departments_return_sends_case_back_to_street(flow):
    case = _escalated(flow, flow.cats.illegal_building)
    case = services.case_act(actor=flow.actors.officer_a, case=case, action=wf.DISPATCH, version=case.version,
                             tasks=[{"department": flow.departments.urban, "task": "拆除",
                                     "due_at": timezone.now() + dt.timedelta(days=2)}])
    (dispatch,) = selectors.case_dispatches(case=case)
    services.dispatch_return(actor=flow.departments.urban_handler, dispatch=dispatch, reason="非本部门职责")
    case.refresh_from_db()
    assert case.state == CaseState.ESCALATED
    # the street dispatches again, this time with the reason for overriding
    case = services.case_act(actor=flow.actors.officer_a, case=case, action=wf.DISPATCH, version=case.version,
                             tasks=[{"department": flow.departments.housing, "task": "核查",
                                     "due_at": timezone.now() + dt.timedelta(days=2)}], override_reason="城管退回")
    assert case.state == CaseState.DISPATCHED and Dispatch.objects.filter(case=case).count() == 2


def test_low_rating_reopens_once(flow):
    case = flow.in_state(CaseState.CLOSED)
    case = services.case_act(actor=flow.reporter, case=case, action=wf.RATE, version=case.version, rating=1,
                             comment="根本没处理")
    assert case.rating == 1
    case = services.case_act(actor=flow.reporter, case=case, action=wf.REOPEN, version=case.version,
                             reason="问题依旧")
    assert case.state == CaseState.IN_PROGRESS and case.reopened_count == 1 and case.rating is None
    case = services.case_act(actor=flow.actors.worker_a1, case=case, action=wf.RESOLVE, version=case.version,
                             result="再次清理")
    case = services.case_act(actor=flow.actors.worker_a1, case=case, action=wf.CLOSE, version=case.version)
    case = services.case_act(actor=flow.reporter, case=case, action=wf.RATE, version=case.version, rating=2)
    with pytest.raises(ValidationFailed) as exc:
        services.case_act(actor=flow.reporter, case=case, action=wf.REOPEN, version=case.version, reason="还是不行")
    assert exc.value.errors == {"__all__": [str(wf.REOPEN_ONLY_ONCE)]}


def test_good_rating_cannot_reopen_and_rating_is_once(flow):
    case = flow.in_state(CaseState.CLOSED)
    case = services.case_act(actor=flow.reporter, case=case, action=wf.RATE, version=case.version, rating=5)
    assert wf.allowed_actions(actor=flow.reporter, case=case) == []
    with pytest.raises(ValidationFailed) as exc:
        services.case_act(actor=flow.reporter, case=case, action=wf.REOPEN, version=case.version, reason="再看看")
    assert exc.value.errors == {"__all__": [str(wf.REOPEN_NEEDS_LOW_RATING)]}
    with pytest.raises(ValidationFailed) as exc:
        services.case_act(actor=flow.reporter, case=case, action=wf.RATE, version=case.version, rating=1)
    assert exc.value.errors == {"__all__": [str(wf.ALREADY_RATED)]}
    with pytest.raises(ValidationFailed):
        services.case_act(actor=flow.reporter, case=flow.in_state(CaseState.CLOSED), action=wf.RATE, version=1,
                          rating=6)


def test_merge_moves_followers_and_tells_both_reporters(flow):
    target = flow.report(actor=flow.actors.grid_a1, source=CaseSource.GRID_PATROL)
    case = flow.report(offset=0.0005)
    Notification.objects.all().delete()
    case = services.case_act(actor=flow.actors.worker_a1, case=case, action=wf.MERGE, version=case.version,
                             into=target)
    assert case.state == CaseState.MERGED and case.merged_into == target
    assert CaseFollower.objects.filter(case=target, user=flow.reporter).exists()
    notified = set(Notification.objects.filter(title__contains="已合并到").values_list("user__username", flat=True))
    assert notified == {"resident_a1", "grid_a1"}
    assert CaseEvent.objects.filter(case=target, action="merged_from").exists()
    # the merged reporter still sees the target through following it
    assert target in selectors.my_cases(actor=flow.reporter)


def test_merge_target_must_be_open_and_same_community(flow):
    case = flow.report()
    other = flow.report(actor=flow.actors.worker_a2, key="a2")
    closed = flow.in_state(CaseState.CLOSED)
    for target in (other, closed, case):
        with pytest.raises(ValidationFailed) as exc:
            services.case_act(actor=flow.actors.worker_a1, case=case, action=wf.MERGE, version=1, into=target)
        assert exc.value.code == "merge_target_invalid"


def test_possible_duplicates_nearby_recent_open_same_category(flow):
    first = flow.report()
    near = flow.report(offset=0.0008)  # ~76 m east
    far = flow.report(offset=0.003)  # ~285 m east
    other_category = flow.report(category=flow.cats.noise)
    found = selectors.possible_duplicates(category=flow.cats.city_appearance, lon=POINTS["a1"][0],
                                          lat=POINTS["a1"][1], community=flow.tree.a1, exclude=first)
    assert found == [near]
    assert far not in found and other_category not in found
    # closed or old cases are not duplicates
    Case.objects.filter(pk=near.pk).update(state=CaseState.CLOSED)
    assert selectors.possible_duplicates(category=flow.cats.city_appearance, lon=POINTS["a1"][0],
                                         lat=POINTS["a1"][1], community=flow.tree.a1, exclude=first) == []
    Case.objects.filter(pk=near.pk).update(state=CaseState.NEW, created_at=timezone.now() - dt.timedelta(days=8))
    assert selectors.possible_duplicates(category=flow.cats.city_appearance, lon=POINTS["a1"][0],
                                         lat=POINTS["a1"][1], community=flow.tree.a1, exclude=first) == []
    # the report and the accept record what they found
    assert CaseEvent.objects.get(case=near, action="reported").data["possible_duplicates"] == [first.number]
    case = services.case_act(actor=flow.actors.worker_a1, case=first, action=wf.ACCEPT, version=first.version)
    assert CaseEvent.objects.get(case=case, action="accept").data["possible_duplicates"] == []


def test_case_list_filters(flow):
    a = flow.report(category=flow.cats.noise)
    b = flow.report(offset=0.001)
    Case.objects.filter(pk=b.pk).update(overdue=True)
    worker = flow.actors.worker_a1
    assert list(selectors.case_list(actor=worker, filters=selectors.CaseFilter(category=flow.cats.safety))) == [a]
    assert list(selectors.case_list(actor=worker, filters=selectors.CaseFilter(overdue=True))) == [b]
    assert list(selectors.case_list(actor=worker, filters=selectors.CaseFilter(q=a.number))) == [a]
    assert set(selectors.case_list(actor=worker, filters=selectors.CaseFilter(state="open"))) == {a, b}
    assert set(selectors.case_list(actor=flow.actors.officer_a)) == {a, b}
    assert list(selectors.case_list(actor=flow.actors.officer_b)) == []
    assert list(selectors.street_overdue(actor=flow.actors.officer_a)) == [b]
    assert list(selectors.case_timeline(case=a).values_list("action", flat=True)) == ["reported"]




def _in_threads(count: int, work) -> list:
    import threading

    from django.db import connection

    results: list = [None] * count
    barrier = threading.Barrier(count)

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_get_distinct_numbers(flow):
    results = _in_threads(6, lambda i: flow.report(offset=0.0001 * i).number)
    assert all(isinstance(r, str) for r in results), results
    assert len(set(results)) == 6


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_acts_only_one_wins(flow):
    case = flow.report()
    actors = [flow.actors.worker_a1, flow.actors.head_a1]

    def act(i: int):
        from shequ.accounts.models import User

        actor = User.objects.get(pk=actors[i].pk)
        if i == 0:
            return services.case_act(actor=actor, case=case, action=wf.ACCEPT, version=case.version).state
        return services.case_act(actor=actor, case=case, action=wf.REJECT, version=case.version, reason="重复").state

    results = _in_threads(2, act)
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    assert sum(isinstance(r, str) for r in results) == 1, results


def test_residents_see_only_their_own_and_followed_cases(flow):
    mine = flow.report()
    patrol = flow.report(actor=flow.actors.grid_a1, source=CaseSource.GRID_PATROL, offset=0.001)
    assert selectors.case_get(actor=flow.reporter, case_id=mine.pk) == mine
    with pytest.raises(NotFound):
        selectors.case_get(actor=flow.reporter, case_id=patrol.pk)
    assert list(selectors.case_list(actor=flow.reporter)) == [mine]
    with pytest.raises(NotFound):
        selectors.case_get(actor=flow.departments.urban_handler, case_id=mine.pk)


def test_street_worklist_and_department_actions(flow):
    escalated = flow.in_state(CaseState.ESCALATED, category=flow.cats.illegal_building)
    new = flow.report(offset=0.001)
    assert list(selectors.street_overdue(actor=flow.actors.officer_a)) == [escalated]
    assert new not in selectors.street_overdue(actor=flow.actors.officer_a)
    case = services.case_act(actor=flow.actors.officer_a, case=escalated, action=wf.DISPATCH, version=1, tasks=[
        {"department": flow.departments.urban, "task": "拆除", "due_at": timezone.now() + dt.timedelta(days=2)}])
    (dispatch,) = selectors.case_dispatches(case=case)
    handler = flow.departments.urban_handler
    assert wf.allowed_dispatch_actions(actor=handler, dispatch=dispatch) == [wf.CHECKIN, wf.RETURN]
    assert wf.allowed_dispatch_actions(actor=flow.departments.housing_handler, dispatch=dispatch) == []
    assert selectors.dispatch_get(actor=handler, dispatch_id=dispatch.pk) == dispatch
    with pytest.raises(NotFound):
        selectors.dispatch_get(actor=flow.departments.housing_handler, dispatch_id=dispatch.pk)
    with pytest.raises(Conflict):
        services.dispatch_checkin(actor=handler, dispatch=dispatch, version=dispatch.version + 1)
    with pytest.raises(ValidationFailed) as exc:
        services.dispatch_return(actor=handler, dispatch=dispatch, reason="")
    assert exc.value.code == "reason_required"

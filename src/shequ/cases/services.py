"""Every write of the case loop: report, act (one function for every move of ``workflow.TRANSITIONS``),
department dispatch steps, routing.

Each service runs in one transaction: the change, its ``CaseEvent`` on the timeline, the audit row and
the notifications (inbox rows = the outbox) commit or roll back together. Acting on a case locks its row
(``select_for_update``) and compares the version the caller saw, so two people acting at once cannot
both succeed: the second gets ``Conflict`` (409).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shequ.accounts.models import Department, Membership, User
from shequ.accounts.roles import ROLE_CAPABILITIES, Capability, Role
from shequ.cases import workflow as wf
from shequ.cases.choices import OPEN_STATES, CaseSource, CaseState, DispatchState
from shequ.cases.models import Case, CaseCategory, CaseEvent, CaseFollower, CategoryRoute, Device, Dispatch
from shequ.cases.numbers import next_number
from shequ.cases.selectors import possible_duplicates
from shequ.cases.sla import add_working_days
from shequ.core import pii
from shequ.core.attachments import attachment_add, check_upload
from shequ.core.audit import audit_record
from shequ.core.errors import NotFound, PermissionDenied, ValidationFailed
from shequ.core.models import AuditAction
from shequ.core.notifications import notify
from shequ.core.scope import actor_can_at
from shequ.core.services import bump_version, check_version
from shequ.registry.choices import PlaceKind
from shequ.registry.models import Grid, Place
from shequ.registry.selectors import grid_locate

S = CaseState
COMMUNITY_PATH_LEN = 12
STREET_PATH_LEN = 9
MAX_PHOTOS = 9

TITLE_REQUIRED = _("请填写标题。")
DESCRIPTION_REQUIRED = _("请描述问题。")
CATEGORY_INVALID = _("请选择一个具体的事项类别。")
SOURCE_INVALID = _("来源不正确。")
LOCATION_REQUIRED = _("请在地图上选点或选择所在位置。")
LOCATION_OUTSIDE_GRIDS = _("所选位置不在任何网格内，请选择所在小区或楼栋。")
PLACE_NOT_IN_COMMUNITY = _("所选位置与地图选点不在同一社区。")
OUTSIDE_OWN_COMMUNITY = _("居民只能上报本社区范围内的问题。")
TOO_MANY_PHOTOS = _("最多上传9张照片。")
REASON_REQUIRED = _("请填写理由（至少2个字）。")
RESULT_REQUIRED = _("请填写处置结果。")
REPORT_REQUIRED = _("请填写处置情况。")
ASSIGNEE_REQUIRED = _("请选择处置人。")
ASSIGNEE_OUT_OF_SCOPE = _("处置人必须是负责该社区工单的网格员或社区工作人员。")
RATING_INVALID = _("评价须为1至5分。")
COMMENT_TOO_LONG = _("评价意见不能超过500字。")
MERGE_TARGET_REQUIRED = _("请选择要合并到的工单。")
MERGE_TARGET_INVALID = _("只能合并到同一社区内另一件未办结的工单。")
TASKS_REQUIRED = _("请至少派单给一个部门。")
TASK_TEXT_REQUIRED = _("请填写第{n}个部门的任务。")
TASK_DEPARTMENT_INVALID = _("第{n}个部门不存在或不负责该区域。")
TASK_DUE_INVALID = _("第{n}个部门的完成期限须晚于现在。")
TASK_DEPARTMENT_TWICE = _("部门“{name}”已有一件未完成的派单。")
OVERRIDE_REASON_REQUIRED = _("未派给系统建议的部门“{name}”，请填写改派理由。")
VERIFY_NOT_READY = _("还有部门未反馈处置结果，暂不能核查结案。")
PAYLOAD_UNEXPECTED = _("该操作不接受参数：{names}。")

NEW_CASE_TITLE = _("新工单待受理：{number} {title}")
CASE_MOVED_TITLE = _("工单{number}：{action}")
CASE_MOVED_BODY = _("“{title}”现在的状态：{state}。{note}")
DISPATCH_TITLE = _("街道吹哨：工单{number}派给{department}")
DISPATCH_BODY = _("任务：{task}。请在{checkin}前报到，{due}前完成。")
DISPATCH_STEP_TITLE = _("工单{number}：{department}{action}")
MERGED_TITLE = _("工单{number}已合并到{target}")
MERGED_BODY = _("您关注的问题与工单{target}是同一件事，将在该工单中一并办理，您会继续收到进展通知。")

PAYLOAD_KEYS: dict[str, frozenset[str]] = {
    wf.ACCEPT: frozenset(),
    wf.REJECT: frozenset({"reason"}),
    wf.ASSIGN: frozenset({"assignee"}),
    wf.RESOLVE: frozenset({"result", "photos"}),
    wf.ESCALATE: frozenset({"reason"}),
    wf.DISPATCH: frozenset({"tasks", "override_reason"}),
    wf.VERIFY: frozenset(),
    wf.CLOSE: frozenset(),
    wf.REOPEN: frozenset({"reason"}),
    wf.RATE: frozenset({"rating", "comment"}),
    wf.MERGE: frozenset({"into"}),
}


# --- Helpers --------------------------------------------------------------------------------------


def case_link(case: Case) -> str:
    return f"/cases/{case.pk}/"


def _path_prefixes(path: str, *, min_len: int) -> list[str]:
    return [path[:n] for n in range(min_len, len(path) + 1)]


def roles_with(capability: str) -> list[str]:
    return [role for role, caps in ROLE_CAPABILITIES.items() if capability in caps and role != Role.DISTRICT_ADMIN]


def staff_for(path: str, capability: str, *, min_len: int) -> list[User]:
    """Users holding ``capability`` at a node above ``path`` no higher than ``min_len`` digits (so the
    community's staff for a case, or the street's officers; not every district admin)."""
    user_ids = Membership.objects.filter(
        active=True, role__in=roles_with(capability), place__path__in=_path_prefixes(path, min_len=min_len),
    ).values("user_id")
    return list(User.objects.filter(pk__in=user_ids, is_active=True))


def community_staff(case: Case) -> list[User]:
    return staff_for(case.scope_path, Capability.CASES_HANDLE, min_len=COMMUNITY_PATH_LEN)


def street_officers(case: Case) -> list[User]:
    return staff_for(case.scope_path, Capability.CASES_DISPATCH, min_len=STREET_PATH_LEN)


def department_handlers(department: Department) -> list[User]:
    return list(User.objects.filter(department=department, is_active=True))


def followers(case: Case) -> list[User]:
    return list(User.objects.filter(pk__in=CaseFollower.objects.filter(case=case).values("user_id"), is_active=True))


def _notify(*, users: Iterable[User | None], actor: Any, title: str, body: str = "", link: str = "") -> int:
    actor_id = getattr(actor, "pk", None)
    return notify(users=[u for u in users if u is not None and u.pk != actor_id], title=title, body=body, link=link)


def _reason(payload: Mapping[str, Any], note: str, key: str = "reason") -> str:
    value = str(payload.get(key) or note or "").strip()
    if len(value) < 2:
        raise ValidationFailed({key: str(REASON_REQUIRED)}, code="reason_required")
    return value


def _check_photos(photos: Sequence[UploadedFile]) -> None:
    if len(photos) > MAX_PHOTOS:
        raise ValidationFailed({"photos": str(TOO_MANY_PHOTOS)})
    for photo in photos:
        try:
            check_upload(photo)
        except ValidationFailed as exc:
            raise ValidationFailed({"photos": exc.first_message()}) from exc


def _event(*, case: Case, actor: Any, action: str, from_state: str = "", to_state: str = "", note: str = "",
           data: dict[str, Any] | None = None, at: dt.datetime | None = None) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, at=at or timezone.now(), actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action, from_state=from_state, to_state=to_state, note=note, data=data or {},
    )


def _audit(*, actor: Any, case: Case, action: str, from_state: str, to_state: str, note: str = "") -> None:
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=case, object_repr=f"{case.number} {action}",
                 reason=note, changes={"state": {"old": from_state, "new": to_state}, "action": action})


def _follow(case: Case, users: Iterable[User | None]) -> None:
    rows = [CaseFollower(case=case, user=u) for u in users if u is not None]
    CaseFollower.objects.bulk_create(rows, ignore_conflicts=True)


def case_follow(*, case: Case, users: Iterable[User | None]) -> None:
    """Let ``users`` hear of every move of ``case`` and see it (a decision's responsible person, say)."""
    _follow(case, users)


def _user_sees(actor: Any, case: Case) -> bool:
    """Whether the actor may see ``case`` at all (else they get ``NotFound``)."""
    if actor is None:
        return True
    if not getattr(actor, "is_authenticated", False) or not getattr(actor, "is_active", False):
        return False
    if actor_can_at(actor, case.scope_path, Capability.CASES_HANDLE) or actor_can_at(
            actor, case.scope_path, Capability.CASES_DISPATCH):
        return True
    if case.reporter_id == actor.pk or case.assignee_id == actor.pk:
        return True
    if CaseFollower.objects.filter(case=case, user=actor).exists():
        return True
    return actor.department_id is not None and case.dispatches.filter(department_id=actor.department_id).exists()


# --- Routing --------------------------------------------------------------------------------------


def default_department(*, category: CaseCategory, street: Place) -> Department | None:
    """The department a category goes to in a street: the configured route, else a department of the
    category's default kind at the street, else at the district."""
    route = CategoryRoute.objects.filter(category=category, street=street).select_related("department").first()
    if route is not None:
        return route.department
    if not category.default_department_kind:
        return None
    candidates = Department.objects.filter(kind=category.default_department_kind, place__path__in=[
        street.path, street.path[:6]])
    by_path = {d.place.path: d for d in candidates.select_related("place").order_by("-id")}
    return by_path.get(street.path) or by_path.get(street.path[:6])


def community_of(place: Place) -> Place | None:
    """The community (居村) a place lies in (itself, if it is one)."""
    if place.kind == PlaceKind.COMMUNITY:
        return place
    if len(place.path) < COMMUNITY_PATH_LEN:
        return None
    return Place.objects.filter(path=place.path[:COMMUNITY_PATH_LEN], kind=PlaceKind.COMMUNITY).first()


# --- Report ---------------------------------------------------------------------------------------


def _locate(*, lon: float | None, lat: float | None, place: Place | None) -> tuple[Place, Place, Grid | None]:
    """(place, community, grid) from a map point and/or a chosen place."""
    if (lon is None) != (lat is None):
        raise ValidationFailed({"location": str(LOCATION_REQUIRED)})
    grid = grid_locate(lon=lon, lat=lat) if lon is not None and lat is not None else None
    if grid is not None:
        community = grid.community
        if place is not None and not place.path.startswith(community.path):
            raise ValidationFailed({"place": str(PLACE_NOT_IN_COMMUNITY)})
        return place or community, community, grid
    if place is None:
        raise ValidationFailed({"location": str(LOCATION_OUTSIDE_GRIDS if lon is not None else LOCATION_REQUIRED)})
    community = community_of(place)
    if community is None:
        raise ValidationFailed({"place": str(LOCATION_REQUIRED)})
    return place, community, None


@transaction.atomic
def case_report(*, actor: Any, category: CaseCategory, title: str, description: str, source: str,
                lon: float | None = None, lat: float | None = None, place: Place | None = None, address: str = "",
                anonymous: bool = False, contact_phone: str = "", photos: Sequence[UploadedFile] = (),
                device: Device | None = None) -> Case:
    """Open a case where it is: location decides grid and community; the number is SQ{date}-{seq}."""
    errors: dict[str, str] = {}
    title, description = (title or "").strip(), (description or "").strip()
    if not title:
        errors["title"] = str(TITLE_REQUIRED)
    if not description:
        errors["description"] = str(DESCRIPTION_REQUIRED)
    if category is None or not category.active or category.is_parent_category():
        errors["category"] = str(CATEGORY_INVALID)
    if source not in CaseSource.values:
        errors["source"] = str(SOURCE_INVALID)
    phone = ""
    if contact_phone:
        try:
            phone = pii.normalise_phone(contact_phone)
        except pii.PiiError as exc:
            errors["contact_phone"] = str(exc)
    if errors:
        raise ValidationFailed(errors)
    _check_photos(photos)
    place, community, grid = _locate(lon=lon, lat=lat, place=place)

    if actor is not None:
        is_staff = actor_can_at(actor, community.path, Capability.CASES_HANDLE) or actor_can_at(
            actor, community.path, Capability.CASES_DISPATCH)
        if not is_staff and community.path not in actor.resident_paths():
            if actor.resident_paths():
                raise ValidationFailed({"place": str(OUTSIDE_OWN_COMMUNITY)}, code="outside_community")
            raise PermissionDenied()

    now = timezone.now()
    case = Case(
        category=category, title=title[:100], description=description, source=source,
        reporter=actor if getattr(actor, "is_authenticated", False) else None, anonymous=anonymous,
        contact_phone=phone, place=place, community=community, grid=grid, lon=lon, lat=lat,
        address=(address or "")[:200], device=device, state=S.NEW,
        accept_due_at=now + dt.timedelta(hours=category.accept_hours),
        resolve_due_at=add_working_days(now, category.resolve_days),
    )
    case.set_scope(place.path if place.path.startswith(community.path) else community.path)
    case.number = next_number(timezone.localtime(now).date())
    case.save()

    for photo in photos:
        attachment_add(actor=actor, obj=case, upload=photo)
    if case.reporter_id:
        _follow(case, [case.reporter])
    duplicates = [c.number for c in possible_duplicates(category=category, lon=lon, lat=lat, community=community,
                                                        place=place, exclude=case, now=now, fields=("number",))]
    _event(case=case, actor=actor, action=wf.REPORTED, to_state=S.NEW, note=description[:500], at=now,
           data={"source": source, "photos": len(photos), "possible_duplicates": duplicates})
    _notify(users=community_staff(case), actor=actor,
            title=str(NEW_CASE_TITLE).format(number=case.number, title=case.title),
            body=str(description[:200]), link=case_link(case))
    # Last, so the street's audit-chain lock is held only until the commit just after.
    audit_record(actor=actor, action=AuditAction.CREATE, obj=case, object_repr=case.number,
                 changes={"state": {"old": None, "new": S.NEW}, "category": category.slug})
    return case


# --- Acting on a case -----------------------------------------------------------------------------


def _lock(case: Case) -> Case:
    try:
        return Case.objects.select_for_update(of=("self",)).select_related("category", "community").get(pk=case.pk)
    except Case.DoesNotExist as exc:
        raise NotFound() from exc


@transaction.atomic
def case_act(*, actor: Any, case: Case, action: str, version: int | None, note: str = "", **payload: Any) -> Case:
    """Fire ``action`` on ``case`` (see ``workflow.TRANSITIONS``); returns the case as it now is.

    Refusals, in order: out of scope → ``NotFound``; stale version → ``Conflict``; unknown action or
    wrong state → ``ValidationFailed`` (code ``invalid_transition``); wrong person →
    ``PermissionDenied`` (``action_not_permitted``); missing or bad payload → ``ValidationFailed``.
    """
    locked = _lock(case)
    if not _user_sees(actor, locked):
        raise NotFound()
    check_version(locked, version)
    # Empty extras (a form's blank field) are ignored; a value the action does not take is refused.
    unexpected = sorted(k for k, v in payload.items()
                        if k not in PAYLOAD_KEYS.get(action, frozenset()) and v not in (None, "", [], (), {}))
    transition = wf.check_transition(actor=actor, case=locked, action=action)
    if unexpected:
        raise ValidationFailed({"__all__": str(PAYLOAD_UNEXPECTED).format(names="、".join(unexpected))})
    note = (note or "").strip()
    from_state = locked.state
    now = timezone.now()
    handler = _HANDLERS[action]
    extra_users, data, note = handler(actor, locked, note, payload, now)
    locked.state = transition.to_state
    bump_version(locked)
    locked.save()
    _event(case=locked, actor=actor, action=action, from_state=from_state, to_state=locked.state, note=note,
           data=data, at=now)
    _audit(actor=actor, case=locked, action=action, from_state=from_state, to_state=locked.state, note=note)
    _notify(users=[*followers(locked), locked.assignee, *extra_users], actor=actor,
            title=str(CASE_MOVED_TITLE).format(number=locked.number, action=wf.action_label(action)),
            body=str(CASE_MOVED_BODY).format(title=locked.title, state=wf.state_label(locked.state), note=note),
            link=case_link(locked))
    return locked


Handled = tuple[list[User], dict[str, Any], str]


def _accept(actor: Any, case: Case, note: str, payload: dict[str, Any], now: dt.datetime) -> Handled:
    case.accepted_at = now
    duplicates = possible_duplicates(category=case.category, lon=case.lon, lat=case.lat, community=case.community,
                                     place=case.place, exclude=case, now=now)
    return [], {"possible_duplicates": [c.number for c in duplicates]}, note


def _reject(actor: Any, case: Case, note: str, payload: dict[str, Any], now: dt.datetime) -> Handled:
    reason = _reason(payload, note)
    case.result = reason
    return [], {"reason": reason}, reason


def _assign(actor: Any, case: Case, note: str, payload: dict[str, Any], now: dt.datetime) -> Handled:
    assignee = payload.get("assignee")
    if isinstance(assignee, int):
        assignee = User.objects.filter(pk=assignee).first()
    if assignee is None:
        raise ValidationFailed({"assignee": str(ASSIGNEE_REQUIRED)})
    if not assignee.is_active or not actor_can_at(assignee, case.scope_path, Capability.CASES_HANDLE):
        raise ValidationFailed({"assignee": str(ASSIGNEE_OUT_OF_SCOPE)})
    case.assignee = assignee
    return [assignee], {"assignee": assignee.pk, "assignee_name": str(assignee)}, note


def _resolve(actor: Any, case: Case, note: str, payload: dict[str, Any], now: dt.datetime) -> Handled:
    result = str(payload.get("result") or note or "").strip()
    if not result:
        raise ValidationFailed({"result": str(RESULT_REQUIRED)})
    photos = list(payload.get("photos") or ())
    _check_photos(photos)
    for photo in photos:
        attachment_add(actor=actor, obj=case, upload=photo)
    case.result = result
    case.resolved_at = now
    return community_staff(case), {"photos": len(photos)}, result


def _escalate(actor: Any, case: Case, note: str, payload: dict[str, Any], now: dt.datetime) -> Handled:
    reason = _reason(payload, note)
    return street_officers(case), {"reason": reason}, reason


def _department(value: Any) -> Department | None:
    if isinstance(value, Department):
        return value
    try:
        return Department.objects.select_related("place").filter(pk=int(value)).first()
    except (TypeError, ValueError):
        return None


def _dispatch(actor: Any, case: Case, note: str, payload: dict[str, Any], now: dt.datetime) -> Handled:
    tasks = list(payload.get("tasks") or [])
    if not tasks:
        raise ValidationFailed({"tasks": str(TASKS_REQUIRED)})
    override_reason = str(payload.get("override_reason") or "").strip()
    street = Place.objects.filter(path=case.scope_path[:STREET_PATH_LEN]).first()
    suggested = default_department(category=case.category, street=street) if street else None
    busy = set(case.dispatches.filter(state__in=[DispatchState.PENDING, DispatchState.CHECKED_IN,
                                                 DispatchState.REPORTED]).values_list("department_id", flat=True))
    errors: dict[str, str] = {}
    rows: list[tuple[Department, str, dt.datetime]] = []
    for n, item in enumerate(tasks, start=1):
        department = _department(item.get("department"))
        text = str(item.get("task") or "").strip()
        due_at = item.get("due_at")
        if isinstance(due_at, dt.datetime) and timezone.is_naive(due_at):
            due_at = timezone.make_aware(due_at)
        if department is None or not case.scope_path.startswith(department.place.path):
            errors[f"tasks.{n}.department"] = str(TASK_DEPARTMENT_INVALID).format(n=n)
            continue
        if department.pk in busy:
            errors[f"tasks.{n}.department"] = str(TASK_DEPARTMENT_TWICE).format(name=department.name)
            continue
        busy.add(department.pk)
        if not text:
            errors[f"tasks.{n}.task"] = str(TASK_TEXT_REQUIRED).format(n=n)
        if not isinstance(due_at, dt.datetime) or due_at <= now:
            errors[f"tasks.{n}.due_at"] = str(TASK_DUE_INVALID).format(n=n)
        rows.append((department, text, due_at))
    if not errors and suggested is not None and suggested.pk not in {d.pk for d, _t, _d in rows} \
            and case.state == S.ESCALATED and len(override_reason) < 2:
        errors["override_reason"] = str(OVERRIDE_REASON_REQUIRED).format(name=suggested.name)
    if errors:
        raise ValidationFailed(errors)
    checkin_due_at = now + dt.timedelta(hours=case.category.checkin_hours)
    users: list[User] = []
    created = []
    for department, text, due_at in rows:
        dispatch = Dispatch.objects.create(
            case=case, department=department, task=text, due_at=due_at, checkin_due_at=checkin_due_at,
            override_reason=override_reason if suggested is None or department.pk != suggested.pk else "",
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        created.append({"dispatch": dispatch.pk, "department": department.name, "task": text,
                        "due_at": due_at.isoformat()})
        handlers = department_handlers(department)
        users += handlers
        _notify(users=handlers, actor=actor,
                title=str(DISPATCH_TITLE).format(number=case.number, department=department.name),
                body=str(DISPATCH_BODY).format(task=text, checkin=f"{timezone.localtime(checkin_due_at):%m-%d %H:%M}",
                                               due=f"{timezone.localtime(due_at):%m-%d %H:%M}"),
                link=case_link(case))
    case._was_dispatched = True  # type: ignore[attr-defined]
    data = {"dispatches": created, "override_reason": override_reason,
            "suggested": suggested.pk if suggested else None}
    return [], data, note or override_reason


def _verify(actor: Any, case: Case, note: str, payload: dict[str, Any], now: dt.datetime) -> Handled:
    active = case.dispatches.exclude(state=DispatchState.RETURNED)
    if not active.exists() or active.exclude(state__in=[DispatchState.REPORTED, DispatchState.VERIFIED]).exists():
        raise ValidationFailed({"__all__": str(VERIFY_NOT_READY)}, code="verify_not_ready")
    departments = [d.department for d in active.filter(state=DispatchState.REPORTED).select_related("department")]
    active.filter(state=DispatchState.REPORTED).update(state=DispatchState.VERIFIED, updated_at=now)
    reports = "；".join(case.dispatches.filter(state=DispatchState.VERIFIED).values_list("report", flat=True))
    case.result = note or reports or case.result
    case.resolved_at = now
    users = [u for d in departments for u in department_handlers(d)]
    return [*users, *community_staff(case)], {}, note


def _close(actor: Any, case: Case, note: str, payload: dict[str, Any], now: dt.datetime) -> Handled:
    case.closed_at = now
    case.near_due = False
    return [], {}, note


def _reopen(actor: Any, case: Case, note: str, payload: dict[str, Any], now: dt.datetime) -> Handled:
    reason = _reason(payload, note)
    data: dict[str, Any] = {"reason": reason, "from": case.state}
    if case.state == S.CLOSED:
        case.reopened_count += 1
        data["rating"] = case.rating
        case.rating = None
        case.rating_comment = ""
        case.resolve_due_at = add_working_days(now, case.category.resolve_days)
        case.overdue = False
    case.resolved_at = None
    case.closed_at = None
    case.near_due = False
    return community_staff(case), data, reason


def _rate(actor: Any, case: Case, note: str, payload: dict[str, Any], now: dt.datetime) -> Handled:
    try:
        rating = int(payload.get("rating"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise ValidationFailed({"rating": str(RATING_INVALID)})
    comment = str(payload.get("comment") or note or "").strip()
    if len(comment) > 500:
        raise ValidationFailed({"comment": str(COMMENT_TOO_LONG)})
    case.rating = rating
    case.rating_comment = comment
    return community_staff(case), {"rating": rating}, comment


def _merge(actor: Any, case: Case, note: str, payload: dict[str, Any], now: dt.datetime) -> Handled:
    target = payload.get("into")
    if target is None:
        raise ValidationFailed({"into": str(MERGE_TARGET_REQUIRED)})
    target_pk = target.pk if isinstance(target, Case) else target
    target = Case.objects.select_for_update().filter(pk=target_pk).first()
    if (target is None or target.pk == case.pk or target.state not in OPEN_STATES
            or target.community_id != case.community_id):
        raise ValidationFailed({"into": str(MERGE_TARGET_INVALID)}, code="merge_target_invalid")
    moved = followers(case)
    _follow(target, moved)
    case.merged_into = target
    case.near_due = False
    bump_version(target)
    target.save(update_fields=["version", "updated_at"])
    _event(case=target, actor=actor, action="merged_from", from_state=target.state, to_state=target.state,
           note=note, data={"case": case.pk, "number": case.number}, at=now)
    reporters = [u for u in (case.reporter, target.reporter) if u is not None]
    _notify(users=reporters, actor=actor, title=str(MERGED_TITLE).format(number=case.number, target=target.number),
            body=str(MERGED_BODY).format(target=target.number), link=case_link(target))
    return [], {"into": target.pk, "into_number": target.number, "followers_moved": len(moved)}, note


_HANDLERS = {
    wf.ACCEPT: _accept,
    wf.REJECT: _reject,
    wf.ASSIGN: _assign,
    wf.RESOLVE: _resolve,
    wf.ESCALATE: _escalate,
    wf.DISPATCH: _dispatch,
    wf.VERIFY: _verify,
    wf.CLOSE: _close,
    wf.REOPEN: _reopen,
    wf.RATE: _rate,
    wf.MERGE: _merge,
}


# --- Department steps on a dispatch (部门报到、反馈、退回) ---------------------------------------------


def _lock_dispatch(dispatch: Dispatch) -> Dispatch:
    # The case first, then the dispatch: the same order as ``case_act`` (verify), so they cannot deadlock.
    case_id = Dispatch.objects.filter(pk=dispatch.pk).values_list("case_id", flat=True).first()
    if case_id is None:
        raise NotFound()
    case = Case.objects.select_for_update().get(pk=case_id)
    locked = Dispatch.objects.select_for_update(of=("self",)).select_related("department").get(pk=dispatch.pk)
    locked.case = case
    return locked


def _dispatch_step(*, actor: Any, dispatch: Dispatch, action: str, version: int | None,
                   apply: Any, note: str) -> Dispatch:
    locked = _lock_dispatch(dispatch)
    if not wf.is_department_handler(actor, locked) and not _user_sees(actor, locked.case):
        raise NotFound()
    check_version(locked, version)
    transition = wf.check_dispatch_transition(actor=actor, dispatch=locked, action=action)
    from_state = locked.state
    now = timezone.now()
    data = apply(locked, now) or {}
    locked.state = transition.to_state
    bump_version(locked)
    locked.save()
    case = locked.case
    _event(case=case, actor=actor, action=f"dispatch_{action}", from_state=case.state, to_state=case.state,
           note=note, at=now, data={"dispatch": locked.pk, "department": locked.department.name,
                                    "dispatch_from": from_state, "dispatch_to": locked.state, **data})
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=locked, scope_path=case.scope_path,
                 object_repr=f"{case.number} {locked.department.name} {action}", reason=note,
                 changes={"state": {"old": from_state, "new": locked.state}})
    users = street_officers(case)
    _notify(users=users, actor=actor,
            title=str(DISPATCH_STEP_TITLE).format(number=case.number, department=locked.department.name,
                                                  action=wf.action_label(action)),
            body=note, link=case_link(case))
    return locked


@transaction.atomic
def dispatch_checkin(*, actor: Any, dispatch: Dispatch, version: int | None = None) -> Dispatch:
    """The department acknowledges the task (部门报到)."""
    def apply(d: Dispatch, now: dt.datetime) -> dict[str, Any]:
        d.checked_in_at = now
        d.checked_in_by = actor
        return {"late": now > d.checkin_due_at}

    return _dispatch_step(actor=actor, dispatch=dispatch, action=wf.CHECKIN, version=version, apply=apply, note="")


@transaction.atomic
def dispatch_report(*, actor: Any, dispatch: Dispatch, report: str, photos: Sequence[UploadedFile] = (),
                    version: int | None = None) -> Dispatch:
    """The department reports how it handled the task; the street verifies once all have reported."""
    report = (report or "").strip()
    if not report:
        raise ValidationFailed({"report": str(REPORT_REQUIRED)})
    _check_photos(photos)

    def apply(d: Dispatch, now: dt.datetime) -> dict[str, Any]:
        d.report = report
        d.reported_at = now
        for photo in photos:
            attachment_add(actor=actor, obj=d, upload=photo)
        return {"photos": len(photos)}

    return _dispatch_step(actor=actor, dispatch=dispatch, action=wf.REPORT, version=version, apply=apply,
                          note=report)


@transaction.atomic
def dispatch_return(*, actor: Any, dispatch: Dispatch, reason: str, version: int | None = None) -> Dispatch:
    """The department returns the task with a reason; when no department is left on the case it goes
    back to the street (escalated) to be dispatched again."""
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationFailed({"reason": str(REASON_REQUIRED)}, code="reason_required")

    def apply(d: Dispatch, now: dt.datetime) -> dict[str, Any]:
        d.return_reason = reason[:500]
        return {"reason": reason}

    locked = _dispatch_step(actor=actor, dispatch=dispatch, action=wf.RETURN, version=version, apply=apply,
                            note=reason)
    case = locked.case
    if not case.dispatches.exclude(state=DispatchState.RETURNED).exists():
        now = timezone.now()
        case.state = S.ESCALATED
        bump_version(case)
        case.save(update_fields=["state", "version", "updated_at"])
        _event(case=case, actor=actor, action="dispatch_return", from_state=S.DISPATCHED, to_state=S.ESCALATED,
               note=reason, at=now, data={"dispatch": locked.pk, "all_returned": True})
        _audit(actor=actor, case=case, action="dispatch_return", from_state=S.DISPATCHED, to_state=S.ESCALATED,
               note=reason)
    return locked

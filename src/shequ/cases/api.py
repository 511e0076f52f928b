"""Cases API (工单): report, list, read with the timeline, act, department check-in/report/return,
figures, and sensor alerts.

Each endpoint parses its input (``schemas``), loads through ``selectors`` (scoped to ``request.auth``:
another community's case answers 404, as does a case not dispatched to a handler's department or not
reported by a resident), calls one service and shapes the answer. A report or an action may be sent as
JSON, or as ``multipart/form-data`` with photos (``photos``, checked by content and size; a field
``payload`` holding the JSON of the action's parameters). Creating a case is idempotent under
``Idempotency-Key`` (``core.idempotency``). A stale ``version`` answers 409.

``POST /alerts`` is the devices' endpoint: ``Authorization: Device <token>`` (see ``alerts``).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pydantic
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Status
from ninja.security import APIKeyHeader

from shequ.accounts.models import Department, User
from shequ.accounts.roles import Capability
from shequ.cases import alerts, selectors, services, workflow
from shequ.cases.models import Case, CaseCategory, CaseEvent, Dispatch
from shequ.cases.schemas import (
    REPORT_SOURCES,
    AlertIn,
    AlertOut,
    CaseActionIn,
    CaseCreate,
    CaseDetailOut,
    CasePage,
    CaseQuery,
    DispatchOut,
    DispatchReportIn,
    DispatchReturnIn,
    DispatchStepIn,
    FiguresQuery,
)
from shequ.core import pii
from shequ.core.api_errors import BAD_REQUEST, ErrorOut
from shequ.core.attachments import Attachment, check_upload
from shequ.core.errors import NotFound, ValidationFailed
from shequ.registry import selectors as registry_selectors
from shequ.registry.models import Place
from shequ.registry.schemas import PathId

router = Router(tags=["工单"])

READ_ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 404: ErrorOut}
WRITE_ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
                                422: ErrorOut}

ANONYMOUS = _("匿名")
SYSTEM = _("系统")
CATEGORY_UNKNOWN = _("事项类别不存在或已停用。")
SOURCE_NOT_ALLOWED = _("该来源只能由对应的接口写入。")
PAYLOAD_NOT_JSON = _("payload 须为 JSON 对象。")
ASSIGNEE_UNKNOWN = _("处置人不存在。")
DEPARTMENT_UNKNOWN = _("部门不存在。")

_BODY_DOC = {
    "requestBody": {
        "description": ("JSON；或 multipart/form-data（字段同 JSON，照片放在 photos，"
                        "动作参数以 JSON 字符串放在 payload）"),
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}},
                    "multipart/form-data": {"schema": {"type": "object"}}},
    }
}


def _actor(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


# --- Parsing --------------------------------------------------------------------------------------


def _validated(schema: type[pydantic.BaseModel], data: Any) -> Any:
    try:
        return schema.model_validate(data)
    except pydantic.ValidationError as exc:
        errors: dict[str, list[str]] = {}
        for err in exc.errors():
            field = ".".join(str(p) for p in err.get("loc", ())) or "__all__"
            errors.setdefault(field, []).append(str(err.get("msg", "")))
        raise ValidationFailed(errors) from exc


def _is_multipart(request: HttpRequest) -> bool:
    return request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded")


def _photos(request: HttpRequest) -> list[UploadedFile]:
    """The uploaded photos, each checked by content and size (the message names the refused file)."""
    photos = request.FILES.getlist("photos") if _is_multipart(request) else []
    for photo in photos:
        check_upload(photo)
    return photos


def _form_data(request: HttpRequest, *, json_fields: tuple[str, ...] = ()) -> dict[str, Any]:
    data: dict[str, Any] = {k: request.POST.get(k) for k in request.POST}
    for key in json_fields:
        if key in data:
            try:
                data[key] = json.loads(data[key] or "{}")
            except json.JSONDecodeError as exc:
                raise ValidationFailed({key: PAYLOAD_NOT_JSON}) from exc
    return data


def _body(request: HttpRequest, *, json_fields: tuple[str, ...] = ()) -> Any:
    if _is_multipart(request):
        try:
            return _form_data(request, json_fields=json_fields)
        except MultiPartParserError as exc:
            raise ValidationFailed({"__all__": BAD_REQUEST}) from exc
    try:
        return json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationFailed({"__all__": _("请求体须为 JSON。")}) from exc


def category_from_slug(slug: str) -> CaseCategory:
    """The active category a report names by slug (with ``is_parent``), else a 400 on ``category``."""
    category = CaseCategory.objects.with_is_parent().filter(slug=slug, active=True).first()
    if category is None:
        raise ValidationFailed({"category": CATEGORY_UNKNOWN})
    return category


def _day_start(day: dt.date | None) -> dt.datetime | None:
    return None if day is None else timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _day_end(day: dt.date | None) -> dt.datetime | None:
    return None if day is None else _day_start(day + dt.timedelta(days=1))  # type: ignore[return-value]


# --- Output ---------------------------------------------------------------------------------------


def _staff_view(actor: Any, case: Case) -> bool:
    """Staff and department handlers see who reported; other residents do not see an anonymous reporter."""
    if actor is None:
        return True
    caps = actor.capabilities_at(case.scope_path)
    return bool(caps & {Capability.CASES_HANDLE, Capability.CASES_DISPATCH}) or actor.department_id is not None


def reporter_out(case: Case, actor: Any) -> dict[str, Any] | None:
    if case.reporter_id is None:
        return None
    if case.anonymous and actor.pk != case.reporter_id and not _staff_view(actor, case):
        return {"id": None, "name": str(ANONYMOUS)}
    user = case.reporter
    return {"id": case.reporter_id, "name": pii.mask_name(user.display_name or user.username)}


def case_out(case: Case, actor: Any) -> dict[str, Any]:
    assignee = case.assignee
    return {
        "id": case.pk, "number": case.number, "category": case.category.slug, "category_name": case.category.name,
        "title": case.title, "description": case.description, "source": case.source, "state": case.state,
        "state_label": workflow.state_label(case.state), "reporter": reporter_out(case, actor),
        "anonymous": case.anonymous, "contact_phone_masked": pii.mask_phone(case.contact_phone or ""),
        "place_id": case.place_id, "place_name": case.place.name, "community_id": case.community_id,
        "grid_id": case.grid_id, "lon": case.lon, "lat": case.lat, "address": case.address,
        "assignee_id": case.assignee_id,
        "assignee_name": (assignee.display_name or assignee.username) if assignee else "",
        "accept_due_at": case.accept_due_at, "resolve_due_at": case.resolve_due_at, "accepted_at": case.accepted_at,
        "resolved_at": case.resolved_at, "closed_at": case.closed_at, "result": case.result, "rating": case.rating,
        "near_due": case.near_due, "overdue": case.overdue, "merged_into_id": case.merged_into_id,
        "created_at": case.created_at, "version": case.version,
    }


def dispatch_out(dispatch: Dispatch) -> dict[str, Any]:
    return {
        "id": dispatch.pk, "department_id": dispatch.department_id, "department_name": dispatch.department.name,
        "task": dispatch.task, "due_at": dispatch.due_at, "checkin_due_at": dispatch.checkin_due_at,
        "state": dispatch.state, "checked_in_at": dispatch.checked_in_at, "reported_at": dispatch.reported_at,
        "report": dispatch.report, "return_reason": dispatch.return_reason,
        "override_reason": dispatch.override_reason, "overdue": dispatch.overdue, "version": dispatch.version,
    }


def _event_actor(event: CaseEvent, case: Case, reporter: dict[str, Any] | None) -> str:
    if event.actor_id is None:
        return str(SYSTEM)
    if event.actor_id == case.reporter_id and reporter is not None:
        return str(reporter["name"])
    return str(event.actor.display_name or event.actor.username)


def case_detail_out(case: Case, actor: Any, *, new: bool = False) -> dict[str, Any]:
    """The case with its timeline, dispatches and attachments; ``new`` (just reported, no photos) skips
    reading the dispatches and attachments it cannot have yet."""
    body = case_out(case, actor)
    events = list(selectors.case_timeline(case=case))
    body["timeline"] = [
        {"at": e.at, "actor": _event_actor(e, case, body["reporter"]), "action": e.action,
         "from_state": e.from_state, "to_state": e.to_state, "note": e.note, "data": e.data or {}}
        for e in events
    ]
    body["allowed_actions"] = workflow.allowed_actions(actor=actor, case=case)
    if new:
        body["dispatches"], body["attachments"] = [], []
        return body
    body["dispatches"] = [dispatch_out(d) for d in case.dispatches.select_related("department").order_by("id")]
    body["attachments"] = [
        {"id": a.pk, "name": a.name, "mime_type": a.mime_type, "size": a.size}
        for a in Attachment.objects.for_object(case).order_by("id")
    ]
    return body


# --- Cases ----------------------------------------------------------------------------------------


@router.post("/cases", response={201: CaseDetailOut, **WRITE_ERRORS}, summary="上报工单（支持 Idempotency-Key）",
             openapi_extra=_BODY_DOC)
def case_create(request: HttpRequest) -> Status:
    actor = _actor(request)
    data: CaseCreate = _validated(CaseCreate, _body(request))
    if data.source not in REPORT_SOURCES:
        raise ValidationFailed({"source": SOURCE_NOT_ALLOWED})
    photos = _photos(request)
    place = registry_selectors.place_get(actor=actor, place_id=data.place) if data.place else None
    case = services.case_report(
        actor=actor, category=category_from_slug(data.category), title=data.title, description=data.description,
        source=data.source, lon=data.lon, lat=data.lat, place=place, address=data.address,
        anonymous=data.anonymous, contact_phone=data.contact_phone, photos=photos,
    )
    if photos:
        return Status(201, case_detail_out(selectors.case_get(actor=actor, case_id=case.pk), actor))
    # The reporter always sees the case just opened, with its relations in memory: no second read.
    return Status(201, case_detail_out(case, actor, new=True))


@router.get("/cases", response={200: CasePage, **READ_ERRORS}, summary="工单列表")
def case_list(request: HttpRequest, filters: Query[CaseQuery]) -> dict[str, Any]:
    actor = _actor(request)
    # The filters only narrow the cases the actor sees: an unknown place, grid or category lists nothing.
    within = Place.objects.filter(pk=filters.within).first() if filters.within else None
    category = CaseCategory.objects.filter(slug=filters.category).first() if filters.category else None
    if (filters.category and category is None) or (filters.within and within is None):
        return {"count": 0, "items": []}
    case_filter = selectors.CaseFilter(
        state=filters.state or None, category=category, grid=filters.grid, within=within,
        source=filters.source or None,
        overdue=filters.overdue, since=_day_start(filters.since), until=_day_end(filters.until), q=filters.q.strip(),
    )
    qs = selectors.case_list(actor=actor, filters=case_filter)
    items = list(qs.select_related("place", "reporter")[filters.offset:filters.offset + filters.limit])
    return {"count": qs.count(), "items": [case_out(c, actor) for c in items]}


@router.get("/cases/figures", response={200: dict[str, Any], **READ_ERRORS}, summary="工单统计")
def case_figures(request: HttpRequest, filters: Query[FiguresQuery]) -> dict[str, Any]:
    try:
        from shequ.cases.stats import case_figures as figures
    except ImportError as exc:  # the statistics module is not installed yet
        raise NotFound() from exc
    actor = _actor(request)
    within = registry_selectors.place_get(actor=actor, place_id=filters.within) if filters.within else None
    return figures(actor=actor, within=within, since=_day_start(filters.since), until=_day_end(filters.until),
                   period=filters.period)


@router.get("/cases/{case_id}", response={200: CaseDetailOut, **READ_ERRORS}, summary="工单详情（含流转记录）")
def case_detail(request: HttpRequest, case_id: PathId) -> dict[str, Any]:
    actor = _actor(request)
    return case_detail_out(selectors.case_get(actor=actor, case_id=case_id), actor)


def _action_payload(actor: Any, action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Turn the ids of an action's parameters into the records the service expects."""
    out = dict(payload)
    if "assignee" in out and out["assignee"] is not None:
        user = User.objects.filter(pk=_int(out["assignee"], "assignee"), is_active=True).first()
        if user is None:
            raise ValidationFailed({"assignee": ASSIGNEE_UNKNOWN})
        out["assignee"] = user
    if "into" in out and out["into"] is not None:
        out["into"] = selectors.case_get(actor=actor, case_id=_int(out["into"], "into"))
    if action == workflow.DISPATCH and isinstance(out.get("tasks"), list):
        tasks = []
        for i, task in enumerate(out["tasks"]):
            if not isinstance(task, dict):
                raise ValidationFailed({f"tasks.{i}": PAYLOAD_NOT_JSON})
            task = dict(task)
            dept = Department.objects.filter(pk=_int(task.get("department"), f"tasks.{i}.department")).first()
            if dept is None:
                raise ValidationFailed({f"tasks.{i}.department": DEPARTMENT_UNKNOWN})
            task["department"] = dept
            if isinstance(task.get("due_at"), str):
                task["due_at"] = _datetime(task["due_at"], f"tasks.{i}.due_at")
            tasks.append(task)
        out["tasks"] = tasks
    return out


def _int(value: Any, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed({field: _("须为编号（正整数）。")}) from exc
    if number < 1 or number > 2**63 - 1:
        raise ValidationFailed({field: _("须为编号（正整数）。")})
    return number


def _datetime(value: str, field: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationFailed({field: _("须为 ISO 8601 日期时间。")}) from exc
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


@router.post("/cases/{case_id}/actions/{action}", response={200: CaseDetailOut, **WRITE_ERRORS},
             summary="工单操作：accept/reject/assign/resolve/escalate/dispatch/verify/close/reopen/rate/merge",
             openapi_extra=_BODY_DOC)
def case_action(request: HttpRequest, case_id: PathId, action: str) -> dict[str, Any]:
    actor = _actor(request)
    case = selectors.case_get(actor=actor, case_id=case_id)
    if action not in workflow.TRANSITIONS:
        raise NotFound()
    data: CaseActionIn = _validated(CaseActionIn, _body(request, json_fields=("payload",)))
    photos = _photos(request)
    payload = _action_payload(actor, action, data.payload)
    if photos:
        payload["photos"] = photos
    case = services.case_act(actor=actor, case=case, action=action, version=data.version, note=data.note, **payload)
    return case_detail_out(selectors.case_get(actor=actor, case_id=case.pk), actor)


def _dispatch(request: HttpRequest, case_id: int, dispatch_id: int) -> Dispatch:
    case = selectors.case_get(actor=_actor(request), case_id=case_id)
    dispatch = case.dispatches.select_related("department", "case").filter(pk=dispatch_id).first()
    if dispatch is None:
        raise NotFound()
    return dispatch


@router.post("/cases/{case_id}/dispatches/{dispatch_id}/checkin", response={200: DispatchOut, **WRITE_ERRORS},
             summary="部门报到")
def dispatch_checkin(request: HttpRequest, case_id: PathId, dispatch_id: PathId) -> dict[str, Any]:
    dispatch = _dispatch(request, case_id, dispatch_id)
    data: DispatchStepIn = _validated(DispatchStepIn, _body(request))
    dispatch = services.dispatch_checkin(actor=_actor(request), dispatch=dispatch, version=data.version)
    return dispatch_out(dispatch)


@router.post("/cases/{case_id}/dispatches/{dispatch_id}/report", response={200: DispatchOut, **WRITE_ERRORS},
             summary="部门反馈处置结果（可附照片）", openapi_extra=_BODY_DOC)
def dispatch_report(request: HttpRequest, case_id: PathId, dispatch_id: PathId) -> dict[str, Any]:
    dispatch = _dispatch(request, case_id, dispatch_id)
    data: DispatchReportIn = _validated(DispatchReportIn, _body(request))
    photos = _photos(request)
    dispatch = services.dispatch_report(actor=_actor(request), dispatch=dispatch, report=data.report, photos=photos,
                                        version=data.version)
    return dispatch_out(dispatch)


@router.post("/cases/{case_id}/dispatches/{dispatch_id}/return", response={200: DispatchOut, **WRITE_ERRORS},
             summary="部门退回派单（须填写理由）")
def dispatch_return(request: HttpRequest, case_id: PathId, dispatch_id: PathId,
                    payload: DispatchReturnIn) -> dict[str, Any]:
    dispatch = _dispatch(request, case_id, dispatch_id)
    dispatch = services.dispatch_return(actor=_actor(request), dispatch=dispatch, reason=payload.reason,
                                        version=payload.version)
    return dispatch_out(dispatch)


# --- Sensor alerts --------------------------------------------------------------------------------


class DeviceAuth(APIKeyHeader):
    """``Authorization: Device <token>``: the device the token belongs to."""

    param_name = "Authorization"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        scheme, _sep, token = (key or "").partition(" ")
        if scheme != "Device":
            return None
        return alerts.device_authenticate(token.strip())


@router.post("/alerts", auth=DeviceAuth(), response={201: AlertOut, 200: AlertOut, **WRITE_ERRORS},
             summary="物联感知设备告警（Authorization: Device <令牌>）")
def alert_post(request: HttpRequest, payload: AlertIn) -> Status:
    device = request.auth  # type: ignore[attr-defined]
    alert, opened = alerts.alert_receive(device=device, device_id=payload.device_id, kind=payload.kind,
                                         value=payload.value, observed_at=payload.time)
    case = alert.case
    body = {"id": alert.pk, "device_id": device.device_id, "kind": alert.kind, "fired": case is not None,
            "case_id": case.pk if case else None, "case_number": case.number if case else None, "opened": opened}
    return Status(201 if opened else 200, body)

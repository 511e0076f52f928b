"""Case pages (工单): report on a phone, the inbox, the street's 吹哨, department check-in, lists, map, figures.

Every read goes through ``cases.selectors`` (scoped: another community's case answers 404, a resident sees only
their own); every change is one call of ``cases.services`` (``case_report``, ``case_act``, ``dispatch_*``).
Each action form posts the case's ``version``; a stale version answers "数据已被他人修改，请刷新后重试".
The reporter's phone is shown masked, and only to staff.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequ.accounts.models import Department, User
from shequ.accounts.roles import Capability, Role
from shequ.cases import forms as case_forms
from shequ.cases import selectors, services
from shequ.cases.choices import CaseSource, CaseState, DispatchState
from shequ.cases.models import Case, Dispatch
from shequ.cases.workflow import action_label, allowed_actions, state_label
from shequ.core.attachments import Attachment
from shequ.core.errors import CONFLICT, Conflict, NotFound, PermissionDenied, ValidationFailed
from shequ.core.forms import apply_service_errors, paginate
from shequ.core.pii import mask_phone
from shequ.registry.choices import PlaceKind
from shequ.registry.models import Place
from shequ.web.http import domain_errors

STATE_COLOURS = {
    CaseState.NEW: "#b4232a", CaseState.ACCEPTED: "#d97706", CaseState.IN_PROGRESS: "#d97706",
    CaseState.ESCALATED: "#7c3aed", CaseState.DISPATCHED: "#0b57d0", CaseState.RESOLVED: "#0891b2",
    CaseState.CLOSED: "#1a7f37", CaseState.REJECTED: "#6b7280", CaseState.MERGED: "#9ca3af",
}

# action → (label, form class, button style); the order is the order of the buttons on the case page
ACTIONS: dict[str, tuple[Any, type, str]] = {
    "accept": (gettext_lazy("受理"), case_forms.NoteForm, "btn"),
    "assign": (gettext_lazy("指派网格员"), case_forms.AssignForm, "btn btn-secondary"),
    "resolve": (gettext_lazy("办结（填写处置结果）"), case_forms.ResolveForm, "btn"),
    "escalate": (gettext_lazy("社区呼叫（上报街道）"), case_forms.ReasonForm, "btn btn-secondary"),
    "merge": (gettext_lazy("合并到重复工单"), case_forms.MergeForm, "btn btn-secondary"),
    "reject": (gettext_lazy("不予受理"), case_forms.ReasonForm, "btn btn-secondary"),
    "verify": (gettext_lazy("核查通过"), case_forms.NoteForm, "btn"),
    "close": (gettext_lazy("结案"), case_forms.NoteForm, "btn"),
    "rate": (gettext_lazy("提交评价"), case_forms.RateForm, "btn"),
    "reopen": (gettext_lazy("不满意，重新处理"), case_forms.ReasonForm, "btn btn-secondary"),
}
ACTION_DONE: dict[str, Any] = {
    "accept": gettext_lazy("已受理。"),
    "reject": gettext_lazy("已不予受理，已告知上报人。"),
    "assign": gettext_lazy("已指派。"),
    "resolve": gettext_lazy("已办结，等待核查。"),
    "escalate": gettext_lazy("已上报街道（社区呼叫）。"),
    "dispatch": gettext_lazy("已吹哨派单。"),
    "verify": gettext_lazy("已核查。"),
    "close": gettext_lazy("已结案。"),
    "reopen": gettext_lazy("已重新打开，工作人员会再次处理。"),
    "rate": gettext_lazy("感谢您的评价！"),
    "merge": gettext_lazy("已合并。"),
}


# --- who is who ---------------------------------------------------------------------------------


def is_resident(user: Any) -> bool:
    return Role.RESIDENT in user.roles()


def is_handler(user: Any) -> bool:
    return bool(getattr(user, "department_id", None)) and Role.DEPARTMENT_HANDLER in user.roles()


def is_staff_of_cases(user: Any) -> bool:
    return user.has_capability(Capability.CASES_HANDLE) or user.has_capability(Capability.CASES_DISPATCH)


def _reporter_community(user: Any) -> Place | None:
    """The resident's community (for the report map): the community above their resident membership."""
    for path in user.resident_paths():
        if len(path) == 12:
            return Place.objects.filter(path=path, kind=PlaceKind.COMMUNITY).first()
    return None


def _staff_community(user: Any) -> Place | None:
    for path in user.scope_paths(Capability.CASES_HANDLE):
        if len(path) >= 12:
            return Place.objects.filter(path=path[:12], kind=PlaceKind.COMMUNITY).first()
    return None


def case_tabs(request: HttpRequest) -> list[dict[str, Any]]:
    """The tabs on top of every case page, by what the user does."""
    user = request.user
    tabs: list[tuple[str, str, str]] = []
    handle = user.has_capability(Capability.CASES_HANDLE)  # type: ignore[union-attr]
    dispatch_cap = user.has_capability(Capability.CASES_DISPATCH)  # type: ignore[union-attr]
    if is_resident(user):
        tabs += [("cases:report", "", _("我要报事")), ("cases:mine", "", _("我的报事"))]
    if dispatch_cap:
        tabs.append(("cases:street", "", _("街道待办")))
    if handle:
        tabs += [("cases:inbox", "", _("收件箱")), ("cases:tasks", "", _("我的任务")),
                 ("cases:report", "?source=grid_patrol", _("巡查上报"))]
    if is_handler(user):
        tabs.append(("cases:dispatches", "", _("本部门派单")))
    if handle or dispatch_cap:
        tabs += [("cases:list", "", _("全部工单")), ("cases:map", "", _("工单地图")), ("cases:figures", "", _("统计"))]
    here = request.get_full_path()
    out = []
    for name, suffix, label in tabs:
        url = reverse(name) + suffix
        active = here == url or (not suffix and here.split("?")[0] == url and "source=" not in here)
        out.append({"url": url, "label": label, "active": active})
    return out


def _render(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    context["case_tabs"] = case_tabs(request)
    return render(request, template, context, status=status)


# --- home, lists --------------------------------------------------------------------------------


@login_required
def cases_home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.has_capability(Capability.CASES_DISPATCH):  # type: ignore[union-attr]
        return redirect("cases:street")
    if user.has_capability(Capability.CASES_HANDLE):  # type: ignore[union-attr]
        return redirect("cases:inbox" if Role.GRID_WORKER not in user.roles() else "cases:tasks")  # type: ignore
    if is_handler(user):
        return redirect("cases:dispatches")
    return redirect("cases:mine")


def _period_since(period: str) -> dt.datetime | None:
    return timezone.now() - dt.timedelta(days=int(period)) if period.isdigit() else None


def _filters(request: HttpRequest) -> tuple[case_forms.CaseFilterForm, Any]:
    grids = _grids_for(request.user)
    form = case_forms.CaseFilterForm(request.GET or None, grids=grids)
    data = form.cleaned_data if form.is_valid() else {}
    filters = selectors.CaseFilter(
        state=data.get("state") or None,
        category=int(data["category"]) if str(data.get("category") or "").isdigit() else None,
        grid=int(data["grid"]) if str(data.get("grid") or "").isdigit() else None,
        overdue=True if data.get("overdue") else None,
        since=_period_since(data.get("period") or ""),
        q=(data.get("q") or "").strip() or None,
    )
    return form, filters


def _grids_for(user: Any) -> Any:
    from shequ.registry import selectors as registry_selectors

    try:
        return list(registry_selectors.grid_list(actor=user)[:200])
    except Exception:  # noqa: BLE001 - residents and handlers have no grid view; the filter just has no grids
        return []


@login_required
@domain_errors
def case_list(request: HttpRequest) -> HttpResponse:
    if not is_staff_of_cases(request.user):
        raise NotFound()
    form, filters = _filters(request)
    items = selectors.case_list(actor=request.user, filters=filters)
    page, query = paginate(request, items)
    return _render(request, "cases/list.html", {"form": form, "page_obj": page, "query": query,
                                               "now": timezone.now(), "heading": _("工单列表")})


@login_required
@domain_errors
def inbox(request: HttpRequest) -> HttpResponse:
    if not request.user.has_capability(Capability.CASES_HANDLE):  # type: ignore[union-attr]
        raise NotFound()
    items = selectors.community_inbox(actor=request.user)
    page, query = paginate(request, items)
    return _render(request, "cases/inbox.html", {"page_obj": page, "query": query, "now": timezone.now(),
                                                "heading": _("社区工单收件箱")})


@login_required
@domain_errors
def tasks(request: HttpRequest) -> HttpResponse:
    """我的任务: what is assigned to me (a grid worker, or a community worker handling it themself)."""
    if not request.user.has_capability(Capability.CASES_HANDLE):  # type: ignore[union-attr]
        raise NotFound()
    items = selectors.assigned_to_me(actor=request.user)
    page, query = paginate(request, items)
    return _render(request, "cases/inbox.html", {"page_obj": page, "query": query, "now": timezone.now(),
                                                "heading": _("我的任务"), "tasks": True})


@login_required
@domain_errors
def street(request: HttpRequest) -> HttpResponse:
    if not request.user.has_capability(Capability.CASES_DISPATCH):  # type: ignore[union-attr]
        raise NotFound()
    items = selectors.street_overdue(actor=request.user)
    page, query = paginate(request, items)
    # whistled cases the street has verified (核查) and still has to close (结案)
    followups = selectors.case_list(actor=request.user, filters=selectors.CaseFilter(
        state=CaseState.RESOLVED)).filter(dispatches__isnull=False).distinct()[:50]
    return _render(request, "cases/inbox.html", {"page_obj": page, "query": query, "now": timezone.now(),
                                                "heading": _("街道待办"), "street": True,
                                                "followups": list(followups)})


@login_required
@domain_errors
def mine(request: HttpRequest) -> HttpResponse:
    items = selectors.my_cases(actor=request.user)
    page, query = paginate(request, items)
    return _render(request, "cases/mine.html", {"page_obj": page, "query": query})


# --- report -------------------------------------------------------------------------------------


def _map_context(community: Place | None) -> dict[str, Any]:
    features = []
    if community is not None and community.geometry:
        features.append({"type": "Feature", "geometry": community.geometry,
                         "properties": {"role": "self", "name": community.name}})
    return {"map_data": {"type": "FeatureCollection", "features": features}, "tile_url": settings.SHEQU_TILE_URL,
            "community": community}


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    """我要报事 (a resident) or 巡查上报 (``?source=grid_patrol``, staff who handle cases)."""
    user = request.user
    patrol = request.GET.get("source") == CaseSource.GRID_PATROL or request.POST.get("source") == CaseSource.GRID_PATROL
    if patrol:
        if not user.has_capability(Capability.CASES_HANDLE):  # type: ignore[union-attr]
            raise NotFound()
        source, community = CaseSource.GRID_PATROL, _staff_community(user)
    else:
        source, community = CaseSource.RESIDENT, _reporter_community(user)
        if community is None and user.has_capability(Capability.CASES_HANDLE):  # type: ignore[union-attr]
            source, community = CaseSource.WORKER, _staff_community(user)
    if community is None:
        raise PermissionDenied(_("只有本社区居民或社区工作人员可以报事。"))
    form = case_forms.ReportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        args = form.service_arguments()
        if source != CaseSource.RESIDENT:
            args["anonymous"] = False
        try:
            case = services.case_report(actor=user, source=source, **args)
        except ValidationFailed as exc:
            apply_service_errors(form, exc, aliases={"place": "address", "community": "address", "lon": "address",
                                                     "lat": "address", "title": "description",
                                                     "file": "photos"})
        else:
            messages.success(request, _("已提交，工单编号 %(number)s。处理进展会通知您。") % {"number": case.number})
            return redirect("cases:detail", pk=case.pk)
    return _render(request, "cases/report.html", {
        "form": form, "patrol": source == CaseSource.GRID_PATROL, "source": source, **_map_context(community),
    }, status=400 if request.method == "POST" else 200)


@login_required
@require_GET
def duplicates(request: HttpRequest) -> HttpResponse:
    """htmx: open cases of the same category nearby, shown before submitting."""
    category = request.GET.get("category", "")
    try:
        lon, lat = float(request.GET.get("lon", "")), float(request.GET.get("lat", ""))
    except ValueError:
        return HttpResponse("")
    community = _reporter_community(request.user) or _staff_community(request.user)
    if not category.isdigit() or community is None:
        return HttpResponse("")
    from shequ.cases.models import CaseCategory

    cat = CaseCategory.objects.filter(pk=int(category)).first()
    if cat is None:
        return HttpResponse("")
    found = list(selectors.possible_duplicates(category=cat, lon=lon, lat=lat, community=community)[:5])
    # residents see only the numbers and categories of others' cases, never what others wrote
    return render(request, "cases/_duplicates.html",
                  {"duplicates": found, "show_titles": is_staff_of_cases(request.user)})


# --- one case -----------------------------------------------------------------------------------


def _assignees(case: Case) -> QuerySet[User]:
    """Grid workers of the case's community (the people a case can be assigned to)."""
    community_path = case.scope_path[:12]
    return User.objects.filter(memberships__role=Role.GRID_WORKER, memberships__active=True,
                               memberships__place__path__startswith=community_path).distinct().order_by("username")


def _departments(case: Case) -> QuerySet[Department]:
    """Departments a street may whistle: those of the district and street above the case, and below the street."""
    prefixes = [case.scope_path[:n] for n in range(6, len(case.scope_path) + 1, 3)]
    return Department.objects.filter(place__path__in=prefixes).order_by("name")


def _duplicate_candidates(case: Case) -> Any:
    if case.lon is None or case.lat is None or case.community is None:
        return Case.objects.none()
    return selectors.possible_duplicates(category=case.category, lon=case.lon, lat=case.lat,
                                         community=case.community, exclude=case)


def _action_form(action: str, case: Case, data: Any = None, files: Any = None) -> Any:
    form_class = ACTIONS[action][1]
    kwargs: dict[str, Any] = {"prefix": action}
    if form_class is case_forms.AssignForm:
        kwargs["assignees"] = _assignees(case)
    if form_class is case_forms.MergeForm:
        candidates = _duplicate_candidates(case)
        kwargs["candidates"] = Case.objects.filter(pk__in=[c.pk for c in candidates])
    if form_class in (case_forms.ResolveForm,):
        return form_class(data, files, **kwargs)
    return form_class(data, **kwargs)


def _photos(obj: Any) -> list[Any]:
    return list(Attachment.objects.for_object(obj))


def _case_files(case: Case) -> QuerySet[Attachment]:
    """Every file of a case: its own photos, those of its timeline steps and of its dispatches."""
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Q

    from shequ.cases.models import CaseEvent

    q = Q(content_type=ContentType.objects.get_for_model(Case), object_id=str(case.pk))
    q |= Q(content_type=ContentType.objects.get_for_model(Dispatch),
           object_id__in=[str(pk) for pk in case.dispatches.values_list("pk", flat=True)])
    q |= Q(content_type=ContentType.objects.get_for_model(CaseEvent),
           object_id__in=[str(pk) for pk in case.events.values_list("pk", flat=True)])
    return Attachment.objects.filter(q).order_by("created_at")


@login_required
@domain_errors
def case_file(request: HttpRequest, pk: int, file_pk: int) -> HttpResponse:
    case = selectors.case_get(actor=request.user, case_id=pk)
    attachment = _case_files(case).filter(pk=file_pk).first()
    if attachment is None:
        raise NotFound()
    response = FileResponse(attachment.file.open("rb"), content_type=attachment.mime_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _event_rows(case: Case, viewer: Any) -> list[dict[str, Any]]:
    rows = []
    files: dict[str, list[Any]] = {}
    for attachment in _case_files(case).filter(content_type__model="caseevent"):
        files.setdefault(attachment.object_id, []).append(attachment)
    for event in selectors.case_timeline(case=case):
        rows.append({"event": event, "actor": _display_actor(event.actor, case, viewer),
                     "label": _event_label(event),
                     "to": state_label(event.to_state) if event.to_state and event.to_state != event.from_state else "",
                     "files": files.get(str(event.pk), [])})
    return rows


def _event_label(event: Any) -> str:
    return str(action_label(event.action))


def _display_actor(actor: Any, case: Case, viewer: Any) -> str:
    """Staff see who did a step; residents see the office (社区工作人员 / a department), never staff names."""
    if actor is None:
        return _("系统")
    if case.reporter_id and actor.pk == case.reporter_id:
        return _("我") if viewer.pk == actor.pk else _("上报人")
    if is_staff_of_cases(viewer) or is_handler(viewer):
        return actor.display_name or actor.username
    if getattr(actor, "department_id", None):
        return actor.department.name
    return _("工作人员")


def _detail(request: HttpRequest, case: Case, *, forms: dict[str, Any] | None = None,
            status: int = 200) -> HttpResponse:
    user = request.user
    actions = [a for a in allowed_actions(actor=user, case=case)]
    forms = forms or {}
    action_forms = []
    for action in ACTIONS:
        if action in actions:
            if action == "merge" and not _duplicate_candidates(case):
                continue
            label, _cls, style = ACTIONS[action]
            if action == "reopen" and case.reporter_id != user.pk:
                label = gettext_lazy("核查不通过，退回重办")
            action_forms.append({"action": action, "label": label, "style": style,
                                 "form": forms.get(action) or _action_form(action, case)})
    staff = is_staff_of_cases(user) or is_handler(user)
    dispatches = list(case.dispatches.select_related("department").all()) if staff else []
    for item in dispatches:
        item.files = _photos(item)  # type: ignore[attr-defined]
    return _render(request, "cases/detail.html", {
        "case": case, "timeline": _event_rows(case, request.user), "photos": _photos(case),
        "action_forms": action_forms,
        "can_dispatch": "dispatch" in actions, "is_staff": staff, "dispatches": dispatches,
        "is_reporter": case.reporter_id == user.pk, "now": timezone.now(), "tile_url": settings.SHEQU_TILE_URL,
        "map_data": _map_context(case.community)["map_data"] if case.lon is not None else None,
        "masked_phone": mask_phone(case.contact_phone) if staff and case.contact_phone else "",
        "reporter_name": _reporter_label(case, user),
        "open_errors": next(iter(forms), ""),
        "my_dispatches": [d for d in dispatches if is_handler(user) and d.department_id == user.department_id],
        # the meeting decision (决议) the case carries out, if it came from one
        "decisions": list(case.decisions.select_related("meeting")) if case.source == CaseSource.DECISION else [],
    }, status=status)


def _reporter_label(case: Case, user: Any) -> str:
    if case.reporter is None:
        return str(case.get_source_display())
    if case.reporter_id == user.pk:
        return _("我")
    if case.anonymous and not is_staff_of_cases(user):
        return _("匿名居民")
    from shequ.core.pii import mask_name

    return mask_name(case.reporter.display_name) if case.reporter.display_name else _("居民")


@login_required
@domain_errors
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, selectors.case_get(actor=request.user, case_id=pk))


def _conflict(request: HttpRequest, case: Case) -> HttpResponse:
    messages.error(request, str(CONFLICT))
    return redirect("cases:detail", pk=case.pk)


@login_required
@domain_errors
@require_POST
def case_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    case = selectors.case_get(actor=request.user, case_id=pk)
    if action not in ACTIONS:
        raise NotFound()
    form = _action_form(action, case, request.POST, request.FILES)
    if form.is_valid():
        note = form.cleaned_data.get("note", "") if "note" in form.fields else ""
        try:
            services.case_act(actor=request.user, case=case, action=action, version=_version(request),
                              note=note, **form.payload())
        except Conflict:
            return _conflict(request, case)
        except PermissionDenied as exc:
            messages.error(request, str(exc.message))
            return redirect("cases:detail", pk=case.pk)
        except ValidationFailed as exc:
            apply_service_errors(form, exc, aliases={"file": "photos"})
        else:
            messages.success(request, str(ACTION_DONE.get(action, _("已完成。"))))
            return redirect("cases:detail", pk=case.pk)
    return _detail(request, case, forms={action: form}, status=400)


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def dispatch(request: HttpRequest, pk: int) -> HttpResponse:
    """吹哨: the street sends the case to one or more departments, each with task and deadline."""
    case = selectors.case_get(actor=request.user, case_id=pk)
    if "dispatch" not in allowed_actions(actor=request.user, case=case):
        raise PermissionDenied()
    street = Place.objects.filter(path=case.street_code).first() if case.street_code else None
    default = services.default_department(category=case.category, street=street) if street else None
    due = timezone.localtime(case.resolve_due_at) if case.resolve_due_at and case.resolve_due_at > timezone.now() \
        else timezone.localtime() + dt.timedelta(days=3)
    initial = [{"department": default, "task": case.description[:200], "due_at": due.strftime("%Y-%m-%dT%H:%M")}] \
        if default else [{"task": case.description[:200], "due_at": due.strftime("%Y-%m-%dT%H:%M")}]
    form = case_forms.DispatchForm(request.POST or None, departments=_departments(case), default=default,
                                   initial_rows=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.case_act(actor=request.user, case=case, action="dispatch", version=_version(request),
                              **form.payload())
        except Conflict:
            return _conflict(request, case)
        except ValidationFailed as exc:
            apply_service_errors(form, exc, aliases={"tasks": "__all__"})
        else:
            messages.success(request, _("已吹哨派单，等待部门报到。"))
            return redirect("cases:detail", pk=case.pk)
    more_open = request.method == "POST" and any(request.POST.get(f"t{i}-department") for i in (1, 2))
    return _render(request, "cases/dispatch.html", {"case": case, "form": form, "default": default,
                                                    "more_open": more_open},
                  status=400 if request.method == "POST" else 200)


# --- department handlers ------------------------------------------------------------------------


def _dispatch_get(request: HttpRequest, pk: int) -> Dispatch:
    if not is_handler(request.user):
        raise NotFound()
    return selectors.dispatch_get(actor=request.user, dispatch_id=pk)


def _version(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() else None


@login_required
@domain_errors
def dispatches(request: HttpRequest) -> HttpResponse:
    if not is_handler(request.user):
        raise NotFound()
    state = request.GET.get("state", "")
    items = selectors.department_dispatches(actor=request.user, state=state if state in DispatchState.values else None)
    page, query = paginate(request, items)
    return _render(request, "cases/dispatches.html", {"page_obj": page, "query": query, "state": state,
                                                     "states": DispatchState.choices, "now": timezone.now()})


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def dispatch_work(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """报到 (checkin), 反馈 (report), 退回 (return) on one dispatch of the handler's department."""
    item = _dispatch_get(request, pk)
    form: Any = None
    if step == "report":
        form = case_forms.DispatchReportForm(request.POST or None, request.FILES or None)
    elif step == "return":
        form = case_forms.DispatchReturnForm(request.POST or None)
    elif step != "checkin":
        raise NotFound()
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            if step == "checkin":
                services.dispatch_checkin(actor=request.user, dispatch=item, version=_version(request))
                messages.success(request, _("已报到。"))
            elif step == "report":
                services.dispatch_report(actor=request.user, dispatch=item, report=form.cleaned_data["report"],
                                         photos=form.cleaned_data["photos"], version=_version(request))
                messages.success(request, _("已反馈处置情况，等待街道核查。"))
            else:
                services.dispatch_return(actor=request.user, dispatch=item, reason=form.cleaned_data["reason"],
                                         version=_version(request))
                messages.success(request, _("已退回街道。"))
        except Conflict:
            messages.error(request, str(CONFLICT))
        except PermissionDenied as exc:
            messages.error(request, str(exc.message))
        except ValidationFailed as exc:
            if form is None:
                messages.error(request, exc.first_message() if hasattr(exc, "first_message") else str(exc.message))
            else:
                apply_service_errors(form, exc, aliases={"file": "photos"})
                return _dispatch_page(request, item, form, step, status=400)
        else:
            return redirect("cases:dispatch_work", pk=item.pk, step="report")
        return redirect("cases:dispatch_work", pk=item.pk, step="report")
    return _dispatch_page(request, item, form, step, status=400 if request.method == "POST" else 200)


def _dispatch_page(request: HttpRequest, item: Dispatch, form: Any, step: str, *, status: int = 200) -> HttpResponse:
    case = item.case
    return _render(request, "cases/dispatch_work.html", {
        "item": item, "case": case, "timeline": _event_rows(case, request.user), "photos": _photos(case),
        "report_form": form if step == "report" and form is not None else case_forms.DispatchReportForm(),
        "return_form": form if step == "return" and form is not None else case_forms.DispatchReturnForm(),
        "now": timezone.now(),
    }, status=status)


# --- map, figures -------------------------------------------------------------------------------


@login_required
@domain_errors
def case_map(request: HttpRequest) -> HttpResponse:
    if not is_staff_of_cases(request.user):
        raise NotFound()
    form, _filters_unused = _filters(request)
    legend = [{"state": s, "label": label, "colour": STATE_COLOURS[s]} for s, label in CaseState.choices]
    return _render(request, "cases/map.html", {"form": form, "tile_url": settings.SHEQU_TILE_URL, "legend": legend,
                                              "data_url": reverse("cases:map_data") + "?" + request.GET.urlencode()})


@login_required
@domain_errors
def map_data(request: HttpRequest) -> JsonResponse:
    if not is_staff_of_cases(request.user):
        raise NotFound()
    _form, filters = _filters(request)
    rows = selectors.case_list(actor=request.user, filters=filters).exclude(lon=None).exclude(lat=None)[:2000]
    detail = reverse("cases:detail", args=[0])
    features = [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
        "properties": {"number": c.number, "title": c.title, "state": c.state, "label": str(c.get_state_display()),
                       "colour": STATE_COLOURS.get(c.state, "#444"), "url": detail.replace("/0/", f"/{c.pk}/"),
                       "overdue": c.overdue},
    } for c in rows]
    return JsonResponse({"type": "FeatureCollection", "features": features})


FIGURE_PERIODS = [("7", gettext_lazy("近7天"), "day"), ("30", gettext_lazy("近30天"), "day"),
                  ("90", gettext_lazy("近90天"), "week"), ("365", gettext_lazy("近一年"), "month")]


def _duration(minutes: float | None) -> str:
    if minutes is None:
        return "—"
    if minutes < 60:
        return _("%(n)s 分钟") % {"n": round(minutes)}
    if minutes < 48 * 60:
        return _("%(n)s 小时") % {"n": round(minutes / 60, 1)}
    return _("%(n)s 天") % {"n": round(minutes / 1440, 1)}


def _chart_data(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "state": [{"name": r["label"], "value": r["count"], "colour": STATE_COLOURS.get(r["state"], "#888")}
                  for r in data["by_state"]],
        "category": [{"name": r["name"], "value": r["count"]} for r in data["by_category"][:15]],
        "grid": [{"name": r["name"] or _("未划入网格"), "value": r["count"]} for r in data["by_grid"][:15]],
        "period": [{"name": r["start"], "value": r["count"]} for r in data["by_period"]],
        "rating": [{"name": _("%(n)s 星") % {"n": r["rating"]}, "value": r["count"]}
                   for r in data["satisfaction"]["distribution"]],
        "labels": {"count": _("件数")},
    }


@login_required
@domain_errors
def figures(request: HttpRequest) -> HttpResponse:
    if not is_staff_of_cases(request.user):
        raise NotFound()
    days = request.GET.get("days", "30")
    choice = next((p for p in FIGURE_PERIODS if p[0] == days), FIGURE_PERIODS[1])
    try:
        from shequ.cases.stats import case_figures
    except ImportError:  # pragma: no cover - STATS's module not there yet
        data: dict[str, Any] | None = None
    else:
        data = case_figures(actor=request.user, since=timezone.now() - dt.timedelta(days=int(choice[0])),
                            period=choice[2])
    return _render(request, "cases/figures.html", {
        "figures": data, "days": choice[0], "periods": [(p[0], p[1]) for p in FIGURE_PERIODS],
        "chart_data": _chart_data(data) if data else None,
        "accept_text": _duration(data["accept_minutes"]["median"]) if data else "",
        "close_text": _duration(data["close_minutes"]["median"]) if data else "",
    })

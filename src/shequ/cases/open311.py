"""Open311 GeoReport v2 (``/open311/v2/``): the categories as services, the cases as service requests.

Every resource answers in JSON or XML by its suffix (``services.json``, ``requests.xml`` …), UTF-8,
XML with its declaration. Errors are the spec's list: ``[{"code": 400, "description": "…"}]`` or
``<errors><error><code>400</code><description>…</description></error></errors>``.

Reading is public and carries no personal data: never the reporter, the phone, or an address below
the building (the address is the place's chain down to the building; coordinates are rounded to about
ten metres); phone and ID numbers typed into a description are masked. Posting a request needs
``api_key``, an API token of the platform: the case is reported by that token's user, source
``open311``. The platform is realtime, so a token resource only maps a request id to itself.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from shequ.accounts.services import api_token_authenticate
from shequ.cases.choices import OPEN_STATES, CaseSource, CaseState
from shequ.cases.models import Case, CaseCategory
from shequ.core.errors import ShequError, ValidationFailed
from shequ.registry.choices import PLACE_PATH_LENGTHS, PlaceKind
from shequ.registry.models import Place

MAX_REQUESTS = 1000
COMMUNITY_PATH_LEN = PLACE_PATH_LENGTHS[PlaceKind.COMMUNITY]
DEFAULT_DAYS = 90
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
PHONE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
ID_IN_TEXT = re.compile(r"(?<![\dXx])(\d{2})\d{13,14}([\dXx]{2})(?![\dXx])")
ADDRESS_KINDS = (PlaceKind.STREET, PlaceKind.COMMUNITY, PlaceKind.COMPOUND, PlaceKind.BUILDING)


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        self.status = status
        self.description = description
        super().__init__(description)


# --- Rendering ------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return w3c(value)
    return str(value)


def w3c(value: dt.datetime | None) -> str | None:
    """ISO 8601 / W3C date-time with the offset (``2026-11-23T11:07:00+08:00``)."""
    return None if value is None else timezone.localtime(value).isoformat(timespec="seconds")


def to_xml(root: str, item: str, rows: Iterable[dict[str, Any]]) -> bytes:
    top = ET.Element(root)
    for row in rows:
        el = ET.SubElement(top, item)
        for key, value in row.items():
            child = ET.SubElement(el, key)
            if isinstance(value, list):
                for entry in value:  # keywords are a comma list in both formats; attributes are [] here
                    ET.SubElement(child, "attribute").text = _text(entry)
            else:
                child.text = _text(value)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(top, encoding="unicode").encode()


def respond(fmt: str, body: Any, *, root: str, item: str, status: int = 200) -> HttpResponse:
    if fmt == "xml":
        rows = body if isinstance(body, list) else [body]
        content = to_xml(root, item, rows) if isinstance(body, list) else _single_xml(root, body)
    else:
        content = json.dumps(body, ensure_ascii=False).encode()
    return HttpResponse(content, status=status, content_type=CONTENT_TYPES[fmt])


def _single_xml(root: str, row: dict[str, Any]) -> bytes:
    top = ET.Element(root)
    for key, value in row.items():
        child = ET.SubElement(top, key)
        if not isinstance(value, list):
            child.text = _text(value)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(top, encoding="unicode").encode()


def error_response(fmt: str, status: int, description: str) -> HttpResponse:
    rows = [{"code": status, "description": description}]
    if fmt == "xml":
        return HttpResponse(to_xml("errors", "error", rows), status=status, content_type=CONTENT_TYPES["xml"])
    return HttpResponse(json.dumps(rows, ensure_ascii=False).encode(), status=status,
                        content_type=CONTENT_TYPES["json"])


def _handles_errors(view: Any) -> Any:
    def wrapped(request: HttpRequest, *args: Any, fmt: str = "json", **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, fmt=fmt, **kwargs)
        except Open311Error as exc:
            return error_response(fmt, exc.status, exc.description)
        except ValidationFailed as exc:
            return error_response(fmt, 400, "; ".join(m["message"] for m in exc.as_list()) or str(exc.message))
        except ShequError as exc:
            return error_response(fmt, exc.status, str(exc.message))

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


# --- Services (categories) ------------------------------------------------------------------------


def leaf_categories() -> QuerySet[CaseCategory]:
    """Active categories without active children: what a request can be filed under."""
    return (
        CaseCategory.objects.filter(active=True)
        .exclude(children__active=True)
        .filter(Q(parent__isnull=True) | Q(parent__active=True))
        .select_related("parent")
        .order_by("sort", "slug")
    )


def service_out(category: CaseCategory) -> dict[str, Any]:
    return {
        "service_code": category.slug,
        "service_name": category.name,
        "description": _t("%(name)s：%(hours)s小时内受理，%(days)s个工作日内处置。") % {
            "name": category.name, "hours": category.accept_hours, "days": category.resolve_days},
        "metadata": False,
        "type": "realtime",
        "keywords": ",".join(k for k in (category.parent.name if category.parent_id else "", category.name) if k),
        "group": category.parent.name if category.parent_id else "",
    }


def _category(code: str) -> CaseCategory:
    category = leaf_categories().filter(slug=code).first()
    if category is None:
        raise Open311Error(404, _t("service_code “%(code)s” 不存在。") % {"code": code})
    return category


@require_GET
@_handles_errors
def services(request: HttpRequest, *, fmt: str) -> HttpResponse:
    return respond(fmt, [service_out(c) for c in leaf_categories()], root="services", item="service")


@require_GET
@_handles_errors
def service_definition(request: HttpRequest, code: str, *, fmt: str) -> HttpResponse:
    category = _category(code)
    return respond(fmt, {"service_code": category.slug, "attributes": []}, root="service_definition", item="")


# --- Requests (cases) -----------------------------------------------------------------------------


def scrub(text: str) -> str:
    """Mask phone and ID numbers someone typed into free text."""
    text = PHONE_IN_TEXT.sub(r"\1****\2", text or "")
    return ID_IN_TEXT.sub(lambda m: m.group(1) + "*" * (len(m.group(0)) - 4) + m.group(2), text)


def public_address(place: Place, chain: dict[str, Place]) -> str:
    """The place's chain from the street down to the building at most (never a unit or room)."""
    names = [p.name for path, p in sorted(chain.items()) if place.path.startswith(path) and p.kind in ADDRESS_KINDS]
    return "".join(names)


def _chains(cases: list[Case]) -> dict[str, Place]:
    lengths = [PLACE_PATH_LENGTHS[kind] for kind in ADDRESS_KINDS]
    prefixes = {case.place.path[:n] for case in cases for n in lengths if n <= len(case.place.path)}
    return {p.path: p for p in Place.objects.filter(path__in=prefixes).only("path", "name", "kind")}


def status_of(case: Case) -> str:
    return "open" if case.state in OPEN_STATES else "closed"


def status_notes(case: Case) -> str:
    if case.state == CaseState.MERGED and case.merged_into_id:
        return _t("已与工单 %(number)s 合并办理。") % {"number": case.merged_into.number}
    label = str(CaseState(case.state).label)
    return f"{label}：{scrub(case.result)}" if case.result else label


def request_out(case: Case, chain: dict[str, Place]) -> dict[str, Any]:
    return {
        "service_request_id": case.number,
        "status": status_of(case),
        "status_notes": status_notes(case),
        "service_name": case.category.name,
        "service_code": case.category.slug,
        "description": scrub(case.description),
        "agency_responsible": case.community.name if case.community_id else "",
        "service_notice": "",
        "requested_datetime": w3c(case.created_at),
        "updated_datetime": w3c(case.updated_at),
        "expected_datetime": w3c(case.resolve_due_at),
        "address": public_address(case.place, chain),
        "address_id": None,
        "zipcode": None,
        "lat": None if case.lat is None else round(case.lat, 4),
        "long": None if case.lon is None else round(case.lon, 4),
        "media_url": None,
    }


def _public_cases() -> QuerySet[Case]:
    return Case.objects.select_related("category", "community", "place", "merged_into").order_by("-created_at")


def parse_w3c(raw: str, *, field: str) -> dt.datetime:
    value = raw.strip()
    try:
        parsed = dt.datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError as exc:
        raise Open311Error(400, _t("%(field)s 须为 W3C/ISO 8601 日期时间，如 2026-01-01T00:00:00+08:00。")
                           % {"field": field}) from exc
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _comma(request: HttpRequest, name: str) -> list[str]:
    return [v.strip() for raw in request.GET.getlist(name) for v in raw.split(",") if v.strip()]


def request_search(request: HttpRequest) -> list[Case]:
    qs = _public_cases()
    ids = _comma(request, "service_request_id")
    if ids:  # the spec: this overrides every other argument
        return list(qs.filter(number__in=ids[:MAX_REQUESTS]))
    codes = _comma(request, "service_code")
    if codes:
        qs = qs.filter(category__slug__in=codes)
    statuses = set(_comma(request, "status"))
    if statuses - {"open", "closed"}:
        raise Open311Error(400, _t("status 只能为 open 或 closed。"))
    if statuses == {"open"}:
        qs = qs.filter(state__in=OPEN_STATES)
    elif statuses == {"closed"}:
        qs = qs.exclude(state__in=OPEN_STATES)
    start_raw, end_raw = request.GET.get("start_date", ""), request.GET.get("end_date", "")
    span = dt.timedelta(days=DEFAULT_DAYS)
    start = parse_w3c(start_raw, field="start_date") if start_raw else None
    end = parse_w3c(end_raw, field="end_date") if end_raw else None
    if start is None:
        end = end or timezone.now()
        start = end - span
    elif end is None:
        end = min(timezone.now(), start + span)
    if start > end:
        raise Open311Error(400, _t("start_date 不能晚于 end_date。"))
    if end - start > span:
        raise Open311Error(400, _t("start_date 与 end_date 的跨度不能超过90天。"))
    qs = qs.filter(created_at__gte=start, created_at__lte=end)
    return list(qs[:MAX_REQUESTS])


def _render_requests(fmt: str, cases: list[Case]) -> HttpResponse:
    chain = _chains(cases)
    return respond(fmt, [request_out(c, chain) for c in cases], root="service_requests", item="request")


def _float(request: HttpRequest, name: str) -> float | None:
    raw = request.POST.get(name, "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError as exc:
        raise Open311Error(400, _t("%(field)s 须为数字。") % {"field": name}) from exc


def request_create(request: HttpRequest) -> Case:
    """POST a request: ``api_key``, ``service_code``, a location (lat/long or address_string), description …"""
    from shequ.cases.services import case_report

    actor = api_token_authenticate(request.POST.get("api_key", "").strip())
    if actor is None:
        raise Open311Error(403, _t("api_key 无效或已失效。"))
    code = request.POST.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, _t("缺少 service_code。"))
    category = _category(code)
    lat, lon = _float(request, "lat"), _float(request, "long")
    address = request.POST.get("address_string", "").strip()[:200]
    if (lat is None) != (lon is None):
        raise Open311Error(400, _t("lat 与 long 须同时提供。"))
    if lat is None and not address:
        raise Open311Error(400, _t("须提供位置：lat 和 long，或 address_string。"))
    place = None
    if lat is None:  # an address alone: filed at the key holder's own community, the text kept as the address
        place = _home_place(actor)
        if place is None:
            raise Open311Error(400, _t("无法根据 address_string 定位，请提供 lat 和 long。"))
    description = request.POST.get("description", "").strip()[:4000]
    title = (description.splitlines()[0] if description else category.name)[:100]
    # first_name/last_name/email are accepted but not kept: the reporter is the key's account.
    return case_report(
        actor=actor, category=category, title=title, description=description, source=CaseSource.OPEN311,
        lon=lon, lat=lat, place=place, address=address, contact_phone=request.POST.get("phone", "").strip(),
    )


def _home_place(actor: Any) -> Place | None:
    """The one community (or finer node) the key's account belongs to, if there is exactly one."""
    places = {m.place.path: m.place for m in actor.active_memberships() if len(m.place.path) >= COMMUNITY_PATH_LEN}
    return next(iter(places.values())) if len(places) == 1 else None


@csrf_exempt
@require_http_methods(["GET", "POST"])
@_handles_errors
def requests(request: HttpRequest, *, fmt: str) -> HttpResponse:
    if request.method == "POST":
        case = request_create(request)
        body = [{"service_request_id": case.number, "service_notice": _t("工单已受理登记，编号 %(number)s。")
                 % {"number": case.number}, "account_id": None}]
        return respond(fmt, body, root="service_requests", item="request", status=201)
    return _render_requests(fmt, request_search(request))


@require_GET
@_handles_errors
def request_detail(request: HttpRequest, request_id: str, *, fmt: str) -> HttpResponse:
    cases = list(_public_cases().filter(number=request_id))
    if not cases:
        raise Open311Error(404, _t("service_request_id “%(id)s” 不存在。") % {"id": request_id})
    return _render_requests(fmt, cases)


@require_GET
@_handles_errors
def token_detail(request: HttpRequest, token: str, *, fmt: str) -> HttpResponse:
    """Requests are created in real time, so the token of a request is its own id."""
    case = Case.objects.filter(number=token).only("number").first()
    if case is None:
        raise Open311Error(404, _t("token “%(token)s” 不存在。") % {"token": token})
    return respond(fmt, [{"service_request_id": case.number, "token": token}], root="service_requests",
                   item="request")

"""Ledger exports (台账导出): named ledger templates and filtered people lists as .xlsx.

A ledger is a selection of people (built on ``registry.selectors.person_list``, always scoped to the
actor and to one chosen place) and a set of columns. Exports are masked by default (QUALITY §5):
name 张*, ID number with at most 4 digits and never the birth date, phone masked, no birth-date
column and the address down to the building. An unmasked export needs a second person's approval
(QUALITY §6): ``export_request`` → ``export_decide`` by another holder of ``PII_EXPORT`` → one
``export_download`` within 24 hours. Every export writes one audit row.

Workbooks are written by openpyxl in write-only mode into a temporary file while the people are
read in chunks: memory does not grow with the ledger, and each chunk costs two more queries
(addresses and care tags), never one per row.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from shequ.accounts.models import Membership
from shequ.accounts.roles import ROLE_CAPABILITIES, Capability
from shequ.core import pii
from shequ.core.audit import audit_record
from shequ.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from shequ.core.models import AuditAction
from shequ.core.notifications import notify
from shequ.core.scope import actor_can_at, get_in_scope, restrict
from shequ.core.services import check_version
from shequ.ledgers.choices import ExportStatus
from shequ.ledgers.models import ExportRequest
from shequ.registry import selectors
from shequ.registry.choices import PLACE_PATH_LENGTHS, AgeBand, PersonStatus, PlaceKind, Relation, ResidenceType, Sex
from shequ.registry.models import CareTag, Person, PersonTag, Place
from shequ.registry.services import MIN_REASON_LENGTH

CHUNK_SIZE = 2000
APPROVAL_VALID_FOR = dt.timedelta(hours=24)
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

LEDGER_UNKNOWN = _("没有这个名册。")
EXPORT_REASON_REQUIRED = _("请填写导出用途（至少4个字）。")
EXPORT_SELF_APPROVAL = _("不能审批自己的导出申请")
EXPORT_APPROVER_NOT_ALLOWED = _("只有具备明文导出权限的人员才能审批导出申请。")
EXPORT_NOT_PENDING = _("该申请已处理，不能再次审批。")
EXPORT_NOT_REQUESTER = _("只有申请人本人可以下载明文导出文件。")
EXPORT_NOT_APPROVED = _("该申请尚未获批准，不能下载。")
EXPORT_EXPIRED = _("审批已超过24小时有效期，请重新申请。")
EXPORT_ALREADY_USED = _("该文件已下载过，每次审批只能下载一次。")
EXPORT_PLACE_REQUIRED = _("请选择要导出的社区。")


# --- Ledger templates -------------------------------------------------------------------------------


def _aged_at_least(years: int) -> Callable[[QuerySet[Person], dt.date], QuerySet[Person]]:
    def refine(qs: QuerySet[Person], today: dt.date) -> QuerySet[Person]:
        return qs.filter(birth_date__lte=selectors.years_ago(years, today))

    return refine


def _households_of_tag(slug: str) -> Callable[[QuerySet[Person], dt.date], QuerySet[Person]]:
    """People carrying the tag, and the other members of their households (a 低保户 is a household)."""

    def refine(qs: QuerySet[Person], today: dt.date) -> QuerySet[Person]:
        tagged = PersonTag.objects.filter(tag_digest=pii.blind_index(slug, purpose="tag"))
        in_households = tagged.filter(person__household__isnull=False).values("person__household_id")
        head_first = Case(When(relation=Relation.HEAD, then=Value(0)), default=Value(1), output_field=IntegerField())
        return (
            qs.filter(Q(pk__in=tagged.values("person_id")) | Q(household_id__in=in_households))
            .annotate(head_first=head_first)
            .order_by(F("household_id").asc(nulls_last=True), "head_first", "birth_date", "id")
        )

    return refine


@dataclass(frozen=True)
class Ledger:
    """A named ledger template (台账模板): whom it lists and how."""

    key: str
    title: Any
    description: Any
    tag: str = ""
    age_band: str = ""
    refine: Callable[[QuerySet[Person], dt.date], QuerySet[Person]] | None = None
    # Sensitive care tags this ledger is about: only these are named in its 标签 column.
    sensitive_tags: frozenset[str] = frozenset()
    by_household: bool = False
    # The people list takes the people page's filters; the named ledgers take none.
    takes_filters: bool = False


LEDGERS: dict[str, Ledger] = {
    ledger.key: ledger
    for ledger in (
        Ledger(
            key="elderly_80",
            title=_("高龄老人名册"),
            description=_("在册的80周岁以上老人，用于高龄津贴发放和高龄老人关爱走访。"),
            age_band=AgeBand.OLDEST_OLD,
        ),
        Ledger(
            key="disabled",
            title=_("残疾人名册"),
            description=_("带有“残疾”标签的在册人员，报残联核对。"),
            tag="disabled",
            sensitive_tags=frozenset({"disabled"}),
        ),
        Ledger(
            key="subsistence",
            title=_("低保户名册"),
            description=_("享受最低生活保障的住户，按户排列，户主在前，报民政核对。"),
            refine=_households_of_tag("subsistence"),
            sensitive_tags=frozenset({"subsistence"}),
            by_household=True,
        ),
        Ledger(
            key="living_alone",
            title=_("独居老人关爱名册"),
            description=_("带有“独居老人”标签的60周岁以上老人，用于定期探访。"),
            tag="living_alone",
            refine=_aged_at_least(60),
        ),
        Ledger(
            key="people",
            title=_("人员名单"),
            description=_("按人员页面的筛选条件（姓名、标签、年龄段、人口类型、性别等）导出。"),
            takes_filters=True,
        ),
    )
}

FILTER_KEYS = ("q", "tag", "age_band", "residence_type", "sex", "status", "within", "compound")


def ledger_get(key: str) -> Ledger:
    try:
        return LEDGERS[key]
    except KeyError as exc:
        raise ValidationFailed({"ledger": str(LEDGER_UNKNOWN)}) from exc


def clean_filters(params: Mapping[str, Any]) -> dict[str, str]:
    """The people-list filters of a query string, normalised; unknown or invalid values are dropped."""
    tags = {t.slug for t in selectors.caretag_list()}
    allowed: dict[str, Callable[[str], bool]] = {
        "q": lambda v: len(v) <= 50,
        "tag": lambda v: v in tags,
        "age_band": lambda v: v in AgeBand.values,
        "residence_type": lambda v: v in ResidenceType.values,
        "sex": lambda v: v in Sex.values,
        "status": lambda v: v in PersonStatus.values,
        "within": str.isdigit,
        "compound": str.isdigit,
    }
    cleaned: dict[str, str] = {}
    for key in FILTER_KEYS:
        value = str(params.get(key) or "").strip()
        if value and allowed[key](value):
            cleaned[key] = value
    return cleaned


def _within(*, actor: Any, place: Place, filters: Mapping[str, str]) -> Place:
    """The narrowest place of the selection: a ``within``/``compound`` filter must lie inside ``place``."""
    pk = filters.get("compound") or filters.get("within")
    if not pk or str(pk) == str(place.pk):
        return place
    inner = selectors.place_get(actor=actor, place_id=pk)
    if not inner.path.startswith(place.path):
        raise NotFound()
    return inner


def ledger_people(
    *, actor: Any, place: Place, ledger: Ledger, filters: Mapping[str, str] | None = None,
    today: dt.date | None = None,
) -> QuerySet[Person]:
    """The people a ledger lists at ``place``, scoped to the actor (one queryset, not evaluated)."""
    today = today or timezone.localdate()
    if ledger.takes_filters:
        f = dict(filters or {})
        person_filter = selectors.PersonFilter(
            q=f.get("q", ""),
            tag=f.get("tag", ""),
            age_band=f.get("age_band", ""),
            residence_type=f.get("residence_type", ""),
            sex=f.get("sex", ""),
            status=f.get("status", PersonStatus.ACTIVE),
            within=_within(actor=actor, place=place, filters=f),
        )
    else:
        person_filter = selectors.PersonFilter(tag=ledger.tag, age_band=ledger.age_band, within=place)
    qs = selectors.person_list(actor=actor, filters=person_filter)
    if ledger.refine is not None:
        qs = ledger.refine(qs, today)
    return qs


def ledger_counts(*, actor: Any, place: Place) -> dict[str, int]:
    return {key: ledger_people(actor=actor, place=place, ledger=ledger).count() for key, ledger in LEDGERS.items()}


def export_places(*, actor: Any) -> list[Place]:
    """The places an actor may export from: where their memberships are, and the communities below."""
    roots = selectors.place_roots(actor=actor)
    communities = list(selectors.place_list(actor=actor, kind=PlaceKind.COMMUNITY).only("id", "name", "path", "kind"))
    seen = {p.pk for p in communities}
    return [p for p in roots if p.pk not in seen] + communities


# --- Writing a workbook -----------------------------------------------------------------------------


@dataclass
class ExportFile:
    """A written workbook in a temporary file; the view streams it and removes it."""

    path: str
    filename: str
    row_count: int
    masked: bool
    content_type: str = XLSX_CONTENT_TYPE


@dataclass
class _Columns:
    headers: list[str] = field(default_factory=list)
    cells: list[Callable[[Person, dict[str, Any]], Any]] = field(default_factory=list)

    def add(self, header: Any, cell: Callable[[Person, dict[str, Any]], Any]) -> None:
        self.headers.append(str(header))
        self.cells.append(cell)


def _columns(ledger: Ledger, *, masked: bool) -> _Columns:
    cols = _Columns()
    cols.add(_("序号"), lambda p, row: row["n"])
    if ledger.by_household:
        cols.add(_("户号"), lambda p, row: (p.household.number or str(p.household.pk)) if p.household else "")
        cols.add(_("与户主关系"), lambda p, row: p.get_relation_display())
    if masked:
        cols.add(_("姓名"), lambda p, row: p.masked_name)
    else:
        cols.add(_("姓名"), lambda p, row: p.name)
    cols.add(_("性别"), lambda p, row: p.get_sex_display())
    cols.add(_("年龄"), lambda p, row: p.age(row["today"]))
    if not masked:
        cols.add(_("出生日期"), lambda p, row: p.birth_date.isoformat() if p.birth_date else "")
        cols.add(_("身份证号"), lambda p, row: p.id_number)
        cols.add(_("联系电话"), lambda p, row: p.phone)
    else:
        cols.add(_("身份证号"), lambda p, row: p.masked_id_number)
        cols.add(_("联系电话"), lambda p, row: p.masked_phone)
    cols.add(_("住址"), lambda p, row: row["address"])
    cols.add(_("人口类型"), lambda p, row: p.get_residence_type_display())
    cols.add(_("标签"), lambda p, row: row["tags"])
    return cols


def _chunks(qs: QuerySet[Person]) -> Iterator[list[Person]]:
    chunk: list[Person] = []
    for person in qs.iterator(chunk_size=CHUNK_SIZE):
        chunk.append(person)
        if len(chunk) >= CHUNK_SIZE:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _tag_names(chunk: list[Person], *, shown: dict[str, CareTag]) -> dict[int, str]:
    """Names of the shown care tags of a chunk of people, in one query."""
    names: dict[int, list[CareTag]] = {}
    rows = PersonTag.objects.filter(person_id__in=[p.pk for p in chunk], tag_digest__in=list(shown))
    for person_id, digest in rows.values_list("person_id", "tag_digest"):
        names.setdefault(person_id, []).append(shown[digest])
    return {pk: "、".join(t.name for t in sorted(tags, key=lambda t: (t.sort, t.slug))) for pk, tags in names.items()}


def _addresses(chunk: list[Person], *, masked: bool) -> dict[int, str]:
    """Addresses to the building (masked) or to the room (unmasked), in one query per chunk."""
    by_place = selectors.place_addresses(p.place for p in chunk)
    if masked:
        return {p.pk: by_place[p.place.pk] for p in chunk}
    return {
        p.pk: by_place[p.place.pk] + (p.place.name if p.place.kind == PlaceKind.UNIT else "") for p in chunk
    }


def _shown_tags(ledger: Ledger, filters: Mapping[str, str]) -> dict[str, CareTag]:
    about = set(ledger.sensitive_tags)
    if ledger.takes_filters and filters.get("tag"):
        about.add(filters["tag"])  # a list filtered by a tag is about that tag
    return {t.digest: t for t in selectors.caretag_list() if not t.sensitive or t.slug in about}


def _place_title(place: Place, ledger: Ledger) -> str:
    return f"{place.name}{ledger.title}"


def ledger_filename(*, place: Place, ledger: Ledger, masked: bool, at: dt.datetime) -> str:
    suffix = _t("脱敏") if masked else _t("明文")
    return f"{place.name}{ledger.title}_{timezone.localtime(at):%Y%m%d%H%M}_{suffix}.xlsx"


def ledger_write(
    *,
    actor: Any,
    place: Place,
    ledger: Ledger,
    filters: Mapping[str, str],
    masked: bool,
    at: dt.datetime | None = None,
) -> ExportFile:
    """Write the ledger into a temporary .xlsx; returns its path and the number of people in it."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    at = at or timezone.now()
    today = timezone.localtime(at).date()
    columns = _columns(ledger, masked=masked)
    shown = _shown_tags(ledger, filters)
    qs = ledger_people(actor=actor, place=place, ledger=ledger, filters=filters, today=today)

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(str(ledger.title)[:31])
    title = WriteOnlyCell(sheet, value=_place_title(place, ledger))
    title.font = Font(bold=True, size=14)
    sheet.append([title])
    header_cells = []
    for header in columns.headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = Font(bold=True)
        header_cells.append(cell)
    sheet.append(header_cells)

    count = 0
    for chunk in _chunks(qs):
        addresses = _addresses(chunk, masked=masked)
        tag_names = _tag_names(chunk, shown=shown)
        for person in chunk:
            count += 1
            row = {"n": count, "today": today, "address": addresses[person.pk], "tags": tag_names.get(person.pk, "")}
            sheet.append([cell(person, row) for cell in columns.cells])

    actor_name = getattr(actor, "display_name", "") or actor.get_username()
    footer = _t("导出时间：%(at)s  导出人：%(who)s  共 %(n)s 人") % {
        "at": f"{timezone.localtime(at):%Y-%m-%d %H:%M}", "who": actor_name, "n": count,
    }
    footer += _t("  （已脱敏）") if masked else _t("  （明文，经审批导出，请妥善保管）")
    sheet.append([])
    sheet.append([footer])

    handle, path = tempfile.mkstemp(prefix="shequ-export-", suffix=".xlsx")
    os.close(handle)
    try:
        workbook.save(path)
    except BaseException:
        os.unlink(path)
        raise
    return ExportFile(
        path=path, filename=ledger_filename(place=place, ledger=ledger, masked=masked, at=at), row_count=count,
        masked=masked,
    )


def _audit_filters(filters: Mapping[str, str]) -> dict[str, str]:
    """Filters as the audit trail keeps them: a name fragment is personal data, so it is masked."""
    return {k: pii.mask_name(v) if k == "q" else v for k, v in filters.items()}


def _audit_export(
    *, actor: Any, place: Place, ledger: Ledger, filters: Mapping[str, str], file: ExportFile, reason: str = "",
    request: ExportRequest | None = None,
) -> None:
    changes: dict[str, Any] = {
        "ledger": ledger.key, "place": place.path, "rows": file.row_count, "masked": file.masked,
    }
    if filters:
        changes["filters"] = _audit_filters(filters)
    if request is not None:
        changes["request"] = request.pk
    audit_record(
        actor=actor, action=AuditAction.EXPORT, obj=request, object_type="" if request else "registry.place",
        object_id="" if request else place.pk, object_repr="" if request else _place_title(place, ledger),
        scope_path=place.path, reason=reason, changes=changes,
    )


def export_masked(*, actor: Any, place: Place, ledger: Ledger, filters: Mapping[str, str] | None = None) -> ExportFile:
    """A masked export (脱敏导出): anyone who sees the registry at ``place``; audited."""
    if not actor_can_at(actor, place.path, Capability.REGISTRY_VIEW):
        raise NotFound()
    filters = clean_filters(filters or {}) if ledger.takes_filters else {}
    with transaction.atomic():
        file = ledger_write(actor=actor, place=place, ledger=ledger, filters=filters, masked=True)
        try:
            _audit_export(actor=actor, place=place, ledger=ledger, filters=filters, file=file)
        except BaseException:
            os.unlink(file.path)
            raise
    return file


# --- Unmasked exports with a second person's approval (QUALITY §6) ---------------------------------


def _clean_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if len(reason) < MIN_REASON_LENGTH:
        raise ValidationFailed({"reason": str(EXPORT_REASON_REQUIRED)})
    return reason


def _require_export(actor: Any, path: str, message: Any = None) -> None:
    """``PII_EXPORT`` over ``path``; a place the actor cannot see at all is ``NotFound``."""
    if actor_can_at(actor, path, Capability.PII_EXPORT):
        return
    if actor is not None and getattr(actor, "is_authenticated", False) and any(
        path.startswith(p) for p in actor.scope_paths()
    ):
        raise PermissionDenied(message)
    raise NotFound()


def export_approvers(*, place: Place, exclude: Any = None) -> list[Any]:
    """Users holding ``PII_EXPORT`` at a node whose subtree contains ``place`` (one query)."""
    roles = [role for role, caps in ROLE_CAPABILITIES.items() if Capability.PII_EXPORT in caps]
    prefixes = [place.path[:n] for n in PLACE_PATH_LENGTHS.values() if n <= len(place.path)]
    memberships = Membership.objects.filter(
        active=True, role__in=roles, place__path__in=prefixes, user__is_active=True
    ).select_related("user")
    users = {m.user_id: m.user for m in memberships}
    if exclude is not None:
        users.pop(exclude.pk, None)
    return list(users.values())


def _request_link() -> str:
    return reverse("ledgers:export_request_list")


@transaction.atomic
def export_request(
    *, actor: Any, place: Place, ledger: str, filters: Mapping[str, Any] | None = None, reason: str
) -> ExportRequest:
    """Ask for an unmasked export; a second holder of ``PII_EXPORT`` must approve it."""
    _require_export(actor, place.path)
    chosen = ledger_get(ledger)
    reason = _clean_reason(reason)
    cleaned = clean_filters(filters or {}) if chosen.takes_filters else {}
    if cleaned:
        _within(actor=actor, place=place, filters=cleaned)  # a filter outside the place is refused now
    request = ExportRequest(place=place, ledger=chosen.key, filters=cleaned, reason=reason, requested_by=actor)
    request.set_scope(place.path)
    request.save()
    audit_record(
        actor=actor, action=AuditAction.CREATE, obj=request, object_repr=_place_title(place, chosen), reason=reason,
        changes={"ledger": chosen.key, "place": place.path, "filters": _audit_filters(cleaned)},
    )
    who = getattr(actor, "display_name", "") or actor.get_username()
    notify(
        users=export_approvers(place=place, exclude=actor),
        title=_t("明文导出待审批：%(title)s") % {"title": _place_title(place, chosen)},
        body=_t("%(who)s 申请导出明文，用途：%(reason)s") % {"who": who, "reason": reason},
        link=_request_link(),
    )
    return request


@transaction.atomic
def export_decide(
    *, actor: Any, request: ExportRequest, approve: bool, note: str = "", version: int | None = None
) -> ExportRequest:
    """Approve or reject a request: by another holder of ``PII_EXPORT`` over its place, never the requester."""
    request = ExportRequest.objects.select_for_update().select_related("place", "requested_by").get(pk=request.pk)
    _require_export(actor, request.scope_path, EXPORT_APPROVER_NOT_ALLOWED)
    if request.requested_by_id == actor.pk:
        raise PermissionDenied(EXPORT_SELF_APPROVAL)
    check_version(request, version)
    if request.status != ExportStatus.PENDING:
        raise Conflict(EXPORT_NOT_PENDING)
    now = timezone.now()
    request.status = ExportStatus.APPROVED if approve else ExportStatus.REJECTED
    request.decided_by = actor
    request.decided_at = now
    request.decision_note = " ".join((note or "").split())[:200]
    request.expires_at = now + APPROVAL_VALID_FOR if approve else None
    request.version += 1
    request.save()
    ledger = LEDGERS.get(request.ledger)
    title = _place_title(request.place, ledger) if ledger else request.ledger
    audit_record(
        actor=actor, action=AuditAction.APPROVE, obj=request, object_repr=title, reason=request.decision_note,
        outcome="approved" if approve else "rejected",
        changes={"ledger": request.ledger, "requested_by": request.requested_by_id, "approved": approve},
    )
    notify(
        users=[request.requested_by],
        title=(_t("明文导出已批准：%(title)s") if approve else _t("明文导出被驳回：%(title)s")) % {"title": title},
        body=request.decision_note,
        link=_request_link(),
    )
    return request


def export_download(*, actor: Any, request: ExportRequest) -> ExportFile:
    """The approved unmasked file: by the requester only, once, within 24 hours of the approval."""
    expired = False
    with transaction.atomic():
        request = ExportRequest.objects.select_for_update().select_related("place").get(pk=request.pk)
        if request.requested_by_id != getattr(actor, "pk", None):
            raise PermissionDenied(EXPORT_NOT_REQUESTER)
        _require_export(actor, request.scope_path)
        if request.status == ExportStatus.USED:
            raise Conflict(EXPORT_ALREADY_USED)
        if request.status == ExportStatus.EXPIRED:
            raise Conflict(EXPORT_EXPIRED)
        if request.status != ExportStatus.APPROVED:
            raise Conflict(EXPORT_NOT_APPROVED)
        now = timezone.now()
        if request.expires_at is None or request.expires_at <= now:
            request.status = ExportStatus.EXPIRED
            request.version += 1
            request.save(update_fields=["status", "version", "updated_at"])
            expired = True
        else:
            ledger = ledger_get(request.ledger)
            file = ledger_write(
                actor=actor, place=request.place, ledger=ledger, filters=request.filters, masked=False, at=now
            )
            try:
                request.status = ExportStatus.USED
                request.used_at = now
                request.row_count = file.row_count
                request.version += 1
                request.save(update_fields=["status", "used_at", "row_count", "version", "updated_at"])
                _audit_export(
                    actor=actor, place=request.place, ledger=ledger, filters=request.filters, file=file,
                    reason=request.reason, request=request,
                )
            except BaseException:
                os.unlink(file.path)
                raise
    if expired:  # the state change above is kept; the download is refused
        raise Conflict(EXPORT_EXPIRED)
    return file


# --- Reading requests ---------------------------------------------------------------------------------


def export_request_get(*, actor: Any, request_id: Any) -> ExportRequest:
    """A request the actor may act on: within their ``PII_EXPORT`` scope (requesters hold it too)."""
    return get_in_scope(
        ExportRequest.objects.select_related("place", "requested_by", "decided_by"),
        actor, capability=Capability.PII_EXPORT, pk=request_id,
    )


def export_requests_mine(*, actor: Any) -> QuerySet[ExportRequest]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return ExportRequest.objects.none()
    return ExportRequest.objects.filter(requested_by=actor).select_related("place", "decided_by")


def export_requests_to_decide(*, actor: Any) -> QuerySet[ExportRequest]:
    qs = restrict(
        ExportRequest.objects.select_related("place", "requested_by"), actor, capability=Capability.PII_EXPORT
    )
    return qs.filter(status=ExportStatus.PENDING).exclude(requested_by=actor)


def export_request_state(request: ExportRequest, *, now: dt.datetime | None = None) -> str:
    """The status as the user should see it: an approval past its 24 hours shows as expired."""
    now = now or timezone.now()
    if request.status == ExportStatus.APPROVED and request.expires_at is not None and request.expires_at <= now:
        return ExportStatus.EXPIRED
    return request.status


def ledger_choices() -> Iterable[tuple[str, str]]:
    return [(key, str(ledger.title)) for key, ledger in LEDGERS.items()]

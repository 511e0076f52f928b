"""Disclosure (居务公开): notices published on a community's public board, corrected only by new versions.

Services: ``notice_publish`` and ``notice_correct``. Selectors: ``notice_list`` / ``notice_get`` for staff
(scoped by ``DELIBERATION_MANAGE``), ``public_notices`` / ``notice_history`` / ``public_community_get``
for the public board (no login: only what the board shows anyway).

A published version is never edited: a correction is a new revision of the same ``series`` with a
correction note, and the corrected version only gets ``superseded_at``. Each category has a minimum
display period (``MIN_DISPLAY_DAYS``); a notice may be displayed longer, never shorter.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shequ.accounts.roles import Capability
from shequ.core.attachments import Attachment, attachment_add
from shequ.core.audit import audit_record
from shequ.core.errors import Conflict, NotFound, ValidationFailed
from shequ.core.models import AuditAction
from shequ.core.scope import get_in_scope, restrict, subtree_q
from shequ.core.services import full_clean, require_capability
from shequ.deliberation.choices import NoticeCategory, VoteStatus
from shequ.deliberation.models import Notice, Vote
from shequ.registry.choices import PlaceKind
from shequ.registry.models import Place

MANAGE = Capability.DELIBERATION_MANAGE

# Minimum display period (最短公示期) per category, in days from the publication date.
# 财务: income and spending of the committee are shown for at least a month, so the monthly or quarterly
# statement is on the board until the next one is due; 党务 and 居务 (decisions, meeting results, lists
# of beneficiaries) for at least 7 days, the usual 公示期 for objections; 服务 (opening hours, how to
# apply for a service) are standing information and may be as short as one day.
MIN_DISPLAY_DAYS: dict[str, int] = {
    NoticeCategory.PARTY: 7,
    NoticeCategory.AFFAIRS: 7,
    NoticeCategory.FINANCE: 30,
    NoticeCategory.SERVICE: 1,
}
MAX_DISPLAY_DAYS = 3660

DISPLAY_TOO_SHORT = _("“%(category)s”的公示期不少于%(days)d天。")
DISPLAY_TOO_LONG = _("公示期最长10年。")
NOT_A_COMMUNITY = _("只能在居村（社区）公开事项。")
PUBLISH_IN_PAST = _("公开时间不能早于现在。")
ALREADY_SUPERSEDED = _("这一版已被更正，只能更正最新版本。")
CORRECTION_NOTE_REQUIRED = _("请说明更正的原因。")
CORRECTION_UNCHANGED = _("更正后的标题和内容与原文相同。")


@dataclass
class NoticeBoard:
    """What a community's public board shows: current notices and, on request, the archive."""

    current: list[Notice] = field(default_factory=list)
    archive: list[Notice] = field(default_factory=list)

    def current_by_category(self) -> list[tuple[str, str, list[Notice]]]:
        """``(category, label, notices)`` in the order of the categories, empty ones left out."""
        groups = []
        for value, label in NoticeCategory.choices:
            notices = [n for n in self.current if n.category == value]
            if notices:
                groups.append((value, str(label), notices))
        return groups


def min_display_days(category: str) -> int:
    return MIN_DISPLAY_DAYS.get(category, 1)


def _check_display(category: str, display_days: int) -> None:
    minimum = min_display_days(category)
    if display_days < minimum:
        label = NoticeCategory(category).label if category in NoticeCategory.values else category
        raise ValidationFailed({"display_days": DISPLAY_TOO_SHORT % {"category": label, "days": minimum}})
    if display_days > MAX_DISPLAY_DAYS:
        raise ValidationFailed({"display_days": DISPLAY_TOO_LONG})


def _local_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def _attach(*, actor: Any, notice: Notice, attachments: Iterable[UploadedFile]) -> None:
    for upload in attachments:
        try:
            attachment_add(actor=actor, obj=notice, upload=upload)
        except ValidationFailed as exc:
            raise ValidationFailed({"attachments": [m for msgs in exc.errors.values() for m in msgs]}) from exc


@transaction.atomic
def notice_publish(
    *,
    actor: Any,
    community: Place,
    category: str,
    title: str,
    body: str,
    display_days: int,
    attachments: Iterable[UploadedFile] = (),
    published_at: dt.datetime | None = None,
) -> Notice:
    """Publish a notice on the community's board, now or at ``published_at`` (scheduled)."""
    require_capability(actor, community.path, MANAGE)
    if community.kind != PlaceKind.COMMUNITY:
        raise ValidationFailed({"community": NOT_A_COMMUNITY})
    now = timezone.now()
    if published_at is None:
        published_at = now
    elif published_at < now - dt.timedelta(minutes=5):
        raise ValidationFailed({"published_at": PUBLISH_IN_PAST})
    if category not in NoticeCategory.values:
        raise ValidationFailed({"category": _("请选择公开类别。")})
    _check_display(category, int(display_days))
    notice = Notice(
        community=community,
        category=category,
        title=(title or "").strip(),
        body=(body or "").strip(),
        series=uuid.uuid4(),
        revision=1,
        published_at=published_at,
        display_until=_local_date(published_at) + dt.timedelta(days=int(display_days)),
        published_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    notice.set_scope(community.path)
    full_clean(notice)
    notice.save()
    _attach(actor=actor, notice=notice, attachments=attachments)
    audit_record(actor=actor, action=AuditAction.CREATE, obj=notice,
                 changes={"category": category, "revision": 1, "display_until": notice.display_until.isoformat(),
                          "published_at": published_at.isoformat()})
    return notice


@transaction.atomic
def notice_correct(
    *,
    actor: Any,
    notice: Notice,
    title: str,
    body: str,
    note: str,
    attachments: Iterable[UploadedFile] = (),
) -> Notice:
    """Correct a notice: a new revision in the same series; the old one only gets ``superseded_at``.

    The correction stays on the board at least as long as the corrected version would have, and at
    least the category's minimum from the day of the correction.
    """
    require_capability(actor, notice.scope_path, MANAGE)
    old = Notice.objects.select_for_update().get(pk=notice.pk)
    if old.superseded_at is not None:
        raise Conflict(ALREADY_SUPERSEDED, code="notice_superseded")
    note = (note or "").strip()
    if not note:
        raise ValidationFailed({"note": CORRECTION_NOTE_REQUIRED})
    title, body = (title or "").strip(), (body or "").strip()
    attachments = list(attachments)
    if title == old.title and body == old.body and not attachments:
        raise ValidationFailed({"__all__": CORRECTION_UNCHANGED})
    now = timezone.now()
    published_at = max(now, old.published_at)
    display_until = max(old.display_until,
                        _local_date(published_at) + dt.timedelta(days=min_display_days(old.category)))
    revision = Notice(
        community_id=old.community_id,
        category=old.category,
        title=title,
        body=body,
        series=old.series,
        revision=old.revision + 1,
        supersedes=old,
        correction_note=note,
        published_at=published_at,
        display_until=display_until,
        published_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    revision.set_scope(old.scope_path)
    full_clean(revision, exclude=["supersedes"])
    try:
        with transaction.atomic():
            revision.save()
    except IntegrityError as exc:  # a concurrent correction of the same version won
        raise Conflict(ALREADY_SUPERSEDED, code="notice_superseded") from exc
    Notice.objects.filter(pk=old.pk).update(superseded_at=now)
    notice.superseded_at = now
    _attach(actor=actor, notice=revision, attachments=attachments)
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=revision, reason=note,
                 changes={"series": str(old.series), "supersedes": old.pk, "revision": revision.revision,
                          "fields": [f for f in ("title", "body") if getattr(old, f) != getattr(revision, f)]})
    return revision


# --- Selectors ------------------------------------------------------------------------------------------


def notice_list(*, actor: Any, community: Place | None = None, latest_only: bool = True) -> QuerySet[Notice]:
    """Notices the actor manages (newest first); by default one row per series, its latest revision."""
    qs = restrict(Notice.objects.select_related("community"), actor, capability=MANAGE)
    if community is not None:
        qs = qs.filter(community=community)
    if latest_only:
        qs = qs.filter(superseded_at__isnull=True)
    return qs.order_by("-published_at", "-id")


def notice_get(*, actor: Any, notice_id: Any) -> Notice:
    return get_in_scope(Notice.objects.select_related("community"), actor, capability=MANAGE, pk=notice_id)


def notice_history(*, series: Any, published_only: bool = True) -> list[Notice]:
    """Every revision of a series, oldest first (the public detail page shows them all)."""
    qs = Notice.objects.filter(series=series)
    if published_only:
        qs = qs.filter(published_at__lte=timezone.now())
    return list(qs.order_by("revision"))


def public_community_get(*, path: str) -> Place:
    """The community whose board is at ``/c/<path>/``; anything else is not found."""
    try:
        return Place.objects.select_related("parent").get(path=path, kind=PlaceKind.COMMUNITY)
    except Place.DoesNotExist as exc:
        raise NotFound() from exc


def public_notice_get(*, community: Place, notice_id: Any) -> Notice:
    """A published notice of the community's board (any revision; the page shows the whole series)."""
    try:
        return Notice.objects.get(community=community, pk=int(notice_id), published_at__lte=timezone.now())
    except (Notice.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound() from exc


def public_notices(*, community: Place, include_archive: bool = False, today: dt.date | None = None) -> NoticeBoard:
    """The community's board: current = the latest revision of each series whose display period includes
    today; archive = the latest revision of the other published series (their display period is over).
    Scheduled notices (published in the future) are not shown.
    """
    now = timezone.now()
    today = today or timezone.localdate()
    latest = (Notice.objects.filter(community=community, published_at__lte=now, superseded_at__isnull=True)
              .order_by("-published_at", "-id"))
    board = NoticeBoard()
    for notice in latest:
        if _local_date(notice.published_at) <= today <= notice.display_until:
            board.current.append(notice)
        elif include_archive:
            board.archive.append(notice)
    return board


def notice_attachments(notice: Notice) -> QuerySet[Attachment]:
    return Attachment.objects.for_object(notice).order_by("id")


def series_revision_counts(notices: Iterable[Notice]) -> dict[Any, int]:
    series = {n.series for n in notices}
    rows = Notice.objects.filter(series__in=series).values("series").annotate(n=Max("revision"))
    return {row["series"]: row["n"] for row in rows}


def managed_communities(*, actor: Any) -> QuerySet[Place]:
    """Communities where the actor may publish notices (and organise votes and meetings)."""
    return restrict(Place.objects.filter(kind=PlaceKind.COMMUNITY), actor, capability=MANAGE,
                    field="path").order_by("path")


# --- The public board's other sections: closed votes ------------------------------------------------


def public_votes(*, community: Place, limit: int = 20) -> list[Vote]:
    """Closed votes of the community and its compounds, newest first: only their frozen results are public."""
    return list(Vote.objects.filter(subtree_q(community.path), status=VoteStatus.CLOSED, result__isnull=False)
                .select_related("place").order_by("-closed_at", "-id")[:limit])


def public_vote_get(*, community: Place, vote_id: Any) -> Vote:
    try:
        return (Vote.objects.filter(subtree_q(community.path), status=VoteStatus.CLOSED, result__isnull=False)
                .select_related("place", "topic").get(pk=int(vote_id)))
    except (Vote.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound() from exc


def public_attachment_get(*, community: Place, notice_id: Any, attachment_id: Any) -> Attachment:
    """An attachment of a published notice of the community's board (its files are public with it)."""
    notice = public_notice_get(community=community, notice_id=notice_id)
    try:
        return notice_attachments(notice).get(pk=int(attachment_id))
    except (Attachment.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound() from exc

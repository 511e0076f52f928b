"""Proposals (社区提案), supports (附议), comments, topics (议题) and each community's threshold rules.

A verified resident proposes something for their compound or community; other verified residents of
that place support it, one support per person (a database constraint). When the supports reach the
threshold frozen on the proposal at creation, the proposal becomes a topic on the community's agenda
in the same transaction and the proposer and supporters are notified.

Decision: the proposer cannot support their own proposal (``OWN_PROPOSAL``) — proposing already
states their support, and counting it again would let one person carry 1 of the threshold twice.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shequ.accounts.roles import Capability
from shequ.core.attachments import attachment_add, check_upload
from shequ.core.audit import audit_record
from shequ.core.errors import NotFound, PermissionDenied, ValidationFailed
from shequ.core.models import AuditAction
from shequ.core.notifications import notify
from shequ.core.scope import actor_can_at, subtree_q
from shequ.core.services import bump_version, check_version, full_clean
from shequ.deliberation.choices import ProposalStatus, ThresholdKind, TopicStatus
from shequ.deliberation.models import Comment, CommunityRules, Proposal, ProposalSupport, Topic
from shequ.registry.choices import PlaceKind
from shequ.registry.models import Household, Place

MANAGE = Capability.DELIBERATION_MANAGE
DEFAULT_THRESHOLD_COUNT = 20

NOT_A_RESIDENT = _("只有完成实名认证的本社区居民才能参与议事。")
PLACE_NOT_YOURS = _("只能为您所在的小区或社区提出提案。")
PLACE_KIND = _("提案范围只能是社区或小区。")
ALREADY_SUPPORTED = _("您已附议过这条提案。")
OWN_PROPOSAL = _("您是提议人，不能为自己的提案附议。")
NOT_OPEN = _("这条提案已不再征集附议。")
NOT_PROPOSER = _("只有提议人可以撤回提案。")
REASON_REQUIRED = _("请填写隐藏理由（至少2个字）。")
ALREADY_HIDDEN = _("该评论已被隐藏。")
BODY_REQUIRED = _("请填写内容。")
TITLE_REQUIRED = _("请填写标题。")
NOT_A_COMMUNITY = _("请选择一个社区。")
TOPIC_CREATED_TITLE = _("您参与的提案“{title}”已成为议题")
TOPIC_CREATED_BODY = _("附议人数达到{threshold}人，提案已列入{community}的议事议程。")


# --- Who takes part where -------------------------------------------------------------------------


def resident_node_prefixes(actor: Any) -> set[str]:
    """Every node a verified resident belongs to: their membership nodes, the nodes above them up to
    the community. A proposal or comment concerns them when its place is one of these."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_verified_resident():
        return set()
    prefixes: set[str] = set()
    for path in actor.resident_paths():
        prefixes.update(path[:n] for n in range(12, len(path) + 1))
    return prefixes


def takes_part_at(actor: Any, path: str) -> bool:
    return path in resident_node_prefixes(actor)


def can_manage(actor: Any, path: str) -> bool:
    return actor_can_at(actor, path, MANAGE)


def _require_manage(actor: Any, path: str) -> None:
    if can_manage(actor, path):
        return
    if actor is not None and (any(path.startswith(p) for p in actor.scope_paths()) or takes_part_at(actor, path)):
        raise PermissionDenied()  # they see the object (as staff or resident) but may not manage it
    raise NotFound()


def _community_of(place: Place) -> Place:
    if place.kind == PlaceKind.COMMUNITY:
        return place
    return Place.objects.get(path=place.path[:12], kind=PlaceKind.COMMUNITY)


def _link(name: str, pk: int) -> str:
    return reverse(f"deliberation:{name}", args=[pk])


# --- Rules ----------------------------------------------------------------------------------------


def rules_for(community: Place) -> CommunityRules:
    """The community's rules, or unsaved defaults (count 20) when none were set."""
    rules = CommunityRules.objects.filter(community=community).first()
    return rules or CommunityRules(community=community)


def household_count(community: Place) -> int:
    return Household.objects.filter(subtree_q(community.path)).count()


def threshold_for(community: Place) -> int:
    """Supports needed: the count, or ``ceil(share × households of the community)``, at least 1."""
    rules = rules_for(community)
    if rules.threshold_kind == ThresholdKind.HOUSEHOLD_SHARE:
        needed = Decimal(rules.threshold_share) * household_count(community)
        return max(1, math.ceil(needed))
    return max(1, int(rules.threshold_count or DEFAULT_THRESHOLD_COUNT))


@transaction.atomic
def rules_update(
    *,
    actor: Any,
    community: Place,
    threshold_kind: str,
    threshold_count: int | None = None,
    threshold_share: Decimal | None = None,
) -> CommunityRules:
    """Set when proposals of ``community`` become topics; proposals already open keep their threshold."""
    if community.kind != PlaceKind.COMMUNITY:
        raise ValidationFailed({"community": NOT_A_COMMUNITY})
    _require_manage(actor, community.path)
    rules, created = CommunityRules.objects.select_for_update().get_or_create(community=community)
    before = {"threshold_kind": rules.threshold_kind, "threshold_count": rules.threshold_count,
              "threshold_share": str(rules.threshold_share)}
    rules.threshold_kind = threshold_kind
    if threshold_count is not None:
        rules.threshold_count = threshold_count
    if threshold_share is not None:
        rules.threshold_share = threshold_share
    full_clean(rules)
    rules.save()
    after = {"threshold_kind": rules.threshold_kind, "threshold_count": rules.threshold_count,
             "threshold_share": str(rules.threshold_share)}
    audit_record(actor=actor, action=AuditAction.CREATE if created else AuditAction.UPDATE, obj=rules,
                 scope_path=community.path,
                 changes={k: {"old": before[k], "new": after[k]} for k in after if before[k] != after[k] or created})
    return rules


# --- Proposals ------------------------------------------------------------------------------------


@transaction.atomic
def proposal_create(
    *,
    actor: Any,
    place: Place,
    title: str,
    body: str,
    category: str = "",
    photos: Iterable[UploadedFile] = (),
) -> Proposal:
    """A verified resident (or a manager) proposes something for a compound or community."""
    if place.kind not in (PlaceKind.COMMUNITY, PlaceKind.COMPOUND):
        raise ValidationFailed({"place": PLACE_KIND})
    if not (takes_part_at(actor, place.path) or can_manage(actor, place.path)):
        if actor is not None and actor.is_verified_resident():
            raise ValidationFailed({"place": PLACE_NOT_YOURS})
        raise PermissionDenied(NOT_A_RESIDENT)
    photos = list(photos)
    errors: dict[str, list[str]] = {}
    for photo in photos:  # check every file first so nothing is written when one is bad
        try:
            check_upload(photo)
        except ValidationFailed as exc:
            errors.setdefault("photos", []).extend(m for msgs in exc.errors.values() for m in msgs)
    if not (title or "").strip():
        errors["title"] = [str(TITLE_REQUIRED)]
    if not (body or "").strip():
        errors["body"] = [str(BODY_REQUIRED)]
    if errors:
        raise ValidationFailed(errors)
    community = _community_of(place)
    proposal = Proposal(place=place, community=community, title=title.strip(), body=body.strip(),
                        category=(category or "").strip(), proposer=actor, threshold=threshold_for(community))
    proposal.set_scope(place.path)
    full_clean(proposal)
    proposal.save()
    for photo in photos:
        attachment_add(actor=actor, obj=proposal, upload=photo)
    audit_record(actor=actor, action=AuditAction.CREATE, obj=proposal,
                 changes={"threshold": proposal.threshold, "photos": len(photos)})
    return proposal


def _verified_participant(actor: Any, proposal: Proposal) -> None:
    """Residents of another compound or community do not see the proposal at all: 404."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise NotFound()
    if not actor.is_verified_resident():
        if can_manage(actor, proposal.scope_path) or any(proposal.scope_path.startswith(p)
                                                          for p in actor.scope_paths()):
            raise PermissionDenied(NOT_A_RESIDENT)
        raise NotFound()
    if not takes_part_at(actor, proposal.scope_path):
        raise NotFound()


@transaction.atomic
def proposal_support(*, actor: Any, proposal: Proposal) -> Proposal:
    """One support per verified resident; reaching the threshold turns the proposal into a topic."""
    _verified_participant(actor, proposal)
    # Lock the proposal: concurrent supports queue here, so the conversion happens exactly once.
    locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if locked.status != ProposalStatus.OPEN:
        raise ValidationFailed({"__all__": NOT_OPEN})
    if locked.proposer_id == actor.pk:
        raise ValidationFailed({"__all__": OWN_PROPOSAL})
    try:
        with transaction.atomic():
            ProposalSupport.objects.create(proposal=locked, person_id=actor.person_id, user=actor)
    except IntegrityError as exc:
        raise ValidationFailed({"__all__": ALREADY_SUPPORTED}, code="already_supported") from exc
    Proposal.objects.filter(pk=locked.pk).update(support_count=F("support_count") + 1)
    locked.refresh_from_db()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=locked, object_type="deliberation.proposalsupport",
                 changes={"support_count": locked.support_count})
    if locked.support_count >= locked.threshold:
        _become_topic(locked, actor=actor)
    return locked


def _become_topic(proposal: Proposal, *, actor: Any) -> Topic:
    now = timezone.now()
    topic = Topic(community=proposal.community, title=proposal.title, body=proposal.body, proposal=proposal,
                  created_by=None)
    topic.set_scope(proposal.community.path)
    topic.save()
    Proposal.objects.filter(pk=proposal.pk).update(status=ProposalStatus.TOPIC, became_topic_at=now,
                                                   version=F("version") + 1)
    proposal.refresh_from_db()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=topic, reason="threshold reached",
                 changes={"proposal": proposal.pk, "supports": proposal.support_count})
    supporters = [s.user for s in proposal.supports.select_related("user")]
    notify(users=[proposal.proposer, *supporters],
           title=str(TOPIC_CREATED_TITLE).format(title=proposal.title),
           body=str(TOPIC_CREATED_BODY).format(threshold=proposal.threshold, community=proposal.community.name),
           link=_link("proposal_detail", proposal.pk))
    return topic


@transaction.atomic
def proposal_withdraw(*, actor: Any, proposal: Proposal, version: int | None = None) -> Proposal:
    """The proposer withdraws an open proposal."""
    locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if locked.proposer_id != getattr(actor, "pk", None):
        raise PermissionDenied(NOT_PROPOSER)
    check_version(locked, version)
    if locked.status != ProposalStatus.OPEN:
        raise ValidationFailed({"__all__": NOT_OPEN})
    locked.status = ProposalStatus.WITHDRAWN
    bump_version(locked)
    locked.save(update_fields=["status", "version", "updated_at"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=locked,
                 changes={"status": {"old": ProposalStatus.OPEN, "new": ProposalStatus.WITHDRAWN}})
    return locked


# --- Comments -------------------------------------------------------------------------------------


@transaction.atomic
def comment_add(*, actor: Any, proposal: Proposal, body: str) -> Comment:
    """Verified residents of the proposal's place comment; managers of the community may answer."""
    if not can_manage(actor, proposal.scope_path):
        _verified_participant(actor, proposal)
    body = (body or "").strip()
    if not body:
        raise ValidationFailed({"body": BODY_REQUIRED})
    comment = Comment(proposal=proposal, author=actor, body=body, scope_path=proposal.scope_path)
    full_clean(comment)
    comment.save()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=comment)
    return comment


@transaction.atomic
def comment_hide(*, actor: Any, comment: Comment, reason: str) -> Comment:
    """Moderation: a manager hides a comment with a reason (audited); the text is kept, never deleted."""
    _require_manage(actor, comment.scope_path)
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationFailed({"reason": REASON_REQUIRED})
    locked = Comment.objects.select_for_update().get(pk=comment.pk)
    if locked.hidden:
        raise ValidationFailed({"__all__": ALREADY_HIDDEN})
    locked.hidden, locked.hidden_reason, locked.hidden_by = True, reason[:200], actor
    locked.save(update_fields=["hidden", "hidden_reason", "hidden_by", "updated_at"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=locked, field="hidden", reason=reason,
                 changes={"hidden": {"old": False, "new": True}})
    return locked


# --- Topics ---------------------------------------------------------------------------------------


@transaction.atomic
def topic_create(
    *, actor: Any, community: Place, title: str, body: str = "", proposal: Proposal | None = None
) -> Topic:
    """Workers put a topic on a community's agenda directly."""
    if community.kind != PlaceKind.COMMUNITY:
        raise ValidationFailed({"community": NOT_A_COMMUNITY})
    _require_manage(actor, community.path)
    if not (title or "").strip():
        raise ValidationFailed({"title": TITLE_REQUIRED})
    topic = Topic(community=community, title=title.strip(), body=(body or "").strip(), proposal=proposal,
                  created_by=actor, status=TopicStatus.OPEN)
    topic.set_scope(community.path)
    full_clean(topic)
    topic.save()
    if proposal is not None and proposal.status == ProposalStatus.OPEN:
        Proposal.objects.filter(pk=proposal.pk).update(status=ProposalStatus.TOPIC, became_topic_at=timezone.now(),
                                                       version=F("version") + 1)
    audit_record(actor=actor, action=AuditAction.CREATE, obj=topic)
    return topic

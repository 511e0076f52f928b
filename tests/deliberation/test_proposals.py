"""Proposals: creation, threshold by count and household share, one support per person, topics, comments."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from shequ.core.attachments import Attachment
from shequ.core.errors import NotFound, PermissionDenied, ValidationFailed
from shequ.core.models import AuditAction, AuditEntry, Notification
from shequ.deliberation import deliberation_selectors as sel
from shequ.deliberation import proposals
from shequ.deliberation.choices import ProposalStatus, ThresholdKind, TopicStatus
from shequ.deliberation.models import Proposal, ProposalSupport, Topic
from shequ.registry import services as registry
from tests.deliberation.fixtures_meetings import *  # noqa: F403  (fixtures: neighbour, proposal, _media)
from tests.deliberation.fixtures_meetings import exe_as_jpg, jpeg, set_count

pytestmark = pytest.mark.django_db


def _households(unit: Any, n: int) -> None:
    for i in range(n):
        registry.household_create(actor=None, unit=unit, number=f"H{i}")


# --- Creation -------------------------------------------------------------------------------------


def test_resident_proposes_for_their_compound_with_photos(estate: Any, actors: Any) -> None:
    # when 张 proposes with a photo
    p = proposals.proposal_create(actor=estate.users.zhang, place=estate.compound, title="修车棚", body="车棚漏雨",
                                  photos=[jpeg("shed.jpg")])
    # then it is open, scoped to the compound, the default threshold (20) is frozen and the photo attached
    assert (p.status, p.scope_path, p.community, p.threshold) == (
        ProposalStatus.OPEN, estate.compound.path, estate.community, proposals.DEFAULT_THRESHOLD_COUNT)
    assert [a.name for a in Attachment.objects.for_object(p)] == ["shed.jpg"]
    assert AuditEntry.objects.filter(action=AuditAction.CREATE, object_type="deliberation.proposal",
                                     object_id=str(p.pk)).exists()


def test_photo_that_is_an_exe_renamed_jpg_is_refused_naming_the_file(estate: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        proposals.proposal_create(actor=estate.users.zhang, place=estate.compound, title="修车棚", body="车棚漏雨",
                                  photos=[jpeg("ok.jpg"), exe_as_jpg("virus.jpg")])
    assert "virus.jpg" in exc.value.errors["photos"][0]
    # nothing half-written
    assert not Proposal.objects.exists()
    assert not Attachment.objects.exists()


def test_resident_cannot_propose_for_another_compound(estate: Any, neighbour: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        proposals.proposal_create(actor=neighbour.user, place=estate.compound, title="x", body="y")
    assert exc.value.errors == {"place": [str(proposals.PLACE_NOT_YOURS)]}


def test_unverified_resident_cannot_propose(estate: Any, actors: Any) -> None:
    with pytest.raises(PermissionDenied) as exc:
        proposals.proposal_create(actor=actors.resident_a1, place=estate.compound, title="x", body="y")
    assert exc.value.message == proposals.NOT_A_RESIDENT


def test_worker_may_create_for_their_community(estate: Any, actors: Any) -> None:
    p = proposals.proposal_create(actor=actors.worker_a1, place=estate.community, title="社区议事", body="内容")
    assert p.scope_path == estate.community.path


# --- Threshold ------------------------------------------------------------------------------------


def test_threshold_by_count_converts_exactly_when_reached(estate: Any, proposal: Any) -> None:
    # given a threshold of 3 supports
    assert proposal.threshold == 3
    # when two residents support, the proposal is still open
    proposals.proposal_support(actor=estate.users.li, proposal=proposal)
    p = proposals.proposal_support(actor=estate.users.wang, proposal=proposal)
    assert (p.support_count, p.status) == (2, ProposalStatus.OPEN)
    assert not Topic.objects.exists()
    # when the third supports, it becomes a topic on the community's agenda
    p = proposals.proposal_support(actor=estate.users.zhao, proposal=proposal)
    assert (p.support_count, p.status) == (3, ProposalStatus.TOPIC)
    assert p.became_topic_at is not None
    topic = Topic.objects.get(proposal=p)
    assert (topic.community, topic.status, topic.scope_path) == (estate.community, TopicStatus.OPEN,
                                                                 estate.community.path)


def test_conversion_notifies_proposer_and_supporters(estate: Any, proposal: Any) -> None:
    for key in ("li", "wang", "zhao"):
        proposals.proposal_support(actor=getattr(estate.users, key), proposal=proposal)
    told = set(Notification.objects.values_list("user__username", flat=True))
    assert told == {"owner_zhang", "owner_li", "owner_wang", "owner_zhao"}
    assert "加装电梯" in Notification.objects.first().title


@pytest.mark.parametrize(("households", "share", "expected"), [(10, "0.2", 2), (10, "0.25", 3), (7, "0.5", 4)])
def test_threshold_by_household_share_rounds_up(estate: Any, actors: Any, households: int, share: str,
                                                expected: int) -> None:
    _households(estate.units[0], households)
    proposals.rules_update(actor=actors.worker_a1, community=estate.community,
                           threshold_kind=ThresholdKind.HOUSEHOLD_SHARE, threshold_share=Decimal(share))
    p = proposals.proposal_create(actor=estate.users.zhang, place=estate.community, title="t", body="b")
    assert p.threshold == expected


def test_household_share_boundary_one_short_stays_open_reaching_converts(estate: Any, actors: Any) -> None:
    # given 10 households and a share of 0.2: 2 supports needed
    _households(estate.units[0], 10)
    proposals.rules_update(actor=actors.worker_a1, community=estate.community,
                           threshold_kind=ThresholdKind.HOUSEHOLD_SHARE, threshold_share=Decimal("0.2"))
    p = proposals.proposal_create(actor=estate.users.zhang, place=estate.community, title="t", body="b")
    assert proposals.proposal_support(actor=estate.users.li, proposal=p).status == ProposalStatus.OPEN
    assert proposals.proposal_support(actor=estate.users.wang, proposal=p).status == ProposalStatus.TOPIC


def test_threshold_is_frozen_at_creation(estate: Any, actors: Any, proposal: Any) -> None:
    set_count(actors.worker_a1, estate.community, 50)
    proposal.refresh_from_db()
    assert proposal.threshold == 3


def test_rules_update_needs_manager_of_that_community(estate: Any, actors: Any) -> None:
    with pytest.raises(NotFound):
        set_count(actors.worker_b1, estate.community, 5)
    with pytest.raises(PermissionDenied):
        set_count(actors.grid_a1, estate.community, 5)
    with pytest.raises(ValidationFailed):
        set_count(actors.worker_a1, estate.community, 0)


# --- One support per person -----------------------------------------------------------------------


def test_second_support_is_refused_and_count_unchanged(estate: Any, proposal: Any) -> None:
    proposals.proposal_support(actor=estate.users.li, proposal=proposal)
    with pytest.raises(ValidationFailed) as exc:
        proposals.proposal_support(actor=estate.users.li, proposal=proposal)
    assert exc.value.errors == {"__all__": [str(proposals.ALREADY_SUPPORTED)]}
    proposal.refresh_from_db()
    assert proposal.support_count == 1
    assert ProposalSupport.objects.filter(proposal=proposal).count() == 1


def test_proposer_cannot_support_own_proposal(estate: Any, proposal: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        proposals.proposal_support(actor=estate.users.zhang, proposal=proposal)
    assert exc.value.errors == {"__all__": [str(proposals.OWN_PROPOSAL)]}


def test_resident_of_another_compound_cannot_support_or_see(estate: Any, neighbour: Any, proposal: Any) -> None:
    with pytest.raises(NotFound):
        proposals.proposal_support(actor=neighbour.user, proposal=proposal)
    with pytest.raises(NotFound):
        sel.proposal_get(actor=neighbour.user, proposal_id=proposal.pk)
    with pytest.raises(NotFound):
        proposals.proposal_support(actor=estate.users.outsider, proposal=proposal)
    assert proposal not in sel.proposal_list(actor=estate.users.outsider)


def test_community_proposal_is_open_to_every_compound_of_the_community(estate: Any, neighbour: Any) -> None:
    p = proposals.proposal_create(actor=estate.users.zhang, place=estate.community, title="t", body="b")
    assert proposals.proposal_support(actor=neighbour.user, proposal=p).support_count == 1
    with pytest.raises(NotFound):
        proposals.proposal_support(actor=estate.users.outsider, proposal=p)


def test_unverified_resident_cannot_support(estate: Any, actors: Any, proposal: Any) -> None:
    with pytest.raises(PermissionDenied):
        proposals.proposal_support(actor=actors.resident_a1, proposal=proposal)


def test_no_support_after_topic_or_withdrawal(estate: Any, proposal: Any) -> None:
    proposals.proposal_withdraw(actor=estate.users.zhang, proposal=proposal)
    with pytest.raises(ValidationFailed) as exc:
        proposals.proposal_support(actor=estate.users.li, proposal=proposal)
    assert exc.value.errors == {"__all__": [str(proposals.NOT_OPEN)]}


def test_only_the_proposer_withdraws(estate: Any, proposal: Any) -> None:
    with pytest.raises(PermissionDenied):
        proposals.proposal_withdraw(actor=estate.users.li, proposal=proposal)


# --- Comments -------------------------------------------------------------------------------------


def test_comment_hiding_requires_reason_and_is_audited(estate: Any, actors: Any, proposal: Any) -> None:
    comment = proposals.comment_add(actor=estate.users.li, proposal=proposal, body="支持！")
    with pytest.raises(ValidationFailed) as exc:
        proposals.comment_hide(actor=actors.worker_a1, comment=comment, reason=" ")
    assert exc.value.errors == {"reason": [str(proposals.REASON_REQUIRED)]}
    comment.refresh_from_db()
    assert not comment.hidden
    hidden = proposals.comment_hide(actor=actors.worker_a1, comment=comment, reason="含有广告")
    assert (hidden.hidden, hidden.hidden_reason, hidden.hidden_by) == (True, "含有广告", actors.worker_a1)
    entry = AuditEntry.objects.get(object_type="deliberation.comment", action=AuditAction.UPDATE)
    assert (entry.actor_id, entry.reason, entry.field) == (actors.worker_a1.pk, "含有广告", "hidden")


def test_comment_hiding_needs_a_manager_in_scope(estate: Any, actors: Any, proposal: Any) -> None:
    comment = proposals.comment_add(actor=estate.users.li, proposal=proposal, body="支持！")
    with pytest.raises(NotFound):
        proposals.comment_hide(actor=actors.worker_b1, comment=comment, reason="含有广告")
    with pytest.raises(PermissionDenied):  # a resident sees the comment but may not moderate
        proposals.comment_hide(actor=estate.users.wang, comment=comment, reason="含有广告")


def test_outsider_cannot_comment(estate: Any, neighbour: Any, proposal: Any) -> None:
    with pytest.raises(NotFound):
        proposals.comment_add(actor=neighbour.user, proposal=proposal, body="路过")


# --- Topics ---------------------------------------------------------------------------------------


def test_worker_puts_topic_on_agenda(estate: Any, actors: Any) -> None:
    topic = proposals.topic_create(actor=actors.worker_a1, community=estate.community, title="停车难")
    assert topic in sel.topic_list(actor=actors.worker_a1)
    assert topic in sel.topic_list(actor=estate.users.li)
    assert topic not in sel.topic_list(actor=actors.worker_b1)
    with pytest.raises(NotFound):
        proposals.topic_create(actor=actors.worker_b1, community=estate.community, title="停车难")

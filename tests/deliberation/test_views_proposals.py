"""Proposal pages, the inbox and the navigation entry: what each user sees and may do, and scope (404)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from shequ.core.models import AuditEntry, Notification
from shequ.core.notifications import notify
from shequ.deliberation import proposals
from shequ.deliberation.choices import ProposalStatus
from shequ.deliberation.models import Comment, Proposal
from tests.deliberation.fixtures_meetings import *  # noqa: F403  (fixtures: neighbour, proposal, _media)
from tests.deliberation.fixtures_meetings import exe_as_jpg, jpeg

pytestmark = pytest.mark.django_db


def _as(client: Any, user: Any) -> Any:
    client.force_login(user)
    return client


def _url(name: str, *args: Any) -> str:
    return reverse(f"deliberation:{name}", args=args)


# --- Scope ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["worker_b1", "worker_a2", "officer_b"])
def test_other_communities_staff_get_404(client: Any, actors: Any, proposal: Any, who: str) -> None:
    c = _as(client, getattr(actors, who))
    assert c.get(_url("proposal_detail", proposal.pk)).status_code == 404
    assert c.post(_url("proposal_support", proposal.pk)).status_code == 404
    assert c.post(_url("comment_add", proposal.pk), {"body": "x"}).status_code == 404
    assert proposal.title not in c.get(_url("proposal_list")).content.decode()


def test_resident_of_another_compound_gets_404(client: Any, neighbour: Any, proposal: Any) -> None:
    c = _as(client, neighbour.user)
    assert c.get(_url("proposal_detail", proposal.pk)).status_code == 404
    assert c.post(_url("proposal_support", proposal.pk)).status_code == 404
    proposal.refresh_from_db()
    assert proposal.support_count == 0


def test_rules_page_of_another_community_is_404(client: Any, actors: Any, estate: Any) -> None:
    assert _as(client, actors.worker_b1).get(_url("rules_edit", estate.community.pk)).status_code == 404
    assert _as(client, actors.worker_a1).get(_url("rules_edit", estate.community.pk)).status_code == 200


def test_anonymous_is_sent_to_login(client: Any, proposal: Any) -> None:
    response = client.get(_url("proposal_detail", proposal.pk))
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- Residents ------------------------------------------------------------------------------------


def test_detail_shows_support_button_and_count(client: Any, estate: Any, proposal: Any) -> None:
    page = _as(client, estate.users.li).get(_url("proposal_detail", proposal.pk)).content.decode()
    assert "附议 0 / 3" in page
    assert "我附议" in page


def test_support_then_second_support_shows_error(client: Any, estate: Any, proposal: Any) -> None:
    c = _as(client, estate.users.li)
    page = c.post(_url("proposal_support", proposal.pk), follow=True).content.decode()
    assert "附议成功" in page and "附议 1 / 3" in page and "您已附议" in page
    page = c.post(_url("proposal_support", proposal.pk), follow=True).content.decode()
    assert str(proposals.ALREADY_SUPPORTED) in page
    proposal.refresh_from_db()
    assert proposal.support_count == 1


def test_reaching_threshold_through_the_page_makes_a_topic(client: Any, estate: Any, proposal: Any) -> None:
    for key in ("li", "wang"):
        proposals.proposal_support(actor=getattr(estate.users, key), proposal=proposal)
    page = _as(client, estate.users.zhao).post(_url("proposal_support", proposal.pk), follow=True).content.decode()
    assert "已成为社区议题" in page
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.TOPIC


def test_create_with_photo(client: Any, estate: Any) -> None:
    c = _as(client, estate.users.zhang)
    assert c.get(_url("proposal_create")).status_code == 200
    response = c.post(_url("proposal_create"), {"place": estate.compound.pk, "title": "修车棚", "body": "漏雨",
                                                "photos": [jpeg("shed.jpg")]})
    proposal = Proposal.objects.get()
    assert response["Location"] == _url("proposal_detail", proposal.pk)
    assert "shed.jpg" in c.get(response["Location"]).content.decode()


def test_create_rejects_exe_renamed_jpg_naming_the_file(client: Any, estate: Any) -> None:
    response = _as(client, estate.users.zhang).post(_url("proposal_create"), {
        "place": estate.compound.pk, "title": "修车棚", "body": "漏雨", "photos": [exe_as_jpg("virus.jpg")]})
    assert response.status_code == 200
    assert "文件“virus.jpg”的类型不支持" in response.content.decode()
    assert not Proposal.objects.exists()


def test_create_offers_only_own_places(client: Any, estate: Any, neighbour: Any) -> None:
    response = _as(client, neighbour.user).post(_url("proposal_create"), {
        "place": estate.compound.pk, "title": "t", "body": "b"})
    assert response.status_code == 200  # the choice is not offered: a form error, nothing created
    assert not Proposal.objects.exists()


def test_unverified_resident_cannot_open_create_form(client: Any, actors: Any, estate: Any) -> None:
    assert _as(client, actors.resident_a1).get(_url("proposal_create")).status_code == 403


# --- Comments and moderation ----------------------------------------------------------------------


def test_comment_and_hide_with_reason(client: Any, estate: Any, actors: Any, proposal: Any) -> None:
    _as(client, estate.users.li).post(_url("comment_add", proposal.pk), {"body": "买车位广告"})
    comment = Comment.objects.get()
    staff = _as(client, actors.worker_a1)
    # without a reason: refused, shown next to the comment, nothing hidden, nothing audited
    response = staff.post(_url("comment_hide", comment.pk), {"reason": ""})
    assert response.status_code == 400
    assert str(proposals.REASON_REQUIRED) in response.content.decode()
    comment.refresh_from_db()
    assert not comment.hidden
    # with a reason: hidden, the page says why, audited
    page = staff.post(_url("comment_hide", comment.pk), {"reason": "含有广告"}, follow=True).content.decode()
    assert "该评论已被隐藏：含有广告" in page
    assert "买车位广告" not in page
    assert AuditEntry.objects.filter(object_type="deliberation.comment", reason="含有广告").exists()


def test_resident_cannot_hide(client: Any, estate: Any, proposal: Any) -> None:
    comment = proposals.comment_add(actor=estate.users.li, proposal=proposal, body="hi")
    c = _as(client, estate.users.wang)
    assert c.post(_url("comment_hide", comment.pk), {"reason": "不喜欢"}).status_code == 403
    assert "隐藏理由" not in client.get(_url("proposal_detail", proposal.pk)).content.decode()


def test_empty_comment_is_refused(client: Any, estate: Any, proposal: Any) -> None:
    response = _as(client, estate.users.li).post(_url("comment_add", proposal.pk), {"body": ""})
    assert response.status_code == 400
    assert not Comment.objects.exists()


# --- Staff: topics and rules ----------------------------------------------------------------------


def test_worker_adds_topic_and_sets_rules(client: Any, actors: Any, estate: Any) -> None:
    c = _as(client, actors.worker_a1)
    page = c.post(_url("topic_list"), {"community": estate.community.pk, "title": "停车难"}, follow=True)
    assert "停车难" in page.content.decode()
    c.post(_url("rules_edit", estate.community.pk), {"threshold_kind": "count", "threshold_count": "7"})
    assert proposals.threshold_for(estate.community) == 7


def test_resident_cannot_add_topic(client: Any, estate: Any) -> None:
    assert _as(client, estate.users.li).post(_url("topic_list"), {"title": "x"}).status_code == 404


# --- Navigation and inbox -------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "shown"), [("worker_a1", True), ("grid_a1", False), ("resident_a1", True)])
def test_navigation_entry(client: Any, actors: Any, who: str, shown: bool) -> None:
    page = _as(client, getattr(actors, who)).get("/").content.decode()
    assert (f'href="{_url("proposal_list")}"' in page) is shown


def test_inbox_lists_notifications_and_marks_all_read(client: Any, estate: Any, proposal: Any) -> None:
    for key in ("li", "wang", "zhao"):
        proposals.proposal_support(actor=getattr(estate.users, key), proposal=proposal)
    notify(users=[estate.users.zhang], title="第二条")
    c = _as(client, estate.users.zhang)
    page = c.get("/inbox/").content.decode()
    assert "加装电梯" in page and "第二条" in page
    assert 'data-testid="unread-count">2<' in page
    page = c.post("/inbox/read/", follow=True).content.decode()
    assert 'data-testid="unread-count"' not in page
    assert not Notification.objects.filter(user=estate.users.zhang, read_at__isnull=True).exists()
    # another user's notifications are not listed
    assert "第二条" not in _as(client, estate.users.li).get("/inbox/").content.decode()


def test_photo_is_served_only_to_those_who_see_the_proposal(client: Any, estate: Any, actors: Any,
                                                            neighbour: Any) -> None:
    from shequ.core.attachments import Attachment

    p = proposals.proposal_create(actor=estate.users.zhang, place=estate.compound, title="t", body="b",
                                  photos=[jpeg("shed.jpg")])
    url = _url("attachment_file", Attachment.objects.for_object(p).get().pk)
    response = _as(client, estate.users.li).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8\xff")
    assert _as(client, neighbour.user).get(url).status_code == 404
    assert _as(client, actors.worker_b1).get(url).status_code == 404

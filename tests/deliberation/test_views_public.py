"""The public board /c/<community>/: no login, no personal data, results as aggregates only."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from shequ.deliberation import disclosure
from shequ.deliberation.choices import NoticeCategory

pytestmark = pytest.mark.django_db


def publish(actor, community, **kw):
    args = {"category": NoticeCategory.AFFAIRS, "title": "加装电梯意见征询结果", "body": "同意票过半。",
            "display_days": 7}
    args.update(kw)
    return disclosure.notice_publish(actor=actor, community=community, **args)


def test_board_needs_no_login_and_groups_current_notices(client, tree, actors):
    publish(actors.worker_a1, tree.a1, category=NoticeCategory.FINANCE, display_days=30, title="三季度收支公开")
    publish(actors.worker_a1, tree.a1, category=NoticeCategory.PARTY, title="党员大会通知")
    publish(actors.worker_a1, tree.a1, title="下周才公开", published_at=timezone.now() + dt.timedelta(days=2))
    publish(actors.worker_b1, tree.b1, title="华山的公示")
    # when an anonymous visitor opens A1's board
    response = client.get(f"/c/{tree.a1.path}/")
    html = response.content.decode()
    # then it answers without login and shows A1's current notices under their categories, nothing else
    assert response.status_code == 200
    assert "三季度收支公开" in html and "党员大会通知" in html and "财务公开" in html and "党务公开" in html
    assert "下周才公开" not in html and "华山的公示" not in html
    assert "秀水居委会" in html


def test_only_communities_have_a_board(client, tree):
    assert client.get(f"/c/{tree.a1_compound.path}/").status_code == 404
    assert client.get("/c/999999999999/").status_code == 404


def test_notice_page_shows_every_revision_with_its_note(client, tree, actors):
    original = publish(actors.worker_a1, tree.a1, body="同意 120 户。")
    corrected = disclosure.notice_correct(actor=actors.worker_a1, notice=original, title=original.title,
                                          body="同意 102 户。", note="户数录入错误")
    for pk in (original.pk, corrected.pk):  # an old link still leads to the whole series
        html = client.get(f"/c/{tree.a1.path}/notices/{pk}/").content.decode()
        assert "同意 120 户。" in html and "同意 102 户。" in html and "户数录入错误" in html
        assert html.index("同意 102 户。") < html.index("同意 120 户。")  # the current version first
    # another community's path does not reach it
    assert client.get(f"/c/{tree.b1.path}/notices/{original.pk}/").status_code == 404


def test_archive_lists_expired_notices(client, tree, actors, monkeypatch):
    notice = publish(actors.worker_a1, tree.a1, category=NoticeCategory.SERVICE, display_days=1, title="停水通知")
    later = timezone.localdate() + dt.timedelta(days=5)
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: later)
    html = client.get(f"/c/{tree.a1.path}/").content.decode()
    archive = html[html.index('id="archive"'):]
    assert "停水通知" in archive
    assert client.get(f"/c/{tree.a1.path}/notices/{notice.pk}/").status_code == 200


def test_attachment_of_a_published_notice_downloads_without_login(client, tree, actors):
    pdf = SimpleUploadedFile("收支表.pdf", b"%PDF-1.4 ledger", content_type="application/pdf")
    notice = publish(actors.worker_a1, tree.a1, category=NoticeCategory.FINANCE, display_days=30, attachments=[pdf])
    attachment = disclosure.notice_attachments(notice).get()
    response = client.get(f"/c/{tree.a1.path}/notices/{notice.pk}/files/{attachment.pk}/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.4 ledger"
    assert client.get(f"/c/{tree.b1.path}/notices/{notice.pk}/files/{attachment.pk}/").status_code == 404


def test_board_shows_no_personal_data(client, tree, actors, estate):
    publish(actors.worker_a1, tree.a1, title="公示")
    html = client.get(f"/c/{tree.a1.path}/").content.decode()
    for person in vars(estate.owners).values():
        assert person.name not in html
    assert not re.search(r"1[3-9]\d{9}", html)
    assert "秀水社工" not in html  # the publishing worker is not named either


def closed_owners_vote(worker, estate, *, secret):
    from shequ.deliberation import votes
    from shequ.deliberation.choices import Electorate, Matter

    now = timezone.now()
    vote = votes.vote_create(actor=worker, place=estate.compound, title="利用共有部分设置快递柜",
                             electorate=Electorate.OWNERS, matter=Matter.MAJOR, secret=secret,
                             opens_at=now - dt.timedelta(minutes=1), closes_at=now + dt.timedelta(days=1))
    votes.vote_open(actor=worker, vote=vote)
    choices = {"zhang": "同意", "li": "反对", "wang": "同意"}
    for key, label in choices.items():
        votes.ballot_cast(actor=getattr(estate.users, key), vote=vote, option=vote.options.get(label=label))
    return votes.vote_close(actor=worker, vote=vote)


@pytest.mark.parametrize("secret", [True, False])
def test_vote_result_is_public_without_any_voter(client, tree, actors, estate, secret):
    vote = closed_owners_vote(actors.worker_a1, estate, secret=secret)
    board = client.get(f"/c/{tree.a1.path}/").content.decode()
    page = client.get(f"/c/{tree.a1.path}/votes/{vote.pk}/").content.decode()
    assert "利用共有部分设置快递柜" in board and "未通过" in board
    # the computation: 3 of 4 heads and 321 of 481 m² took part; 2 of 3 heads said yes, under the 3/4 needed
    assert "3 ÷ 4 = 3/4" in page and "2 ÷ 3 = 2/3" in page and "≥ 3/4" in page and "表决未通过" in page
    # and nobody's name, unit or pairing of voter and option appears
    for html in (board, page):
        for person in vars(estate.owners).values():
            assert person.name not in html and pii_mask(person.name) not in html
        for unit in estate.units:
            assert f">{unit.name}<" not in html
        assert "owner_" not in html


def pii_mask(name):
    from shequ.core.pii import mask_name

    return mask_name(name)


def test_open_votes_are_not_on_the_board(client, tree, actors, estate):
    from shequ.deliberation import votes
    from shequ.deliberation.choices import Electorate, Matter

    now = timezone.now()
    vote = votes.vote_create(actor=actors.worker_a1, place=estate.compound, title="尚在投票",
                             electorate=Electorate.OWNERS, matter=Matter.ORDINARY,
                             opens_at=now, closes_at=now + dt.timedelta(days=1))
    votes.vote_open(actor=actors.worker_a1, vote=vote)
    assert "尚在投票" not in client.get(f"/c/{tree.a1.path}/").content.decode()
    assert client.get(f"/c/{tree.a1.path}/votes/{vote.pk}/").status_code == 404
    # another community's board does not show A1's closed votes either
    closed = closed_owners_vote(actors.worker_a1, estate, secret=False)
    assert client.get(f"/c/{tree.b1.path}/votes/{closed.pk}/").status_code == 404


def test_published_meeting_decisions_are_on_the_board(client, tree, actors):
    from shequ.deliberation import meetings
    from shequ.deliberation.choices import MeetingKind

    meeting = meetings.meeting_schedule(actor=actors.worker_a1, community=tree.a1, kind=MeetingKind.COORDINATION,
                                        title="停车协调会", starts_at=timezone.now())
    meetings.decision_add(actor=actors.worker_a1, meeting=meeting, text="夜间开放地面车位",
                          responsible=actors.worker_a1, due_on=timezone.localdate() + dt.timedelta(days=30))
    # unpublished minutes keep the decision off the board
    assert "夜间开放地面车位" not in client.get(f"/c/{tree.a1.path}/").content.decode()
    meetings.meeting_minutes_save(actor=actors.worker_a1, meeting=meeting, minutes="会议纪要", publish=True)
    html = client.get(f"/c/{tree.a1.path}/").content.decode()
    assert "夜间开放地面车位" in html and "停车协调会" in html and "协调会" in html
    assert "秀水社工" not in html  # the responsible worker is not named on the public page

"""居务公开: minimum display periods, corrections as new revisions, the board's current/archive split, scope."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from shequ.core.attachments import Attachment
from shequ.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from shequ.core.models import AuditEntry
from shequ.deliberation import disclosure
from shequ.deliberation.choices import NoticeCategory
from shequ.deliberation.models import Notice

pytestmark = pytest.mark.django_db


def publish(actor, community, **kw):
    args = {"category": NoticeCategory.AFFAIRS, "title": "加装电梯意见征询结果", "body": "同意票过半。",
            "display_days": 7}
    args.update(kw)
    return disclosure.notice_publish(actor=actor, community=community, **args)


@pytest.mark.parametrize(("category", "minimum"), [
    (NoticeCategory.PARTY, 7), (NoticeCategory.AFFAIRS, 7), (NoticeCategory.FINANCE, 30), (NoticeCategory.SERVICE, 1),
])
def test_minimum_display_period_per_category(tree, actors, category, minimum):
    # given a category's minimum, when publishing one day shorter, then it is refused with the rule's message
    with pytest.raises(ValidationFailed) as exc:
        publish(actors.worker_a1, tree.a1, category=category, display_days=minimum - 1)
    assert exc.value.errors["display_days"] == [
        disclosure.DISPLAY_TOO_SHORT % {"category": NoticeCategory(category).label, "days": minimum}
    ]
    # and exactly the minimum is accepted, displayed until publication date + minimum
    notice = publish(actors.worker_a1, tree.a1, category=category, display_days=minimum)
    assert notice.display_until == timezone.localdate() + dt.timedelta(days=minimum)
    assert notice.scope_path == tree.a1.path and notice.revision == 1


def test_publish_is_audited_and_keeps_attachments(tree, actors):
    pdf = SimpleUploadedFile("账目.pdf", b"%PDF-1.4 statement", content_type="application/pdf")
    notice = publish(actors.worker_a1, tree.a1, category=NoticeCategory.FINANCE, display_days=30, attachments=[pdf])
    assert AuditEntry.objects.filter(object_type="deliberation.notice", object_id=str(notice.pk),
                                     action="create").exists()
    assert [a.name for a in Attachment.objects.for_object(notice)] == ["账目.pdf"]


def test_bad_attachment_rolls_back_the_notice(tree, actors):
    exe = SimpleUploadedFile("a.exe", b"MZ\x90\x00binary", content_type="application/pdf")
    with pytest.raises(ValidationFailed) as exc:
        publish(actors.worker_a1, tree.a1, attachments=[exe])
    assert "attachments" in exc.value.errors
    assert not Notice.objects.exists()


def test_resident_cannot_publish(tree, actors):
    with pytest.raises((PermissionDenied, NotFound)):
        publish(actors.resident_a1, tree.a1)


def test_worker_of_another_community_gets_not_found(tree, actors):
    # given a notice of A1, when A2's worker tries to publish there or load it, then it does not exist for them
    notice = publish(actors.worker_a1, tree.a1)
    with pytest.raises(NotFound):
        publish(actors.worker_a2, tree.a1)
    with pytest.raises(NotFound):
        disclosure.notice_get(actor=actors.worker_a2, notice_id=notice.pk)
    with pytest.raises(NotFound):
        disclosure.notice_correct(actor=actors.worker_b1, notice=notice, title="x", body="y", note="z")
    assert list(disclosure.notice_list(actor=actors.worker_a2)) == []
    assert list(disclosure.notice_list(actor=actors.officer_a)) == [notice]


def test_correction_creates_a_revision_and_keeps_the_old_text(tree, actors):
    original = publish(actors.worker_a1, tree.a1, body="同意票 120 户。")
    # when corrected
    corrected = disclosure.notice_correct(actor=actors.worker_a1, notice=original, title=original.title,
                                          body="同意票 102 户。", note="户数录入错误")
    # then a new revision in the same series, pointing at the old one, with the note
    assert (corrected.series, corrected.revision, corrected.supersedes_id) == (original.series, 2, original.pk)
    assert corrected.correction_note == "户数录入错误"
    assert corrected.display_until >= original.display_until
    # and the old row keeps its text; only superseded_at is set
    old = Notice.objects.get(pk=original.pk)
    assert old.body == "同意票 120 户。" and old.superseded_at is not None
    assert [n.body for n in disclosure.notice_history(series=original.series)] == ["同意票 120 户。", "同意票 102 户。"]
    entry = AuditEntry.objects.get(object_type="deliberation.notice", object_id=str(corrected.pk))
    assert entry.action == "update" and entry.reason == "户数录入错误" and entry.changes["supersedes"] == original.pk
    # and the board shows only the latest revision
    assert disclosure.public_notices(community=tree.a1).current == [corrected]


def test_superseded_revision_cannot_be_corrected(tree, actors):
    original = publish(actors.worker_a1, tree.a1)
    disclosure.notice_correct(actor=actors.worker_a1, notice=original, title="新标题", body=original.body,
                              note="标题错字")
    with pytest.raises(Conflict) as exc:
        disclosure.notice_correct(actor=actors.worker_a1, notice=Notice.objects.get(pk=original.pk), title="再改",
                                  body="x", note="又错")
    assert exc.value.message == disclosure.ALREADY_SUPERSEDED
    assert Notice.objects.filter(series=original.series).count() == 2


def test_correction_needs_a_note_and_a_change(tree, actors):
    original = publish(actors.worker_a1, tree.a1)
    with pytest.raises(ValidationFailed) as exc:
        disclosure.notice_correct(actor=actors.worker_a1, notice=original, title="改", body="改", note=" ")
    assert exc.value.errors["note"] == [str(disclosure.CORRECTION_NOTE_REQUIRED)]
    with pytest.raises(ValidationFailed) as exc:
        disclosure.notice_correct(actor=actors.worker_a1, notice=original, title=original.title, body=original.body,
                                  note="无变化")
    assert exc.value.errors["__all__"] == [str(disclosure.CORRECTION_UNCHANGED)]


def test_current_and_archive_by_date(tree, actors):
    today = timezone.localdate()
    short = publish(actors.worker_a1, tree.a1, category=NoticeCategory.SERVICE, display_days=1, title="停水通知")
    long = publish(actors.worker_a1, tree.a1, category=NoticeCategory.FINANCE, display_days=30, title="三季度收支")
    scheduled = publish(actors.worker_a1, tree.a1, title="下周公示",
                        published_at=timezone.now() + dt.timedelta(days=3))
    other = publish(actors.worker_b1, tree.b1, title="别的社区")
    # today both published notices are current, the scheduled one is not shown, another community's neither
    board = disclosure.public_notices(community=tree.a1, include_archive=True, today=today)
    assert set(board.current) == {short, long} and board.archive == []
    assert scheduled not in board.current and other not in board.current
    # on the last day of its period a notice is still current; the day after it goes to the archive
    board = disclosure.public_notices(community=tree.a1, include_archive=True, today=today + dt.timedelta(days=1))
    assert short in board.current
    board = disclosure.public_notices(community=tree.a1, include_archive=True, today=today + dt.timedelta(days=2))
    assert board.current == [long] and board.archive == [short]
    # the archive is only read on request
    assert disclosure.public_notices(community=tree.a1, today=today + dt.timedelta(days=2)).archive == []


def test_publish_in_the_past_is_refused(tree, actors):
    with pytest.raises(ValidationFailed) as exc:
        publish(actors.worker_a1, tree.a1, published_at=timezone.now() - dt.timedelta(days=1))
    assert exc.value.errors["published_at"] == [str(disclosure.PUBLISH_IN_PAST)]


def test_only_communities_have_a_board(tree, actors):
    with pytest.raises(ValidationFailed):
        publish(actors.worker_a1, tree.a1_compound)
    with pytest.raises(NotFound):
        disclosure.public_community_get(path=tree.a1_compound.path)
    assert disclosure.public_community_get(path=tree.a1.path) == tree.a1


# --- Staff pages ----------------------------------------------------------------------------------------


def test_staff_pages_publish_and_correct(client, tree, actors):
    client.force_login(actors.worker_a1)
    # when publishing through the page
    response = client.post("/deliberation/notices/new/", {
        "community": tree.a1.pk, "category": NoticeCategory.FINANCE, "title": "三季度收支", "body": "收入 1 万元。",
        "display_days": 30,
    })
    notice = Notice.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/deliberation/notices/{notice.pk}/"
    # when correcting it through the page
    response = client.post(f"/deliberation/notices/{notice.pk}/correct/", {
        "title": "三季度收支", "body": "收入 1.2 万元。", "note": "漏记一笔捐款",
    })
    latest = Notice.objects.get(revision=2)
    assert response.status_code == 302 and latest.supersedes_id == notice.pk
    page = client.get(f"/deliberation/notices/{latest.pk}/").content.decode()
    assert "收入 1 万元。" in page and "收入 1.2 万元。" in page and "漏记一笔捐款" in page
    assert "三季度收支" in client.get("/deliberation/notices/").content.decode()


def test_staff_page_shows_the_minimum_as_a_field_error(client, tree, actors):
    client.force_login(actors.worker_a1)
    response = client.post("/deliberation/notices/new/", {
        "community": tree.a1.pk, "category": NoticeCategory.FINANCE, "title": "收支", "body": "x", "display_days": 7,
    })
    assert response.status_code == 200 and not Notice.objects.exists()
    assert "“财务公开”的公示期不少于30天。" in response.content.decode()


def test_staff_pages_of_another_community_answer_404(client, tree, actors):
    notice = publish(actors.worker_a1, tree.a1)
    client.force_login(actors.worker_b1)
    assert client.get(f"/deliberation/notices/{notice.pk}/").status_code == 404
    assert client.post(f"/deliberation/notices/{notice.pk}/correct/",
                       {"title": "x", "body": "y", "note": "z"}).status_code == 404
    # and B1's worker cannot pick A1 in the publish form
    response = client.post("/deliberation/notices/new/", {
        "community": tree.a1.pk, "category": NoticeCategory.AFFAIRS, "title": "x", "body": "y", "display_days": 7,
    })
    assert response.status_code == 200 and Notice.objects.count() == 1
    assert "三季度" not in client.get("/deliberation/notices/").content.decode()
    assert notice.title not in client.get("/deliberation/notices/").content.decode()


def test_residents_do_not_reach_staff_pages(client, actors):
    client.force_login(actors.resident_a1)
    assert client.get("/deliberation/notices/").status_code == 403


def test_staff_detail_links_attachments_through_the_public_download(client, tree, actors):
    pdf = SimpleUploadedFile("账目.pdf", b"%PDF-1.4 statement", content_type="application/pdf")
    notice = publish(actors.worker_a1, tree.a1, category=NoticeCategory.FINANCE, display_days=30, attachments=[pdf])
    attachment = Attachment.objects.for_object(notice).get()
    client.force_login(actors.worker_a1)
    html = client.get(f"/deliberation/notices/{notice.pk}/").content.decode()
    assert f"/c/{tree.a1.path}/notices/{notice.pk}/files/{attachment.pk}/" in html

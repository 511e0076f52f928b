"""E-mail delivery of notifications (邮件提醒) against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from shequ.accounts.services import EMAIL_INVALID, user_set_email
from shequ.core.delivery import MAX_ATTEMPTS, notifications_deliver
from shequ.core.errors import NotFound
from shequ.core.models import AuditAction, AuditEntry, Notification
from shequ.core.notifications import notify
from shequ.core.tasks import deliver_notifications
from tests import factories as f
from tests.core.fixtures_mail import *  # noqa: F403 (the smtp fixture)
from tests.core.fixtures_mail import SITE, Mailbox, free_port, point_at

TITLE = "新工单 GD20261123-0001：楼道堆放杂物"
BODY = "秀水小区1号楼楼道堆放杂物，报告人张*（138****2222），请及时处置。"
LINK = "/cases/12/"
REFUSED = "bounce@example.cn"


@pytest.fixture
def alice(db: Any) -> Any:
    return f.user("alice", email="alice@example.cn", display_name="秀水社工")


@pytest.fixture
def bob(db: Any) -> Any:
    return f.user("bob", display_name="华山社工")


def case_notice(*users: Any) -> None:
    notify(users=users, title=TITLE, body=BODY, link=LINK)


def row_of(user: Any) -> Notification:
    return Notification.objects.get(user=user)


# --- Delivery -------------------------------------------------------------------------------------


def test_a_notification_is_mailed_once_with_its_chinese_subject_and_absolute_link(smtp, alice):
    # given a case notification for a user with an address
    case_notice(alice)
    now = timezone.now()
    # when the worker delivers
    counts = notifications_deliver(now=now)
    # then the server got exactly one mail: Chinese subject, the body as written, the absolute link, a footer
    assert counts["sent"] == 1 and counts["failed"] == 0
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert smtp.subjects() == [TITLE]
    assert mail["to"] == "alice@example.cn"
    assert mail["from"].addresses[0].display_name == "社区云"
    text = mail.get_content()
    assert BODY in text
    assert f"{SITE}/cases/12/" in text
    assert "社区云" in text and f"{SITE}/inbox/" in text
    # and the row is delivered
    row = row_of(alice)
    assert row.delivered_at == now
    assert row.delivery_attempts == 0
    # when it runs again, nothing more is sent
    assert notifications_deliver()["sent"] == 0
    assert len(smtp.messages) == 1


def test_users_without_an_address_or_inactive_get_nothing_and_stay_in_app(smtp, alice, bob):
    # given a notification for a user with an address, one without and an inactive one with an address
    carol = f.user("carol", email="carol@example.cn")
    type(carol).objects.filter(pk=carol.pk).update(is_active=False)
    case_notice(alice, bob, carol)
    # when the worker delivers
    counts = notifications_deliver()
    # then only alice is mailed; the others' rows are never picked and stay undelivered
    assert counts == {"sent": 1, "failed": 0, "skipped": 0, "gave_up": 0}
    assert [m["to"] for m in smtp.messages] == ["alice@example.cn"]
    for user in (bob, carol):
        row = row_of(user)
        assert row.delivered_at is None and row.delivery_attempts == 0


def test_with_email_off_nothing_is_sent(smtp, alice, settings):
    # given e-mail is off
    settings.SHEQU_EMAIL_HOST = ""
    case_notice(alice)
    # when the worker runs (directly and as the periodic task)
    assert notifications_deliver()["sent"] == 0
    assert deliver_notifications.call_local() == {}
    # then nothing was sent and the row is untouched
    assert smtp.messages == []
    row = row_of(alice)
    assert row.delivered_at is None and row.delivery_attempts == 0


def test_the_periodic_task_delivers_when_email_is_on(smtp, alice):
    case_notice(alice)
    assert deliver_notifications.call_local()["sent"] == 1
    assert len(smtp.messages) == 1


def test_server_down_marks_nothing_delivered_and_the_row_waits_for_it(settings, alice):
    # given the SMTP server is down for longer than five runs
    point_at(settings, free_port())
    case_notice(alice)
    results = [notifications_deliver() for _ in range(MAX_ATTEMPTS + 1)]
    # then nothing is delivered; the reason is kept, holds no mail content, and uses up no attempt
    assert [r["failed"] for r in results] == [1] * (MAX_ATTEMPTS + 1)
    row = row_of(alice)
    assert row.delivered_at is None and row.delivery_attempts == 0
    assert row.delivery_error.startswith("ConnectionRefusedError")
    assert BODY not in row.delivery_error and "alice@example.cn" not in row.delivery_error
    # when the server is back, the mail goes out
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        point_at(settings, controller.port)
        assert notifications_deliver()["sent"] == 1
    finally:
        controller.stop()
    assert [m["to"] for m in mailbox.messages] == ["alice@example.cn"]
    assert row_of(alice).delivered_at is not None


def test_after_five_refusals_a_row_is_no_longer_tried(smtp, alice):
    # given a recipient the server refuses, five runs over
    refused = f.user("refused", email=REFUSED)
    smtp.refuse.add(REFUSED)
    case_notice(refused)
    results = [notifications_deliver() for _ in range(MAX_ATTEMPTS + 1)]
    # then the fifth gave the row up and the sixth did not try it
    assert [r["failed"] for r in results] == [1, 1, 1, 1, 1, 0]
    assert results[MAX_ATTEMPTS - 1]["gave_up"] == 1
    assert row_of(refused).delivery_attempts == MAX_ATTEMPTS
    # when the server would accept it again, the given-up row is still not sent
    smtp.refuse.clear()
    assert notifications_deliver()["sent"] == 0
    assert smtp.messages == [] and row_of(refused).delivered_at is None


def test_a_refused_mail_counts_a_failure_and_the_others_are_still_sent(smtp, alice):
    # given two recipients, one of whom the server refuses
    refused = f.user("refused", email=REFUSED)
    smtp.refuse.add(REFUSED)
    case_notice(refused, alice)
    # when the worker delivers
    counts = notifications_deliver()
    # then alice's mail went out and the refused row counts one attempt with the server's answer
    assert counts["sent"] == 1 and counts["failed"] == 1 and counts["skipped"] == 0
    assert [m["to"] for m in smtp.messages] == ["alice@example.cn"]
    row = row_of(refused)
    assert row.delivered_at is None and row.delivery_attempts == 1
    assert "550" in row.delivery_error and REFUSED not in row.delivery_error
    assert row_of(alice).delivered_at is not None


def test_rows_older_than_three_days_are_not_sent(smtp, alice):
    # given an old and a recent notification
    now = timezone.now()
    notify(users=[alice], title="旧消息", link=LINK)
    Notification.objects.update(created_at=now - dt.timedelta(days=3, minutes=1))
    notify(users=[alice], title="新消息", link=LINK)
    Notification.objects.filter(title="新消息").update(created_at=now - dt.timedelta(days=2))
    # when the worker delivers
    counts = notifications_deliver(now=now)
    # then only the recent one is mailed
    assert counts["sent"] == 1
    assert smtp.subjects() == ["新消息"]
    assert Notification.objects.get(title="旧消息").delivered_at is None


def test_oldest_first_within_the_batch(smtp, alice):
    now = timezone.now()
    for minutes, title in ((5, "较新"), (30, "最早"), (10, "其次")):
        notify(users=[alice], title=title)
        Notification.objects.filter(title=title).update(created_at=now - dt.timedelta(minutes=minutes))
    assert notifications_deliver(now=now, batch=2)["sent"] == 2
    assert smtp.subjects() == ["最早", "其次"]


# --- The address, set on the inbox page ----------------------------------------------------------------


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_inbox_form_sets_the_address_and_writes_an_audit_row(smtp, bob):
    client = login(bob)
    # given e-mail is on, the inbox shows the form
    assert 'data-testid="email-reminders"' in client.get(reverse("inbox")).content.decode()
    # when bob sets his address
    response = client.post(reverse("inbox_email"), {"email": " bob@example.cn "})
    # then it is saved and audited without the address itself
    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.email == "bob@example.cn"
    entry = AuditEntry.objects.get(object_type="accounts.user", object_id=str(bob.pk), action=AuditAction.UPDATE)
    assert entry.actor_id == bob.pk
    assert entry.changes == {"email": "set"}
    # and the form shows the current address
    assert 'value="bob@example.cn"' in client.get(reverse("inbox")).content.decode()
    # when he clears it, notifications stay in-app only
    client.post(reverse("inbox_email"), {"email": ""})
    bob.refresh_from_db()
    assert bob.email == ""
    assert AuditEntry.objects.filter(object_id=str(bob.pk), changes={"email": "cleared"}).exists()


def test_the_inbox_form_rejects_a_bad_address_with_the_message(smtp, bob):
    response = login(bob).post(reverse("inbox_email"), {"email": "不是邮箱@"})
    assert response.status_code == 400
    assert str(EMAIL_INVALID) in response.content.decode()
    bob.refresh_from_db()
    assert bob.email == ""
    assert not AuditEntry.objects.filter(object_id=str(bob.pk), action=AuditAction.UPDATE).exists()


def test_the_form_is_absent_when_email_is_off(settings, bob):
    settings.SHEQU_EMAIL_HOST = ""
    client = login(bob)
    assert 'data-testid="email-reminders"' not in client.get(reverse("inbox")).content.decode()
    assert client.post(reverse("inbox_email"), {"email": "bob@example.cn"}).status_code == 404
    bob.refresh_from_db()
    assert bob.email == ""


def test_only_the_user_sets_their_own_address(alice, bob):
    with pytest.raises(NotFound):
        user_set_email(actor=bob, user=alice, email="bob@example.cn")
    alice.refresh_from_db()
    assert alice.email == "alice@example.cn"


@pytest.mark.django_db(transaction=True)
def test_a_row_locked_by_another_worker_is_skipped_not_sent_twice(smtp):
    """On PostgreSQL the batch locks its rows with SKIP LOCKED: a second worker takes the other rows."""
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; SQLite runs are kept apart by the task lock")
    alice = f.user("alice", email="alice@example.cn")
    bob = f.user("bob", email="bob@example.cn")
    case_notice(alice)
    case_notice(bob)
    # given another worker holds alice's row in its running batch
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT id FROM core_notification WHERE user_id = %s FOR UPDATE", [alice.pk])
            # when this worker delivers, it skips the locked row and sends the other
            counts = notifications_deliver()
            cursor.execute("ROLLBACK")
    finally:
        other.close()
    assert counts["sent"] == 1
    assert [m["to"] for m in smtp.messages] == ["bob@example.cn"]
    assert row_of(alice).delivered_at is None
    # then the next run sends alice's once, and bob's not again
    assert notifications_deliver()["sent"] == 1
    assert [m["to"] for m in smtp.messages] == ["bob@example.cn", "alice@example.cn"]

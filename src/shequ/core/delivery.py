"""E-mail delivery of notifications (邮件提醒), run by the worker from the outbox of ``Notification`` rows.

``notify()`` only writes inbox rows inside the caller's transaction; this module mails the rows that are
not delivered yet to users who gave an address. E-mail is on when ``SHEQU_EMAIL_HOST`` is set.

Delivery is at least once, not exactly once: a mail is sent over SMTP before the row's ``delivered_at``
is committed, so a crash (or a lost database connection) between the two sends that mail once more on
the next run. SMTP offers no transaction to join, and a duplicate reminder is harmless, whereas the
opposite order (commit first, then send) would lose mails on a crash, which QUALITY §14 rules out.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import smtplib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.core.models import Notification

# Older reminders are stale (the case has moved on); they stay in the inbox only.
MAX_AGE = dt.timedelta(days=3)
# After this many failed attempts a row is given up (it stays in the inbox).
MAX_ATTEMPTS = 5
ERROR_LENGTH = 300


def email_enabled() -> bool:
    return bool(settings.SHEQU_EMAIL_HOST)


def absolute_url(link: str) -> str:
    """``link`` (a path such as ``/cases/12/``, or already absolute) on the public site ``SHEQU_SITE_URL``."""
    return urljoin(settings.SHEQU_SITE_URL.rstrip("/") + "/", link)


def notification_email(notification: Notification) -> EmailMessage:
    """The mail of one notification: subject = title, body = body + absolute link + footer.

    The body is the notification's body as its writer made it: writers mask personal data already.
    """
    inbox_url = absolute_url(reverse("inbox"))
    parts = [notification.body.strip()] if notification.body.strip() else []
    parts.append(_("查看详情：%(url)s") % {"url": absolute_url(notification.link) if notification.link else inbox_url})
    parts.append(
        "-- \n"
        + _("此邮件由社区云自动发送，请勿直接回复。如需更改或停止邮件提醒，请登录后在“消息”页面修改：%(url)s")
        % {"url": inbox_url}
    )
    # a line break in a header is refused by Django (header injection): titles are one line anyway
    subject = " ".join(notification.title.split())
    return EmailMessage(
        subject=subject,
        body="\n\n".join(parts) + "\n",
        from_email=settings.SHEQU_EMAIL_FROM,
        to=[notification.user.email],
    )


def describe_error(exc: BaseException) -> str:
    """A short reason for ``delivery_error``: SMTP codes and server text, never the mail or the address."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        reasons = [f"{code} {_decode(message)}" for code, message in exc.recipients.values()]
        text = "SMTPRecipientsRefused: " + "; ".join(reasons)
    elif isinstance(exc, smtplib.SMTPResponseException):
        text = f"{type(exc).__name__}: {exc.smtp_code} {_decode(exc.smtp_error)}"
    elif isinstance(exc, OSError) and exc.strerror:
        text = f"{type(exc).__name__}: {exc.strerror}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return text[:ERROR_LENGTH]


def _decode(message: bytes | str) -> str:
    return message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)


@contextlib.contextmanager
def _batch_transaction() -> Iterator[bool]:
    """One transaction holding the row locks while the batch is sent, where rows can be locked.

    PostgreSQL locks the picked rows with SKIP LOCKED, so a second worker picks other rows and never mails
    one twice. SQLite has no row locks and one writer: a transaction there would block every page's write
    for the whole SMTP conversation, so each row's outcome is written on its own instead; overlapping runs
    are kept apart by the worker's task lock (``shequ.core.tasks``).
    """
    if db_connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            yield True
    else:
        yield False


def _pending(*, now: dt.datetime, batch: int, lock: bool) -> list[Notification]:
    qs = (
        Notification.objects.filter(
            delivered_at__isnull=True,
            created_at__gte=now - MAX_AGE,
            delivery_attempts__lt=MAX_ATTEMPTS,
            user__is_active=True,
        )
        .exclude(user__email="")
        .order_by("created_at", "pk")
    )
    if lock:
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    return list(qs.select_related("user")[:batch])


def _mark_failed(ids: list[int], error: str, *, count: bool = True) -> None:
    """Keep the reason; ``count`` an attempt only when the mail itself was refused. A server that is
    down or drops the line is no fault of the row's: it waits (up to ``MAX_AGE``) for the server."""
    changes: dict[str, Any] = {"delivery_error": error[:ERROR_LENGTH]}
    if count:
        changes["delivery_attempts"] = F("delivery_attempts") + 1
    Notification.objects.filter(pk__in=ids).update(**changes)


def notifications_deliver(*, now: dt.datetime | None = None, batch: int = 200) -> dict[str, int]:
    """Mail up to ``batch`` undelivered notifications, oldest first, through one SMTP connection.

    Picked: created within ``MAX_AGE``, fewer than ``MAX_ATTEMPTS`` failures, user active with an address
    (rows of users without one are never picked: they stay in-app only). A mail the server refuses
    counts one attempt with its reason and the others go on; a connection that cannot be opened, or is
    lost mid-batch, keeps its reason on the rows but counts no attempt (an SMTP outage must not use up
    every reminder's attempts), and the rest of the batch waits for the next run (``skipped``).
    Returns the counts ``sent``, ``failed``, ``skipped`` and ``gave_up`` (rows that reached
    ``MAX_ATTEMPTS`` in this run)."""
    counts = {"sent": 0, "failed": 0, "skipped": 0, "gave_up": 0}
    if not email_enabled():
        return counts
    now = now or timezone.now()
    with _batch_transaction() as lock:
        rows = _pending(now=now, batch=batch, lock=lock)
        if not rows:
            return counts
        mail = get_connection(fail_silently=False)
        try:
            mail.open()
        except (OSError, smtplib.SMTPException) as exc:
            _mark_failed([row.pk for row in rows], describe_error(exc), count=False)
            counts["failed"] = len(rows)
            return counts
        try:
            for index, row in enumerate(rows):
                try:
                    mail.send_messages([notification_email(row)])
                except (OSError, smtplib.SMTPException, ValueError) as exc:
                    lost = _connection_lost(exc)
                    _mark_failed([row.pk], describe_error(exc), count=not lost)
                    counts["failed"] += 1
                    counts["gave_up"] += int(not lost and row.delivery_attempts + 1 >= MAX_ATTEMPTS)
                    if lost:
                        counts["skipped"] = len(rows) - index - 1
                        break
                    continue
                Notification.objects.filter(pk=row.pk).update(delivered_at=now, delivery_error="")
                counts["sent"] += 1
        finally:
            _close_quietly(mail)
    return counts


def _connection_lost(exc: BaseException) -> bool:
    """The connection is gone (not one refused mail); ``SMTPException`` is itself an ``OSError``."""
    return isinstance(exc, smtplib.SMTPServerDisconnected) or (
        isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException)
    )


def _close_quietly(mail: Any) -> None:
    with contextlib.suppress(OSError, smtplib.SMTPException):
        mail.close()

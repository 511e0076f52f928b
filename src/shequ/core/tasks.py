"""Periodic work of the kernel, run by the huey worker (``shequ run_huey``)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from shequ.core.delivery import email_enabled, notifications_deliver
from shequ.core.retention import purge_expired


@db_periodic_task(crontab(hour="3", minute="17"))
def purge_expired_records() -> dict[str, int]:
    return purge_expired()


@db_periodic_task(crontab(minute="*"))
@lock_task("shequ-notifications-deliver")
def deliver_notifications() -> dict[str, int]:
    """Mail undelivered notifications every minute when e-mail is on (邮件提醒).

    A periodic sweep of the outbox, not an ``on_commit`` nudge per change: a reminder a minute late is
    fine, one sweep batches many rows through one SMTP connection, and rows left over by a worker that
    was down or an SMTP server that failed are retried by the next sweep without extra machinery. The
    task lock keeps a slow run from overlapping the next one (on SQLite it is the only guard).
    """
    if not email_enabled():
        return {}
    return notifications_deliver()

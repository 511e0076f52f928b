"""Periodic work of the kernel, run by the huey worker (``shequ run_huey``)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from shequ.core.retention import purge_expired


@db_periodic_task(crontab(hour="3", minute="17"))
def purge_expired_records() -> dict[str, int]:
    return purge_expired()

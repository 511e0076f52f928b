"""Background work of ledger imports: the check and the import run in the huey worker in production.

In the embedded default huey is ``immediate`` and these run inline, so the wizard shows the result at
once. The tasks take ids (not objects) so they can be queued to another machine.
"""

from __future__ import annotations

from typing import Any

from huey.contrib.djhuey import db_task

from shequ.core.errors import ShequError, ValidationFailed
from shequ.ledgers import importer
from shequ.ledgers.models import ImportJob


def _actor(actor_id: int | None) -> Any:
    if actor_id is None:
        return None
    from shequ.accounts.models import User

    return User.objects.get(pk=actor_id)


def _outcome(call: Any) -> dict[str, str]:
    """The job's status, or the message of a domain error (a worker has no page to raise it on)."""
    try:
        return {"status": call().status, "error": ""}
    except ShequError as exc:
        message = exc.first_message() if isinstance(exc, ValidationFailed) else str(exc.message)
        return {"status": "", "error": message}


@db_task()
def import_check_task(job_id: int, actor_id: int | None) -> dict[str, str]:
    job = ImportJob.objects.select_related("community").get(pk=job_id)
    return _outcome(lambda: importer.import_job_check(actor=_actor(actor_id), job=job))


@db_task()
def import_run_task(job_id: int, actor_id: int | None, mode: str, version: int | None = None) -> dict[str, str]:
    job = ImportJob.objects.select_related("community").get(pk=job_id)
    return _outcome(lambda: importer.import_job_run(actor=_actor(actor_id), job=job, mode=mode, version=version))


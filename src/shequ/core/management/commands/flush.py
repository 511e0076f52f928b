"""``flush`` that also empties the append-only audit trail.

Emptying the whole database is a development and test operation (Django's test cases call it between
transactional tests). On SQLite, the triggers that refuse DELETE on the audit trail are lifted for
the flush and put back after it; PostgreSQL's flush uses TRUNCATE, which row triggers do not see.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as FlushCommand
from django.db import connections

from shequ.core import guards


class Command(FlushCommand):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        if connection.vendor == "sqlite":
            guards.uninstall(connection)
            try:
                super().handle(**options)
            finally:
                guards.install(connection)
        else:
            super().handle(**options)

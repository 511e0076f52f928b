"""Case numbers (工单编号): ``SQ{yyyymmdd}-{nnnnnn}``, counting from 1 each (local) day.

On PostgreSQL each day has its own sequence, ``cases_number_{yyyymmdd}``, made on the day's first
report. ``nextval`` takes no lock that lasts to the end of the transaction, so concurrent reports do
not queue behind one another, as they did when the next number was read off the last one and a
second request's INSERT waited on the unique index for the first to commit. A report that is rolled
back leaves a gap in the day's numbers; numbers are unique and increasing, not gap-free.

On SQLite a write transaction holds the database's one write lock from ``BEGIN IMMEDIATE``
(see settings), so the last number of the day plus one cannot be taken twice.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.utils import timezone

from shequ.cases.models import Case

SEQUENCE_PREFIX = "cases_number_"
KEEP_SEQUENCES_DAYS = 3
# Day sequences this process has seen committed; the others are looked up first.
_READY: set[str] = set()


def format_number(day: dt.date, seq: int) -> str:
    return f"SQ{day:%Y%m%d}-{seq:06d}"


def next_number(day: dt.date) -> str:
    """The next number of ``day``; must be called inside the transaction that saves the case."""
    seq = _next_from_sequence(day) if connection.vendor == "postgresql" else last_seq(day) + 1
    return format_number(day, seq)


def last_seq(day: dt.date) -> int:
    """The day's highest number so far, from the cases themselves (0 when there are none)."""
    prefix = f"SQ{day:%Y%m%d}-"
    last = (Case.objects.filter(number__startswith=prefix).order_by("-number")
            .values_list("number", flat=True).first())
    return int(last[len(prefix):]) if last else 0


def _sequence_name(day: dt.date) -> str:
    return f"{SEQUENCE_PREFIX}{day:%Y%m%d}"  # digits only: safe to put in DDL


def _next_from_sequence(day: dt.date) -> int:
    name = _sequence_name(day)
    with connection.cursor() as cursor:
        if name not in _READY:
            cursor.execute("SELECT to_regclass(%s)", [name])
            if cursor.fetchone()[0] is None:
                _create_sequence(cursor, name, start=last_seq(day) + 1)
            # Remembered only once committed: a sequence made by this very transaction (seen by
            # to_regclass too) is gone again if the transaction rolls back.
            transaction.on_commit(lambda: _READY.add(name))
        cursor.execute("SELECT nextval(%s)", [name])
        return int(cursor.fetchone()[0])


def _create_sequence(cursor: object, name: str, *, start: int) -> None:
    """Create the day's sequence, starting after any number already given that day (cases loaded or
    reported before an upgrade). A concurrent first report of the day may create it first: its
    CREATE waits for that one to commit and then fails on the catalog's unique index, which the
    savepoint absorbs; the sequence is there by then."""
    try:
        with transaction.atomic():
            cursor.execute(f'CREATE SEQUENCE IF NOT EXISTS "{name}" START WITH {int(start)}')  # type: ignore[attr-defined]
    except (IntegrityError, ProgrammingError):
        pass


def number_sequences_prune(*, today: dt.date | None = None) -> int:
    """Drop the day sequences older than a few days (a report is numbered on the day it is made);
    returns how many were dropped. Nothing to do on SQLite."""
    if connection.vendor != "postgresql":
        return 0
    today = today or timezone.localdate()
    oldest_kept = _sequence_name(today - dt.timedelta(days=KEEP_SEQUENCES_DAYS))
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relkind = 'S' AND relname LIKE %s",
                       [SEQUENCE_PREFIX + "%"])
        old = sorted(name for (name,) in cursor.fetchall()
                     if len(name) == len(oldest_kept) and name[len(SEQUENCE_PREFIX):].isdigit() and name < oldest_kept)
        for name in old:
            cursor.execute(f'DROP SEQUENCE IF EXISTS "{name}"')
            _READY.discard(name)
    return len(old)

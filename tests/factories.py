"""Builders for test data. They call the services, so test data obeys the same rules as real data."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from shequ.accounts import services as account_services
from shequ.accounts.models import User
from shequ.core import pii
from shequ.registry import services
from shequ.registry.choices import PlaceKind, ResidenceType
from shequ.registry.models import Place

PASSWORD = "correct-horse-battery-staple"
_seq = itertools.count(1)


def square(lon: float, lat: float, size: float = 0.01) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [[[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]],
    }


def id_number(*, birth: dt.date = dt.date(1950, 3, 7), sex: str = "female", region: str = "310105") -> str:
    return pii.make_id_number(region_code=region, birth_date=birth, sequence=next(_seq), sex=sex)


def place(parent: Place | None, kind: str, name: str, code: str | None = None, **kw: Any) -> Place:
    return services.place_create(actor=None, parent=parent, kind=kind, name=name, code=code, **kw)


def person(place: Place, name: str = "张三丰", **kw: Any):  # type: ignore[no-untyped-def]
    kw.setdefault("residence_type", ResidenceType.REGISTERED)
    return services.person_create(actor=None, place=place, name=name, **kw)


def user(username: str, *, place: Place | None = None, role: str | None = None, **kw: Any) -> User:
    u = account_services.user_create(actor=None, username=username, password=PASSWORD, **kw)
    if place is not None and role is not None:
        account_services.membership_grant(actor=None, user=u, place=place, role=role)
    return u


def unit_in(building: Place, room: str = "0101", area: str = "80.50") -> Place:
    from decimal import Decimal

    return place(building, PlaceKind.UNIT, f"{room}室", code=room, floor_area=Decimal(area))


def valid_id_numbers_in(text: str) -> list[str]:
    """Every 18-character window of ``text`` that passes the GB 11643 check: what a dump must not hold."""
    import re

    found = []
    for run in re.findall(r"[\dX]{18,}", text):
        for i in range(len(run) - 17):
            window = run[i : i + 18]
            try:
                pii.parse_id_number(window)
            except pii.PiiError:
                continue
            found.append(window)
    return found


def tamper(sql: str, params: list | None = None) -> None:
    """Change the audit trail below the application, as a database owner could: triggers off, edit, back on.

    PostgreSQL: ``session_replication_role = replica`` skips ordinary triggers for this transaction
    (dropping them inside a test transaction with deferred constraint events is refused).
    SQLite: the triggers are dropped and put back.
    """
    from django.db import connection

    from shequ.core import guards

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
            try:
                cursor.execute(sql, params or [])
            finally:
                cursor.execute("SET LOCAL session_replication_role = origin")
        else:
            guards.uninstall(connection)
            try:
                cursor.execute(sql, params or [])
            finally:
                guards.install(connection)

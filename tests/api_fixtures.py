"""Fixtures for the API tests: bearer tokens, a department handler, and records in community A1.

Import the fixtures into a test module with ``from tests.api_fixtures import *  # noqa: F403``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from shequ.accounts import services as account_services
from shequ.accounts.models import User
from shequ.accounts.roles import Role
from shequ.registry import services
from shequ.registry.choices import Relation, ResidenceType
from tests import factories as f

API = "/api/v1"
A1_PHONE = "13812345678"
A1_ID_BIRTH = dt.date(1948, 5, 17)


class ApiClient:
    """Django's test client speaking JSON with a bearer token (or none)."""

    def __init__(self, token: str | None = None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get(API + path, params or {}, headers=self.headers)

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(API + path, body, content_type="application/json", headers=self.headers)

    def patch(self, path: str, body: Any) -> Any:
        return self.client.patch(API + path, body, content_type="application/json", headers=self.headers)

    def put(self, path: str, body: Any) -> Any:
        return self.client.put(API + path, body, content_type="application/json", headers=self.headers)


@pytest.fixture
def token_for(db: Any) -> Callable[[User], str]:
    def make(user: User) -> str:
        _token, raw = account_services.api_token_create(actor=None, user=user, name="tests")
        return raw

    return make


@pytest.fixture
def api_as(token_for: Callable[[User], str]) -> Callable[[User], ApiClient]:
    """``api_as(user)``: a client authenticated with a fresh bearer token of ``user``."""
    return lambda user: ApiClient(token_for(user))


@pytest.fixture
def handler(tree: Any) -> User:
    """A department handler at the district: no registry capability at all."""
    dept = account_services.department_create(actor=None, place=tree.district, name="区城管执法局",
                                              kind="urban_management")
    user = f.user("handler", display_name="城管处置员")
    user.department = dept
    user.save(update_fields=["department"])
    account_services.membership_grant(actor=None, user=user, place=tree.district, role=Role.DEPARTMENT_HANDLER)
    return user


@pytest.fixture
def records_a1(tree: Any, tags: Any) -> SimpleNamespace:
    """One record of every registry kind in community A1."""
    household = services.household_create(actor=None, unit=tree.a1_unit, number="A1-0101")
    person = f.person(tree.a1_unit, name="王秀英", id_number=f.id_number(birth=A1_ID_BIRTH), phone=A1_PHONE,
                      household=household, relation=Relation.HEAD, tags=["living_alone"])
    grid = services.grid_create(actor=None, community=tree.a1, name="秀水一网格",
                                geometry=f.square(121.40, 31.20, 0.01))
    facility = services.facility_create(actor=None, place=tree.a1, name="秀水长者食堂", kind="elderly_canteen",
                                        lon=121.405, lat=31.205, floor_area=Decimal("120.00"),
                                        construction="rented")
    organisation = services.organisation_create(actor=None, place=tree.a1, kind="owners_committee",
                                                name="秀水小区业主委员会", contact_name="李明",
                                                contact_phone="13900001111")
    return SimpleNamespace(household=household, person=person, grid=grid, facility=facility,
                           organisation=organisation, compound=tree.a1_compound, unit=tree.a1_unit, community=tree.a1)


@pytest.fixture
def person_b1(tree: Any, tags: Any) -> Any:
    return f.person(tree.b1_unit, name="赵建国", id_number=f.id_number(birth=dt.date(1990, 1, 2), sex="male"),
                    phone="13700002222", residence_type=ResidenceType.FLOATING)


@pytest.fixture
def outsiders(actors: Any, tree: Any, handler: User) -> dict[str, User]:
    """Users who must not see community A1's records, whatever the endpoint."""
    grid_b1 = f.user("grid_b1", place=tree.b1, role=Role.GRID_WORKER, display_name="华山网格员")
    resident_a2 = f.user("resident_a2", place=tree.a2_compound, role=Role.RESIDENT, display_name="蒋家巷居民")
    return {
        "worker_a2": actors.worker_a2,
        "officer_b": actors.officer_b,
        "grid_b1": grid_b1,
        "resident_a1": actors.resident_a1,
        "resident_a2": resident_a2,
        "handler": handler,
    }

"""Fixtures for cases: grids in the three communities, departments with handlers, a resident reporter."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from shequ.accounts import services as account_services
from shequ.accounts.roles import Role
from shequ.registry import services as registry
from tests import factories as f


@pytest.fixture
def grids(tree):
    """One grid covering each community's square (see tests/conftest.py: 0.02° squares)."""
    return SimpleNamespace(
        **{
            key: registry.grid_create(
                actor=None,
                community=getattr(tree, key),
                name=f"{getattr(tree, key).name}一网格",
                geometry=f.square(getattr(tree, key).lon - 0.01, getattr(tree, key).lat - 0.01, 0.02),
            )
            for key in ("a1", "a2", "b1")
        }
    )


@pytest.fixture
def departments(tree):
    """城管 and 房管 at the district, each with one handler account."""
    urban = account_services.department_create(
        actor=None, place=tree.district, name="区城管执法局", kind="urban_management"
    )
    housing = account_services.department_create(actor=None, place=tree.district, name="区房管局", kind="housing")
    handlers = {}
    for key, dept in (("urban", urban), ("housing", housing)):
        user = f.user(f"handler_{key}", department=dept, display_name=f"{dept.name}处置员")
        account_services.membership_grant(actor=None, user=user, place=tree.district, role=Role.DEPARTMENT_HANDLER)
        handlers[key] = user
    return SimpleNamespace(
        urban=urban, housing=housing, urban_handler=handlers["urban"], housing_handler=handlers["housing"]
    )


@pytest.fixture
def reporter(tree, actors):
    """The resident of compound A1, linked to a registry person (a verified resident)."""
    person = f.person(tree.a1_unit, name="钱报事", id_number=f.id_number(), phone="13811112222")
    actors.resident_a1.person = person
    actors.resident_a1.save(update_fields=["person"])
    return actors.resident_a1

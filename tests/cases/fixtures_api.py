"""Fixtures of the cases API tests: the taxonomy, a case in community A1, a device with a token.

Import into a test module with ``from tests.cases.fixtures_api import *  # noqa: F403``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shequ.cases import alerts, services
from shequ.cases.categories import ensure_categories
from shequ.cases.choices import CaseSource
from shequ.cases.models import Case, CaseCategory
from tests.api_fixtures import api_as, token_for  # noqa: F401

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def categories(db: Any) -> dict[str, CaseCategory]:
    return ensure_categories()


@pytest.fixture
def report(tree: Any, grids: Any, categories: dict[str, CaseCategory]) -> Callable[..., Case]:
    """``report(actor, community="a1", **fields)``: a case reported through the service."""

    def make(actor: Any, community: str = "a1", **fields: Any) -> Case:
        place = getattr(tree, community)
        values: dict[str, Any] = {
            "category": categories["city_appearance"], "title": "楼道堆物", "description": "3号楼楼道堆放杂物",
            "source": CaseSource.RESIDENT, "lon": place.lon, "lat": place.lat,
        }
        values.update(fields)
        return services.case_report(actor=actor, **values)

    return make


@pytest.fixture
def case_a1(reporter: Any, report: Callable[..., Case]) -> Case:
    """A new case reported by the resident of A1, anonymous to other residents, with a contact phone."""
    return report(reporter, anonymous=True, contact_phone="13911112222")


@pytest.fixture
def device(tree: Any, actors: Any, grids: Any, categories: Any) -> tuple[Any, str]:
    """A lift sensor in building 1 of A1's compound, with the default alert rules seeded."""
    alerts.ensure_alert_rules()
    return alerts.device_register(actor=actors.worker_a1, device_id="LIFT-A1-001", name="1号楼电梯",
                                  kind="lift", place=tree.a1_building, lon=tree.a1.lon, lat=tree.a1.lat)

"""Fixtures of the case pages: the seeded categories and a reported case in community A1."""

from __future__ import annotations

import base64
from types import SimpleNamespace
from typing import Any

import pytest

from shequ.cases import services
from shequ.cases.categories import ensure_categories
from shequ.cases.choices import CaseSource

REPORTER_PHONE = "13811112222"
# a 1×1 PNG: a "photo" taken on the phone
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQ"
                       "AAAABJRU5ErkJggg==")
__all__ = ["cats", "reported", "report_case", "REPORTER_PHONE", "PNG"]


@pytest.fixture
def cats(db: Any) -> SimpleNamespace:
    return SimpleNamespace(**ensure_categories())


def report_case(*, actor: Any, tree: Any, cats: SimpleNamespace, description: str = "小区门口垃圾堆积三天没人清运",
                category: Any = None, anonymous: bool = False) -> Any:
    return services.case_report(actor=actor, category=category or cats.city_appearance, title="垃圾堆积",
                                description=description, source=CaseSource.RESIDENT, lon=tree.a1.lon + 0.001,
                                lat=tree.a1.lat + 0.001, address="秀水小区1号楼东侧", anonymous=anonymous,
                                contact_phone=REPORTER_PHONE)


@pytest.fixture
def reported(tree: Any, grids: Any, reporter: Any, cats: SimpleNamespace) -> Any:
    """A new case reported by the resident of A1 (with a contact phone)."""
    return report_case(actor=reporter, tree=tree, cats=cats)

"""The seeded category taxonomy (事项类别) with realistic time limits, and the 2026 public holidays.

Idempotent: ``ensure_categories()`` and ``ensure_holidays(2026)`` create what is missing and update
the limits of what exists, so the seed and the tests can call them any number of times.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from shequ.cases.models import CaseCategory, Holiday

# (slug, name, accept_hours, resolve_days, checkin_hours, default_department_kind)
Leaf = tuple[str, str, int, int, int, str]

TAXONOMY: list[tuple[str, str, list[Leaf]]] = [
    ("city", "城市管理", [
        ("city_appearance", "市容环境", 24, 3, 4, "urban_management"),
        ("garbage_sorting", "垃圾分类", 24, 3, 4, "urban_management"),
        ("illegal_building", "违法搭建", 24, 10, 24, "urban_management"),
        ("illegal_parking", "违规停车", 4, 2, 4, "public_security"),
        ("street_vendor", "占道经营", 4, 2, 4, "urban_management"),
    ]),
    ("facilities", "公共设施", [
        ("road_facility", "道路设施", 24, 5, 8, "urban_management"),
        ("manhole_cover", "井盖缺失破损", 2, 1, 2, "urban_management"),
        ("waterlogging", "道路积水", 2, 1, 2, "urban_management"),
        ("greening", "绿化", 24, 5, 8, "urban_management"),
    ]),
    ("housing", "房屋物业", [
        ("lift_fault", "电梯故障", 1, 1, 1, "housing"),
        ("group_rental", "群租", 24, 10, 24, "housing"),
        ("property_dispute", "物业纠纷", 24, 5, 8, "housing"),
        ("water_leak", "房屋渗漏", 24, 5, 8, "housing"),
    ]),
    ("safety", "公共安全", [
        ("fire_lane", "占用消防通道", 2, 1, 2, "fire"),
        ("fire_hazard", "火灾隐患", 1, 1, 1, "fire"),
        ("gas_leak", "燃气泄漏", 1, 1, 1, "fire"),
        ("noise", "噪声扰民", 4, 3, 4, "public_security"),
        ("falling_objects", "高空抛物", 4, 3, 4, "public_security"),
    ]),
    ("society", "社会事务", [
        ("neighbour_dispute", "邻里纠纷", 24, 5, 24, "civil_affairs"),
        ("elderly_care", "困难群众帮扶", 24, 5, 24, "civil_affairs"),
        ("food_safety", "食品安全", 4, 5, 4, "market_regulation"),
        ("other", "其他", 24, 5, 24, "other"),
    ]),
]

# 国务院办公厅关于2026年部分节假日安排的通知（2025年11月4日）: days off and 调休 working days.
HOLIDAYS_2026: list[tuple[str, str, str, bool]] = [
    ("2026-01-01", "2026-01-03", "元旦", False),
    ("2026-01-04", "2026-01-04", "元旦调休上班", True),
    ("2026-02-14", "2026-02-14", "春节调休上班", True),
    ("2026-02-15", "2026-02-23", "春节", False),
    ("2026-02-28", "2026-02-28", "春节调休上班", True),
    ("2026-04-04", "2026-04-06", "清明节", False),
    ("2026-05-01", "2026-05-05", "劳动节", False),
    ("2026-05-09", "2026-05-09", "劳动节调休上班", True),
    ("2026-06-19", "2026-06-21", "端午节", False),
    ("2026-09-20", "2026-09-20", "国庆节调休上班", True),
    ("2026-09-25", "2026-09-27", "中秋节", False),
    ("2026-10-01", "2026-10-07", "国庆节", False),
    ("2026-10-10", "2026-10-10", "国庆节调休上班", True),
]
HOLIDAYS: dict[int, list[tuple[str, str, str, bool]]] = {2026: HOLIDAYS_2026}


@transaction.atomic
def ensure_categories() -> dict[str, CaseCategory]:
    """Create or update the two-level taxonomy; return every category by slug."""
    result: dict[str, CaseCategory] = {}
    for group_sort, (slug, name, leaves) in enumerate(TAXONOMY, start=1):
        parent, _created = CaseCategory.objects.update_or_create(
            slug=slug, defaults={"name": name, "parent": None, "sort": group_sort * 100})
        result[slug] = parent
        for leaf_sort, (leaf_slug, leaf_name, accept_hours, resolve_days, checkin_hours, kind) in enumerate(leaves):
            result[leaf_slug], _created = CaseCategory.objects.update_or_create(
                slug=leaf_slug,
                defaults={"name": leaf_name, "parent": parent, "accept_hours": accept_hours,
                          "resolve_days": resolve_days, "checkin_hours": checkin_hours,
                          "default_department_kind": kind, "sort": group_sort * 100 + leaf_sort + 1})
    return result


@transaction.atomic
def ensure_holidays(year: int = 2026) -> int:
    """Create the public holidays and 调休 working days of ``year``; return how many days are listed."""
    count = 0
    for first, last, name, working in HOLIDAYS.get(year, []):
        day, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        while day <= end:
            Holiday.objects.update_or_create(date=day, defaults={"name": name, "working": working})
            count += 1
            day += dt.timedelta(days=1)
    return count

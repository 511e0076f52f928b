"""Working-day arithmetic: weekends, public holidays and 调休 working days, at the boundaries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from shequ.cases.categories import HOLIDAYS_2026, ensure_categories, ensure_holidays
from shequ.cases.models import CaseCategory, Holiday
from shequ.cases.sla import add_working_days, add_working_hours, is_working_day, load_holidays


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime(y, m, d, hh, mm))


@pytest.fixture
def holidays(db):
    ensure_holidays(2026)
    return load_holidays(start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31))


@pytest.mark.django_db
def test_friday_afternoon_plus_one_working_day_is_monday(holidays):
    assert add_working_days(at(2026, 11, 20, 17), 1, holidays=holidays) == at(2026, 11, 23, 17)


@pytest.mark.django_db
def test_weekend_start_counts_from_the_next_working_day(holidays):
    assert add_working_days(at(2026, 11, 21, 10), 1, holidays=holidays) == at(2026, 11, 23, 10)
    assert add_working_days(at(2026, 11, 22, 23, 30), 5, holidays=holidays) == at(2026, 11, 27, 23, 30)


@pytest.mark.django_db
def test_national_day_week_does_not_count(holidays):
    # Wednesday 30 September + 1 working day: 1–7 October are holidays → Thursday 8 October
    assert add_working_days(at(2026, 9, 30), 1, holidays=holidays) == at(2026, 10, 8)
    # + 2: Friday 9 October; + 3: Saturday 10 October is a 调休 working day
    assert add_working_days(at(2026, 9, 30), 2, holidays=holidays) == at(2026, 10, 9)
    assert add_working_days(at(2026, 9, 30), 3, holidays=holidays) == at(2026, 10, 10)


@pytest.mark.django_db
def test_tiaoxiu_saturday_is_a_working_day(holidays):
    assert is_working_day(dt.date(2026, 2, 14), holidays=holidays)  # 春节调休上班 (Saturday)
    assert not is_working_day(dt.date(2026, 2, 16), holidays=holidays)  # 春节 (Monday)
    assert add_working_days(at(2026, 2, 13, 17), 1, holidays=holidays) == at(2026, 2, 14, 17)
    # the Spring Festival: Saturday 14 February + 1 working day → Tuesday 24 February
    assert add_working_days(at(2026, 2, 14, 17), 1, holidays=holidays) == at(2026, 2, 24, 17)


@pytest.mark.django_db
def test_holidays_are_read_from_the_database_when_not_given(holidays):
    assert add_working_days(at(2026, 4, 3, 9), 1) == at(2026, 4, 7, 9)  # 清明 4–6 April


def test_without_holidays_only_weekends_are_off():
    assert add_working_days(at(2026, 10, 1), 1, holidays={}) == at(2026, 10, 2)
    assert add_working_days(at(2026, 10, 2), 0, holidays={}) == at(2026, 10, 2)


def test_working_hours_skip_days_off():
    # Friday 20:00 + 8 working hours: 4 on Friday, the weekend skipped, 4 on Monday
    assert add_working_hours(at(2026, 11, 20, 20), 8, holidays={}) == at(2026, 11, 23, 4)
    assert add_working_hours(at(2026, 11, 18, 9), 2, holidays={}) == at(2026, 11, 18, 11)
    assert add_working_hours(at(2026, 11, 21, 9), 1, holidays={}) == at(2026, 11, 23, 1)


@pytest.mark.django_db
def test_ensure_holidays_is_idempotent_and_official():
    first = ensure_holidays(2026)
    assert ensure_holidays(2026) == first == 39
    assert Holiday.objects.count() == 39
    assert Holiday.objects.filter(working=True).count() == 6
    assert set(Holiday.objects.filter(working=True).values_list("date", flat=True)) == {
        dt.date(2026, 1, 4), dt.date(2026, 2, 14), dt.date(2026, 2, 28), dt.date(2026, 5, 9),
        dt.date(2026, 9, 20), dt.date(2026, 10, 10)}
    assert len(HOLIDAYS_2026) == 13


@pytest.mark.django_db
def test_ensure_categories_two_levels_with_limits():
    cats = ensure_categories()
    ensure_categories()
    assert CaseCategory.objects.count() == len(cats)
    lift, fire_lane, noise = cats["lift_fault"], cats["fire_lane"], cats["noise"]
    assert (lift.accept_hours, lift.resolve_days, lift.default_department_kind) == (1, 1, "housing")
    assert (fire_lane.accept_hours, fire_lane.resolve_days, fire_lane.default_department_kind) == (2, 1, "fire")
    assert (noise.accept_hours, noise.resolve_days, noise.default_department_kind) == (4, 3, "public_security")
    assert (cats["illegal_building"].accept_hours, cats["illegal_building"].resolve_days) == (24, 10)
    assert (cats["group_rental"].accept_hours, cats["group_rental"].resolve_days) == (24, 10)
    names = set(CaseCategory.objects.filter(parent__isnull=False).values_list("name", flat=True))
    assert {"市容环境", "垃圾分类", "违法搭建", "群租", "噪声扰民", "占用消防通道", "电梯故障", "道路设施", "绿化",
            "物业纠纷", "邻里纠纷"} <= names
    assert not CaseCategory.objects.filter(parent__parent__isnull=False).exists()  # two levels only

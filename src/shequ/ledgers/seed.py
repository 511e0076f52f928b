"""Ledger content of the demo district: an imported 民政 roll with a conflict and an error row, and a 卫健
register without ID numbers whose duplicates record linkage has found (some merged, some waiting).

Everything goes through the services, as a community worker would do it, so the demo shows the pages
as they are after real use.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from collections import Counter
from typing import Any

from opencc import OpenCC
from openpyxl import Workbook

from shequ.core import pii
from shequ.ledgers import importer, linkage
from shequ.ledgers.choices import ImportMode
from shequ.registry import services
from shequ.registry.choices import BusinessLine, PersonStatus, PlaceKind
from shequ.registry.models import Person, Place
from shequ.registry.selectors import birth_date_range

# Characters a clerk may type for one another (same pinyin).
HOMOPHONES = dict(zip("伟华英芳明军丽平红兰强静杰玲敏勇秀珍", "玮桦瑛方铭君莉萍虹岚蔷靖洁铃闵永绣贞", strict=True))
HEADERS = ["序号", "姓名", "身份证号", "性别", "出生日期", "联系电话", "小区", "楼号", "室号", "人员类别", "备注"]


def blank_template() -> bytes:
    """An empty ledger with the columns the importer recognises by itself, for a worker to fill in."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "人员台账"
    sheet.append(HEADERS)
    for column, width in zip("ABCDEFGHIJK", (6, 10, 22, 6, 12, 14, 16, 8, 8, 14, 20), strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _address(unit: Place) -> list[str]:
    building = unit.parent
    return [building.parent.name, building.name, unit.name]


def demo_roll(community: Place, *, rng: random.Random) -> bytes:
    """A 民政 roll of the oldest residents: most rows known, one with a new phone (a conflict), two new people
    and one row with a mistyped ID number (an error to fix)."""
    _earliest, latest = birth_date_range("80+")
    old = list(Person.objects.filter(scope_path__startswith=community.path, status=PersonStatus.ACTIVE,
                                     birth_date__lte=latest, place__kind=PlaceKind.UNIT)
               .exclude(id_number_digest=None).select_related("place__parent__parent").order_by("id")[:6])
    units = list(Place.objects.filter(path__startswith=community.path, kind=PlaceKind.UNIT)
                 .select_related("parent__parent").order_by("path")[:40])
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "高龄补贴"
    sheet.append([f"{community.name}高龄老人补贴发放名册（民政）"])
    sheet.append(HEADERS)
    number = 0
    for k, person in enumerate(old):
        number += 1
        phone = person.phone if k else f"139{rng.randrange(10**8):08d}"  # the first: a newer phone number
        sheet.append([number, person.name, person.id_number, person.get_sex_display(), person.birth_date.isoformat(),
                      phone, *_address(person.place), "高龄", ""])
    for name, sex, birth in (("顾阿妹", "female", "1938-04-12"), ("陆根宝", "male", "1941-11-03")):
        number += 1
        unit = rng.choice(units)
        birth_date = dt.date.fromisoformat(birth)
        ident = pii.make_id_number(region_code="310105", birth_date=birth_date, sequence=rng.randrange(400, 500),
                                   sex=sex)
        sheet.append([number, name, ident, "男" if sex == "male" else "女", birth, "", *_address(unit), "高龄",
                      "新迁入"])
    number += 1
    unit = rng.choice(units)
    sheet.append([number, "沈桂英", "310105193605120029", "女", "1936-05-12", "13761234567", *_address(unit),
                  "高龄", "身份证号待核对"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def register_duplicates(community: Place, worker: Any, *, rng: random.Random) -> int:
    """A 卫健 register typed without ID numbers: some residents again, as another line wrote them."""
    to_traditional = OpenCC("s2t")
    people = list(Person.objects.filter(scope_path__startswith=community.path, status=PersonStatus.ACTIVE,
                                        place__kind=PlaceKind.UNIT).exclude(birth_date=None)
                  .select_related("place").order_by("id")[10:40:6])
    created = 0
    for k, person in enumerate(people):
        name = to_traditional.convert(person.name) if k % 2 == 0 else person.name
        birth, place = person.birth_date, person.place
        if k == 3:  # a homophone for the last character, month and day typed the wrong way round
            name = name[:-1] + HOMOPHONES.get(name[-1], name[-1])
            if birth.day <= 12:
                birth = birth.replace(month=birth.day, day=birth.month)
        if k == 4:  # a birth date a few months off, and a neighbour's room in the same building
            birth = birth - dt.timedelta(days=95)
            place = Place.objects.filter(parent_id=place.parent_id).exclude(pk=place.pk).first() or place
        services.person_create(actor=worker, place=place, name=name, residence_type=person.residence_type,
                               sex=person.sex, birth_date=birth, phone="" if k % 3 else person.phone,
                               source=BusinessLine.HEALTH, reference="家庭医生签约名单（无身份证号）")
        created += 1
    return created


def seed_demo_ledgers(*, community: Place, worker: Any, seed: int = 8) -> Counter[str]:
    """Import the demo roll, register the duplicates and run record linkage once; returns counts."""
    rng = random.Random(seed)
    counts: Counter[str] = Counter()
    job = importer.import_job_create(actor=worker, community=community, file=io.BytesIO(demo_roll(community, rng=rng)),
                                     filename="高龄老人补贴发放名册（民政）.xlsx", source=BusinessLine.CIVIL_AFFAIRS)
    job = importer.import_job_run(actor=worker, job=job, mode=ImportMode.GOOD_ROWS)
    counts["ledger_rows"] += job.total_rows
    counts["conflict"] += job.conflict_count
    counts["duplicate_registered"] += register_duplicates(community, worker, rng=rng)
    run = linkage.link_run(actor=worker, place=community)
    counts["auto_merged"] += run.auto_merged
    counts["pending_pairs"] += run.queued
    return counts


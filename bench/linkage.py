"""Benchmark: record linkage (人员比对) precision, recall and speed on generated known duplicates.

Steps (printed figures, never asserted):
1. a separate database — a fresh SQLite file under ``var/bench/`` by default, or ``--database-url``
   (a PostgreSQL database whose name starts with ``bench``, dropped and created again); never the dev DB;
2. migrate; one district, street and community through the services, then BULK-LOADED compounds,
   buildings, units and ``--people`` people (``--id-share`` of them with a valid ID number), names drawn
   from common surnames and given-name characters so that namesakes occur as they do in a city;
3. ``--duplicates-share`` of the people without an ID number get a second record, as another business
   line's ledger would write it, with one or two of: a homophone in the name (张伟 → 张玮), a neighbouring
   character (a different character of the same pool), traditional characters (OpenCC s2t), two digits of
   the birth date swapped, no birth date, no phone, no building (registered at the community only);
4. ``link_run`` over the community: precision and recall of the automatic merges (≥ auto threshold) and
   of all proposals (≥ review threshold), pairs compared, pairs/s, wall time and peak memory (RSS).

Run: ``python bench/linkage.py --people 20000`` or ``--database-url postgres://…/bench_linkage``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from owners_vote import open_bench_database, prepare_database  # noqa: E402

DEFAULT_URL = f"sqlite:///{ROOT / 'var' / 'bench' / 'linkage.sqlite3'}"
BATCH = 5000
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国文红玉梅鹏飞斌宇浩凯辉鑫波宁欣佳俊峰志海云燕琳"
    "晶丹萍雪婷颖慧莉娥凤琴荣春兵成龙林亮鸿德义福庆祥瑞永"
)
# Homophones an input method offers for the same pinyin (tones aside).
HOMOPHONE_PAIRS = (
    "伟玮 玮伟 芳方 静晶 晶静 丽莉 莉丽 军君 杰洁 明铭 华桦 国帼 红宏 宏红 "
    "玉钰 梅玫 飞菲 宇雨 辉晖 波博 宁凝 欣新 佳嘉 峰锋 志智 海亥 云芸 燕艳 "
    "艳燕 琳林 林琳 萍平 平萍 婷亭 慧惠 荣蓉 春纯 兵斌 斌兵 成诚 龙隆 亮靓 "
    "德得 义毅 福富 庆青 祥翔 瑞锐 永勇 勇永 鹏朋 浩昊 俊骏 英瑛 "
)
HOMOPHONES = {pair[0]: pair[1] for pair in HOMOPHONE_PAIRS.split()}
CORRUPTIONS = ("homophone", "neighbour", "traditional", "swap_digits", "no_birth_date", "no_phone", "no_building")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="人员比对压测：已知重复记录上的准确率、召回率与速度")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""),
                        help="压测专用数据库（默认 var/bench/linkage.sqlite3；PostgreSQL 库名须以 bench 开头）")
    parser.add_argument("--people", type=int, default=20_000, help="原始人数（不含重复记录）")
    parser.add_argument("--duplicates-share", type=float, default=0.05, help="无身份证号者中有重复记录的比例")
    parser.add_argument("--id-share", type=float, default=0.3, help="有身份证号的比例")
    parser.add_argument("--people-per-building", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args(argv)


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def random_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2, 2))))


def swap_digits(birth: dt.date, rng: random.Random) -> dt.date | None:
    """Two neighbouring digits of YYYYMMDD swapped, if that is another valid date."""
    text = birth.strftime("%Y%m%d")
    positions = list(range(2, 7))
    rng.shuffle(positions)
    for i in positions:
        if text[i] == text[i + 1]:
            continue
        swapped = text[:i] + text[i + 1] + text[i] + text[i + 2:]
        try:
            date = dt.datetime.strptime(swapped, "%Y%m%d").date()
        except ValueError:
            continue
        if date <= dt.date.today():
            return date
    return None


def corrupt(record: dict[str, Any], rng: random.Random, to_traditional: Any, community: Any) -> dict[str, Any]:
    dup = dict(record)
    for kind in rng.sample(CORRUPTIONS, rng.choice((1, 1, 2))):
        name = dup["name"]
        if kind == "homophone":
            spots = [i for i in range(1, len(name)) if name[i] in HOMOPHONES]
            if spots:
                i = rng.choice(spots)
                dup["name"] = name[:i] + HOMOPHONES[name[i]] + name[i + 1:]
        elif kind == "neighbour":
            i = rng.randrange(1, len(name))
            dup["name"] = name[:i] + rng.choice([c for c in GIVEN if c != name[i]]) + name[i + 1:]
        elif kind == "traditional":
            dup["name"] = to_traditional.convert(name)
        elif kind == "swap_digits" and dup["birth_date"]:
            dup["birth_date"] = swap_digits(dup["birth_date"], rng) or dup["birth_date"]
        elif kind == "no_birth_date":
            dup["birth_date"] = None
        elif kind == "no_phone":
            dup["phone"] = ""
        elif kind == "no_building":
            dup["place"] = community
    if dup["phone"] and rng.random() < 0.5:
        dup["phone"] = ""  # the second ledger often has no phone
    return dup


def build(args: argparse.Namespace) -> tuple[Any, set[tuple[int, int]], dict[str, Any]]:
    """The community and its people; returns (community, true duplicate pairs as (low pk, high pk), facts)."""
    import opencc
    from django.db import transaction

    from shequ.core import pii
    from shequ.registry import services
    from shequ.registry.choices import PlaceKind, ResidenceType
    from shequ.registry.models import Person, Place

    rng = random.Random(args.seed)
    to_traditional = opencc.OpenCC("s2t")
    with transaction.atomic():
        district = services.place_create(actor=None, parent=None, kind=PlaceKind.DISTRICT, name="长宁区", code="310105")
        street = services.place_create(actor=None, parent=district, kind=PlaceKind.STREET, name="华阳路街道",
                                       code="001")
        community = services.place_create(actor=None, parent=street, kind=PlaceKind.COMMUNITY, name="秀水居委会",
                                          code="001")
        buildings = max(1, args.people // args.people_per_building)
        compounds = max(1, buildings // 20)
        rows = []
        for c in range(compounds):
            compound = Place(kind=PlaceKind.COMPOUND, parent=community, path=f"{community.path}{c + 1:03d}",
                             name=f"{c + 1}号小区")
            compound.set_scope(compound.path)
            rows.append(compound)
        Place.objects.bulk_create(rows, batch_size=BATCH)
        compound_rows = list(Place.objects.filter(kind=PlaceKind.COMPOUND).order_by("path"))
        rows = []
        for b in range(buildings):
            parent = compound_rows[b % compounds]
            building = Place(kind=PlaceKind.BUILDING, parent=parent, path=f"{parent.path}{b // compounds + 1:03d}",
                             name=f"{b // compounds + 1}号楼")
            building.set_scope(building.path)
            rows.append(building)
        Place.objects.bulk_create(rows, batch_size=BATCH)
        rows = []
        for building in Place.objects.filter(kind=PlaceKind.BUILDING).order_by("path"):
            for u in range(args.people_per_building // 2):
                unit = Place(kind=PlaceKind.UNIT, parent=building, path=f"{building.path}{u + 1:04d}",
                             name=f"{u + 1:04d}室")
                unit.set_scope(unit.path)
                rows.append(unit)
        Place.objects.bulk_create(rows, batch_size=BATCH)
        units = list(Place.objects.filter(kind=PlaceKind.UNIT).order_by("path"))

        originals: list[dict[str, Any]] = []
        for i in range(args.people):
            birth = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 90))
            sex = rng.choice(("male", "female"))
            with_id = rng.random() < args.id_share
            originals.append({
                "key": i, "name": random_name(rng), "birth_date": birth, "sex": sex,
                "phone": f"1{rng.choice('3589')}{rng.randrange(10**9):09d}" if rng.random() < 0.6 else "",
                "id_number": pii.make_id_number(region_code="310105", birth_date=birth, sequence=i % 499 + 1,
                                                sex=sex) if with_id else "",
                "place": rng.choice(units),
            })
        without_id = [r for r in originals if not r["id_number"]]
        dup_of = rng.sample(without_id, int(len(without_id) * args.duplicates_share))
        duplicates = []
        for record in dup_of:
            dup = corrupt(record, rng, to_traditional, community)
            if dup["place"] is record["place"] and rng.random() < 0.2:
                siblings = [u for u in units if u.parent_id == record["place"].parent_id]
                dup["place"] = rng.choice(siblings)
            dup["dup_of"] = record["key"]
            duplicates.append(dup)

        seen_ids: set[str] = set()
        people = []
        for record in originals + duplicates:
            number = record["id_number"]
            if number in seen_ids:  # the sequence wrapped on one birth date and sex: keep it unique
                number = ""
            seen_ids.add(number)
            person = Person(name=record["name"], id_number=number, sex=record["sex"], birth_date=record["birth_date"],
                            phone=record["phone"], residence_type=ResidenceType.REGISTERED, place=record["place"])
            services.set_person_digests(person)
            person.set_scope(record["place"].path)
            people.append(person)
        for start in range(0, len(people), BATCH):
            Person.objects.bulk_create(people[start:start + BATCH], batch_size=BATCH)
    pks = list(Person.objects.order_by("id").values_list("id", flat=True))
    truth = {tuple(sorted((pks[d["dup_of"]], pks[len(originals) + j]))) for j, d in enumerate(duplicates)}
    facts = {"people": len(people), "with_id": sum(1 for p in people if p.id_number), "duplicates": len(truth),
             "buildings": buildings, "units": len(units)}
    return community, truth, facts  # type: ignore[return-value]


def score(found: set[tuple[int, int]], truth: set[tuple[int, int]]) -> str:
    hits = len(found & truth)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(truth) if truth else 1.0
    return f"precision {precision:.3f} ({hits}/{len(found)})  recall {recall:.3f} ({hits}/{len(truth)})"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url = prepare_database(args.database_url or DEFAULT_URL)
    open_bench_database(url)
    from shequ.ledgers.choices import LinkStatus
    from shequ.ledgers.linkage import link_run, thresholds
    from shequ.ledgers.models import LinkCandidate

    started = time.perf_counter()
    community, truth, facts = build(args)
    print(f"build: {time.perf_counter() - started:.1f} s  {facts}  peak RSS {peak_mib():.0f} MiB")

    before = peak_mib()
    started = time.perf_counter()
    run = link_run(actor=None, place=community,
                   progress=lambda message: print(f"  [{time.perf_counter() - started:6.1f} s] {message}"))
    wall = time.perf_counter() - started
    if run.failure:
        print(f"link run failed: {run.failure}")
        return 1
    auto, review = thresholds()
    pairs = LinkCandidate.objects.filter(run=run).values_list("left_id", "right_id", "status")
    merged = {(left, right) for left, right, status in pairs if status == LinkStatus.AUTO_MERGED}
    proposed = {(left, right) for left, right, _status in pairs}
    print(f"link run: {run.records} records, {run.pairs_compared} pairs compared, {run.candidates} candidates, "
          f"{run.auto_merged} merged automatically, {run.queued} queued")
    print(f"  at the auto-merge threshold ({auto}): {score(merged, truth)}")
    print(f"  at the review threshold ({review}):     {score(proposed, truth)}")
    print(f"  wall time {wall:.1f} s, {run.pairs_compared / wall:,.0f} pairs/s, "
          f"peak RSS {peak_mib():.0f} MiB (before the run {before:.0f} MiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

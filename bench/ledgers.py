"""Benchmark: import a business line's ledger (台账) into a city-sized registry, against the database's own bulk load.

Steps (printed figures, never asserted):
1. a fresh database — a new SQLite file under ``var/bench/`` or ``--database-url`` (a PostgreSQL database whose name
   starts with ``bench`` is dropped and created again) — migrated and filled by ``shequ seed --scale city`` with
   ``--people`` people (``--reuse`` keeps a database filled by an earlier run);
2. a ledger of ``--rows`` rows as .xlsx for the first community: ``--known-share`` of the rows are people already
   registered there (by ID number; half of them with a different phone, which makes a conflict), the rest are new
   people at the community's real addresses (compound, building, room), some with care tags;
3. the import through the product's own services (``import_job_create`` → ``import_job_run``, "import the good
   rows"), timed, with the process's peak memory before and after;
4. the physical limit: the very rows the import wrote (households, people, facts, tags, conflicts) deleted and
   written again into the same tables by the database's own bulk load — ``COPY`` on PostgreSQL, ``executemany``
   on SQLite — in a transaction that is then rolled back; the ratio is import rows/s over bulk-load rows/s.

Run: ``python bench/ledgers.py`` (SQLite, 1,000,000 people, 100,000 rows) or
``python bench/ledgers.py --database-url postgres://postgres@127.0.0.1:55432/bench_ledgers``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from owners_vote import bench_env, prepare_database  # noqa: E402

DEFAULT_SQLITE = ROOT / "var" / "bench" / "ledgers.sqlite3"
LEDGER_PATH = ROOT / "var" / "bench" / "ledger.xlsx"
SHEQU = str(Path(sys.executable).with_name("shequ"))
# Regions the city generator does not use for its people, so new ledger rows do not collide with registered ones.
NEW_REGIONS = ("650102", "540102", "630102", "640104", "150102", "460105")
HEADERS = ["序号", "姓名", "性别", "身份证号", "出生日期", "联系电话", "小区", "楼号", "室号", "人员类别"]
# What an import writes, in the order a load can write it (households before their members, people before
# their facts, tags and conflicts).
TABLES = ("registry_household", "registry_person", "registry_personfact", "registry_persontag",
          "ledgers_factconflict")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="台账导入压测：10万行台账导入100万人口的基础数据，对比批量写入")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    parser.add_argument("--people", type=int, default=1_000_000, help="基础数据人数（shequ seed --scale city）")
    parser.add_argument("--rows", type=int, default=100_000, help="台账行数")
    parser.add_argument("--known-share", type=float, default=0.05, help="台账中已登记人员的比例（按身份证号补充信息）")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--reuse", action="store_true", help="沿用上次生成的基础数据（不重建数据库）")
    parser.add_argument("--seed", type=int, default=11)
    return parser.parse_args(argv)


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- The registry ------------------------------------------------------------------------------------------------


def build_registry(args: argparse.Namespace) -> str:
    url = args.database_url or f"sqlite:///{DEFAULT_SQLITE}"
    if args.reuse:
        return url
    DEFAULT_SQLITE.parent.mkdir(parents=True, exist_ok=True)
    url = prepare_database(url)
    env = {**os.environ, **{k: v for k, v in bench_env(url).items() if k in ("DATABASE_URL", "LOG_LEVEL")}}
    subprocess.run([SHEQU, "migrate", "-v", "0"], env=env, check=True)  # noqa: S603 - our own command
    started = time.monotonic()
    subprocess.run([SHEQU, "seed", "--scale", "city", "--people", str(args.people), "--jobs", str(args.jobs)],  # noqa: S603
                   env=env, check=True, stdout=subprocess.DEVNULL)
    print(f"基础数据：{args.people:,}人（shequ seed --scale city，{time.monotonic() - started:.0f}秒）")
    return url


# --- The ledger --------------------------------------------------------------------------------------------------


def write_ledger(args: argparse.Namespace, community: Any) -> dict[str, int]:
    """A .xlsx ledger for ``community``: known people (some with a new phone) and new people at real addresses."""
    from openpyxl import Workbook

    from shequ.core import pii
    from shequ.registry.choices import PLACE_PATH_LENGTHS, PlaceKind
    from shequ.registry.models import Person, Place

    rng = random.Random(args.seed)
    names = dict(Place.objects.filter(path__startswith=community.path).exclude(kind=PlaceKind.UNIT)
                 .values_list("path", "name"))
    units = list(Place.objects.filter(path__startswith=community.path, kind=PlaceKind.UNIT)
                 .values_list("path", "name"))
    compound_len, building_len = PLACE_PATH_LENGTHS[PlaceKind.COMPOUND], PLACE_PATH_LENGTHS[PlaceKind.BUILDING]

    def address(unit_path: str, unit_name: str) -> list[str]:
        return [names[unit_path[:compound_len]], names[unit_path[:building_len]], unit_name]

    unit_names = dict(units)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("台账")
    ws.append([f"{community.name}困难群众走访台账"])
    ws.append(HEADERS)
    counts = {"known": 0, "known with a new phone": 0, "new": 0}
    known_target = int(args.rows * args.known_share)
    number = 0
    people = Person.objects.filter(scope_path__startswith=community.path, status="active").exclude(id_number="")
    for person in people.select_related("place").iterator(chunk_size=2000):
        if counts["known"] >= known_target:
            break
        if person.place.kind != PlaceKind.UNIT:
            continue
        number += 1
        counts["known"] += 1
        phone = person.phone
        if rng.random() < 0.5:
            phone = f"139{rng.randrange(10**8):08d}"
            counts["known with a new phone"] += 1
        ws.append([number, person.name, person.get_sex_display(), person.id_number,
                   person.birth_date.isoformat() if person.birth_date else "", phone,
                   *address(person.place.path, unit_names.get(person.place.path, person.place.name)), ""])
    surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
    given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红"
    seen: set[str] = set()
    pending: list[tuple[str, list[Any]]] = []

    def flush() -> None:
        digests = [pii.blind_index(i, purpose="id") for i, _row in pending]
        taken = set(Person.objects.filter(id_number_digest__in=digests).values_list("id_number_digest", flat=True))
        for (_id, row), digest in zip(pending, digests, strict=True):
            if digest not in taken:
                ws.append(row)
                counts["new"] += 1
        pending.clear()

    while counts["known"] + counts["new"] + len(pending) < args.rows:
        sex = rng.choice(("male", "female"))
        birth = dt.date(1935, 1, 1) + dt.timedelta(days=rng.randrange(27_000))
        id_number = pii.make_id_number(region_code=rng.choice(NEW_REGIONS), birth_date=birth,
                                       sequence=rng.randrange(500), sex=sex)
        if id_number in seen:
            continue
        seen.add(id_number)
        number += 1
        unit_path, unit_name = rng.choice(units)
        tag = "高龄" if birth.year < 1946 else ("残疾" if rng.random() < 0.02 else "")
        pending.append((id_number, [
            number, rng.choice(surnames) + "".join(rng.choices(given, k=rng.choice((1, 2)))),
            "男" if sex == "male" else "女", id_number, birth.isoformat(),
            f"13{rng.randrange(10**9):09d}" if rng.random() < 0.8 else "", *address(unit_path, unit_name), tag]))
        if len(pending) >= 1000:
            flush()
    flush()
    LEDGER_PATH.parent.mkdir(parents=True, exist_ok=True)
    wb.save(LEDGER_PATH)
    return counts


# --- The database's own bulk load ----------------------------------------------------------------------------------


def max_ids() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        result = {}
        for table in TABLES:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 - our own table names
            result[table] = cursor.fetchone()[0]
        return result


class _Undo(Exception):
    """Raised to roll the measuring transaction back."""


def bulk_load(before: dict[str, int]) -> tuple[int, float]:
    """Time the database's own bulk load of exactly what the import wrote, into the same tables.

    In one transaction that is rolled back afterwards: the rows the import wrote are read, deleted, and
    written again by COPY (PostgreSQL) or one ``executemany`` per table (SQLite) — same rows, same tables,
    same indexes and the same table sizes as the import met. Returns (records, seconds of the load).
    """
    from django.db import connection, transaction

    measured: dict[str, Any] = {}
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            rows_by_table: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
            for table in TABLES:
                cursor.execute(f"SELECT * FROM {table} WHERE id > %s", [before[table]])  # noqa: S608
                rows_by_table[table] = ([c[0] for c in cursor.description], cursor.fetchall())
            for table in reversed(TABLES):
                cursor.execute(f"DELETE FROM {table} WHERE id > %s", [before[table]])  # noqa: S608
            started = time.perf_counter()
            for table, (columns, rows) in rows_by_table.items():
                column_list = ", ".join(f'"{c}"' for c in columns)
                if connection.vendor == "postgresql":
                    with cursor.cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                else:
                    marks = ", ".join(["%s"] * len(columns))
                    cursor.executemany(f"INSERT INTO {table} ({column_list}) VALUES ({marks})", rows)  # noqa: S608
            measured["seconds"] = time.perf_counter() - started
            measured["records"] = sum(len(rows) for _cols, rows in rows_by_table.values())
            raise _Undo
    except _Undo:
        pass
    return measured["records"], measured["seconds"]


# --- Main --------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    url = build_registry(args)
    os.environ.update({k: v for k, v in bench_env(url).items()
                       if k in ("DATABASE_URL", "LOG_LEVEL", "DJANGO_SETTINGS_MODULE")})
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False  # no query log: it would hold every batch's SQL in memory and format it each time
    from shequ.ledgers import importer
    from shequ.ledgers.choices import ImportMode
    from shequ.registry.choices import BusinessLine, PlaceKind
    from shequ.registry.models import Person, Place

    backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    community = Place.objects.filter(kind=PlaceKind.COMMUNITY).order_by("path").first()
    registered = Person.objects.count()
    print(f"数据库：{backend}；基础数据 {registered:,} 人；导入社区：{community.name}（{community.path}）")

    started = time.perf_counter()
    counts = write_ledger(args, community)
    print(f"生成台账：{counts['known'] + counts['new']:,}行（已登记 {counts['known']:,}，其中换了手机号 "
          f"{counts['known with a new phone']:,}；新人员 {counts['new']:,}），{time.perf_counter() - started:.1f}秒，"
          f"{LEDGER_PATH.stat().st_size / 2**20:.1f} MiB")

    memory_before = peak_mib()
    before = max_ids()
    started = time.perf_counter()
    with LEDGER_PATH.open("rb") as handle:
        job = importer.import_job_create(actor=None, community=community, file=handle, filename=LEDGER_PATH.name,
                                         source=BusinessLine.CIVIL_AFFAIRS)
    stored = time.perf_counter() - started
    started = time.perf_counter()
    job = importer.import_job_run(actor=None, job=job, mode=ImportMode.GOOD_ROWS)
    seconds = time.perf_counter() - started
    rows = job.total_rows
    print(f"导入：{job.get_status_display()}；{rows:,}行，新增 {job.created_count:,}，补充 {job.enriched_count:,}，"
          f"无变化 {job.unchanged_count:,}，冲突 {job.conflict_count:,}，错误行 {job.error_rows:,}")
    print(f"  保存（加密）与读表头 {stored:.1f}秒；导入 {seconds:.1f}秒 = {rows / seconds:,.0f}行/秒")
    print(f"  进程内存峰值：导入前 {memory_before:,.0f} MiB → 导入后 {peak_mib():,.0f} MiB")

    written, bulk_seconds = bulk_load(before)
    bulk_rate = rows / bulk_seconds
    method = "COPY" if backend == "PostgreSQL" else "executemany（单事务）"
    print(f"数据库自身批量写入（{method}，同样的 {written:,} 条记录写入同样的表）：{bulk_seconds:.1f}秒 = "
          f"{bulk_rate:,.0f}台账行/秒")
    print(f"导入速度 / 批量写入速度 = {rows / seconds / bulk_rate:.2f}（目标 ≥ 0.33）")


if __name__ == "__main__":
    main()

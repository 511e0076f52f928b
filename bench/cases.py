"""Benchmark: the case loop (一网统管) with a large registry and many existing cases.

Steps (printed figures, never asserted):
1. a separate database — a fresh SQLite file under ``var/bench/`` by default, or ``--database-url``
   (a PostgreSQL database whose name starts with ``bench``, dropped and created again);
2. migrate; the district, its streets, communities and grids through the services; then BULK-LOADED
   (``bulk_create``, not the services — no audit rows, no timelines): ``--people`` registry people with
   valid, encrypted ID numbers and phones, and ``--cases`` existing cases spread over the last year in
   every state, with acceptance/close times, overdue flags and ratings;
3. start the app with gunicorn on loopback; ``--clients`` client threads create ``--creates`` cases through
   ``POST /api/v1/cases`` (grid workers' bearer tokens; if the API is not installed, through a tiny WSGI
   view in this script that calls ``services.case_report`` — the output says which);
4. in-process (Django test client, same database): render the community inbox and the street's overdue
   list, and time ``stats.case_figures`` for a whole street (default window and all time); on PostgreSQL
   print the EXPLAIN ANALYZE plan of the figures' main query.

Run: ``shequ bench cases -- --people 200000 --cases 200000`` or
``python bench/cases.py --database-url postgres://postgres@127.0.0.1:55432/bench_cases``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import math
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from loadgen import post_concurrently  # noqa: E402
from owners_vote import bench_env, free_port, prepare_database  # noqa: E402

DEFAULT_SQLITE = ROOT / "var" / "bench" / "cases.sqlite3"
BATCH = 5000
# state → weight (per mille) of the existing cases
STATE_WEIGHTS = {"closed": 560, "new": 40, "accepted": 50, "in_progress": 150, "escalated": 30, "dispatched": 70,
                 "resolved": 50, "rejected": 30, "merged": 20}
RATING_WEIGHTS = {1: 4, 2: 6, 3: 15, 4: 35, 5: 40}
FALLBACK_PATH = "/bench/cases"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="工单压测：大规模人口与存量工单，经 HTTP 并发上报")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""),
                        help="压测专用数据库（默认 var/bench/ 下新建 SQLite 文件；PostgreSQL 库名须以 bench 开头）")
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--streets", type=int, default=10)
    parser.add_argument("--communities", type=int, default=10, help="每个街道的社区数（≤25）")
    parser.add_argument("--creates", type=int, default=2000, help="经 API 新建的工单数")
    parser.add_argument("--clients", type=int, default=50, help="并发客户端线程数")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn 工作进程数")
    parser.add_argument("--time-limit", type=float, default=300.0, help="上报阶段最长秒数")
    parser.add_argument("--rates", default="20,40,60",
                        help="之后按固定速率（个/秒，逗号分隔）各上报 --rate-creates 个，测开环延迟；空则跳过")
    parser.add_argument("--rate-creates", type=int, default=900, help="每个固定速率阶段的上报数")
    parser.add_argument("--jobs", type=int, default=2, help="批量导入的进程数（仅 PostgreSQL）")
    parser.add_argument("--seed", type=int, default=4)
    return parser.parse_args(argv)


# --- Layout: streets tile the district, communities tile their street, 3 grids per community ---------

STREET_SIZE = 0.05
LON0, LAT0 = 121.30, 31.15


def square(lon: float, lat: float, width: float, height: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[lon, lat], [lon + width, lat], [lon + width, lat + height],
                                                [lon, lat + height], [lon, lat]]]}


def street_origin(i: int) -> tuple[float, float]:
    return LON0 + (i % 5) * STREET_SIZE, LAT0 + (i // 5) * STREET_SIZE


def community_box(i: int, j: int) -> tuple[float, float, float]:
    """(lon, lat, size) of community j of street i (a 5 × 5 layout inside the street)."""
    size = STREET_SIZE / 5
    lon, lat = street_origin(i)
    return lon + (j % 5) * size, lat + (j // 5) * size, size


# --- Building ------------------------------------------------------------------------------------------


def build_places(args: argparse.Namespace) -> dict[str, Any]:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from shequ.accounts import services as accounts
    from shequ.accounts.models import Membership, User
    from shequ.accounts.roles import Role
    from shequ.cases.categories import ensure_categories, ensure_holidays
    from shequ.registry import services
    from shequ.registry.choices import PlaceKind
    from shequ.registry.models import Place

    with transaction.atomic():
        categories = ensure_categories()
        ensure_holidays(2026)
        district = services.place_create(actor=None, parent=None, kind=PlaceKind.DISTRICT, name="长宁区", code="310105")
        streets, communities, grids = [], [], []
        for i in range(args.streets):
            lon, lat = street_origin(i)
            street = services.place_create(actor=None, parent=district, kind=PlaceKind.STREET, name=f"压测{i + 1}街道",
                                           code=f"{i + 1:03d}", geometry=square(lon, lat, STREET_SIZE, STREET_SIZE),
                                           audit=False)
            streets.append(street)
            for j in range(args.communities):
                clon, clat, size = community_box(i, j)
                community = services.place_create(actor=None, parent=street, kind=PlaceKind.COMMUNITY,
                                                  name=f"压测{i + 1}-{j + 1}居委会", code=f"{j + 1:03d}",
                                                  geometry=square(clon, clat, size, size), audit=False)
                community_grids = [
                    services.grid_create(actor=None, community=community, name=f"{community.name}{g + 1}网格",
                                         geometry=square(clon + g * size / 3, clat, size / 3, size), audit=False)
                    for g in range(3)
                ]
                compound = services.place_create(actor=None, parent=community, kind=PlaceKind.COMPOUND,
                                                 name=f"压测{i + 1}-{j + 1}小区", code="001",
                                                 geometry=square(clon + size / 4, clat + size / 4, size / 2, size / 2),
                                                 audit=False)
                communities.append((community, compound, community_grids))
                grids.extend(community_grids)

        # Homes for the registry: 10 buildings per compound, units as needed at 3 people a unit.
        units_per_building = max(1, math.ceil(args.people / 3 / len(communities) / 10))
        rows = []
        for _community, compound, _grids in communities:
            for b in range(10):
                building = Place(kind=PlaceKind.BUILDING, parent=compound, path=f"{compound.path}{b + 1:03d}",
                                 name=f"{b + 1}号楼", floors=30)
                building.set_scope(building.path)
                rows.append(building)
        Place.objects.bulk_create(rows, batch_size=BATCH)
        buildings = list(Place.objects.filter(kind=PlaceKind.BUILDING).order_by("path"))
        rows = []
        for building in buildings:
            for u in range(units_per_building):
                unit = Place(kind=PlaceKind.UNIT, parent=building, path=f"{building.path}{u + 1:04d}",
                             name=f"{building.name}{u + 1:04d}室")
                unit.set_scope(unit.path)
                rows.append(unit)
        Place.objects.bulk_create(rows, batch_size=BATCH)

        # Staff: a community worker in the first community, an officer in the first street, grid workers with tokens.
        unusable = make_password(None)
        worker = User.objects.create(username="bench_worker", password=unusable, display_name="压测社工")
        officer = User.objects.create(username="bench_officer", password=unusable, display_name="压测街道干部")
        Membership.objects.create(user=worker, place=communities[0][0], role=Role.COMMUNITY_WORKER)
        Membership.objects.create(user=officer, place=streets[0], role=Role.STREET_OFFICER)
        reporters = []
        for k in range(args.clients):
            community, _compound, community_grids = communities[k % len(communities)]
            user = User.objects.create(username=f"bench_grid_{k:03d}", password=unusable, display_name=f"网格员{k}")
            Membership.objects.create(user=user, place=community, role=Role.GRID_WORKER)
            _token, raw = accounts.api_token_create(actor=None, user=user, name="bench")
            reporters.append((raw, communities.index((community, _compound, community_grids))))
    leaves = [c for c in categories.values() if c.parent_id is not None]
    return {"district": district, "streets": streets, "communities": communities, "grids": grids, "leaves": leaves,
            "worker": worker, "officer": officer, "reporters": reporters, "units": len(rows)}


PEOPLE_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
PEOPLE_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文云峰辉"
REGIONS = ("310105", "310104", "310101", "320102", "330106", "340104", "420106", "510107")
CHUNK = 50_000


def run_chunks(func: Any, total: int, extra: tuple[Any, ...], jobs: int) -> None:
    """Run ``func(lo, hi, *extra)`` over ``[0, total)`` in chunks, in a pool of ``jobs`` processes (forked,
    each with its own database connection) or inline."""
    from django.db import connections

    chunks = [(lo, min(total, lo + CHUNK), *extra) for lo in range(0, total, CHUNK)]
    if jobs <= 1:
        for chunk in chunks:
            func(*chunk)
        return
    import multiprocessing

    connections.close_all()
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        pool.starmap(func, chunks)


def people_chunk(lo: int, hi: int, seed: int, units: list[tuple[int, str]]) -> None:
    """People ``lo``..``hi``: valid ID numbers and mobiles, Fernet-encrypted (in ``get_prep_value``), blind indexes."""
    from django.db import transaction

    from shequ.core import pii
    from shequ.registry.choices import ResidenceType
    from shequ.registry.models import Person

    rng = random.Random(seed * 1_000_003 + lo)
    base = dt.date(1940, 1, 1)
    for start in range(lo, hi, BATCH):
        batch = []
        for k in range(start, min(hi, start + BATCH)):
            sex = "male" if (k // 500) % 2 else "female"
            birth = base + dt.timedelta(days=(k // 1000) * 7 % 25000 + (k // 1000) // 3571)
            id_number = pii.make_id_number(region_code=REGIONS[(k // 1000) % len(REGIONS)], birth_date=birth,
                                           sequence=k % 500, sex=sex)
            phone = f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"
            unit_pk, unit_path = units[k // 3 % len(units)]
            person = Person(name=rng.choice(PEOPLE_SURNAMES) + rng.choice(PEOPLE_GIVEN) + rng.choice(PEOPLE_GIVEN),
                            id_number=id_number, id_number_digest=pii.blind_index(id_number, purpose="id"), sex=sex,
                            birth_date=birth, phone=phone, phone_digest=pii.blind_index(phone, purpose="phone"),
                            place_id=unit_pk, residence_type=ResidenceType.REGISTERED)
            person.set_scope(unit_path)
            batch.append(person)
        with transaction.atomic():
            Person.objects.bulk_create(batch)


def load_people(n: int, seed: int, jobs: int) -> dict[str, float]:
    """``n`` people by bulk_create, in ``jobs`` processes."""
    from shequ.core import pii
    from shequ.registry.choices import PlaceKind
    from shequ.registry.models import Place

    units = list(Place.objects.filter(kind=PlaceKind.UNIT).order_by("path").values_list("pk", "path"))
    # Fernet cost, measured on its own: the slow part of loading a registry.
    probe = 2000
    started = time.perf_counter()
    for k in range(probe):
        pii.encrypt(f"1381234{k:04d}")
    fernet_us = (time.perf_counter() - started) / probe * 1e6
    started = time.perf_counter()
    run_chunks(people_chunk, n, (seed, units), jobs)
    seconds = time.perf_counter() - started
    return {"people": n, "processes": jobs, "seconds": round(seconds, 1),
            "people/s": round(n / seconds) if seconds else 0, "fernet encrypt µs": round(fernet_us, 1),
            "fernet share of CPU %": round(2 * n * fernet_us / 1e6 / (seconds * jobs) * 100, 1) if seconds else 0}


def cases_chunk(lo: int, hi: int, seed: int, communities: list[tuple[int, str, list[int]]],
                leaves: list[tuple[int, str, int, int]], now: dt.datetime, total: int) -> None:
    """Cases ``lo``..``hi`` over the year before ``now``, in every state (created_at set directly)."""
    from django.db import transaction

    from shequ.cases.models import Case

    rng = random.Random(seed * 1_000_003 + lo + 1)
    states = [s for s, w in STATE_WEIGHTS.items() for _ in range(w)]
    ratings = [r for r, w in RATING_WEIGHTS.items() for _ in range(w)]
    field = Case._meta.get_field("created_at")
    field.auto_now_add = False  # the bench sets past creation times; auto_now_add would overwrite them
    try:
        for start in range(lo, hi, BATCH):
            batch = []
            for k in range(start, min(hi, start + BATCH)):
                community_pk, community_path, grids = communities[rng.randrange(len(communities))]
                category_pk, category_name, accept_hours, resolve_days = rng.choice(leaves)
                state = rng.choice(states)
                # reported in order over the year, as cases arrive: the heap is ordered by time as in production
                created = now - dt.timedelta(days=365) + dt.timedelta(days=365) * ((k + rng.random()) / total)
                accepted = closed = rating = None
                if state not in ("new", "rejected", "merged"):
                    accepted = created + dt.timedelta(minutes=rng.expovariate(1 / 180))
                if state == "closed":
                    closed = created + dt.timedelta(minutes=rng.expovariate(1 / (3 * 1440)))
                    rating = rng.choice(ratings) if rng.random() < 0.6 else None
                due = created + dt.timedelta(days=resolve_days * 7 / 5)
                case = Case(number=f"B{k:011d}", category_id=category_pk, title=f"{category_name}（压测）",
                            description="存量压测工单", source="grid_patrol", state=state, place_id=community_pk,
                            community_id=community_pk, grid_id=rng.choice(grids),
                            accept_due_at=created + dt.timedelta(hours=accept_hours), resolve_due_at=due,
                            accepted_at=accepted, resolved_at=closed, closed_at=closed, rating=rating,
                            overdue=(state not in ("closed", "rejected", "merged") and due < now), created_at=created)
                case.set_scope(community_path)
                batch.append(case)
            with transaction.atomic():
                Case.objects.bulk_create(batch)
    finally:
        field.auto_now_add = True


def load_cases(m: int, seed: int, layout: dict[str, Any], jobs: int) -> dict[str, float]:
    """``m`` existing cases by bulk_create, in ``jobs`` processes, in order of report time (chunk by chunk)."""
    from django.utils import timezone

    communities = [(c.pk, c.path, [g.pk for g in grids]) for c, _compound, grids in layout["communities"]]
    leaves = [(c.pk, c.name, c.accept_hours, c.resolve_days) for c in layout["leaves"]]
    started = time.perf_counter()
    run_chunks(cases_chunk, m, (seed, communities, leaves, timezone.now(), m), jobs)
    seconds = time.perf_counter() - started
    return {"cases": m, "processes": jobs, "seconds": round(seconds, 1),
            "cases/s": round(m / seconds) if seconds else 0}


def analyze() -> None:
    """What autovacuum does to a table after a big load, done at once: statistics, and on PostgreSQL the
    visibility map, without which an index-only scan (the figures' covering index) visits the heap."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) cases_case" if connection.vendor == "postgresql" else "ANALYZE")
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")


# --- A fallback create endpoint when the API is not installed ------------------------------------------

_django_app: Any = None


def application(environ: dict[str, Any], start_response: Any) -> Any:
    """WSGI entry for gunicorn: ``POST /bench/cases`` calls ``services.case_report``; the rest is the app."""
    global _django_app
    if _django_app is None:
        sys.path.insert(0, str(ROOT / "src"))
        from django.core.wsgi import get_wsgi_application

        _django_app = get_wsgi_application()
    if environ.get("PATH_INFO") != FALLBACK_PATH or environ.get("REQUEST_METHOD") != "POST":
        return _django_app(environ, start_response)
    from django.db import close_old_connections

    from shequ.accounts.services import api_token_authenticate
    from shequ.cases import services
    from shequ.cases.models import CaseCategory
    from shequ.core.errors import ShequError

    close_old_connections()
    raw = environ.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ")
    size = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.loads(environ["wsgi.input"].read(size) or b"{}")
    try:
        actor = api_token_authenticate(raw)
        if actor is None:
            status, payload = "401 Unauthorized", {"code": "unauthenticated"}
        else:
            case = services.case_report(actor=actor, category=CaseCategory.objects.get(slug=body["category"]),
                                        title=body["title"], description=body.get("description", ""),
                                        source=body.get("source", "grid_patrol"), lon=body.get("lon"),
                                        lat=body.get("lat"))
            status, payload = "201 Created", {"id": case.pk, "number": case.number}
    except ShequError as exc:
        status, payload = f"{exc.status} Error", {"code": exc.code}
    finally:
        close_old_connections()
    data = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def api_available() -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve("/api/v1/cases")
    except Resolver404:
        return False
    return True


# --- Load ------------------------------------------------------------------------------------------------


def create_cases(port: int, path: str, jobs: list[tuple[str, dict[str, Any]]], clients: int,
                 time_limit: float, rate: float | None = None) -> dict[str, Any]:
    return post_concurrently(
        port=port, path=path, clients=clients, time_limit=time_limit, rate_label="cases/s", rate=rate,
        jobs=[({"Authorization": f"Bearer {token}", "Idempotency-Key": secrets.token_hex(16)}, body)
              for token, body in jobs],
    )


def wait_ready(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/v1/cases")  # 401 without a token: the app answers
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not become ready")


def timed(label: str, func: Any, repeat: int = 3) -> Any:
    """Run ``func`` once to warm up, then ``repeat`` times; print the best and the median."""
    result = func()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = func()
        times.append((time.perf_counter() - started) * 1000)
    print(f"  {label}: best {min(times):.0f} ms, median {statistics.median(times):.0f} ms")
    return result


def measure_reads(layout: dict[str, Any]) -> None:
    from django.db import connection
    from django.test import Client

    from shequ.cases import stats

    for user, path, label in ((layout["worker"], "/cases/inbox/", "community inbox page"),
                              (layout["officer"], "/cases/street/", "street overdue list page"),
                              (layout["officer"], "/cases/figures/", "figures page (30 days)")):
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        status = client.get(path).status_code
        if status != 200:
            print(f"  {label}: GET {path} answered {status} (page not available?)")
            continue
        timed(f"{label} GET {path} (in-process)", lambda c=client, p=path: c.get(p))

    officer = layout["officer"]
    street = layout["streets"][0]
    count = stats.Case.objects.filter(street_code=street.path[:9]).count()
    print(f"  street {street.name}: {count} cases in all")
    figures = timed("case_figures whole street, last 90 days (default)",
                    lambda: stats.case_figures(actor=officer))
    print(f"    → total {figures['total']}, accept median {figures['accept_minutes']['median']} min, "
          f"close median {figures['close_minutes']['median']} min, overdue rate {figures['overdue']['rate']}, "
          f"satisfaction {figures['satisfaction']['mean']}")
    since = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    figures = timed("case_figures whole street, all time, by month",
                    lambda: stats.case_figures(actor=officer, since=since, period="month"))
    print(f"    → total {figures['total']}, {len(figures['by_period'])} months")
    if connection.vendor == "postgresql":
        qs = stats.figures_queryset(actor=officer).filter(created_at__gte=since)
        from django.db.models import Count

        grouped = qs.order_by().values("category_id", "grid_id", "state").annotate(n=Count("id"))
        print("  EXPLAIN ANALYZE (all-time group by category, grid, state):")
        for line in grouped.explain(analyze=True).splitlines():
            print(f"    {line}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url = args.database_url
    if not url:
        DEFAULT_SQLITE.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{DEFAULT_SQLITE}"
    url = prepare_database(url)
    env = bench_env(url)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    # The in-process page timings do not collect static files: plain storage instead of the manifest.
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}

    print(f"database: {connections['default'].vendor} ({url.split('@')[-1]})")
    print(f"sizes: {args.people} people, {args.cases} existing cases, {args.streets} streets × {args.communities} "
          f"communities × 3 grids; bulk-loaded with bulk_create (NOT the services: no audit rows, no timelines)")
    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    print(f"migrate: {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    layout = build_places(args)
    print(f"places, grids, staff: {time.perf_counter() - started:.1f} s ({layout['units']} units)")
    jobs = args.jobs if connections["default"].vendor == "postgresql" else 1  # SQLite has one writer
    print(f"people: {load_people(args.people, args.seed, jobs)}")
    print(f"cases: {load_cases(args.cases, args.seed, layout, jobs)}")
    started = time.perf_counter()
    analyze()
    print(f"vacuum/analyze: {time.perf_counter() - started:.1f} s")

    rng = random.Random(args.seed + 2)
    use_api = api_available()
    path = "/api/v1/cases" if use_api else FALLBACK_PATH

    def make_jobs(count: int) -> list[tuple[str, dict[str, Any]]]:
        jobs = []
        for k in range(count):
            raw, index = layout["reporters"][k % len(layout["reporters"])]
            street_i, community_j = divmod(index, args.communities)
            lon, lat, size = community_box(street_i, community_j)
            category = rng.choice(layout["leaves"])
            jobs.append((raw, {"category": category.slug, "title": f"{category.name}（压测新建）",
                               "description": "压测：经接口上报", "source": "grid_patrol",
                               "lon": round(lon + rng.uniform(0.05, 0.95) * size, 6),
                               "lat": round(lat + rng.uniform(0.05, 0.95) * size, 6)}))
        return jobs

    jobs = make_jobs(args.creates)
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    connections.close_all()

    port = free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(  # noqa: S603 (our own gunicorn from the virtualenv, fixed arguments)
        [str(gunicorn), "--pythonpath", f"{ROOT / 'bench'},{ROOT / 'src'}", "cases:application", "-w",
         str(args.workers), "-b", f"127.0.0.1:{port}", "--timeout", "120", "--log-level", "warning"],
        env=env, cwd=str(ROOT),
    )
    try:
        wait_ready(port, time.monotonic() + 60)
        how = "POST /api/v1/cases (the API)" if use_api else f"POST {FALLBACK_PATH} (bench WSGI view → case_report)"
        print(f"gunicorn: {args.workers} workers on 127.0.0.1:{port}; {len(jobs)} creates via {how} "
              f"from {args.clients} clients, back to back (closed loop: capacity)")
        load = create_cases(port, path, jobs, args.clients, args.time_limit)
        for key, value in load.items():
            print(f"  {key}: {value}")
        for rate in rates:
            print(f"{args.rate_creates} creates from {args.clients} clients at a fixed {rate:g}/s "
                  f"(open loop; latency from when each was due)")
            paced = create_cases(port, path, make_jobs(args.rate_creates), args.clients, args.time_limit, rate=rate)
            for key, value in paced.items():
                print(f"  {key}: {value}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    print("reads:")
    measure_reads(layout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

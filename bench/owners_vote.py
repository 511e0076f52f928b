"""Benchmark: an owners' vote (业主表决) in a compound of 5,000 units, ballots cast over HTTP.

Steps (printed figures, never asserted):
1. a separate database — a fresh SQLite file under ``var/bench/`` by default, or ``--database-url``
   (a PostgreSQL database whose name starts with ``bench``, dropped and created again);
2. migrate, then build one compound of ``--units`` units (100 per building) with owners: some units
   co-owned by two people, some people owning two units, the developer holding the unsold rest; one
   verified resident account and one API token per owner;
3. create and open an owners' vote through the services (the electorate is frozen);
4. start the app with gunicorn on loopback and cast ``--ballots`` ballots through
   ``POST /api/v1/votes/{id}/ballots`` with bearer tokens from ``--threads`` client threads, bounded by
   ``--time-limit`` seconds;
5. stop gunicorn, close the vote (``vote_close`` freezes the tally) and time it, recount and compare.

Run: ``shequ bench vote`` or ``python bench/owners_vote.py [--database-url postgres://…/bench]``.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from loadgen import post_concurrently

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE = ROOT / "var" / "bench" / "owners_vote.sqlite3"
UNITS_PER_BUILDING = 100


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="业主表决压测：5000户小区，经 HTTP 投 4000 张票")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""),
                        help="压测专用数据库（默认 var/bench/ 下新建 SQLite 文件；PostgreSQL 库名须以 bench 开头）")
    parser.add_argument("--units", type=int, default=5000)
    parser.add_argument("--ballots", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=16, help="并发客户端线程数")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn 工作进程数")
    parser.add_argument("--time-limit", type=float, default=600.0, help="投票阶段最长秒数")
    parser.add_argument("--seed", type=int, default=278)
    return parser.parse_args(argv)


# --- The database ------------------------------------------------------------------------------------


def prepare_database(url: str) -> str:
    """A fresh, empty database for the run; returns its URL."""
    if not url:
        DEFAULT_SQLITE.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{DEFAULT_SQLITE}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{DEFAULT_SQLITE}"
    parsed = urlparse(url)
    if parsed.scheme.startswith("postgres"):
        name = parsed.path.lstrip("/")
        if not name.startswith("bench"):
            raise SystemExit("refusing to drop a database whose name does not start with 'bench'")
        import psycopg

        admin = parsed._replace(path="/postgres").geturl().replace("postgresql://", "postgres://", 1)
        admin = admin.replace("postgres://", "postgresql://", 1)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    elif parsed.scheme == "sqlite":
        path = Path(parsed.path)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return url


def open_bench_database(url: str) -> dict[str, str]:
    """Point this process at the benchmark database with production-like settings, set Django up and
    migrate; returns the environment (for the servers the benchmark starts)."""
    env = bench_env(url)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    print(f"database: {connections['default'].vendor} ({url.split('@')[-1]})")
    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    print(f"migrate: {time.perf_counter() - started:.1f} s")
    return env


def bench_env(url: str) -> dict[str, str]:
    """The environment of both the builder and gunicorn: production-like settings on loopback."""
    from cryptography.fernet import Fernet

    env = dict(os.environ)
    env.update({
        "DATABASE_URL": url,
        "SHEQU_DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SHEQU_DATA_KEY": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SHEQU_REQUIRE_2FA": "false",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "shequ.settings",
    })
    return env


# --- Building the compound ---------------------------------------------------------------------------


def build(units: int, seed: int) -> tuple[int, list[tuple[str, int]], dict[str, Any]]:
    """The compound, owners, accounts and tokens, and an open owners' vote; returns (vote id, jobs, facts)."""
    import datetime as dt
    from decimal import Decimal

    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from shequ.accounts.models import ApiToken, Membership, User
    from shequ.accounts.roles import Role
    from shequ.accounts.services import TOKEN_PREFIX, token_digest
    from shequ.deliberation import votes
    from shequ.deliberation.choices import Electorate, Matter, OptionMeaning
    from shequ.registry import services
    from shequ.registry.choices import AreaSource, PlaceKind, ResidenceType
    from shequ.registry.models import Ownership, Person, Place

    rng = random.Random(seed)
    with transaction.atomic():
        district = services.place_create(actor=None, parent=None, kind=PlaceKind.DISTRICT, name="长宁区", code="310105")
        street = services.place_create(actor=None, parent=district, kind=PlaceKind.STREET, name="华阳路街道",
                                       code="001")
        community = services.place_create(actor=None, parent=street, kind=PlaceKind.COMMUNITY, name="秀水居委会",
                                          code="001")
        compound = services.place_create(actor=None, parent=community, kind=PlaceKind.COMPOUND, name="压测小区",
                                         code="001")
        unit_rows: list[Place] = []
        for b in range((units + UNITS_PER_BUILDING - 1) // UNITS_PER_BUILDING):
            building = services.place_create(actor=None, parent=compound, kind=PlaceKind.BUILDING,
                                             name=f"{b + 1}号楼", code=f"{b + 1:03d}", audit=False)
            for r in range(min(UNITS_PER_BUILDING, units - b * UNITS_PER_BUILDING)):
                area = Decimal(rng.randrange(4500, 16000)) / 100
                unit = Place(kind=PlaceKind.UNIT, parent=building, path=f"{building.path}{r + 1:04d}",
                             name=f"{b + 1}号楼{r + 1:04d}室", floor_area=area, area_source=AreaSource.REGISTER)
                unit.set_scope(unit.path)
                unit_rows.append(unit)
        Place.objects.bulk_create(unit_rows, batch_size=1000)
        unit_rows = list(Place.objects.filter(kind=PlaceKind.UNIT, path__startswith=compound.path).order_by("path"))
        developer = services.organisation_create(actor=None, place=community, kind="developer", name="压测置业有限公司")

        # Owners: 4% of units co-owned by two people, 8% held two by one person, 4% unsold (developer).
        n = len(unit_rows)
        co_owned, paired, unsold = n * 4 // 100, n * 8 // 100, n * 4 // 100
        plan: list[tuple[list[int], list[Place]]] = []  # (owner indices, units)
        people_count = 0
        i = 0
        for _ in range(co_owned):
            plan.append(([people_count, people_count + 1], [unit_rows[i]]))
            people_count += 2
            i += 1
        for _ in range(paired // 2):
            plan.append(([people_count], [unit_rows[i], unit_rows[i + 1]]))
            people_count += 1
            i += 2
        while i < n - unsold:
            plan.append(([people_count], [unit_rows[i]]))
            people_count += 1
            i += 1
        homes: dict[int, Place] = {}
        for owners, held in plan:
            for o in owners:
                homes[o] = held[0]
        people = [Person(name=f"业主{k:05d}", place=homes[k], residence_type=ResidenceType.REGISTERED)
                  for k in range(people_count)]
        for person in people:
            person.set_scope(person.place.path)
        Person.objects.bulk_create(people, batch_size=1000)
        people = list(Person.objects.filter(name__startswith="业主").order_by("name"))
        ownerships = [Ownership(unit=u, person=people[o], scope_path=u.path) for owners, held in plan
                      for o in owners for u in held]
        ownerships += [Ownership(unit=u, organisation=developer, scope_path=u.path) for u in unit_rows[n - unsold:]]
        Ownership.objects.bulk_create(ownerships, batch_size=1000)

        unusable = make_password(None)
        users = [User(username=f"bench_owner_{k:05d}", password=unusable, person=p) for k, p in enumerate(people)]
        User.objects.bulk_create(users, batch_size=1000)
        users = list(User.objects.filter(username__startswith="bench_owner_").order_by("username"))
        Membership.objects.bulk_create([Membership(user=u, place=compound, role=Role.RESIDENT) for u in users],
                                       batch_size=1000)
        raws = [TOKEN_PREFIX + secrets.token_urlsafe(32) for _ in users]
        ApiToken.objects.bulk_create([ApiToken(user=u, name="bench", prefix=raw[:10], digest=token_digest(raw))
                                      for u, raw in zip(users, raws, strict=True)], batch_size=1000)

    now = timezone.now()
    started = time.perf_counter()
    vote = votes.vote_create(actor=None, place=compound, title="关于小区加装电梯的表决", electorate=Electorate.OWNERS,
                             matter=Matter.ORDINARY, opens_at=now - dt.timedelta(minutes=1),
                             closes_at=now + dt.timedelta(hours=2))
    vote = votes.vote_open(actor=None, vote=vote)
    open_seconds = time.perf_counter() - started
    options = {o.meaning: o.pk for o in vote.options.all()}
    weights = [(OptionMeaning.YES, 60), (OptionMeaning.NO, 25), (OptionMeaning.ABSTAIN, 15)]
    choices = [m for m, w in weights for _ in range(w)]
    jobs = [(raw, options[rng.choice(choices)]) for raw in raws]
    rng.shuffle(jobs)
    facts = {"units": n, "owners (heads)": vote.electorate_snapshot["total_heads"],
             "total area m²": vote.electorate_snapshot["total_area"]["display"], "owner accounts": len(users),
             "open (freeze electorate + notify) s": round(open_seconds, 3)}
    return vote.pk, jobs, facts


# --- Load ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(port: int, path: str, token: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("gunicorn did not become ready")


def cast_ballots(port: int, vote_id: int, jobs: list[tuple[str, int]], threads: int,
                 time_limit: float) -> dict[str, Any]:
    return post_concurrently(
        port=port, path=f"/api/v1/votes/{vote_id}/ballots", clients=threads, time_limit=time_limit,
        jobs=[({"Authorization": f"Bearer {token}"}, {"option_id": option_id}) for token, option_id in jobs],
        rate_label="ballots/s",
    )


def _share(value: dict[str, str]) -> str:
    return f"{value['exact']} ({value['percent']}%)"


def close_and_tally(vote_id: int) -> dict[str, Any]:
    from shequ.deliberation import votes
    from shequ.deliberation.models import Ballot, Vote

    vote = Vote.objects.get(pk=vote_id)
    started = time.perf_counter()
    vote = votes.vote_close(actor=None, vote=vote)
    close_seconds = time.perf_counter() - started
    started = time.perf_counter()
    recount = votes.vote_recount(vote=vote)
    recount_seconds = time.perf_counter() - started
    result = vote.result
    return {
        "ballot rows": Ballot.objects.filter(vote=vote).count(),
        "close (lock + tally + freeze + notify) s": round(close_seconds, 3),
        "recount from stored ballots s": round(recount_seconds, 3),
        "recount equals frozen result": recount == result,
        "participation area": _share(result["quorum"]["area"]["share"]),
        "participation heads": _share(result["quorum"]["heads"]["share"]),
        "approval area": result["approval"]["area"]["share"]["percent"] + "%",
        "approval heads": result["approval"]["heads"]["share"]["percent"] + "%",
        "carried": result["carried"],
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url = prepare_database(args.database_url)
    env = open_bench_database(url)
    started = time.perf_counter()
    vote_id, jobs, facts = build(args.units, args.seed)
    print(f"build: {time.perf_counter() - started:.1f} s  {facts}")
    jobs = jobs[: args.ballots]
    from django.db import connections

    connections.close_all()

    port = free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(  # noqa: S603 (our own gunicorn from the virtualenv, fixed arguments)
        [str(gunicorn), "shequ.wsgi", "-w", str(args.workers), "-b", f"127.0.0.1:{port}", "--timeout", "120",
         "--log-level", "warning"],
        env=env, cwd=str(ROOT),
    )
    try:
        wait_ready(port, f"/api/v1/votes/{vote_id}", jobs[-1][0] if len(jobs) > 0 else "", time.monotonic() + 60)
        print(f"gunicorn: {args.workers} workers on 127.0.0.1:{port}; {len(jobs)} ballots from {args.threads} threads")
        load = cast_ballots(port, vote_id, jobs, args.threads, args.time_limit)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    for key, value in load.items():
        print(f"  {key}: {value}")
    tallied = close_and_tally(vote_id)
    for key, value in tallied.items():
        print(f"  {key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: ``shequ seed --scale city`` — wall time, people/s and the peak memory of the whole process tree.

Steps (printed figures, never asserted):
1. a fresh database: a new SQLite file under ``var/bench/`` by default, or ``--database-url`` (a PostgreSQL
   database whose name starts with ``bench`` is dropped and created again; any other is used as it is and
   must be empty);
2. ``shequ migrate`` (timed apart);
3. ``shequ seed --scale city`` with the given counts as a subprocess; every 0.2 s the resident set (VmRSS
   of /proc/<pid>/status) of that process and all its descendants is summed; the peak is reported. On
   PostgreSQL the server's own processes are not descendants and are not counted.

Run: ``python bench/seed.py`` (1,000,000 people on SQLite) or
``python bench/seed.py --database-url postgres://postgres@127.0.0.1:55433/bench_seed --people 200000``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from owners_vote import bench_env, prepare_database  # noqa: E402

DEFAULT_SQLITE = ROOT / "var" / "bench" / "seed.sqlite3"
SHEQU = str(Path(sys.executable).with_name("shequ"))
SAMPLE_SECONDS = 0.2


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="城市规模数据生成压测：耗时、人/秒与进程树内存峰值")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""),
                        help="压测数据库（默认 var/bench/seed.sqlite3；PostgreSQL 库名以 bench 开头时先删除重建）")
    parser.add_argument("--districts", nargs="+", default=None)
    parser.add_argument("--streets-per-district", type=int, default=None)
    parser.add_argument("--communities-per-street", type=int, default=20)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=2025)
    return parser.parse_args(argv)


def fresh_database(url: str) -> str:
    if not url:
        DEFAULT_SQLITE.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{DEFAULT_SQLITE}"
    if url.startswith("sqlite") or url.rsplit("/", 1)[-1].startswith("bench"):
        return prepare_database(url)
    return url


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def tree_rss_kib(root: int) -> tuple[int, int]:
    """Summed VmRSS of ``root`` and its descendants, and how many processes that is."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    total, count, todo = 0, 0, [root]
    while todo:
        pid = todo.pop()
        total += rss_kib(pid)
        count += 1
        todo.extend(children.get(pid, []))
    return total, count


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    url = fresh_database(args.database_url)
    env = bench_env(url)
    backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(f"数据库：{backend}（{url}）")
    started = time.monotonic()
    subprocess.run([SHEQU, "migrate", "-v", "0"], env=env, check=True)  # noqa: S603 - our own command
    print(f"迁移：{time.monotonic() - started:.1f}秒")

    command = [SHEQU, "seed", "--scale", "city", "--communities-per-street", str(args.communities_per_street),
               "--people", str(args.people), "--jobs", str(args.jobs), "--seed", str(args.seed)]
    if args.districts:
        command += ["--districts", *args.districts]
    if args.streets_per_district:
        command += ["--streets-per-district", str(args.streets_per_district)]
    print("运行：", " ".join(command[1:]))
    started = time.monotonic()
    process = subprocess.Popen(command, env=env)  # noqa: S603 - our own command
    peak, peak_processes = 0, 0
    while process.poll() is None:
        total, count = tree_rss_kib(process.pid)
        if total > peak:
            peak, peak_processes = total, count
        time.sleep(SAMPLE_SECONDS)
    seconds = time.monotonic() - started
    if process.returncode:
        raise SystemExit(f"shequ seed failed with exit code {process.returncode}")
    print()
    print(f"人数：{args.people:,}  进程数：{args.jobs}")
    print(f"耗时：{seconds:.1f}秒  （{args.people / seconds:,.0f}人/秒）")
    print(f"内存峰值（进程树 VmRSS 合计）：{peak / 1024:,.0f} MiB（{peak_processes}个进程）")
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None
        if path and path.exists():
            print(f"数据库文件：{path.stat().st_size / 2**20:,.0f} MiB")


if __name__ == "__main__":
    main()

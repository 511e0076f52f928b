"""``shequ bench <mode>``: bounded load tests on loopback that print figures (never assert them).

Each mode is a script under ``bench/`` run in its own process, because it works on its own database
(a fresh SQLite file under ``var/bench/`` or ``--database-url``) and must not touch the database this
command was started with. Add a benchmark by adding a script and one line to ``BENCHMARKS``.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

# mode → (script under bench/, help text)
BENCHMARKS: dict[str, tuple[str, str]] = {
    "vote": ("owners_vote.py", "业主表决：5000户小区，4000张选票经 HTTP 并发提交，统计吞吐、延迟与计票耗时"),
    "cases": ("cases.py", "工单：100万人口与存量工单（批量导入），50并发经 API 上报，统计吞吐、延迟与统计耗时"),
    "ledgers": ("ledgers.py", "台账导入：10万行台账导入100万人口的基础数据，对比数据库自身批量写入"),
    "seed": ("seed.py", "城市规模数据：长宁区10个街道、200个居委会、100万人，统计耗时、人/秒与进程树内存峰值"),
    "linkage": ("linkage.py", "人员比对：含已知重复（错字、繁体、数字颠倒、缺项），统计准确率、召回率与每秒比对对数"),
}


class Command(BaseCommand):
    help = "压测（仅本机回环地址，输出数据，不作断言）。示例：shequ bench vote --database-url postgres://…/bench"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("mode", choices=sorted(BENCHMARKS), help="; ".join(f"{k}: {v[1]}" for k, v in
                                                                              BENCHMARKS.items()))
        parser.add_argument("script_args", nargs="*", metavar="ARG",
                            help="传给压测脚本的参数（在 -- 之后），如 -- --ballots 1000")
        parser.add_argument("--database-url", default="", help="压测专用数据库（默认 var/bench/ 下新建 SQLite 文件）")

    def handle(self, *args: Any, **options: Any) -> None:
        script, _help = BENCHMARKS[options["mode"]]
        path = settings.ROOT_DIR / "bench" / script
        if not path.exists():
            raise CommandError(f"benchmark script not found: {path}")
        argv = [sys.executable, str(path), *options["script_args"]]
        if options["database_url"]:
            argv += ["--database-url", options["database_url"]]
        self.stdout.flush()
        completed = subprocess.run(argv, check=False)  # noqa: S603 (our own script with the caller's arguments)
        if completed.returncode:
            raise CommandError(f"benchmark {options['mode']} failed with exit code {completed.returncode}")

"""``shequ seed``: build the demo district 长宁区 with its real streets (see ``shequ.registry.seed``).

``--scale city`` (or any of ``--districts``, ``--streets-per-district``, ``--jobs``) builds a city instead:
one or more real districts of Shanghai with about a million people, in bulk (see ``shequ.registry.scale``).
"""

from __future__ import annotations

import os
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from shequ.core.errors import ValidationFailed
from shequ.registry import scale, seed

CITY_ONLY = ("districts", "streets_per_district", "jobs")


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


def span(value: str) -> tuple[int, int]:
    """``3-8`` or ``5`` → (3, 8) or (5, 5)."""
    low, _sep, high = value.partition("-")
    bounds = (positive(low), positive(high or low))
    if bounds[0] > bounds[1]:
        raise ValueError(value)
    return bounds


class Command(BaseCommand):
    help = ("生成演示数据：长宁区（310105）及其真实街道、虚构的居委会、小区、楼栋、住户和人员；"
            "--scale city 生成城市规模数据（默认长宁区10个街道、200个居委会、100万人）。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=["demo", "city"], default=None,
                            help="demo：演示数据（默认，经业务服务逐条生成）；city：城市规模数据（批量生成）")
        parser.add_argument("--streets", type=positive, default=None,
                            help="街道/镇个数（演示默认3个，最多10个，按区划代码顺序）")
        parser.add_argument("--communities-per-street", type=positive, default=None,
                            help="每个街道的居委会数（演示默认3个，城市默认20个）")
        parser.add_argument("--districts", nargs="+", default=None, metavar="CODE",
                            help="城市规模：上海市的区级区划代码，可多个（默认 310105 长宁区）")
        parser.add_argument("--streets-per-district", type=positive, default=None,
                            help="城市规模：每个区的街道/镇个数（默认该区全部真实街镇）")
        parser.add_argument("--jobs", type=positive, default=None,
                            help="城市规模：生成进程数（默认CPU核数）")
        parser.add_argument("--compounds-per-community", type=span, default=(2, 4), help="每个居委会的小区数，如 2-4")
        parser.add_argument("--buildings-per-compound", type=span, default=(3, 8), help="每个小区的楼栋数，如 3-8")
        parser.add_argument("--units-per-floor", type=positive, default=None,
                            help="每层户数（默认1，或按 --people 推算）")
        parser.add_argument("--people", type=positive, default=None,
                            help="总人数（演示为大致人数；城市规模默认1000000，精确）")
        parser.add_argument("--people-per-unit", type=float, default=2.6, help="平均每户人数（1–5）")
        parser.add_argument("--seed", type=int, default=2025, help="随机种子，相同种子生成相同数据")
        parser.add_argument("--reset", action="store_true", help="先清空整个数据库（flush）再生成")

    def handle(self, *args: Any, **options: Any) -> None:
        city_only = [name for name in CITY_ONLY if options[name] is not None]
        if options["scale"] == "demo" and city_only:
            flags = "、".join("--" + name.replace("_", "-") for name in city_only)
            raise CommandError(f"{flags} 仅用于 --scale city。")
        if options["scale"] == "city" or (options["scale"] is None and city_only):
            self.handle_city(options)
            return
        options["streets"] = options["streets"] or 3
        options["communities_per_street"] = options["communities_per_street"] or 3
        if options["reset"]:
            call_command("flush", interactive=False, verbosity=0)
            self.stdout.write("已清空数据库。")
        elif seed.district_exists():
            raise CommandError(str(seed.AlreadySeeded()))
        if not 1 <= options["people_per_unit"] <= 5:
            raise CommandError("--people-per-unit 应在1到5之间。")
        opts = seed.SeedOptions(
            streets=options["streets"],
            communities_per_street=options["communities_per_street"],
            compounds=options["compounds_per_community"],
            buildings=options["buildings_per_compound"],
            units_per_floor=options["units_per_floor"],
            people=options["people"],
            people_per_unit=options["people_per_unit"],
            seed=options["seed"],
        )
        started = time.monotonic()
        verbose = options["verbosity"] >= 1
        try:
            report = seed.seed_district(opts, progress=self.stdout.write if verbose else None)
        except seed.AlreadySeeded as exc:
            raise CommandError(str(exc)) from exc
        except ValidationFailed as exc:  # e.g. a demo username already taken by a real account
            raise CommandError(f"生成失败：{exc.errors}") from exc
        if not verbose:
            return
        counts = report.counts
        self.stdout.write(self.style.SUCCESS(
            f"已生成{report.district.name}：{counts['street']}个街镇、{counts['community']}个居委会、"
            f"{counts['compound']}个小区、{counts['building']}栋楼、{counts['unit']}套房屋、"
            f"{counts['household']}户、{counts['person']}人、{counts['grid']}个网格、{counts['facility']}处设施、"
            f"{counts['organisation']}个组织（{time.monotonic() - started:.1f}秒）。"
        ))
        for line in seed.format_accounts(report.accounts, report.password):
            self.stdout.write(line)

    def handle_city(self, options: dict[str, Any]) -> None:
        verbose = options["verbosity"] >= 1
        if options["reset"]:
            call_command("flush", interactive=False, verbosity=0)
            if verbose:
                self.stdout.write("已清空数据库。")
        opts = scale.CityOptions(
            districts=tuple(dict.fromkeys(options["districts"] or [seed.DISTRICT_CODE])),
            streets_per_district=options["streets_per_district"] or options["streets"],
            communities_per_street=options["communities_per_street"] or 20,
            people=options["people"] or 1_000_000,
            jobs=options["jobs"] or os.cpu_count() or 1,
            seed=options["seed"],
            people_per_unit=options["people_per_unit"],
        )
        if not 1 <= opts.people_per_unit <= 5:
            raise CommandError("--people-per-unit 应在1到5之间。")
        try:
            report = scale.seed_city(opts, progress=self.stdout.write if verbose else None)
        except scale.CityError as exc:
            raise CommandError(str(exc)) from exc
        except ValidationFailed as exc:  # e.g. a demo username already taken by a real account
            raise CommandError(f"生成失败：{exc.errors}") from exc
        if not verbose:
            return
        counts = report.counts
        names = "、".join(d.name for d in report.districts)
        self.stdout.write(self.style.SUCCESS(
            f"已生成{names}：{counts['street']}个街镇、{counts['community']}个居委会、{counts['compound']}个小区、"
            f"{counts['building']}栋楼、{counts['unit']}套房屋、{counts['household']}户、{counts['person']}人、"
            f"{counts['person_tag']}个关爱标签、{counts['grid']}个网格（{report.seconds:.1f}秒，"
            f"{counts['person'] / max(report.seconds, 1e-9):,.0f}人/秒）。"
        ))
        self.stdout.write(scale.SKIPPED_AT_CITY_SCALE)
        for line in seed.format_accounts(report.accounts, report.password):
            self.stdout.write(line)

"""``shequ link --place CODE [--user USERNAME]``: run record linkage over a place and print the counts."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shequ.accounts.models import User
from shequ.core.errors import ShequError
from shequ.ledgers.linkage import link_run
from shequ.registry.models import Place


class Command(BaseCommand):
    help = "人员比对：在指定区域（按编码）内查找疑似重复的人员记录，自动合并把握大的，其余列入人工核对。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--place", required=True, help="区域编码，如社区的12位区划代码")
        parser.add_argument("--user", default="", help="以该用户身份运行（默认为平台自身）")

    def handle(self, *args: Any, **options: Any) -> None:
        place = Place.objects.filter(path=options["place"]).first()
        if place is None:
            raise CommandError(f"没有编码为 {options['place']} 的区域。")
        actor = None
        if options["user"]:
            actor = User.objects.filter(username=options["user"], is_active=True).first()
            if actor is None:
                raise CommandError(f"没有用户 {options['user']}。")
        try:
            run = link_run(actor=actor, place=place, progress=lambda message: self.stderr.write(message))
        except ShequError as exc:
            raise CommandError(str(exc.message)) from exc
        if run.failure:
            raise CommandError(run.failure)
        self.stdout.write(
            f"{place.name}：人数：{run.records}，比对对数：{run.pairs_compared}，疑似重复：{run.candidates}，"
            f"自动合并：{run.auto_merged}，待人工核对：{run.queued}"
        )

"""``shequ import people FILE --community CODE``: import a ledger (台账) from the command line.

Without ``--user`` the import runs as the platform itself (no actor in the audit row); with it, the
user must hold "维护基础数据" over the community. ``--check`` only checks. Exit code 1 when the
ledger is rejected, fails or (with ``--check``) has errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shequ.core.errors import ShequError, ValidationFailed
from shequ.ledgers import columns as cols
from shequ.ledgers import importer
from shequ.ledgers.choices import ImportMode, ImportStatus
from shequ.ledgers.models import ImportRowError
from shequ.registry.choices import BusinessLine, PlaceKind
from shequ.registry.models import Place

SHOWN_ERRORS = 20


def mapping_pair(value: str) -> tuple[str, str]:
    header, sep, field = value.partition("=")
    if not sep or not header.strip():
        raise ValueError(value)
    return header.strip(), field.strip()


class Command(BaseCommand):
    help = "导入台账：shequ import people 文件.xlsx --community 社区编码"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["people"], help="导入的内容（目前只有 people：人员台账）")
        parser.add_argument("file", help="台账文件（.xlsx 或 .csv）")
        parser.add_argument("--community", required=True, help="居村（社区）的12位编码")
        parser.add_argument("--source", default=BusinessLine.COMMUNITY, choices=BusinessLine.values, help="来源条线")
        parser.add_argument("--mode", default=ImportMode.ALL_OR_NOTHING, choices=ImportMode.values,
                            help="all_or_nothing：全部正确才导入；good_rows：只导入正确的行")
        parser.add_argument("--map", dest="mapping", action="append", type=mapping_pair, default=[],
                            metavar="表头=字段",
                            help=f"指定列对应（可多次），字段：{', '.join(cols.FIELDS)}；字段留空表示忽略该列")
        parser.add_argument("--sheet", default="", help="工作表名（默认第一个）")
        parser.add_argument("--check", action="store_true", help="只检查，不导入")
        parser.add_argument("--user", default="", help="以该用户身份导入（需有该社区的维护权限）")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"找不到文件：{path}")
        community = Place.objects.filter(path=options["community"], kind=PlaceKind.COMMUNITY).first()
        if community is None:
            raise CommandError(f"找不到编码为 {options['community']} 的居村。")
        actor = self._actor(options["user"])
        try:
            job = importer.import_job_create(actor=actor, community=community, file=path, filename=path.name,
                                             source=options["source"], sheet=options["sheet"])
            mapping = {**job.mapping, **dict(options["mapping"])}
            job = importer.import_job_map(actor=actor, job=job, mapping=mapping)
            if options["check"]:
                job = importer.import_job_check(actor=actor, job=job)
            else:
                job = importer.import_job_run(actor=actor, job=job, mode=options["mode"])
        except ValidationFailed as exc:
            raise CommandError("；".join(m for ms in exc.errors.values() for m in ms) or str(exc.message)) from exc
        except ShequError as exc:
            raise CommandError(str(exc.message)) from exc
        self._report(job, checking=options["check"])
        if job.status in (ImportStatus.REJECTED, ImportStatus.FAILED) or (options["check"] and job.error_rows):
            raise SystemExit(1)

    def _actor(self, username: str) -> Any:
        if not username:
            return None
        from shequ.accounts.models import User

        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"找不到用户 {username}。")
        return user

    def _report(self, job: Any, *, checking: bool) -> None:
        write = self.stdout.write
        write(f"台账导入#{job.pk}：{job.filename}（{job.get_source_display()}）")
        write(f"状态：{job.get_status_display()}")
        write(f"数据行 {job.total_rows}，错误行 {job.error_rows}")
        verb = "将" if checking else ""
        write(f"{verb}新增 {job.created_count} 人，{verb}补充 {job.enriched_count} 人，"
              f"无变化 {job.unchanged_count} 人，信息冲突 {job.conflict_count} 项")
        if job.failure:
            write(job.failure)
        errors = ImportRowError.objects.filter(job=job).order_by("row", "id")
        total = errors.count()
        for error in errors[:SHOWN_ERRORS]:
            where = f"{error.column}列（{error.header}）" if error.column else ""
            write(f"第{error.row}行 {where}：{error.message}")
        if total > SHOWN_ERRORS:
            write(f"……共 {total} 个问题，其余见导入页面的错误表。")

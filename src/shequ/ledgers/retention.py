"""Retention of ledger data: uploaded ledger files, and duplicates merged into a person who was anonymised."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from shequ.core.retention import RetentionPolicy, register
from shequ.ledgers.importer import FILE_RETENTION, import_files_purge
from shequ.ledgers.models import PersonMerge
from shequ.registry.retention import anonymise_person


def purge_import_files(cutoff: dt.datetime) -> int:
    return import_files_purge(older_than=timezone.now() - cutoff)


def anonymise_merged_duplicates(cutoff: dt.datetime) -> int:
    """A duplicate folded into a person follows that person: when the survivor is anonymised, so is the
    duplicate, and the merge's snapshot (the survivor's old values) is cleared — the merge can no longer be undone."""
    count = 0
    pending = PersonMerge.objects.filter(survivor__anonymised_at__isnull=False).exclude(snapshot="")
    for merge in list(pending.select_related("merged")):
        with transaction.atomic():
            if merge.merged.anonymised_at is None:
                anonymise_person(merge.merged_id, reason="所并入的人员已匿名化，重复记录一并匿名化")
            PersonMerge.objects.filter(pk=merge.pk).update(snapshot="")
        count += 1
    return count


register(RetentionPolicy(
    name="ledgers.import_files",
    description="上传的台账文件（加密保存）：7天后删除，导入结果与错误位置保留",
    period=FILE_RETENTION,
    purge=purge_import_files,
))
register(RetentionPolicy(
    name="ledgers.merged_duplicates",
    description="已并入他人的重复记录：随保留的记录一并匿名化，并清除合并快照",
    period=dt.timedelta(0),
    purge=anonymise_merged_duplicates,
))

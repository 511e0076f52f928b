"""Retention of registry records: people who moved out or died are anonymised five years later."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from shequ.core.audit import audit_record
from shequ.core.models import AuditAction
from shequ.core.retention import RetentionPolicy, register
from shequ.registry.choices import PersonStatus
from shequ.registry.models import Household, Person, PersonFact, PersonTag

ANONYMOUS_NAME = "已匿名"
PERSON_RETENTION = dt.timedelta(days=5 * 365)


def anonymise_departed_people(cutoff: dt.datetime) -> int:
    """Strip identifying data from people whose move-out or death is older than the cut-off.

    The row stays so that counts by year of birth, sex and residence type over past years do not
    change; the name, ID number, phone, notes, facts and care tags go, and the birth date keeps only
    its year.
    """
    expired = Person.objects.filter(
        status__in=[PersonStatus.MOVED_OUT, PersonStatus.DECEASED],
        status_changed_at__lt=cutoff,
        anonymised_at__isnull=True,
    ).values_list("pk", flat=True)
    count = 0
    for pk in list(expired.iterator(chunk_size=500)):
        anonymise_person(pk, reason="保存期限届满，自动匿名化")
        count += 1
    return count


def anonymise_person(pk: int, *, reason: str) -> None:
    """Strip one person's identifying data (see ``anonymise_departed_people``), audited."""
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=pk)
        PersonFact.objects.filter(person=person).delete()
        PersonTag.objects.filter(person=person).delete()
        Household.objects.filter(head=person).update(head=None)
        person.name = ANONYMOUS_NAME
        person.id_number = ""
        person.id_number_digest = None
        person.phone = ""
        person.phone_digest = ""
        person.notes = ""
        person.household = None
        person.relation = ""
        if person.birth_date:
            person.birth_date = person.birth_date.replace(month=1, day=1)
        person.anonymised_at = timezone.now()
        person.save()
        audit_record(actor=None, action=AuditAction.UPDATE, obj=person, reason=reason, changes={"anonymised": True})


register(
    RetentionPolicy(
        name="registry.departed_people",
        description="迁出或死亡满5年的人员：删除姓名、证件号、电话、标签与来源记录，出生日期只保留年份",
        period=PERSON_RETENTION,
        purge=anonymise_departed_people,
    )
)

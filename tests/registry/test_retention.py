"""Retention (QUALITY §8): departed people are anonymised after five years; residents export their own data."""

import datetime as dt
import json

from django.utils import timezone

from shequ.core.models import AuditAction, AuditEntry
from shequ.core.retention import purge_expired
from shequ.registry import services
from shequ.registry.models import Person, PersonFact, PersonTag
from shequ.registry.retention import ANONYMOUS_NAME, PERSON_RETENTION
from tests import factories as f


def _depart(actors, person, *, years_ago):
    services.person_update(actor=actors.worker_a1, person=person, status="moved_out")
    Person.objects.filter(pk=person.pk).update(status_changed_at=timezone.now() - dt.timedelta(days=365 * years_ago))


def test_people_departed_over_five_years_ago_are_anonymised(actors, tree):
    old = f.person(
        tree.a1_unit,
        name="王老五",
        id_number=f.id_number(birth=dt.date(1940, 6, 15)),
        phone="13812345678",
        tags=["disabled"],
    )
    recent = f.person(tree.a1_unit2, name="李小四", phone="13987654321")
    staying = f.person(tree.a1_unit2, name="赵长住")
    _depart(actors, old, years_ago=6)
    _depart(actors, recent, years_ago=4)

    assert purge_expired()["registry.departed_people"] == 1

    old.refresh_from_db()
    assert (old.name, old.id_number, old.phone, old.id_number_digest) == (ANONYMOUS_NAME, "", "", None)
    assert old.birth_date == dt.date(1940, 1, 1) and old.anonymised_at
    assert not PersonFact.objects.filter(person=old).exists() and not PersonTag.objects.filter(person=old).exists()
    recent.refresh_from_db()
    staying.refresh_from_db()
    assert recent.name == "李小四" and staying.name == "赵长住"
    assert AuditEntry.objects.filter(object_id=str(old.pk), reason__contains="匿名化").exists()
    assert purge_expired()["registry.departed_people"] == 0  # idempotent


def test_the_status_change_starts_the_clock(actors, tree):
    p = f.person(tree.a1_unit)
    before = timezone.now()
    services.person_update(actor=actors.worker_a1, person=p, status="deceased")
    p.refresh_from_db()
    assert p.status_changed_at >= before
    assert dt.timedelta(days=5 * 365) == PERSON_RETENTION


def test_a_resident_downloads_their_own_data_and_it_is_audited(actors, tree, client):
    me = f.person(tree.a1_unit, name="陈居民", id_number=f.id_number(), phone="13812345678")
    actors.resident_a1.person = me
    actors.resident_a1.save()
    client.force_login(actors.resident_a1)
    response = client.get("/registry/me/data.json")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    data = json.loads(response.content)
    assert data["name"] == "陈居民" and data["phone"] == "13812345678" and data["id_number"] == me.id_number
    assert AuditEntry.objects.filter(action=AuditAction.EXPORT, object_id=str(me.pk), actor=actors.resident_a1).exists()


def test_a_user_without_a_linked_person_gets_a_clear_404(actors, client):
    client.force_login(actors.worker_a1)
    response = client.get("/registry/me/data.json")
    assert response.status_code == 404
    assert str(services.NO_LINKED_PERSON) in response.content.decode()

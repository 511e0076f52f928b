"""People pages: scope, masking, reveal with reason and audit, forms with errors next to fields."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shequ.core.errors import CONFLICT
from shequ.core.models import AuditAction, AuditEntry
from shequ.core.pii import ID_NUMBER_BIRTH_MISMATCH
from shequ.registry import services
from shequ.registry.models import Person
from shequ.registry.services import ID_NUMBER_TAKEN, REVEAL_REASON_REQUIRED
from tests import factories as f

BACKEND = "django.contrib.auth.backends.ModelBackend"
PHONE = "13812345678"


@pytest.fixture
def as_user(client):
    def sign_in(user):  # type: ignore[no-untyped-def]
        client.force_login(user, backend=BACKEND)
        return client
    return sign_in


@pytest.fixture
def resident(tree):
    return f.person(tree.a1_unit, name="张秀英", id_number=f.id_number(), phone=PHONE,
                    tags=["living_alone", "disabled"])


def _html(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


# --- List ---------------------------------------------------------------------------------------------


def test_list_shows_masked_rows_in_scope_only(as_user, actors, tree, resident):
    f.person(tree.b1_unit, name="李四海", phone="13900001111")
    html = _html(as_user(actors.officer_a).get(reverse("registry:person_list")))
    assert "张**" in html and "138****5678" in html and "华阳路街道秀水居委会秀水小区1号楼" in html
    assert "独居老人" in html and "残疾" in html
    assert "李**" not in html  # street B
    assert "张秀英" not in html and PHONE not in html and resident.id_number not in html
    assert "0101室" not in html  # address stops at the building


def test_list_filters(as_user, actors, tree, resident):
    f.person(tree.a2_unit, name="王五", sex="male", residence_type="floating")
    client = as_user(actors.officer_a)
    url = reverse("registry:person_list")

    def names(**params):  # type: ignore[no-untyped-def]
        return sorted(r["person"].name for r in client.get(url, params).context["rows"])

    assert names() == ["张秀英", "王五"]
    assert names(q="秀") == ["张秀英"]
    assert names(tag="disabled") == ["张秀英"]
    assert names(residence_type="floating") == ["王五"]
    assert names(sex="male") == ["王五"]
    assert names(compound=tree.a2_compound.pk) == ["王五"]
    assert names(within=tree.a1.pk) == ["张秀英"]
    assert names(age_band="60-79", within=tree.a1.pk) == (["张秀英"] if resident.age() < 80 else [])


def test_list_within_other_street_is_404(as_user, actors, tree):
    response = as_user(actors.officer_a).get(reverse("registry:person_list"), {"within": tree.b1.pk})
    assert response.status_code == 404


def test_list_query_count_does_not_grow_with_rows(as_user, actors, tree):
    client = as_user(actors.officer_a)
    url = reverse("registry:person_list")
    f.person(tree.a1_unit, name="甲一", tags=["living_alone"])
    client.get(url)  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i, unit in enumerate([tree.a1_unit, tree.a1_unit2, tree.a2_unit, tree.a2_unit2] * 3):
        f.person(unit, name=f"乙{'一二三四五六七八九十壹贰'[i]}", tags=["oldest_old", "disabled"])
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(response.context["rows"]) == 13
    assert len(many) == len(few)


def test_list_paginates_by_50(as_user, actors, tree):
    for i in range(51):
        name = "钱" + "一二三四五六七八九十"[i % 10] * (1 + i // 10)
        services.person_create(actor=None, place=tree.a1_unit, name=name, residence_type="registered", audit=False)
    client = as_user(actors.worker_a1)
    assert len(client.get(reverse("registry:person_list")).context["rows"]) == 50
    assert len(client.get(reverse("registry:person_list"), {"page": 2}).context["rows"]) == 1


# --- Detail and reveal ----------------------------------------------------------------------------------


def test_detail_is_masked_and_shows_provenance(as_user, actors, resident):
    response = as_user(actors.worker_a1).get(reverse("registry:person_detail", args=[resident.pk]))
    html = _html(response)
    assert response.status_code == 200
    assert "张**" in html and "138****5678" in html and resident.masked_id_number in html
    assert PHONE not in html and resident.id_number not in html and "张秀英" not in html
    assert resident.birth_date.isoformat() not in html and "1950" not in html
    assert "社区采集" in html and "数据来源" in html
    assert html.count('name="reason"') == 3  # a reveal form for name, ID number and phone


@pytest.mark.parametrize("who", ["officer_b", "worker_a2", "worker_b1", "resident_a1"])
def test_detail_out_of_scope_is_404(as_user, actors, resident, who):
    client = as_user(getattr(actors, who))
    assert client.get(reverse("registry:person_detail", args=[resident.pk])).status_code == 404
    assert client.get(reverse("registry:person_edit", args=[resident.pk])).status_code == 404
    response = client.post(reverse("registry:person_reveal", args=[resident.pk]),
                           {"field": "phone", "reason": "电话回访核实"})
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_reveal_returns_value_and_writes_audit_row(as_user, actors, resident):
    client = as_user(actors.worker_a1)
    response = client.post(reverse("registry:person_reveal", args=[resident.pk]),
                           {"field": "phone", "reason": "电话回访核实"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert PHONE in _html(response)
    assert "no-store" in response["Cache-Control"]
    entry = AuditEntry.objects.get(action=AuditAction.REVEAL)
    assert (entry.actor, entry.field, entry.reason, entry.object_id) == (actors.worker_a1, "phone", "电话回访核实",
                                                                         str(resident.pk))


def test_reveal_without_reason_shows_the_service_message(as_user, actors, resident):
    response = as_user(actors.worker_a1).post(reverse("registry:person_reveal", args=[resident.pk]),
                                              {"field": "id_number", "reason": "看"})
    html = _html(response)
    assert str(REVEAL_REASON_REQUIRED) in html
    assert resident.id_number not in html
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_reveal_needs_post(as_user, actors, resident):
    assert as_user(actors.worker_a1).get(reverse("registry:person_reveal", args=[resident.pk])).status_code == 405


# --- Create and edit ------------------------------------------------------------------------------------


def test_create_registers_person_with_tags(as_user, actors, tree):
    client = as_user(actors.worker_a1)
    url = reverse("registry:person_create") + f"?place={tree.a1_unit2.pk}"
    assert client.get(url).status_code == 200
    id_number = f.id_number(birth=dt.date(1940, 1, 2), sex="male")
    response = client.post(url, {"name": "孙大海", "id_number": id_number, "phone": "13700001234",
                                 "residence_type": "registered", "tags": ["oldest_old"]})
    person = Person.objects.get(name="孙大海")
    assert response.status_code == 302 and response["Location"] == reverse("registry:person_detail", args=[person.pk])
    assert person.place == tree.a1_unit2 and person.sex == "male" and person.birth_date == dt.date(1940, 1, 2)
    assert person.tags.count() == 1


def test_create_errors_show_next_to_fields(as_user, actors, tree, resident):
    client = as_user(actors.worker_a1)
    url = reverse("registry:person_create") + f"?place={tree.a1_unit2.pk}"
    response = client.post(url, {"name": "周一", "id_number": resident.id_number, "residence_type": "registered"})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["id_number"] == [str(ID_NUMBER_TAKEN)]
    html = _html(response)
    assert re.search(r'field-id_number has-error.*?<ul class="errorlist" id="id_number-errors"><li>'
                     + re.escape(str(ID_NUMBER_TAKEN)), html, re.S)


def test_create_outside_scope_is_404_and_grid_worker_403(as_user, actors, tree):
    url = reverse("registry:person_create")
    assert as_user(actors.worker_a1).get(url, {"place": tree.b1_unit.pk}).status_code == 404
    assert as_user(actors.grid_a1).get(url, {"place": tree.a1_unit.pk}).status_code == 403


def test_edit_never_prefills_secrets(as_user, actors, resident):
    html = _html(as_user(actors.worker_a1).get(reverse("registry:person_edit", args=[resident.pk])))
    assert PHONE not in html and resident.id_number not in html and "张秀英" not in html
    assert resident.birth_date.isoformat() not in html
    assert 'placeholder="138****5678"' in html


def test_edit_blank_secrets_are_unchanged(as_user, actors, resident):
    client = as_user(actors.worker_a1)
    response = client.post(reverse("registry:person_edit", args=[resident.pk]), {
        "residence_type": "permanent", "status": "active", "sex": resident.sex, "notes": "行动不便",
        "tags": ["living_alone"], "version": resident.version,
    })
    assert response.status_code == 302
    resident.refresh_from_db()
    assert (resident.name, resident.phone, resident.residence_type, resident.notes) == ("张秀英", PHONE, "permanent",
                                                                                      "行动不便")
    assert resident.tags.count() == 1


def test_edit_error_next_to_birth_date(as_user, actors, resident):
    response = as_user(actors.worker_a1).post(reverse("registry:person_edit", args=[resident.pk]), {
        "residence_type": "registered", "status": "active", "birth_date": "1990-01-01", "version": resident.version,
    })
    assert response.context["form"].errors["birth_date"] == [str(ID_NUMBER_BIRTH_MISMATCH)]
    assert 'id="birth_date-errors"' in _html(response)


def test_edit_stale_version_shows_conflict(as_user, actors, resident):
    services.person_update(actor=None, person=resident, notes="他人先改")
    response = as_user(actors.worker_a1).post(reverse("registry:person_edit", args=[resident.pk]), {
        "residence_type": "registered", "status": "active", "notes": "我的修改", "version": 1,
    })
    assert response.status_code == 200
    assert str(CONFLICT) in _html(response)
    resident.refresh_from_db()
    assert resident.notes == "他人先改"


def test_create_requires_name(as_user, actors, tree):
    response = as_user(actors.worker_a1).post(
        reverse("registry:person_create") + f"?place={tree.a1_unit.pk}", {"name": "  ", "residence_type": "registered"}
    )
    assert response.context["form"].errors["name"]
    assert 'id="name-errors"' in _html(response)


def test_a_worker_opens_a_new_household_with_its_head_from_the_form(client, actors, tree):
    from shequ.registry.forms import NEW_HOUSEHOLD
    from shequ.registry.models import Household, Person

    client.force_login(actors.worker_a1)
    number = f.id_number()
    response = client.post(f"/registry/people/new/?place={tree.a1_unit2.pk}", {
        "name": "周新户", "id_number": number, "residence_type": "registered", "household": str(NEW_HOUSEHOLD),
        "relation": "",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    person = Person.objects.get(name="周新户")
    household = Household.objects.get(unit=tree.a1_unit2)
    assert (person.household, person.relation, household.head) == (household, "head", person)


def test_a_bad_id_number_opens_no_household(client, actors, tree):
    from shequ.core import pii
    from shequ.registry.forms import NEW_HOUSEHOLD
    from shequ.registry.models import Household

    client.force_login(actors.worker_a1)
    response = client.post(f"/registry/people/new/?place={tree.a1_unit2.pk}", {
        "name": "周新户", "id_number": "110105194912310021", "residence_type": "registered",
        "household": str(NEW_HOUSEHOLD),
    })
    assert response.status_code == 200
    assert str(pii.ID_NUMBER_CHECKSUM) in response.content.decode()
    assert not Household.objects.filter(unit=tree.a1_unit2).exists()

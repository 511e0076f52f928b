"""Organisation pages: scope, permission, service errors next to their field, audit, masking."""

from __future__ import annotations

import pytest
from django.urls import reverse

from shequ.core.models import AuditEntry
from shequ.registry import services
from shequ.registry.choices import OrganisationKind
from shequ.registry.models import Organisation
from shequ.registry.validators import USCC_CHECKSUM, uscc_check_char

PHONE = "13912345678"


def uscc(body: str = "91310105MA1FL0000") -> str:
    return body + uscc_check_char(body)


@pytest.fixture
def org(tree):
    return services.organisation_create(
        actor=None, place=tree.a1, kind=OrganisationKind.SOCIAL_ORGANISATION, name="秀水睦邻中心",
        registration_number=uscc(), contact_name="王老师", contact_phone=PHONE,
    )


def test_list_shows_only_organisations_in_scope(client, actors, tree, org):
    # given an organisation in community B1 as well
    services.organisation_create(actor=None, place=tree.b1, kind=OrganisationKind.PARTY_ORGANISATION, name="华山党支部")
    # when the A1 worker opens the list
    client.force_login(actors.worker_a1)
    html = client.get(reverse("registry:organisation_list")).content.decode()
    # then only A1's organisation is listed
    assert "秀水睦邻中心" in html and "华山党支部" not in html


def test_list_filters_by_kind(client, actors, tree, org):
    services.organisation_create(actor=None, place=tree.a1, kind=OrganisationKind.PARTY_ORGANISATION, name="秀水党支部")
    client.force_login(actors.worker_a1)
    html = client.get(reverse("registry:organisation_list"), {"kind": "party_organisation"}).content.decode()
    assert "秀水党支部" in html and "秀水睦邻中心" not in html


def test_detail_masks_the_contact_phone(client, actors, org):
    client.force_login(actors.worker_a1)
    response = client.get(reverse("registry:organisation_detail", args=[org.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "139****5678" in html and PHONE not in html


@pytest.mark.parametrize("who", ["worker_b1", "officer_b", "worker_a2"])
def test_detail_and_edit_of_another_area_answer_404(client, actors, org, who):
    client.force_login(getattr(actors, who))
    assert client.get(reverse("registry:organisation_detail", args=[org.pk])).status_code == 404
    assert client.get(reverse("registry:organisation_edit", args=[org.pk])).status_code == 404
    assert client.post(reverse("registry:organisation_edit", args=[org.pk]), {"name": "x"}).status_code == 404


def test_create_writes_the_organisation_and_an_audit_row(client, actors, tree):
    client.force_login(actors.worker_a1)
    response = client.post(reverse("registry:organisation_create"), {
        "kind": OrganisationKind.RESIDENT_UNIT, "name": "长宁区图书馆",
        "registration_number": uscc("12310105MA1FL0001"),
        "place": tree.a1.pk, "contact_phone": "13800001111", "active": "on",
    })
    org = Organisation.objects.get(name="长宁区图书馆")
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:organisation_detail", args=[org.pk])
    assert AuditEntry.objects.filter(action="create", object_type="registry.organisation", object_id=str(org.pk),
                                     actor=actors.worker_a1).exists()


def test_create_shows_the_checksum_message_next_to_the_code_field(client, actors, tree):
    good = uscc()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    client.force_login(actors.worker_a1)
    response = client.post(reverse("registry:organisation_create"), {
        "kind": OrganisationKind.SOCIAL_ORGANISATION, "name": "错误代码组织", "registration_number": bad,
        "place": tree.a1.pk,
    })
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["registration_number"] == [str(USCC_CHECKSUM)]
    assert 'id="id_registration_number-errors"' in response.content.decode()
    assert not Organisation.objects.filter(name="错误代码组织").exists()


def test_create_offers_only_places_in_scope(client, actors, tree):
    client.force_login(actors.worker_a1)
    form = client.get(reverse("registry:organisation_create")).context["form"]
    assert list(form.fields["place"].queryset) == [tree.a1]
    # a forged place outside the scope is refused as an invalid choice
    response = client.post(reverse("registry:organisation_create"), {
        "kind": OrganisationKind.PARTY_ORGANISATION, "name": "越界", "place": tree.b1.pk})
    assert "place" in response.context["form"].errors
    assert not Organisation.objects.filter(name="越界").exists()


def test_grid_worker_may_read_but_not_create(client, actors, org):
    client.force_login(actors.grid_a1)
    assert client.get(reverse("registry:organisation_detail", args=[org.pk])).status_code == 200
    assert client.get(reverse("registry:organisation_create")).status_code == 403
    assert client.get(reverse("registry:organisation_edit", args=[org.pk])).status_code == 403


def test_edit_updates_keeps_the_phone_when_blank_and_audits(client, actors, org):
    client.force_login(actors.worker_a1)
    page = client.get(reverse("registry:organisation_edit", args=[org.pk]))
    assert PHONE not in page.content.decode() and "139****5678" in page.content.decode()
    response = client.post(reverse("registry:organisation_edit", args=[org.pk]), {
        "kind": org.kind, "name": "秀水睦邻服务中心", "registration_number": org.registration_number,
        "contact_phone": "", "active": "on", "version": org.version,
    })
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.name == "秀水睦邻服务中心" and org.contact_phone == PHONE and org.version == 2
    entry = AuditEntry.objects.filter(action="update", object_id=str(org.pk)).get()
    assert entry.changes["name"]["new"] == "秀水睦邻服务中心" and "contact_phone" not in entry.changes


def test_edit_with_a_stale_version_is_refused(client, actors, org):
    client.force_login(actors.worker_a1)
    services.organisation_update(actor=actors.worker_a1, organisation=org, name="他人已改")
    response = client.post(reverse("registry:organisation_edit", args=[org.pk]), {
        "kind": org.kind, "name": "我的修改", "registration_number": org.registration_number, "version": 1,
    })
    from shequ.core.errors import CONFLICT

    assert response.status_code == 200 and str(CONFLICT) in response.content.decode()
    org.refresh_from_db()
    assert org.name == "他人已改"

"""Grid and facility pages: the map, people in charge (masked phones), geometry errors, scope, audit."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.urls import reverse

from shequ.core.models import AuditEntry
from shequ.registry import geo, services
from shequ.registry.models import Facility, Grid, GridMember
from tests import factories as f

PHONE = "13700001234"


@pytest.fixture
def grid(tree):
    g = services.grid_create(actor=None, community=tree.a1, name="秀水一网格", geometry=f.square(121.40, 31.20, 0.01))
    services.grid_member_add(actor=None, grid=g, name="李网格", duty="leader", phone=PHONE)
    return g


def test_detail_shows_the_map_and_people_in_charge_with_masked_phones(client, actors, grid):
    client.force_login(actors.worker_a1)
    response = client.get(reverse("registry:grid_detail", args=[grid.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="grid-map"' in html and "vendor/leaflet/leaflet.js" in html
    assert "李网格" in html and "网格长" in html
    assert "137****1234" in html and PHONE not in html


@pytest.mark.parametrize("who", ["worker_a2", "worker_b1", "officer_b"])
def test_grid_of_another_community_answers_404(client, actors, grid, who):
    client.force_login(getattr(actors, who))
    member = grid.members.get()
    assert client.get(reverse("registry:grid_detail", args=[grid.pk])).status_code == 404
    assert client.post(reverse("registry:grid_member_add", args=[grid.pk]),
                       {"name": "x", "duty": "leader"}).status_code == 404
    assert client.post(reverse("registry:grid_member_remove", args=[grid.pk, member.pk])).status_code == 404
    assert GridMember.objects.filter(pk=member.pk).exists()


def test_add_and_remove_a_person_in_charge_are_audited(client, actors, grid):
    client.force_login(actors.worker_a1)
    response = client.post(reverse("registry:grid_member_add", args=[grid.pk]),
                           {"name": "赵民警", "duty": "police", "phone": "021-62345678"})
    assert response.status_code == 302
    member = GridMember.objects.get(name="赵民警")
    assert AuditEntry.objects.filter(action="create", object_type="registry.gridmember",
                                     object_id=str(member.pk), actor=actors.worker_a1).exists()
    response = client.post(reverse("registry:grid_member_remove", args=[grid.pk, member.pk]))
    assert response.status_code == 302 and not GridMember.objects.filter(pk=member.pk).exists()
    assert AuditEntry.objects.filter(action="delete", object_type="registry.gridmember",
                                     object_id=str(member.pk), actor=actors.worker_a1).exists()


def test_bad_phone_of_a_person_in_charge_is_shown_next_to_the_field(client, actors, grid):
    from shequ.core.pii import PHONE_INVALID

    client.force_login(actors.worker_a1)
    response = client.post(reverse("registry:grid_member_add", args=[grid.pk]),
                           {"name": "钱", "duty": "party", "phone": "12345"})
    assert response.status_code == 400
    assert response.context["member_form"].errors["phone"] == [str(PHONE_INVALID)]


def test_grid_worker_cannot_change_people_in_charge(client, actors, grid):
    client.force_login(actors.grid_a1)
    assert client.get(reverse("registry:grid_detail", args=[grid.pk])).status_code == 200
    response = client.post(reverse("registry:grid_member_add", args=[grid.pk]), {"name": "x", "duty": "leader"})
    assert response.status_code == 403


def test_create_a_grid_from_pasted_geojson(client, actors, tree):
    client.force_login(actors.worker_a1)
    response = client.post(reverse("registry:grid_create", args=[tree.a1.pk]), {
        "name": "秀水二网格", "geometry": json.dumps(f.square(121.41, 31.21, 0.005))})
    grid = Grid.objects.get(name="秀水二网格")
    assert response.status_code == 302 and response["Location"] == reverse("registry:grid_detail", args=[grid.pk])
    assert grid.community == tree.a1
    assert AuditEntry.objects.filter(action="create", object_type="registry.grid", object_id=str(grid.pk)).exists()


def test_overlapping_grid_shows_the_overlap_message_next_to_the_field(client, actors, tree, grid):
    client.force_login(actors.worker_a1)
    response = client.post(reverse("registry:grid_create", args=[tree.a1.pk]), {
        "name": "重叠网格", "geometry": json.dumps(f.square(121.405, 31.205, 0.01))})
    assert response.status_code == 200
    assert response.context["form"].errors["geometry"] == [str(geo.GRID_OVERLAP).format(name=grid.name)]
    assert 'id="id_geometry-errors"' in response.content.decode()
    assert not Grid.objects.filter(name="重叠网格").exists()


@pytest.mark.parametrize("text, message", [
    ("not json", geo.GEOMETRY_INVALID),
    (json.dumps({"type": "Point", "coordinates": [121.4, 31.2]}), geo.GEOMETRY_INVALID),
    (json.dumps({"type": "Polygon", "coordinates": [[[121.40, 31.20], [121.41, 31.21], [121.41, 31.20],
                                                     [121.40, 31.21], [121.40, 31.20]]]}),
     geo.GEOMETRY_SELF_INTERSECTS),
    (json.dumps(f.square(10.0, 10.0)), geo.GEOMETRY_OUT_OF_CHINA),
])
def test_invalid_geometry_message_is_shown_next_to_the_field(client, actors, tree, text, message):
    client.force_login(actors.worker_a1)
    response = client.post(reverse("registry:grid_create", args=[tree.a1.pk]), {"name": "坏网格", "geometry": text})
    assert response.context["form"].errors["geometry"] == [str(message)]
    assert not Grid.objects.filter(name="坏网格").exists()


def test_grid_create_in_another_community_answers_404(client, actors, tree):
    client.force_login(actors.worker_a1)
    assert client.get(reverse("registry:grid_create", args=[tree.b1.pk])).status_code == 404
    assert client.post(reverse("registry:grid_create", args=[tree.a2.pk]),
                       {"name": "x", "geometry": json.dumps(f.square(121.42, 31.20, 0.005))}).status_code == 404
    assert not Grid.objects.filter(name="x").exists()


# --- facilities -------------------------------------------------------------------------------------


def _facility(place, name, kind="elderly_care"):
    return services.facility_create(actor=None, place=place, name=name, kind=kind, lon=121.41, lat=31.21,
                                    floor_area=Decimal("320"), construction="rented")


def test_facility_list_is_scoped_and_filtered_by_kind(client, actors, tree):
    _facility(tree.a1, "秀水长者照护之家")
    _facility(tree.a1_compound, "秀水卫生站", kind="clinic")
    _facility(tree.b1, "华山长者食堂", kind="elderly_canteen")
    client.force_login(actors.worker_a1)
    html = client.get(reverse("registry:facility_list")).content.decode()
    assert "秀水长者照护之家" in html and "秀水卫生站" in html and "华山长者食堂" not in html
    html = client.get(reverse("registry:facility_list"), {"kind": "clinic"}).content.decode()
    assert "秀水卫生站" in html and "秀水长者照护之家" not in html


def test_facility_create_is_audited_and_offers_only_places_in_scope(client, actors, tree):
    client.force_login(actors.worker_a1)
    form = client.get(reverse("registry:facility_create")).context["form"]
    assert set(form.fields["place"].queryset) == {tree.a1, tree.a1_compound}
    response = client.post(reverse("registry:facility_create"), {
        "name": "秀水党群服务站", "kind": "party_service", "place": tree.a1.pk, "lon": "121.405", "lat": "31.205",
        "floor_area": "520.5", "construction": "new_built"})
    assert response.status_code == 302
    facility = Facility.objects.get(name="秀水党群服务站")
    assert facility.floor_area == Decimal("520.5") and facility.scope_path == tree.a1.path
    assert AuditEntry.objects.filter(action="create", object_type="registry.facility",
                                     object_id=str(facility.pk), actor=actors.worker_a1).exists()


def test_facility_create_refuses_a_place_outside_the_scope(client, actors, tree):
    client.force_login(actors.worker_a1)
    response = client.post(reverse("registry:facility_create"), {
        "name": "越界设施", "kind": "park", "place": tree.b1.pk, "lon": "121.5", "lat": "31.2",
        "floor_area": "100", "construction": "rented"})
    assert "place" in response.context["form"].errors
    assert not Facility.objects.filter(name="越界设施").exists()


def test_facility_coordinates_outside_china_are_refused_next_to_the_field(client, actors, tree):
    client.force_login(actors.worker_a1)
    response = client.post(reverse("registry:facility_create"), {
        "name": "海外设施", "kind": "park", "place": tree.a1.pk, "lon": "10", "lat": "31.2",
        "floor_area": "100", "construction": "rented"})
    assert response.context["form"].errors["lon"]
    assert not Facility.objects.filter(name="海外设施").exists()

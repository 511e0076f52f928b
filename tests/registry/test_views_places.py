"""Place-tree browser pages: scope, drill-down, map GeoJSON, households on a unit."""

from __future__ import annotations

import pytest
from django.urls import reverse

from shequ.registry import services
from shequ.registry.choices import Relation
from tests import factories as f

BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture
def as_user(client):
    def sign_in(user):  # type: ignore[no-untyped-def]
        client.force_login(user, backend=BACKEND)
        return client
    return sign_in


def test_place_tree_redirects_to_the_only_root(as_user, actors, tree):
    # given a community worker holding one role at community A1
    client = as_user(actors.worker_a1)
    # when they open the place tree
    response = client.get(reverse("registry:place_tree"))
    # then they land on their community
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:place_detail", args=[tree.a1.pk])


def test_street_page_lists_communities_with_counts(as_user, actors, tree):
    f.person(tree.a1_unit, name="王小明")
    f.person(tree.a2_unit, name="李小红")
    client = as_user(actors.officer_a)
    response = client.get(reverse("registry:place_detail", args=[tree.street_a.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "秀水居委会" in html and "蒋家巷居委会" in html
    assert "华山居委会" not in html  # street B's community
    assert [c["people"] for c in response.context["children"]] == [1, 1]
    assert f'data-geojson="{reverse("registry:place_map", args=[tree.street_a.pk])}"' in html
    assert "vendor/leaflet/leaflet.js" in html
    assert "该区域人员" in html


def test_breadcrumbs_link_only_inside_scope(as_user, actors, tree):
    client = as_user(actors.worker_a1)
    response = client.get(reverse("registry:place_detail", args=[tree.a1_building.pk]))
    crumbs = {c["place"].name: c["link"] for c in response.context["breadcrumbs"]}
    assert crumbs == {"长宁区": False, "华阳路街道": False, "秀水居委会": True, "秀水小区": True}


@pytest.mark.parametrize("node", ["a2", "b1", "street_a", "a2_unit"])
def test_other_places_answer_404(as_user, actors, tree, node):
    client = as_user(actors.worker_a1)
    place = getattr(tree, node)
    assert client.get(reverse("registry:place_detail", args=[place.pk])).status_code == 404
    assert client.get(reverse("registry:place_map", args=[place.pk])).status_code == 404


def test_map_geojson_has_self_children_and_grids(as_user, actors, tree):
    services.grid_create(actor=None, community=tree.a1, code="31010500100101", name="秀水一网格",
                         geometry=f.square(121.401, 31.201, 0.005))
    client = as_user(actors.worker_a1)
    response = client.get(reverse("registry:place_map", args=[tree.a1.pk]))
    assert response.status_code == 200
    data = response.json()
    roles = sorted(feat["properties"]["role"] for feat in data["features"])
    assert roles == ["child", "grid", "self"]


def test_unit_page_shows_households_with_masked_members(as_user, actors, tree):
    household = services.household_create(actor=None, unit=tree.a1_unit, number="H001")
    head = f.person(tree.a1_unit, name="王建国", household=household, relation=Relation.HEAD,
                    id_number=f.id_number(), phone="13912345678", tags=["living_alone"])
    client = as_user(actors.worker_a1)
    html = client.get(reverse("registry:place_detail", args=[tree.a1_unit.pk])).content.decode()
    assert "王**" in html and "王建国" not in html
    assert "户主" in html and "独居老人" in html
    assert reverse("registry:person_detail", args=[head.pk]) in html
    assert "13912345678" not in html and head.id_number not in html
    assert "登记人员" in html


def test_household_page(as_user, actors, tree):
    household = services.household_create(actor=None, unit=tree.a1_unit, number="H002")
    f.person(tree.a1_unit, name="赵丽", household=household, relation=Relation.HEAD)
    client = as_user(actors.worker_a1)
    response = client.get(reverse("registry:household_detail", args=[household.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "秀水居委会秀水小区1号楼" in html and "0101室" in html and "赵*" in html
    assert as_user(actors.worker_b1).get(reverse("registry:household_detail", args=[household.pk])).status_code == 404


def test_resident_sees_no_registry(as_user, actors, tree):
    client = as_user(actors.resident_a1)
    assert client.get(reverse("registry:place_detail", args=[tree.a1.pk])).status_code == 404
    response = client.get(reverse("home"))
    assert "人员和住户资料仅向负责的社区工作人员开放" in response.content.decode()


def test_home_shows_scope_counts(as_user, actors, tree):
    f.person(tree.a1_unit, name="王小明", tags=["oldest_old"])
    response = as_user(actors.worker_a1).get(reverse("home"))
    html = response.content.decode()
    (scope,) = response.context["scopes"]
    assert scope["place"] == tree.a1 and scope["summary"]["people"] == 1
    assert {r["tag"].slug: r["count"] for r in scope["tag_counts"]}["oldest_old"] == 1
    assert "秀水居委会" in html and "高龄" in html


def test_anonymous_is_sent_to_login(client, tree):
    response = client.get(reverse("registry:place_detail", args=[tree.a1.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))

"""QUALITY §1: every registry endpoint × roles outside community A1 × A1's records.

Detail, children, update, tags, reveal and create-under answer 404 (missing and forbidden look the
same); lists never contain A1's records; nothing changes and nothing is revealed. A control run with
A1's own worker proves the same requests do reach the records.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from shequ.core.models import AuditAction, AuditEntry
from tests import factories as f
from tests.api_fixtures import *  # noqa: F403
from tests.api_fixtures import ApiClient

ROLES = ["worker_a2", "officer_b", "grid_b1", "resident_a1", "resident_a2", "handler"]


def _requests(r: SimpleNamespace) -> list[tuple[str, str, dict[str, Any] | None]]:
    """(method, path, body) of every request that names one of A1's records."""
    p, g, fac, o, h = r.person.pk, r.grid.pk, r.facility.pk, r.organisation.pk, r.household.pk
    return [
        ("get", f"/places/{r.community.pk}", None),
        ("get", f"/places/{r.compound.pk}", None),
        ("get", f"/places/{r.unit.pk}", None),
        ("get", f"/places/{r.community.pk}/children", None),
        ("get", f"/grids/{g}", None),
        ("get", "/grids/locate?lon=121.405&lat=31.205", None),
        ("get", f"/facilities/{fac}", None),
        ("get", f"/households/{h}", None),
        ("get", f"/people/{p}", None),
        ("get", f"/organisations/{o}", None),
        # lists filtered to a node of A1: the node itself is not found
        ("get", f"/people?within={r.community.pk}", None),
        ("get", f"/places?parent={r.community.pk}", None),
        ("get", f"/grids?community={r.community.pk}", None),
        ("get", f"/facilities?within={r.community.pk}", None),
        ("get", f"/households?within={r.unit.pk}", None),
        ("get", f"/organisations?within={r.community.pk}", None),
        # updates
        ("patch", f"/places/{r.compound.pk}", {"version": 1, "name": "改名小区"}),
        ("patch", f"/grids/{g}", {"version": 1, "name": "改名网格"}),
        ("patch", f"/facilities/{fac}", {"version": 1, "name": "改名设施"}),
        ("patch", f"/people/{p}", {"version": 1, "notes": "越权修改"}),
        ("patch", f"/organisations/{o}", {"version": 1, "name": "改名组织"}),
        ("put", f"/people/{p}/tags", {"tags": []}),
        ("post", f"/people/{p}/reveal", {"field": "id_number", "reason": "越权查看测试"}),
        # creating below A1's nodes
        ("post", "/places", {"parent": r.compound.pk, "kind": "building", "name": "9号楼"}),
        ("post", "/grids", {"community": r.community.pk, "name": "新网格",
                            "geometry": f.square(121.415, 31.215, 0.002)}),
        ("post", "/facilities", {"place": r.community.pk, "name": "新设施", "kind": "park", "lon": 121.41,
                                 "lat": 31.21, "floor_area": "10", "construction": "new_built"}),
        ("post", "/households", {"unit": r.unit.pk}),
        ("post", "/people", {"place": r.unit.pk, "name": "孙八", "residence_type": "floating"}),
        ("post", "/organisations", {"place": r.community.pk, "kind": "owners_committee", "name": "新业委会"}),
    ]


def _a1_ids(r: SimpleNamespace) -> dict[str, set[int]]:
    return {
        "/places": {r.community.pk, r.compound.pk, r.unit.pk},
        "/grids": {r.grid.pk},
        "/facilities": {r.facility.pk},
        "/households": {r.household.pk},
        "/people": {r.person.pk},
        "/organisations": {r.organisation.pk},
    }


def _call(client: ApiClient, method: str, path: str, body: dict[str, Any] | None) -> Any:
    if method == "get":
        return client.client.get("/api/v1" + path, headers=client.headers)
    return getattr(client, method)(path, body)


def _versions(r: SimpleNamespace) -> list[int]:
    return [type(o).objects.get(pk=o.pk).version
            for o in (r.compound, r.grid, r.facility, r.person, r.organisation)]


@pytest.mark.parametrize("role", ROLES)
def test_outsider_gets_404_for_every_a1_record_and_never_sees_it_listed(role, outsiders, records_a1, api_as):
    client = api_as(outsiders[role])
    r = records_a1
    wrong = []
    for method, path, body in _requests(r):
        response = _call(client, method, path, body)
        if response.status_code != 404 or response.json()["code"] != "not_found":
            wrong.append((method, path, response.status_code, response.content[:200]))
    for path, ids in _a1_ids(r).items():
        response = client.get(path, {"limit": 500})
        assert response.status_code == 200, (path, response.content)
        seen = {item["id"] for item in response.json()["items"]}
        if seen & ids:
            wrong.append(("list", path, seen & ids))
    assert wrong == []
    # nothing changed, nothing was revealed or created under A1
    assert _versions(r) == [1, 1, 1, 1, 1]
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()
    assert r.unit.households.count() == 1 and r.unit.people.count() == 1
    assert r.person.tags.count() == 1


def test_control_a1_worker_reaches_the_same_records(actors, records_a1, api_as):
    client = api_as(actors.worker_a1)
    statuses = {}
    for method, path, body in _requests(records_a1):
        statuses[(method, path)] = _call(client, method, path, body).status_code
    assert all(200 <= s < 300 for s in statuses.values()), statuses
    for path, ids in _a1_ids(records_a1).items():
        seen = {item["id"] for item in client.get(path, {"limit": 500}).json()["items"]}
        assert ids <= seen, path

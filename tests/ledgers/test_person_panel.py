"""A person's page shows what the ledgers found about them: open conflicts (masked) and merges into them."""

from __future__ import annotations

import pytest

from shequ.ledgers import importer, merges
from shequ.ledgers.choices import ImportMode
from tests import factories as f
from tests.ledgers.ledger_files import id_number, media, person_row, upload, xlsx  # noqa: F401

pytestmark = pytest.mark.usefixtures("media")


def page_of(client, user, person) -> str:
    client.force_login(user)
    response = client.get(f"/registry/people/{person.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_an_open_conflict_is_shown_masked_on_the_persons_page(client, tree, actors):
    # given a person whose phone the health line gives differently
    ident = id_number()
    person = f.person(tree.a1_unit, name="王秀兰", id_number=ident, phone="13900001111")
    job = upload(actors.worker_a1, tree.a1, xlsx([person_row("王秀兰", ident=ident, phone="13812345678")]),
                 source="health")
    importer.import_job_run(actor=actors.worker_a1, job=job, mode=ImportMode.ALL_OR_NOTHING)
    # when the community worker opens the person's page
    html = page_of(client, actors.worker_a1, person)
    # then both values are there, masked, with the line that gave the new one, and a link to resolve it
    assert 'id="ledger-panel"' in html
    assert "139****1111" in html and "138****5678" in html and "卫健" in html
    assert "13812345678" not in html and "13900001111" not in html
    assert f"/ledgers/imports/conflicts/?person={person.pk}" in html or f"conflicts/?person={person.pk}" in html


def test_a_merged_record_points_to_the_one_kept_and_the_survivor_lists_the_merge(client, tree, actors):
    # given two records of one person, one without an ID number, merged
    kept = f.person(tree.a1_unit, name="李建国", id_number=id_number())
    duplicate = f.person(tree.a1_unit, name="李建国", id_number="")
    merges.person_merge(actor=actors.worker_a1, survivor=kept, merged=duplicate)
    # then the duplicate's page says where it went, and the survivor's page lists the merge
    assert f"/registry/people/{kept.pk}/" in page_of(client, actors.worker_a1, duplicate)
    html = page_of(client, actors.worker_a1, kept)
    assert "以下重复记录已并入本记录" in html and "人工合并" in html


def test_a_grid_worker_without_edit_rights_sees_no_panel(client, tree, actors):
    person = f.person(tree.a1_unit, name="赵敏", id_number=id_number())
    assert 'id="ledger-panel"' not in page_of(client, actors.grid_a1, person)

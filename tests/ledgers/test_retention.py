"""Retention of ledger data: uploaded files go after 7 days; merged duplicates follow the person kept."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from shequ.core.retention import purge_expired
from shequ.ledgers import merges
from shequ.ledgers.models import ImportJob, PersonMerge
from shequ.ledgers.retention import anonymise_merged_duplicates
from shequ.registry.choices import PersonStatus
from shequ.registry.models import Person
from shequ.registry.retention import ANONYMOUS_NAME, anonymise_person
from tests import factories as f
from tests.ledgers.ledger_files import id_number, media, person_row, upload, xlsx  # noqa: F401

pytestmark = pytest.mark.usefixtures("media")


def test_an_uploaded_ledger_file_is_deleted_after_seven_days(tree, actors, media):  # noqa: F811
    # given two uploads, one of them eight days old
    old = upload(actors.worker_a1, tree.a1, xlsx([person_row()]))
    new = upload(actors.worker_a1, tree.a1, xlsx([person_row()]))
    ImportJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=8))
    old_file = media / old.stored_name
    assert old_file.exists()
    # when the retention job runs
    assert purge_expired()["ledgers.import_files"] == 1
    # then only the old file is gone, and the job keeps its results
    assert not old_file.exists() and (media / new.stored_name).exists()
    old.refresh_from_db()
    assert old.stored_name == "" and old.filename == "名册.xlsx"


def test_a_merged_duplicate_is_anonymised_with_the_person_it_was_merged_into(tree, actors):
    # given a duplicate merged into a person who is later anonymised
    kept = f.person(tree.a1_unit, name="李建国", id_number=id_number())
    duplicate = f.person(tree.a1_unit, name="李建国", id_number="", phone="13912345678")
    merge = merges.person_merge(actor=actors.worker_a1, survivor=kept, merged=duplicate)
    assert merge.snapshot
    anonymise_person(kept.pk, reason="测试")
    # when the policy runs
    assert anonymise_merged_duplicates(timezone.now()) == 1
    # then the duplicate carries no name or phone any more, and the snapshot is cleared
    duplicate = Person.objects.get(pk=duplicate.pk)
    assert (duplicate.name, duplicate.phone, duplicate.status) == (ANONYMOUS_NAME, "", PersonStatus.MERGED)
    assert PersonMerge.objects.get(pk=merge.pk).snapshot == ""
    assert anonymise_merged_duplicates(timezone.now()) == 0  # idempotent

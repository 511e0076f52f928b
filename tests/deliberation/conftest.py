"""Fixtures for deliberation: a compound with owned units, verified residents, and an outsider."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from shequ.accounts.roles import Role
from shequ.registry import services as registry
from shequ.registry.models import Ownership
from tests import factories as f


def own(unit, *, person=None, organisation=None):
    """Record an ownership directly (the ownership service belongs to the votes module)."""
    return Ownership.objects.create(unit=unit, person=person, organisation=organisation, scope_path=unit.path)


@pytest.fixture
def estate(tree, actors):
    """Compound A1, six units (areas 80.50, 80.50, 100, 60, 90, 70 m²) and their owners.

    张 owns units 0 and 1 (one head, 161 m²); 李 owns unit 2; 王 and 赵 co-own unit 3 (one ballot, one
    head); the developer still holds units 4 and 5 unsold (one head, 160 m²). Electorate: 4 heads,
    481 m². Each owner has a verified resident account at the compound; 孙 lives in community B1.
    """
    building = tree.a1_building
    units = [tree.a1_unit, tree.a1_unit2] + [
        f.unit_in(building, room, area)
        for room, area in (("0201", "100.00"), ("0202", "60.00"), ("0301", "90.00"), ("0302", "70.00"))
    ]
    owners = SimpleNamespace(
        zhang=f.person(units[0], name="张业主", id_number=f.id_number()),
        li=f.person(units[2], name="李业主", id_number=f.id_number()),
        wang=f.person(units[3], name="王业主", id_number=f.id_number()),
        zhao=f.person(units[3], name="赵共有", id_number=f.id_number()),
    )
    developer = registry.organisation_create(actor=None, place=tree.a1, kind="developer", name="某某置业有限公司")
    own(units[0], person=owners.zhang)
    own(units[1], person=owners.zhang)
    own(units[2], person=owners.li)
    own(units[3], person=owners.wang)
    own(units[3], person=owners.zhao)
    own(units[4], organisation=developer)
    own(units[5], organisation=developer)
    users = SimpleNamespace(
        **{key: f.user(f"owner_{key}", place=tree.a1_compound, role=Role.RESIDENT, person=person)
           for key, person in vars(owners).items()}
    )
    outsider = f.person(tree.b1_unit, name="孙外人", id_number=f.id_number())
    users.outsider = f.user("owner_outsider", place=tree.b1_compound, role=Role.RESIDENT, person=outsider)
    return SimpleNamespace(compound=tree.a1_compound, community=tree.a1, units=units, owners=owners, users=users,
                           developer=developer)

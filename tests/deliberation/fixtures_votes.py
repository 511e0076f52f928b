"""Fixtures of the votes tests: votes on the ``estate`` compound and compounds built to hit exact fractions."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from shequ.accounts.roles import Role
from shequ.deliberation import votes
from shequ.deliberation.choices import Electorate, Matter
from shequ.deliberation.models import Vote, VoteOption
from shequ.registry.choices import PlaceKind
from shequ.registry.models import Ownership
from tests import factories as f


def option(vote: Vote, meaning: str) -> VoteOption:
    return vote.options.get(meaning=meaning)


def owners_vote(actor: Any, compound: Any, *, matter: str = Matter.ORDINARY, secret: bool = False,
                open_it: bool = True, closes_in: dt.timedelta = dt.timedelta(days=7)) -> Vote:
    now = timezone.now()
    vote = votes.vote_create(actor=actor, place=compound, title="加装电梯", electorate=Electorate.OWNERS,
                             matter=matter, secret=secret, opens_at=now - dt.timedelta(minutes=1),
                             closes_at=now + closes_in)
    if open_it:
        vote = votes.vote_open(actor=actor, vote=vote)
    return vote


def build_compound(community: Any, areas: list[str], *, prefix: str) -> SimpleNamespace:
    """A compound of ``community`` with one unit per area, each owned alone by its own verified resident."""
    compound = f.place(community, PlaceKind.COMPOUND, f"{prefix}小区")
    building = f.place(compound, PlaceKind.BUILDING, "1号楼", floors=6)
    units, people, users = [], [], []
    for i, area in enumerate(areas):
        unit = f.unit_in(building, f"{i + 1:02d}01", area)
        person = f.person(unit, name=f"业主{'甲乙丙丁戊己庚辛'[i]}", id_number=f.id_number())
        Ownership.objects.create(unit=unit, person=person, scope_path=unit.path)
        users.append(f.user(f"{prefix}_owner{i}", place=compound, role=Role.RESIDENT, person=person))
        units.append(unit)
        people.append(person)
    return SimpleNamespace(compound=compound, units=units, people=people, users=users)


@pytest.fixture
def open_vote(estate: Any, actors: Any) -> Vote:
    """An open owners' vote (ordinary matter) on the estate compound."""
    return owners_vote(actors.worker_a1, estate.compound)


@pytest.fixture
def even(tree: Any) -> SimpleNamespace:
    """Four owners of 100 m² each in a new compound of community A2: halves and quarters come out exact."""
    return build_compound(tree.a2, ["100.00"] * 4, prefix="even")


@pytest.fixture
def thirds(tree: Any) -> SimpleNamespace:
    """Three owners of 100 m² each in a new compound of community A2: two of them are exactly 2/3."""
    return build_compound(tree.a2, ["100.00"] * 3, prefix="thirds")

"""Fixtures of the proposals and meetings tests: a second compound in community A1, uploads, a proposal."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from shequ.accounts.roles import Role
from shequ.deliberation import proposals
from shequ.deliberation.choices import ThresholdKind
from shequ.registry.choices import PlaceKind
from tests import factories as f

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


def jpeg(name: str = "photo.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, JPEG, content_type="image/jpeg")


def exe_as_jpg(name: str = "virus.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, EXE, content_type="image/jpeg")


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def neighbour(tree: Any, estate: Any) -> SimpleNamespace:
    """A verified resident of another compound of the same community A1."""
    compound = f.place(tree.a1, PlaceKind.COMPOUND, "秀水二村")
    building = f.place(compound, PlaceKind.BUILDING, "2号楼", floors=6)
    unit = f.unit_in(building, "0101")
    person = f.person(unit, name="周邻居", id_number=f.id_number())
    user = f.user("neighbour", place=compound, role=Role.RESIDENT, person=person)
    return SimpleNamespace(compound=compound, unit=unit, person=person, user=user)


def set_count(actor: Any, community: Any, count: int) -> None:
    proposals.rules_update(actor=actor, community=community, threshold_kind=ThresholdKind.COUNT,
                           threshold_count=count)


@pytest.fixture
def proposal(estate: Any, actors: Any) -> Any:
    """张's compound proposal in A1 with a threshold of 3 supports."""
    set_count(actors.worker_a1, estate.community, 3)
    return proposals.proposal_create(actor=estate.users.zhang, place=estate.compound, title="加装电梯",
                                     body="1号楼老人多，希望加装电梯。", category="设施")


__all__ = ["_media", "neighbour", "proposal"]

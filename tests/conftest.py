"""The place tree and actors shared by every test.

Two streets of one district; street A has communities A1 and A2, street B has B1. Each community has
a compound with a building and units. Actors hold roles at the nodes their names say.
"""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from shequ.accounts.roles import Role
from shequ.registry import services
from shequ.registry.choices import PlaceKind
from tests import factories as f

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CARE_TAGS = [
    ("living_alone", "独居老人", False),
    ("oldest_old", "高龄", False),
    ("disabled", "残疾", True),
    ("subsistence", "低保", True),
    ("key_group", "重点人群", True),
]


@pytest.fixture(autouse=True, scope="session")
def _media_root(tmp_path_factory):
    """Uploads (attachments, ledgers) of the whole run go to a temporary folder, not the project's var/."""
    from django.conf import settings as django_settings

    django_settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 is deliberately slow; tests that are not about hashing use a fast hasher.

    tests/accounts/test_passwords.py checks the production setting uses Argon2.
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]


@pytest.fixture
def tags(db):
    return {
        slug: services.caretag_create(actor=None, slug=slug, name=name, sensitive=sensitive)
        for slug, name, sensitive in CARE_TAGS
    }


@pytest.fixture
def tree(db, tags):
    district = f.place(None, PlaceKind.DISTRICT, "长宁区", code="310105")
    street_a = f.place(district, PlaceKind.STREET, "华阳路街道", code="001", geometry=f.square(121.40, 31.20, 0.05))
    street_b = f.place(district, PlaceKind.STREET, "江苏路街道", code="002", geometry=f.square(121.50, 31.20, 0.05))
    a1 = f.place(street_a, PlaceKind.COMMUNITY, "秀水居委会", code="001", geometry=f.square(121.40, 31.20, 0.02))
    a2 = f.place(street_a, PlaceKind.COMMUNITY, "蒋家巷居委会", code="002", geometry=f.square(121.42, 31.20, 0.02))
    b1 = f.place(street_b, PlaceKind.COMMUNITY, "华山居委会", code="001", geometry=f.square(121.50, 31.20, 0.02))
    nodes = {"district": district, "street_a": street_a, "street_b": street_b, "a1": a1, "a2": a2, "b1": b1}
    for key, community in (("a1", a1), ("a2", a2), ("b1", b1)):
        compound = f.place(
            community,
            PlaceKind.COMPOUND,
            f"{community.name[:2]}小区",
            geometry=f.square(community.lon - 0.001, community.lat - 0.001, 0.005),
        )
        building = f.place(compound, PlaceKind.BUILDING, "1号楼", floors=6)
        nodes[f"{key}_compound"] = compound
        nodes[f"{key}_building"] = building
        nodes[f"{key}_unit"] = f.unit_in(building, "0101")
        nodes[f"{key}_unit2"] = f.unit_in(building, "0102")
    return SimpleNamespace(**nodes)


@pytest.fixture
def actors(tree):
    return SimpleNamespace(
        admin=f.user("admin", place=tree.district, role=Role.DISTRICT_ADMIN, display_name="区管理员"),
        officer_a=f.user("officer_a", place=tree.street_a, role=Role.STREET_OFFICER, display_name="华阳干部"),
        officer_b=f.user("officer_b", place=tree.street_b, role=Role.STREET_OFFICER, display_name="江苏干部"),
        worker_a1=f.user("worker_a1", place=tree.a1, role=Role.COMMUNITY_WORKER, display_name="秀水社工"),
        worker_a2=f.user("worker_a2", place=tree.a2, role=Role.COMMUNITY_WORKER, display_name="蒋家巷社工"),
        worker_b1=f.user("worker_b1", place=tree.b1, role=Role.COMMUNITY_WORKER, display_name="华山社工"),
        head_a1=f.user("head_a1", place=tree.a1, role=Role.COMMUNITY_HEAD, display_name="秀水主任"),
        grid_a1=f.user("grid_a1", place=tree.a1, role=Role.GRID_WORKER, display_name="秀水网格员"),
        resident_a1=f.user("resident_a1", place=tree.a1_compound, role=Role.RESIDENT, display_name="居民"),
    )

"""Data scope: a user sees the union of their memberships' subtrees and nothing else (QUALITY §1)."""

import pytest

from shequ.accounts.roles import Capability, Role
from shequ.accounts.services import membership_grant, user_set_active
from shequ.core.errors import NotFound
from shequ.core.scope import get_in_scope, restrict
from shequ.registry.models import Person, Place
from tests import factories as f

NAMES = {"a1": "秀水居民", "a2": "蒋家巷居民", "b1": "华山居民"}


@pytest.fixture
def people(tree):
    return {key: f.person(getattr(tree, f"{key}_unit"), name=NAMES[key]) for key in ("a1", "a2", "b1")}


def test_each_role_sees_its_subtree(actors, people):
    def seen(user):
        return {p.name for p in restrict(Person.objects.all(), user)}

    assert seen(actors.worker_a1) == {"秀水居民"}
    assert seen(actors.officer_a) == {"秀水居民", "蒋家巷居民"}
    assert seen(actors.officer_b) == {"华山居民"}
    assert seen(actors.admin) == {"秀水居民", "蒋家巷居民", "华山居民"}


def test_capability_narrows_the_scope(actors, people):
    assert restrict(Person.objects.all(), actors.resident_a1, capability=Capability.REGISTRY_VIEW).count() == 0


def test_the_union_of_two_memberships(actors, tree, people):
    membership_grant(actor=None, user=actors.worker_a1, place=tree.b1, role=Role.COMMUNITY_WORKER)
    actors.worker_a1.forget_memberships()
    assert {p.name for p in restrict(Person.objects.all(), actors.worker_a1)} == {"秀水居民", "华山居民"}


def test_anonymous_and_inactive_users_see_nothing(actors, people):
    from django.contrib.auth.models import AnonymousUser

    assert restrict(Person.objects.all(), AnonymousUser()).count() == 0
    assert restrict(Person.objects.all(), None).count() == 0
    user_set_active(actor=None, user=actors.admin, active=False)
    assert restrict(Person.objects.all(), actors.admin).count() == 0


def test_missing_and_forbidden_raise_the_same_error(actors, people):
    with pytest.raises(NotFound) as forbidden:
        get_in_scope(Person.objects.all(), actors.worker_a1, pk=people["b1"].pk)
    with pytest.raises(NotFound) as missing:
        get_in_scope(Person.objects.all(), actors.worker_a1, pk=10**9)
    with pytest.raises(NotFound):
        get_in_scope(Person.objects.all(), actors.worker_a1, pk="not-a-number")
    assert str(forbidden.value) == str(missing.value)


def test_a_sibling_with_a_longer_code_is_not_inside(tree):
    """Fixed-width codes: street 001's range does not reach street 002 or 0010…"""
    inside = {p.path for p in restrict(Place.objects.all(), f.user("s", place=tree.street_a, role=Role.STREET_OFFICER))}
    assert tree.street_b.path not in inside and tree.b1.path not in inside
    assert tree.a1_unit.path in inside and tree.street_a.path in inside

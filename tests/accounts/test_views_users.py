"""User management and API-token pages: who may manage whom, what may be granted where, audit."""

from __future__ import annotations

import pytest
from django.urls import reverse

from shequ.accounts.forms import PASSWORDS_DIFFER
from shequ.accounts.models import ApiToken, Membership, User
from shequ.accounts.roles import Role
from shequ.accounts.services import MEMBERSHIP_EXISTS, USERNAME_TAKEN, api_token_authenticate
from shequ.core.models import AuditEntry

NEW_PASSWORD = "a-long-new-password-2025"


@pytest.mark.parametrize("who", ["worker_a1", "officer_a", "grid_a1", "resident_a1"])
def test_non_managers_cannot_open_user_pages(client, actors, who):
    client.force_login(getattr(actors, who))
    response = client.get(reverse("accounts:user_list"))
    assert response.status_code == 403 and "没有权限" in response.content.decode()
    assert client.get(reverse("accounts:user_detail", args=[actors.worker_a1.pk])).status_code == 403
    assert client.get(reverse("accounts:user_create")).status_code == 403


def test_anonymous_is_sent_to_login(client, actors):
    response = client.get(reverse("accounts:user_list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_community_head_sees_only_users_of_their_community(client, actors):
    client.force_login(actors.head_a1)
    html = client.get(reverse("accounts:user_list")).content.decode()
    assert "worker_a1" in html and "grid_a1" in html
    assert "worker_b1" not in html and "worker_a2" not in html and "officer_a" not in html


@pytest.mark.parametrize("who", ["worker_b1", "worker_a2", "officer_a", "admin"])
def test_community_head_gets_404_for_users_outside_their_community(client, actors, who):
    client.force_login(actors.head_a1)
    target = getattr(actors, who)
    assert client.get(reverse("accounts:user_detail", args=[target.pk])).status_code == 404
    assert client.post(reverse("accounts:user_set_active", args=[target.pk]), {"active": "0"}).status_code == 404
    target.refresh_from_db()
    assert target.is_active


def test_district_admin_sees_everyone(client, actors):
    client.force_login(actors.admin)
    html = client.get(reverse("accounts:user_list")).content.decode()
    assert all(name in html for name in ("worker_a1", "worker_b1", "officer_b", "head_a1"))


def test_user_create_makes_the_account_with_its_first_role(client, actors, tree):
    client.force_login(actors.head_a1)
    response = client.post(reverse("accounts:user_create"), {
        "username": "newworker", "display_name": "新社工", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD,
        "role": Role.COMMUNITY_WORKER, "place": tree.a1.pk})
    user = User.objects.get(username="newworker")
    assert response.status_code == 302 and response["Location"] == reverse("accounts:user_detail", args=[user.pk])
    assert user.check_password(NEW_PASSWORD)
    assert Membership.objects.filter(user=user, place=tree.a1, role=Role.COMMUNITY_WORKER, active=True).exists()
    assert AuditEntry.objects.filter(action="create", object_type="accounts.user", object_id=str(user.pk),
                                     actor=actors.head_a1).exists()
    assert AuditEntry.objects.filter(action="grant", object_type="accounts.membership", actor=actors.head_a1).exists()


def test_user_create_errors_are_shown_next_to_their_fields(client, actors, tree):
    client.force_login(actors.head_a1)
    response = client.post(reverse("accounts:user_create"), {
        "username": "worker_a1", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD,
        "role": Role.COMMUNITY_WORKER, "place": tree.a1.pk})
    assert response.context["form"].errors["username"] == [str(USERNAME_TAKEN)]
    response = client.post(reverse("accounts:user_create"), {
        "username": "other", "password1": NEW_PASSWORD, "password2": "different-password-1",
        "role": Role.COMMUNITY_WORKER, "place": tree.a1.pk})
    assert response.context["form"].errors["password2"] == [str(PASSWORDS_DIFFER)]
    response = client.post(reverse("accounts:user_create"), {
        "username": "short", "password1": "short", "password2": "short",
        "role": Role.COMMUNITY_WORKER, "place": tree.a1.pk})
    assert response.context["form"].errors["password1"]
    assert not User.objects.filter(username__in=["other", "short"]).exists()


def test_grant_form_offers_only_what_the_actor_may_grant(client, actors, tree):
    client.force_login(actors.head_a1)
    form = client.get(reverse("accounts:user_detail", args=[actors.grid_a1.pk])).context["grant_form"]
    roles = {value for value, _label in form.fields["role"].choices}
    assert roles == {Role.RESIDENT, Role.GRID_WORKER, Role.COMMUNITY_WORKER}
    assert list(form.fields["place"].queryset) == [tree.a1]


def test_community_head_cannot_grant_a_higher_role(client, actors, tree):
    client.force_login(actors.head_a1)
    response = client.post(reverse("accounts:membership_grant", args=[actors.grid_a1.pk]),
                           {"role": Role.COMMUNITY_HEAD, "place": tree.a1.pk})
    assert response.status_code == 400 and "role" in response.context["grant_form"].errors
    assert not Membership.objects.filter(user=actors.grid_a1, role=Role.COMMUNITY_HEAD).exists()


def test_grant_a_role_at_the_wrong_level_is_shown_next_to_the_place(client, actors, tree):
    client.force_login(actors.admin)
    response = client.post(reverse("accounts:membership_grant", args=[actors.worker_a1.pk]),
                           {"role": Role.STREET_OFFICER, "place": tree.a1.pk})
    assert response.status_code == 400 and response.context["grant_form"].errors["place"]


def test_grant_and_revoke_are_audited(client, actors, tree):
    client.force_login(actors.admin)
    response = client.post(reverse("accounts:membership_grant", args=[actors.worker_a1.pk]),
                           {"role": Role.GRID_WORKER, "place": tree.a1.pk})
    assert response.status_code == 302
    membership = Membership.objects.get(user=actors.worker_a1, role=Role.GRID_WORKER, active=True)
    assert AuditEntry.objects.filter(action="grant", object_id=str(membership.pk), actor=actors.admin).exists()
    again = client.post(reverse("accounts:membership_grant", args=[actors.worker_a1.pk]),
                        {"role": Role.GRID_WORKER, "place": tree.a1.pk})
    assert again.context["grant_form"].errors["role"] == [str(MEMBERSHIP_EXISTS)]
    response = client.post(reverse("accounts:membership_revoke", args=[membership.pk]))
    assert response.status_code == 302
    membership.refresh_from_db()
    assert not membership.active
    assert AuditEntry.objects.filter(action="revoke", object_id=str(membership.pk), actor=actors.admin).exists()


def test_community_head_cannot_revoke_outside_their_community(client, actors):
    client.force_login(actors.head_a1)
    membership = Membership.objects.get(user=actors.worker_b1)
    assert client.post(reverse("accounts:membership_revoke", args=[membership.pk])).status_code == 404
    membership.refresh_from_db()
    assert membership.active


def test_deactivate_and_activate_a_user(client, actors):
    client.force_login(actors.head_a1)
    url = reverse("accounts:user_set_active", args=[actors.worker_a1.pk])
    assert client.post(url, {"active": "0"}).status_code == 302
    actors.worker_a1.refresh_from_db()
    assert not actors.worker_a1.is_active
    assert client.post(url, {"active": "1"}).status_code == 302
    actors.worker_a1.refresh_from_db()
    assert actors.worker_a1.is_active
    assert AuditEntry.objects.filter(action="update", object_type="accounts.user",
                                     object_id=str(actors.worker_a1.pk)).count() == 2


def test_a_manager_cannot_deactivate_themselves(client, actors):
    client.force_login(actors.head_a1)
    response = client.post(reverse("accounts:user_set_active", args=[actors.head_a1.pk]), {"active": "0"})
    assert response.status_code == 403
    actors.head_a1.refresh_from_db()
    assert actors.head_a1.is_active


def test_set_a_new_password(client, actors):
    client.force_login(actors.head_a1)
    response = client.post(reverse("accounts:user_set_password", args=[actors.worker_a1.pk]),
                           {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    actors.worker_a1.refresh_from_db()
    assert actors.worker_a1.check_password(NEW_PASSWORD)
    entry = AuditEntry.objects.get(action="update", object_type="accounts.user", object_id=str(actors.worker_a1.pk))
    assert entry.changes == {"password": "changed"}
    assert NEW_PASSWORD not in str(entry.changes)


# --- API tokens -------------------------------------------------------------------------------------


def test_any_user_creates_a_token_shown_once(client, actors):
    client.force_login(actors.worker_a1)
    response = client.post(reverse("accounts:token_list"), {"name": "街道大屏", "days": "30"})
    raw = response.context["new_token"]
    html = response.content.decode()
    assert raw.startswith("sq_") and raw in html and "不再显示" in html
    assert "no-store" in response["Cache-Control"]
    assert api_token_authenticate(raw) == actors.worker_a1
    token = ApiToken.objects.get(user=actors.worker_a1)
    assert AuditEntry.objects.filter(action="create", object_type="accounts.apitoken", object_id=str(token.pk)).exists()
    # the list afterwards shows the prefix only
    assert raw not in client.get(reverse("accounts:token_list")).content.decode()


def test_token_revoke_and_other_users_tokens_are_404(client, actors):
    from shequ.accounts import services

    mine, raw = services.api_token_create(actor=actors.worker_a1, user=actors.worker_a1, name="mine")
    theirs, _ = services.api_token_create(actor=actors.worker_b1, user=actors.worker_b1, name="theirs")
    client.force_login(actors.worker_a1)
    html = client.get(reverse("accounts:token_list")).content.decode()
    assert "mine" in html and "theirs" not in html
    assert client.post(reverse("accounts:token_revoke", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert not theirs.revoked
    assert client.post(reverse("accounts:token_revoke", args=[mine.pk])).status_code == 302
    mine.refresh_from_db()
    assert mine.revoked and api_token_authenticate(raw) is None
    assert AuditEntry.objects.filter(action="revoke", object_type="accounts.apitoken", object_id=str(mine.pk)).exists()

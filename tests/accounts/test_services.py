"""Accounts: who may grant what where, API tokens, passwords, throttling (QUALITY §2–3)."""

import datetime as dt

import pytest
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from shequ.accounts import selectors, services
from shequ.accounts.models import ApiToken, Membership
from shequ.accounts.roles import Role
from shequ.core.errors import NotFound, PermissionDenied, ValidationFailed
from shequ.core.models import AuditAction, AuditEntry
from tests import factories as f


class TestMemberships:
    def test_scope_is_the_union_of_membership_subtrees(self, actors, tree):
        services.membership_grant(actor=actors.admin, user=actors.worker_a1, place=tree.b1, role=Role.COMMUNITY_WORKER)
        assert actors.worker_a1.scope_paths() == (tree.a1.path, tree.b1.path)

    def test_a_community_head_grants_lower_roles_in_their_community_only(self, actors, tree):
        newcomer = f.user("newcomer")
        m = services.membership_grant(actor=actors.head_a1, user=newcomer, place=tree.a1, role=Role.GRID_WORKER)
        assert AuditEntry.objects.filter(action=AuditAction.GRANT, object_id=str(m.pk)).exists()
        with pytest.raises(PermissionDenied):
            services.membership_grant(actor=actors.head_a1, user=newcomer, place=tree.a1, role=Role.COMMUNITY_HEAD)
        with pytest.raises(NotFound):
            services.membership_grant(actor=actors.head_a1, user=newcomer, place=tree.b1, role=Role.GRID_WORKER)

    def test_a_community_worker_cannot_grant_at_all(self, actors, tree):
        with pytest.raises(PermissionDenied):
            services.membership_grant(
                actor=actors.worker_a1, user=actors.resident_a1, place=tree.a1, role=Role.GRID_WORKER
            )

    def test_roles_are_held_at_their_level(self, actors, tree):
        with pytest.raises(ValidationFailed) as exc:
            services.membership_grant(
                actor=actors.admin, user=actors.worker_a2, place=tree.a1, role=Role.STREET_OFFICER
            )
        assert "place" in exc.value.errors

    def test_department_handlers_need_a_department(self, actors, tree):
        with pytest.raises(ValidationFailed) as exc:
            services.membership_grant(
                actor=actors.admin, user=f.user("cg"), place=tree.district, role=Role.DEPARTMENT_HANDLER
            )
        assert exc.value.errors["user"] == [str(services.DEPARTMENT_REQUIRED)]

    def test_revoking_removes_the_scope_at_once(self, actors, tree):
        m = Membership.objects.get(user=actors.worker_a1)
        services.membership_revoke(actor=actors.admin, membership=m)
        actors.worker_a1.refresh_from_db()
        assert actors.worker_a1.scope_paths() == ()

    def test_managers_see_only_users_inside_their_subtree(self, actors, tree):
        names = set(selectors.user_list(actor=actors.head_a1).values_list("username", flat=True))
        assert {"worker_a1", "grid_a1", "head_a1", "resident_a1"} <= names
        assert "worker_b1" not in names and "officer_b" not in names
        assert selectors.user_list(actor=actors.worker_a1).count() == 0


class TestApiTokens:
    def test_only_the_digest_is_stored_and_the_token_authenticates(self, actors):
        token, raw = services.api_token_create(actor=actors.worker_a1, user=actors.worker_a1, name="手机")
        assert raw.startswith("sq_") and raw not in repr(ApiToken.objects.values().get())
        assert services.api_token_authenticate(raw) == actors.worker_a1

    def test_revoked_expired_and_inactive_tokens_fail(self, actors):
        token, raw = services.api_token_create(actor=None, user=actors.worker_a1, name="x")
        services.api_token_revoke(actor=actors.worker_a1, token=token)
        assert services.api_token_authenticate(raw) is None
        _t, raw2 = services.api_token_create(
            actor=None, user=actors.worker_a1, name="y", expires_at=timezone.now() - dt.timedelta(seconds=1)
        )
        assert services.api_token_authenticate(raw2) is None
        _t, raw3 = services.api_token_create(actor=None, user=actors.worker_a1, name="z")
        services.user_set_active(actor=actors.admin, user=actors.worker_a1, active=False)
        assert services.api_token_authenticate(raw3) is None
        assert services.api_token_authenticate("sq_guess") is None

    def test_nobody_makes_tokens_for_someone_else(self, actors):
        with pytest.raises(NotFound):
            services.api_token_create(actor=actors.worker_a2, user=actors.worker_a1, name="偷")


class TestPasswords:
    def test_production_hasher_is_argon2(self, settings):
        import shequ.settings as configured

        assert configured.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
        assert make_password("a long enough password").startswith("argon2$argon2id$")

    def test_passwords_shorter_than_12_are_refused(self, db):
        with pytest.raises(ValidationFailed) as exc:
            services.user_create(actor=None, username="short", password="Sh0rt!pass")
        assert "password" in exc.value.errors

    def test_login_is_throttled_after_100_failures_per_account(self, actors, client):
        for _ in range(100):
            client.post("/login/", {"username": "worker_a1", "password": "wrong password!!"})
        response = client.post("/login/", {"username": "worker_a1", "password": f.PASSWORD})
        assert response.status_code == 429
        assert "_auth_user_id" not in client.session
        # Another account is not affected.
        response = client.post("/login/", {"username": "worker_a2", "password": f.PASSWORD})
        assert response.status_code == 302


class TestAccountChanges:
    def test_a_manager_cannot_touch_users_outside_their_subtree(self, actors):
        with pytest.raises(NotFound):
            services.user_set_active(actor=actors.head_a1, user=actors.worker_b1, active=False)
        with pytest.raises(NotFound):
            services.user_set_password(actor=actors.head_a1, user=actors.worker_b1, password="a-new-long-password-1")
        services.user_set_active(actor=actors.head_a1, user=actors.grid_a1, active=False)
        actors.grid_a1.refresh_from_db()
        assert not actors.grid_a1.is_active

    def test_nobody_deactivates_themselves(self, actors):
        with pytest.raises(PermissionDenied):
            services.user_set_active(actor=actors.admin, user=actors.admin, active=False)

    def test_an_account_and_its_first_role_are_one_change(self, actors, tree):
        with pytest.raises(PermissionDenied):
            services.user_create(actor=actors.head_a1, username="newhead", password=f.PASSWORD, place=tree.a1,
                                 role=Role.COMMUNITY_HEAD)
        from shequ.accounts.models import User

        assert not User.objects.filter(username="newhead").exists()
        user = services.user_create(actor=actors.head_a1, username="newgrid", password=f.PASSWORD, place=tree.a1,
                                    role=Role.GRID_WORKER)
        assert user.scope_paths() == (tree.a1.path,)

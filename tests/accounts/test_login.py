"""Signing in and out: messages, session renewal, audit rows, throttling, logout ends the session."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import override_settings
from django.urls import reverse

from shequ.accounts.auth_views import LOGIN_INVALID
from shequ.core.models import AuditAction, AuditEntry
from tests import factories as f


@pytest.fixture
def worker(actors):
    return actors.worker_a1


def test_login_page_is_chinese(client, db):
    html = client.get(reverse("login")).content.decode()
    assert "用户名" in html and "密码" in html and "登录" in html


def test_login_renews_session_and_writes_audit(client, worker):
    # given an anonymous session
    client.get(reverse("login"))
    client.session.save()
    before = client.session.session_key
    # when the worker signs in with the right password
    response = client.post(reverse("login"), {"username": "worker_a1", "password": f.PASSWORD})
    # then they are sent home with a new session key and the login is in the audit trail
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.session.session_key != before
    assert int(client.session[SESSION_KEY]) == worker.pk
    entry = AuditEntry.objects.get(action=AuditAction.LOGIN)
    assert entry.actor == worker and entry.outcome == "success"


def test_wrong_password_shows_clear_message_and_is_audited(client, worker):
    response = client.post(reverse("login"), {"username": "worker_a1", "password": "wrong-password-123"})
    assert response.status_code == 200
    assert str(LOGIN_INVALID) in response.content.decode()
    assert SESSION_KEY not in client.session
    entry = AuditEntry.objects.get(action=AuditAction.LOGIN_FAILED)
    assert entry.object_repr == "worker_a1" and entry.outcome == "failure" and entry.actor is None


@override_settings(AXES_FAILURE_LIMIT=3)
def test_too_many_failures_lock_the_account(client, worker):
    for _ in range(3):
        client.post(reverse("login"), {"username": "worker_a1", "password": "wrong-password-123"})
    # even the right password is refused while locked
    response = client.post(reverse("login"), {"username": "worker_a1", "password": f.PASSWORD})
    assert response.status_code == 429
    assert "账号已暂时锁定" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_logout_ends_the_session_and_is_audited(client, worker):
    client.post(reverse("login"), {"username": "worker_a1", "password": f.PASSWORD})
    old_key = client.session.session_key
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert SESSION_KEY not in client.session
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=old_key).exists()
    assert AuditEntry.objects.filter(action=AuditAction.LOGOUT, actor=worker).count() == 1
    assert client.get(reverse("home")).status_code == 302


def test_logout_by_get_is_refused(client, worker):
    client.post(reverse("login"), {"username": "worker_a1", "password": f.PASSWORD})
    assert client.get(reverse("logout")).status_code == 405
    assert SESSION_KEY in client.session

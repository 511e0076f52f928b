"""Idempotency-Key on API writes (QUALITY §12)."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import timezone

from shequ.core.idempotency import IN_PROGRESS, KEY_REUSED
from shequ.core.models import IdempotencyRecord
from shequ.core.retention import purge_expired
from shequ.registry.models import Person
from tests import factories as f
from tests.api_fixtures import *  # noqa: F403

API = "/api/v1"


def _post(token, path, body, key):
    return Client().post(
        API + path,
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
    )


def _person(tree, name="刘德华"):
    return {"place": tree.a1_unit.pk, "name": name, "residence_type": "registered"}


def test_a_replay_returns_the_first_response_and_creates_nothing_more(token_for, actors, tree):
    token = token_for(actors.worker_a1)
    first = _post(token, "/people", _person(tree), "phone-retry-1")
    again = _post(token, "/people", _person(tree), "phone-retry-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Person.objects.filter(name="刘德华").count() == 1


def test_the_same_key_with_another_body_answers_422(token_for, actors, tree):
    token = token_for(actors.worker_a1)
    _post(token, "/people", _person(tree), "k2")
    response = _post(token, "/people", _person(tree, name="张学友"), "k2")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused" and response.json()["message"] == str(KEY_REUSED)
    assert not Person.objects.filter(name="张学友").exists()


def test_keys_of_two_users_do_not_collide(token_for, actors, tree):
    _post(token_for(actors.worker_a1), "/people", _person(tree), "same-key")
    response = _post(token_for(actors.admin), "/people", _person(tree, name="黎明"), "same-key")
    assert response.status_code == 201


def test_a_request_still_in_progress_answers_409(token_for, actors, tree):
    token = token_for(actors.worker_a1)
    IdempotencyRecord.objects.create(principal=f"u{actors.worker_a1.pk}", key="busy", fingerprint=_fingerprint_of(tree))
    response = _post(token, "/people", _person(tree), "busy")
    assert response.status_code == 409 and response.json()["message"] == str(IN_PROGRESS)


def _fingerprint_of(tree):
    import hashlib
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    digest = hashlib.sha256()
    digest.update(b"POST")
    digest.update(b"\0" + (API + "/people").encode() + b"\0")
    digest.update(json.dumps(_person(tree), cls=DjangoJSONEncoder).encode())
    return digest.hexdigest()


def test_errors_are_replayed_but_server_errors_and_revealed_values_are_not_kept(token_for, actors, tree):
    token = token_for(actors.worker_a1)
    bad = {
        "place": tree.a1_unit.pk,
        "name": "刘德华",
        "residence_type": "registered",
        "id_number": "110105194912310021",
    }
    assert _post(token, "/people", bad, "bad-1").status_code == 400
    assert _post(token, "/people", bad, "bad-1")["Idempotent-Replayed"] == "true"
    person = f.person(tree.a1_unit, phone="13812345678")
    response = _post(token, f"/people/{person.pk}/reveal", {"field": "phone", "reason": "电话回访核实"}, "reveal-1")
    assert response.status_code == 200 and response.json()["value"] == "13812345678"
    assert not IdempotencyRecord.objects.filter(key="reveal-1").exists()
    assert b"13812345678" not in b"".join(bytes(r.body) for r in IdempotencyRecord.objects.all())


def test_keys_expire_after_24_hours(token_for, actors, tree):
    _post(token_for(actors.worker_a1), "/people", _person(tree), "old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
    assert purge_expired()["core.idempotency_keys"] == 1

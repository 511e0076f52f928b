"""API v1: authentication, CSRF, the JSON error shape and its stable codes, the docs page without CDN."""

from __future__ import annotations

import json
import re

import pytest
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client, RequestFactory

from shequ.accounts import services as account_services
from shequ.api import api
from shequ.core import pii
from shequ.core.api_errors import SERVER_ERROR, UNAUTHENTICATED
from shequ.core.errors import CONFLICT, NOT_FOUND
from shequ.registry.models import Person
from tests import factories as f
from tests.api_fixtures import *  # noqa: F403
from tests.api_fixtures import API, ApiClient


def _shape(body: dict) -> None:
    assert set(body) == {"code", "message", "errors"}
    assert isinstance(body["message"], str) and body["message"]
    assert all(set(e) == {"field", "message"} for e in body["errors"])


def _bad_checksum(valid: str) -> str:
    wrong = next(c for c in "0123456789X" if c != valid[-1])
    return valid[:-1] + wrong


# --- Authentication -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/people", "/places", "/me", "/grids/locate?lon=121.4&lat=31.2"])
def test_unauthenticated_answers_401_json(db, path):
    response = Client().get(API + path)
    assert response.status_code == 401
    body = response.json()
    _shape(body)
    assert body["code"] == "unauthenticated" and body["message"] == str(UNAUTHENTICATED)


def test_unauthenticated_write_answers_401_not_csrf_403(db):
    response = Client(enforce_csrf_checks=True).post(f"{API}/people", {}, content_type="application/json")
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"


def test_bearer_token_works_and_revoked_token_fails(actors, records_a1):
    token, raw = account_services.api_token_create(actor=None, user=actors.worker_a1, name="脚本")
    client = ApiClient(raw)
    assert client.get("/people").status_code == 200
    account_services.api_token_revoke(actor=None, token=token)
    response = client.get("/people")
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"


@pytest.mark.parametrize("header", ["Bearer shq_not-a-real-token", "Bearer ", "Basic d29ya2VyOnB3", "Token abc"])
def test_unknown_or_malformed_credentials_answer_401(db, header):
    response = Client().get(f"{API}/people", headers={"Authorization": header})
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"


def test_token_of_inactive_user_fails(actors, token_for):
    raw = token_for(actors.worker_a1)
    account_services.user_set_active(actor=None, user=actors.worker_a1, active=False)
    assert ApiClient(raw).get("/people").status_code == 401


def test_bearer_post_needs_no_csrf(actors, tree, token_for):
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"{API}/households", {"unit": tree.a1_unit.pk}, content_type="application/json",
                           headers={"Authorization": f"Bearer {token_for(actors.worker_a1)}"})
    assert response.status_code == 201


def test_session_reads_and_session_post_needs_csrf(actors, tree, settings):
    settings.SHEQU_REQUIRE_2FA = False  # the second factor is tested in tests/accounts
    client = Client(enforce_csrf_checks=True)
    client.force_login(actors.worker_a1)
    assert client.get(f"{API}/places/{tree.a1.pk}").status_code == 200
    # without the CSRF token the write is refused and nothing is created
    refused = client.post(f"{API}/households", {"unit": tree.a1_unit.pk}, content_type="application/json")
    assert refused.status_code == 403
    _shape(refused.json())
    assert refused.json()["code"] == "csrf_failed"
    assert not tree.a1_unit.households.exists()
    # with the CSRF cookie and the same token in the header it goes through
    csrf_value = _get_new_csrf_string()
    client.cookies["csrftoken"] = csrf_value
    accepted = client.post(f"{API}/households", {"unit": tree.a1_unit.pk}, content_type="application/json",
                           headers={"X-CSRFToken": csrf_value})
    assert accepted.status_code == 201, accepted.content
    assert tree.a1_unit.households.count() == 1


# --- Error bodies ---------------------------------------------------------------------------------------


def test_bad_id_number_checksum_answers_400_with_field(api_as, actors, tree):
    response = api_as(actors.worker_a1).post("/people", {
        "place": tree.a1_unit.pk, "name": "钱七", "residence_type": "registered",
        "id_number": _bad_checksum(f.id_number()),
    })
    assert response.status_code == 400
    body = response.json()
    _shape(body)
    assert body["code"] == "validation_failed"
    assert body["errors"] == [{"field": "id_number", "message": str(pii.ID_NUMBER_CHECKSUM)}]
    assert not Person.objects.exists()


def test_several_field_errors_come_together(api_as, actors, tree):
    response = api_as(actors.worker_a1).post("/people", {
        "place": tree.a1_unit.pk, "name": "钱七", "residence_type": "registered", "phone": "12345",
        "id_number": "123",
    })
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"phone", "id_number"}


def test_unknown_field_answers_400(api_as, actors, tree):
    response = api_as(actors.worker_a1).post("/people", {
        "place": tree.a1_unit.pk, "name": "钱七", "residence_type": "registered", "scope_path": "310105",
    })
    assert response.status_code == 400
    body = response.json()
    _shape(body)
    assert body["code"] == "validation_failed"
    assert body["errors"] == [{"field": "scope_path", "message": "不允许提交此字段。"}]


def test_missing_and_mistyped_fields_answer_400_never_422(api_as, actors, tree):
    api = api_as(actors.worker_a1)
    missing = api.post("/people", {"place": tree.a1_unit.pk})
    assert missing.status_code == 400
    assert {e["field"] for e in missing.json()["errors"]} == {"name", "residence_type"}
    assert all(e["message"] == "此项为必填项。" for e in missing.json()["errors"])
    mistyped = api.get("/people", {"within": "abc"})
    assert mistyped.status_code == 400 and mistyped.json()["errors"][0]["field"] == "within"
    bad_enum = api.get("/places", {"kind": "planet"})
    assert bad_enum.status_code == 400 and bad_enum.json()["errors"][0]["field"] == "kind"


def test_malformed_json_answers_400(api_as, actors):
    api = api_as(actors.worker_a1)
    response = api.client.post(f"{API}/households", "{not json", content_type="application/json",
                               headers=api.headers)
    assert response.status_code == 400
    _shape(response.json())
    assert response.json()["code"] == "bad_request"


def test_missing_object_answers_404_not_found(api_as, actors):
    response = api_as(actors.admin).get("/people/987654")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": str(NOT_FOUND), "errors": []}


def test_huge_id_answers_404_not_server_error(api_as, actors):
    assert api_as(actors.admin).get(f"/people/{2**63 - 1}").status_code == 404
    assert api_as(actors.admin).get(f"/people/{2**70}").status_code == 400


def test_stale_version_answers_409_conflict(api_as, actors, records_a1):
    org = records_a1.organisation
    api = api_as(actors.worker_a1)
    assert api.patch(f"/organisations/{org.pk}", {"version": 1, "name": "新名称业委会"}).status_code == 200
    stale = api.patch(f"/organisations/{org.pk}", {"version": 1, "name": "另一个名称"})
    assert stale.status_code == 409
    assert stale.json() == {"code": "conflict", "message": str(CONFLICT), "errors": []}


def test_unexpected_exception_answers_500_generic_json(db):
    # the handler installed on the API for anything unexpected: no traceback, a stable code
    request = RequestFactory().get(f"{API}/people")
    response = api.on_exception(request, RuntimeError("secret internals /work/main/src"))
    assert response.status_code == 500
    body = response.content.decode()
    assert "secret internals" not in body and "Traceback" not in body
    assert response.headers["Content-Type"].startswith("application/json")
    assert json.loads(body) == {"code": "server_error", "message": str(SERVER_ERROR), "errors": []}


# --- OpenAPI and docs -----------------------------------------------------------------------------------


def test_openapi_document_is_served(db):
    response = Client().get(f"{API}/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["info"]["title"] == "社区云 API" and doc["info"]["version"] == "1"
    assert f"{API}/people/{{person_id}}/reveal" in doc["paths"]
    person_out = doc["components"]["schemas"]["PersonOut"]["properties"]
    assert "id_number" not in person_out and "phone" not in person_out and "birth_date" not in person_out


def test_docs_page_uses_only_local_static_assets(db):
    response = Client().get(f"{API}/docs")
    assert response.status_code == 200
    html = response.content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls, html
    assert all(u.startswith("/static/") for u in urls), urls
    assert "cdn" not in html.lower() and "https://" not in html
    assert "/static/ninja/swagger-ui-bundle.js" in urls


def test_django_http404_and_permission_denied_map_to_stable_codes(db):
    from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
    from django.http import Http404

    request = RequestFactory().get(f"{API}/people/1")
    not_found = api.on_exception(request, Http404("Person matching query does not exist"))
    assert not_found.status_code == 404
    assert json.loads(not_found.content) == {"code": "not_found", "message": str(NOT_FOUND), "errors": []}
    forbidden = api.on_exception(request, DjangoPermissionDenied())
    assert forbidden.status_code == 403 and json.loads(forbidden.content)["code"] == "permission_denied"

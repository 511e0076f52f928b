"""Open311 GeoReport v2 at /open311/v2/, exercised the way a client written against the spec does:
form-encoded POST with ``api_key``, JSON parsed with ``json``, XML parsed with ``xml.etree``."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from shequ.cases.choices import CaseSource
from shequ.cases.models import Case
from shequ.core import pii
from tests.cases.fixtures_api import *  # noqa: F403

BASE = "/open311/v2"
REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"}


class GeoReportClient:
    """What a third-party GeoReport v2 client does: GET with query strings, POST form-encoded."""

    def __init__(self) -> None:
        self.http = Client()

    def get(self, resource: str, fmt: str = "json", **params: str):
        response = self.http.get(f"{BASE}/{resource}.{fmt}", params)
        return response, self.parse(response, fmt)

    def post(self, resource: str, fmt: str = "json", **fields: str):
        response = self.http.post(f"{BASE}/{resource}.{fmt}", urlencode(fields),
                                  content_type="application/x-www-form-urlencoded")
        return response, self.parse(response, fmt)

    @staticmethod
    def parse(response, fmt: str):
        if fmt == "json":
            assert response["Content-Type"].startswith("application/json")
            return json.loads(response.content.decode("utf-8"))
        assert response["Content-Type"].startswith("text/xml")
        assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
        return ET.fromstring(response.content)


@pytest.fixture
def geo() -> GeoReportClient:
    return GeoReportClient()


@pytest.fixture
def api_key(token_for, actors):
    """An API token of the 12345 hotline integration account (a community worker of A1)."""
    return token_for(actors.worker_a1)


def test_services_list_the_active_leaf_categories(geo, categories):
    response, services = geo.get("services")
    assert response.status_code == 200
    codes = [s["service_code"] for s in services]
    assert "lift_fault" in codes and "housing" not in codes  # groups are not services
    lift = next(s for s in services if s["service_code"] == "lift_fault")
    assert lift["service_name"] == "电梯故障" and lift["group"] == "房屋物业"
    assert lift["metadata"] is False and lift["type"] == "realtime" and "电梯故障" in lift["keywords"]
    # the same in XML
    _response, root = geo.get("services", "xml")
    assert root.tag == "services"
    xml_lift = next(s for s in root.findall("service") if s.findtext("service_code") == "lift_fault")
    assert xml_lift.findtext("metadata") == "false" and xml_lift.findtext("type") == "realtime"
    assert xml_lift.findtext("group") == "房屋物业"


def test_service_definition_and_unknown_code(geo, categories):
    response, definition = geo.get("services/lift_fault")
    assert response.status_code == 200 and definition == {"service_code": "lift_fault", "attributes": []}
    _response, root = geo.get("services/lift_fault", "xml")
    assert root.tag == "service_definition" and root.findtext("service_code") == "lift_fault"
    missing, errors = geo.get("services/nope")
    assert missing.status_code == 404 and errors[0]["code"] == 404 and "nope" in errors[0]["description"]
    missing_xml, root = geo.get("services/nope", "xml")
    assert missing_xml.status_code == 404 and root.tag == "errors"
    assert root.find("error").findtext("code") == "404"


def test_client_posts_a_request_and_reads_it_back(geo, tree, grids, categories, api_key, actors):
    # when a client posts a request, form-encoded, with its api_key
    response, created = geo.post(
        "requests", api_key=api_key, service_code="road_facility", lat=str(tree.a1.lat), long=str(tree.a1.lon),
        description="人行道地砖松动 联系13911112222", email="a@example.org", first_name="San", last_name="Zhang",
        phone="13911112222",
    )
    # then a case is opened with source open311, the phone kept encrypted
    assert response.status_code == 201, response.content
    assert set(created[0]) == {"service_request_id", "service_notice", "account_id"}
    assert created[0]["account_id"] is None
    case = Case.objects.get(number=created[0]["service_request_id"])
    assert case.source == CaseSource.OPEN311 and case.reporter == actors.worker_a1
    assert case.contact_phone == "13911112222"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT contact_phone FROM {Case._meta.db_table} WHERE id = %s", [case.pk])
        stored = cursor.fetchone()[0]
    assert stored != "13911112222" and pii.decrypt(stored) == "13911112222"
    # and anyone can read it back, with no personal data
    response, found = geo.get(f"requests/{case.number}")
    assert response.status_code == 200 and len(found) == 1
    item = found[0]
    assert set(item) == REQUEST_FIELDS
    assert item["status"] == "open" and item["service_code"] == "road_facility" and item["media_url"] is None
    assert item["expected_datetime"] == timezone.localtime(case.resolve_due_at).isoformat(timespec="seconds")
    assert dt.datetime.fromisoformat(item["requested_datetime"]).tzinfo is not None
    body = response.content.decode()
    assert "13911112222" not in body and "139****2222" in body and "秀水社工" not in body
    # the same in XML
    _response, root = geo.get(f"requests/{case.number}", "xml")
    assert root.tag == "service_requests"
    request = root.find("request")
    assert request.findtext("service_request_id") == case.number and request.findtext("status") == "open"
    assert request.findtext("lat") == str(round(tree.a1.lat, 4))


def test_post_errors_in_the_spec_format(geo, tree, categories, api_key):
    response, errors = geo.post("requests", api_key="shq_wrong", service_code="road_facility",
                                lat=str(tree.a1.lat), long=str(tree.a1.lon))
    assert response.status_code == 403 and errors[0]["code"] == 403
    response, errors = geo.post("requests", api_key=api_key, lat=str(tree.a1.lat), long=str(tree.a1.lon))
    assert response.status_code == 400 and "service_code" in errors[0]["description"]
    response, errors = geo.post("requests", api_key=api_key, service_code="nope", lat="31.2", long="121.4")
    assert response.status_code == 404
    response, root = geo.post("requests", "xml", api_key=api_key, service_code="road_facility")
    assert response.status_code == 400 and root.tag == "errors"
    assert root.find("error").findtext("code") == "400" and root.find("error").findtext("description")


def test_post_with_an_address_string_only(geo, tree, grids, categories, api_key):
    response, created = geo.post("requests", api_key=api_key, service_code="greening",
                                 address_string="秀水小区3号楼旁绿地", description="树枝折断")
    assert response.status_code == 201, response.content
    case = Case.objects.get(number=created[0]["service_request_id"])
    assert case.community_id == tree.a1.pk and case.address == "秀水小区3号楼旁绿地"


def test_get_requests_filters(geo, tree, categories, report, reporter, actors):
    # given an open case, a closed (rejected) one, and an old one
    open_case = report(reporter, category=categories["noise"], title="噪声", description="夜间噪声")
    closed = report(reporter)
    from shequ.cases import services

    services.case_act(actor=actors.worker_a1, case=closed, action="reject", version=closed.version,
                      reason="非本社区事项")
    old = report(reporter)
    Case.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=120))

    def numbers(**params):
        response, items = geo.get("requests", **params)
        assert response.status_code == 200, response.content
        return sorted(i["service_request_id"] for i in items)

    # default: the last 90 days
    assert numbers() == sorted([open_case.number, closed.number])
    assert numbers(status="open") == [open_case.number]
    assert numbers(status="closed") == [closed.number]
    assert numbers(status="open,closed") == sorted([open_case.number, closed.number])
    assert numbers(service_code="noise") == [open_case.number]
    since = (timezone.now() - dt.timedelta(days=150)).strftime("%Y-%m-%dT%H:%M:%SZ")
    until = (timezone.now() - dt.timedelta(days=100)).isoformat()
    assert numbers(start_date=since, end_date=until) == [old.number]
    assert numbers(start_date=since) == [old.number]  # a start alone: the 90 days from it
    too_long = geo.get("requests", start_date=since, end_date=timezone.now().isoformat())[0]
    assert too_long.status_code == 400  # the spec: a range may not span more than 90 days
    # service_request_id overrides every other argument
    assert numbers(service_request_id=f"{old.number},{closed.number}", status="open") == sorted(
        [old.number, closed.number])
    # the rejected case: closed, with the reason as status_notes
    _response, items = geo.get("requests", service_request_id=closed.number)
    assert items[0]["status"] == "closed" and "非本社区事项" in items[0]["status_notes"]
    # bad input answers 400 in the spec's format
    response, errors = geo.get("requests", start_date="yesterday")
    assert response.status_code == 400 and errors[0]["code"] == 400
    assert geo.get("requests", status="pending")[0].status_code == 400


def test_public_requests_show_no_address_below_the_building(geo, tree, grids, categories, report, reporter):
    case = report(reporter, place=tree.a1_unit, address="秀水小区1号楼0101室")
    _response, items = geo.get(f"requests/{case.number}")
    assert items[0]["address"].endswith("1号楼") and "0101" not in json.dumps(items, ensure_ascii=False)
    assert items[0]["agency_responsible"] == tree.a1.name


def test_tokens_and_unknown_request(geo, case_a1):
    response, items = geo.get(f"tokens/{case_a1.number}")
    assert response.status_code == 200 and items == [{"service_request_id": case_a1.number,
                                                       "token": case_a1.number}]
    response, errors = geo.get("requests/SQ00000000-000000")
    assert response.status_code == 404 and errors[0]["code"] == 404
    _response, root = geo.get(f"tokens/{case_a1.number}", "xml")
    assert root.find("request").findtext("token") == case_a1.number

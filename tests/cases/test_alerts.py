"""Sensor alerts: device tokens, rules that fire, at most one open case per device and kind in a window."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from shequ.cases import alerts
from shequ.cases.choices import CaseSource, CaseState
from shequ.cases.models import Alert, AlertRule, Case, Device
from shequ.core.errors import NotFound, PermissionDenied, ValidationFailed
from tests.api_fixtures import API
from tests.cases.fixtures_api import *  # noqa: F403


def _post(token: str, **body):
    payload = {"device_id": "LIFT-A1-001", "kind": "lift_trapped", **body}
    return Client().post(API + "/alerts", payload, content_type="application/json",
                         headers={"Authorization": f"Device {token}"})


def test_device_register_stores_only_the_digest(device, tree):
    dev, raw = device
    assert raw.startswith(alerts.TOKEN_PREFIX) and dev.token_digest == alerts.token_digest(raw)
    assert raw not in str(Device.objects.filter(pk=dev.pk).values().get())
    assert dev.scope_path == tree.a1_building.path


def test_device_register_needs_registry_edit_at_the_place(actors, tree):
    with pytest.raises(PermissionDenied):  # a grid worker sees A1 but may not edit the registry
        alerts.device_register(actor=actors.grid_a1, device_id="X1", name="烟感", kind="smoke", place=tree.a1_building)
    with pytest.raises(NotFound):
        alerts.device_register(actor=actors.worker_b1, device_id="X1", name="烟感", kind="smoke",
                               place=tree.a1_building)
    alerts.device_register(actor=actors.worker_a1, device_id="X1", name="烟感", kind="smoke", place=tree.a1_building)
    with pytest.raises(ValidationFailed):
        alerts.device_register(actor=actors.worker_a1, device_id="X1", name="烟感2", kind="smoke",
                               place=tree.a1_building)


def test_ensure_alert_rules_seeds_the_defaults_once(categories):
    rules = alerts.ensure_alert_rules()
    assert {r.kind for r in rules} == {"lift_trapped", "smoke", "gas", "water_level"}
    assert AlertRule.objects.get(kind="lift_trapped").category.slug == "lift_fault"
    alerts.ensure_alert_rules()
    assert AlertRule.objects.count() == 4


def test_trapped_occupant_opens_one_case_then_joins_it(device, tree):
    _dev, token = device
    # when the lift reports a trapped occupant
    first = _post(token, time=timezone.now().isoformat())
    # then a sensor case is opened at the device's place
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["fired"] and body["opened"]
    case = Case.objects.get(pk=body["case_id"])
    assert case.source == CaseSource.SENSOR and case.device_id == _dev.pk and case.category.slug == "lift_fault"
    assert case.place_id == tree.a1_building.pk and case.community_id == tree.a1.pk and case.state == CaseState.NEW
    assert case.reporter is None
    # and a second alarm within the window joins the same case
    again = _post(token)
    assert again.status_code == 200 and again.json()["case_id"] == case.pk and not again.json()["opened"]
    assert Case.objects.count() == 1 and Alert.objects.filter(case=case).count() == 2
    assert case.events.filter(action="alert").count() == 1


def test_after_the_window_or_once_closed_a_new_case_opens(device):
    _dev, token = device
    first = Case.objects.get(pk=_post(token).json()["case_id"])
    Case.objects.filter(pk=first.pk).update(created_at=timezone.now() - dt.timedelta(minutes=61))
    second = _post(token).json()
    assert second["opened"] and second["case_id"] != first.pk
    Case.objects.filter(pk=second["case_id"]).update(state=CaseState.CLOSED)
    assert _post(token).json()["opened"]
    assert Case.objects.count() == 3


def test_threshold_rules(device):
    _dev, token = device
    below = _post(token, kind="water_level", value="0.2")
    assert below.status_code == 200 and below.json() == {**below.json(), "fired": False, "case_id": None}
    above = _post(token, kind="water_level", value="0.45")
    assert above.status_code == 201 and above.json()["fired"]
    assert Case.objects.get().category.slug == "waterlogging"
    # a kind without a rule is only stored
    other = _post(token, kind="temperature", value="30")
    assert other.status_code == 200 and not other.json()["fired"]
    assert Alert.objects.count() == 3


def test_rule_fires_comparisons(categories):
    rule = AlertRule(kind="k", comparison="ge", threshold=Decimal("20"))
    assert alerts.rule_fires(rule, Decimal("20")) and not alerts.rule_fires(rule, Decimal("19.9"))
    assert not alerts.rule_fires(rule, None)
    assert alerts.rule_fires(AlertRule(kind="k", comparison="lt", threshold=Decimal("1")), Decimal("0.5"))
    assert alerts.rule_fires(AlertRule(kind="k", comparison="any"), None)


def test_bad_tokens_and_mismatched_device(device):
    _dev, token = device
    assert _post("dev_wrong").status_code == 401
    response = Client().post(API + "/alerts", {"device_id": "LIFT-A1-001", "kind": "smoke"},
                             content_type="application/json", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    mismatch = _post(token, device_id="OTHER")
    assert mismatch.status_code == 400 and mismatch.json()["errors"][0]["field"] == "device_id"
    future = _post(token, time=(timezone.now() + dt.timedelta(hours=2)).isoformat())
    assert future.status_code == 400 and future.json()["errors"][0]["field"] == "time"
    Device.objects.filter(pk=_dev.pk).update(active=False)
    assert _post(token).status_code == 401
    assert Alert.objects.count() == 0

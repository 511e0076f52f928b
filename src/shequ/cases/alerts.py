"""Sensor alerts (物联感知告警): devices post readings; a rule that fires opens a case.

A device authenticates with its own token (``Authorization: Device <token>``); only the token's
SHA-256 digest is stored. Each reading is kept as an ``Alert``. When the active ``AlertRule`` of the
reading's kind fires (a comparison with its threshold), a case is opened at the device's place with
source ``sensor`` — unless an open case for the same device and kind was opened within the rule's
window, in which case the alert joins that case (at most one open case per device and kind).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from shequ.accounts.roles import Capability
from shequ.cases.choices import OPEN_STATES, AlertComparison, CaseSource
from shequ.cases.models import Alert, AlertRule, Case, CaseCategory, CaseEvent, Device
from shequ.core.audit import audit_record
from shequ.core.errors import ValidationFailed
from shequ.core.models import AuditAction
from shequ.core.services import full_clean, require_capability

TOKEN_PREFIX = "dev_"
DEVICE_ID_TAKEN = _("设备编号已被使用。")
DEVICE_MISMATCH = _("设备编号与令牌不符。")
ALERT_TIME_IN_FUTURE = _("发生时间不能晚于当前时间。")
ALERT_ATTACHED = _("同一设备同类告警再次触发，已并入本工单。")

# (kind, name, comparison, threshold, category slugs (first found wins; see categories.py), window in minutes)
DEFAULT_RULES: tuple[tuple[str, str, str, Decimal | None, tuple[str, ...], int], ...] = (
    ("lift_trapped", "电梯困人", AlertComparison.ANY, None, ("lift_fault",), 60),
    ("smoke", "烟感报警", AlertComparison.ANY, None, ("fire_hazard",), 30),
    ("gas", "燃气泄漏报警", AlertComparison.GREATER_EQUAL, Decimal("20"), ("gas_leak", "fire_hazard"), 30),
    ("water_level", "积水水位超限", AlertComparison.GREATER, Decimal("0.3"), ("waterlogging", "road_facility"), 120),
)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def device_register(
    *, actor: Any, device_id: str, name: str, kind: str, place: Any, lon: float | None = None, lat: float | None = None
) -> tuple[Device, str]:
    """Register a device at ``place`` (REGISTRY_EDIT there); its token is returned in clear once."""
    require_capability(actor, place.path, Capability.REGISTRY_EDIT)
    if Device.objects.filter(device_id=device_id.strip()).exists():
        raise ValidationFailed({"device_id": DEVICE_ID_TAKEN})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    device = Device(
        device_id=device_id.strip(), name=name.strip(), kind=kind.strip(), place=place,
        lon=lon if lon is not None else place.lon, lat=lat if lat is not None else place.lat,
        token_digest=token_digest(raw), scope_path=place.path,
    )
    full_clean(device, exclude=["scope_path"])
    device.save()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=device, scope_path=place.path,
                 object_repr=f"{device.name}（{device.device_id}）")
    return device, raw


def device_authenticate(raw: str) -> Device | None:
    """The active device a token belongs to, or None."""
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    return Device.objects.select_related("place").filter(token_digest=token_digest(raw), active=True).first()


def rule_fires(rule: AlertRule, value: Decimal | None) -> bool:
    if rule.comparison == AlertComparison.ANY:
        return True
    if value is None or rule.threshold is None:
        return False
    return {
        AlertComparison.GREATER: value > rule.threshold,
        AlertComparison.GREATER_EQUAL: value >= rule.threshold,
        AlertComparison.LESS: value < rule.threshold,
        AlertComparison.LESS_EQUAL: value <= rule.threshold,
    }.get(AlertComparison(rule.comparison), False)


def _open_case_for(*, device: Device, kind: str, since: dt.datetime) -> Case | None:
    return (
        Case.objects.filter(device=device, alerts__kind=kind, state__in=OPEN_STATES, created_at__gte=since)
        .order_by("-created_at")
        .first()
    )


@transaction.atomic
def alert_receive(
    *, device: Device, device_id: str, kind: str, value: Decimal | None, observed_at: dt.datetime | None = None
) -> tuple[Alert, bool]:
    """Store a reading; open or join a case when its rule fires. Returns the alert and whether a case was opened."""
    if device_id != device.device_id:
        raise ValidationFailed({"device_id": DEVICE_MISMATCH})
    now = timezone.now()
    observed_at = observed_at or now
    if observed_at > now + dt.timedelta(minutes=5):
        raise ValidationFailed({"time": ALERT_TIME_IN_FUTURE})
    # One device's alerts are handled one at a time, so two readings cannot both open a case.
    Device.objects.select_for_update().filter(pk=device.pk).first()
    alert = Alert.objects.create(device=device, kind=kind, value=value, observed_at=observed_at)
    rule = AlertRule.objects.filter(kind=kind, active=True).select_related("category").first()
    if rule is None or not rule_fires(rule, value):
        return alert, False
    existing = _open_case_for(device=device, kind=kind, since=now - dt.timedelta(minutes=rule.window_minutes))
    if existing is not None:
        alert.case = existing
        alert.save(update_fields=["case"])
        CaseEvent.objects.create(case=existing, at=now, actor=None, action="alert", from_state=existing.state,
                                 to_state=existing.state, note=str(ALERT_ATTACHED),
                                 data={"alert": alert.pk, "kind": kind, "value": None if value is None else str(value)})
        return alert, False
    from shequ.cases.services import case_report

    shown = "" if value is None else _t("，读数 %(value)s") % {"value": value}
    case = case_report(
        actor=None, category=rule.category, title=f"{rule.name}：{device.name}"[:100],
        description=_t("设备 %(device)s（%(id)s）于 %(time)s 报警%(value)s。") % {
            "device": device.name, "id": device.device_id,
            "time": timezone.localtime(observed_at).strftime("%Y-%m-%d %H:%M"), "value": shown,
        },
        source=CaseSource.SENSOR, lon=device.lon, lat=device.lat, place=device.place, device=device,
    )
    alert.case = case
    alert.save(update_fields=["case"])
    return alert, True


def _find_category(slugs: tuple[str, ...]) -> CaseCategory | None:
    for slug in slugs:
        found = CaseCategory.objects.filter(slug=slug, active=True).first()
        if found is not None:
            return found
    return None


def ensure_alert_rules() -> list[AlertRule]:
    """Seed the default rules (idempotent); a rule whose category does not exist yet is skipped."""
    rules = []
    for kind, name, comparison, threshold, categories, window in DEFAULT_RULES:
        existing = AlertRule.objects.filter(kind=kind).first()
        if existing is not None:
            rules.append(existing)
            continue
        category = _find_category(categories)
        if category is None:
            continue
        rules.append(AlertRule.objects.create(kind=kind, name=name, comparison=comparison, threshold=threshold,
                                              category=category, window_minutes=window))
    return rules

"""Choices of the case loop (一网统管)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseState(models.TextChoices):
    NEW = "new", _("待受理")
    ACCEPTED = "accepted", _("已受理")
    REJECTED = "rejected", _("不予受理")
    IN_PROGRESS = "in_progress", _("处置中")
    ESCALATED = "escalated", _("社区呼叫（已上报街道）")
    DISPATCHED = "dispatched", _("街道吹哨（部门处置中）")
    RESOLVED = "resolved", _("已处置待核查")
    CLOSED = "closed", _("已结案")
    MERGED = "merged", _("已合并")


OPEN_STATES = frozenset({CaseState.NEW, CaseState.ACCEPTED, CaseState.IN_PROGRESS, CaseState.ESCALATED,
                         CaseState.DISPATCHED, CaseState.RESOLVED})


class CaseSource(models.TextChoices):
    RESIDENT = "resident", _("居民上报")
    GRID_PATROL = "grid_patrol", _("网格巡查")
    HOTLINE = "hotline", _("12345热线")
    SENSOR = "sensor", _("物联感知")
    WORKER = "worker", _("社区发现")
    OPEN311 = "open311", _("Open311接口")
    DECISION = "decision", _("议事决议")


class DispatchState(models.TextChoices):
    PENDING = "pending", _("待报到")
    CHECKED_IN = "checked_in", _("已报到")
    REPORTED = "reported", _("已反馈处置结果")
    RETURNED = "returned", _("已退回")
    VERIFIED = "verified", _("已核查")


class AlertComparison(models.TextChoices):
    ANY = "any", _("收到即触发")
    GREATER = "gt", _("大于阈值")
    GREATER_EQUAL = "ge", _("大于等于阈值")
    LESS = "lt", _("小于阈值")
    LESS_EQUAL = "le", _("小于等于阈值")

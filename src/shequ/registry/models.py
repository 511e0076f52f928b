"""The registry (基础数据): the place tree, grids, facilities, households, people, organisations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from shequ.core import pii
from shequ.core.fields import EncryptedTextField
from shequ.core.models import ScopedModel, TimeStampedModel
from shequ.registry.choices import (
    AreaSource,
    BusinessLine,
    CompoundType,
    Construction,
    FacilityKind,
    GridDuty,
    OrganisationKind,
    PersonStatus,
    PlaceKind,
    Relation,
    ResidenceType,
    Sex,
)

LON_VALIDATORS = [MinValueValidator(73.0), MaxValueValidator(136.0)]
LAT_VALIDATORS = [MinValueValidator(3.0), MaxValueValidator(54.0)]


class Place(ScopedModel):
    """Place (区域): one node of the tree 区 → 街镇 → 居村 → 小区 → 楼栋 → 户.

    ``path`` is the node's code: the 12-digit statistical division code (统计用区划代码) down to the
    community, extended by 3 digits for the compound, 3 for the building and 4 for the unit. Every
    level has a fixed width, so a path is also a prefix of each path below it.
    """

    kind = models.CharField(_("层级"), max_length=16, choices=PlaceKind.choices, db_index=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    # GeoJSON geometry in WGS84 lon/lat: a polygon for areas, a point for buildings.
    geometry = models.JSONField(_("空间范围"), null=True, blank=True)
    lon = models.FloatField(_("经度"), null=True, blank=True, validators=LON_VALIDATORS)
    lat = models.FloatField(_("纬度"), null=True, blank=True, validators=LAT_VALIDATORS)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    compound_type = models.CharField(_("小区类型"), max_length=32, choices=CompoundType.choices, blank=True)
    floors = models.PositiveSmallIntegerField(_("层数"), null=True, blank=True)
    floor_area = models.DecimalField(
        _("专有部分面积（㎡）"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    area_source = models.CharField(_("面积来源"), max_length=16, choices=AreaSource.choices, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("区域")
        verbose_name_plural = _("区域")
        ordering = ["path"]
        indexes = [models.Index(fields=["parent", "path"])]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.set_scope(self.path)
        super().save(*args, **kwargs)

    @property
    def depth(self) -> int:
        return list(PlaceKind.values).index(self.kind)


class Grid(ScopedModel):
    """Grid (网格): a comprehensive grid of one 居村 ("多格合一"); a point falls in exactly one."""

    community = models.ForeignKey(
        Place,
        verbose_name=_("所属居村"),
        on_delete=models.PROTECT,
        related_name="grids",
        limit_choices_to={"kind": PlaceKind.COMMUNITY},
    )
    code = models.CharField(_("网格编码"), max_length=32, unique=True)
    name = models.CharField(_("网格名称"), max_length=100)
    geometry = models.JSONField(_("网格范围"))
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("网格")
        verbose_name_plural = _("网格")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class GridMember(TimeStampedModel):
    """A named person in charge of a grid ("定人、定岗、定责"); a user when they sign in."""

    grid = models.ForeignKey(Grid, verbose_name=_("网格"), on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        "accounts.User",
        verbose_name=_("账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="grid_duties",
    )
    name = models.CharField(_("姓名"), max_length=50)
    duty = models.CharField(_("岗位"), max_length=32, choices=GridDuty.choices)
    phone = EncryptedTextField(_("联系电话"), blank=True)

    class Meta:
        verbose_name = _("网格责任人")
        verbose_name_plural = _("网格责任人")
        ordering = ["grid", "duty", "name"]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_duty_display()}）"


class Facility(ScopedModel):
    """Facility (设施): a service facility on a place, for the 15-minute life circle and space rules."""

    place = models.ForeignKey(Place, verbose_name=_("所在区域"), on_delete=models.PROTECT, related_name="facilities")
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类别"), max_length=32, choices=FacilityKind.choices, db_index=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    lon = models.FloatField(_("经度"), validators=LON_VALIDATORS)
    lat = models.FloatField(_("纬度"), validators=LAT_VALIDATORS)
    floor_area = models.DecimalField(
        _("建筑面积（㎡）"), max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    construction = models.CharField(_("建设方式"), max_length=16, choices=Construction.choices)
    opened_on = models.DateField(_("启用日期"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("设施")
        verbose_name_plural = _("设施")
        ordering = ["scope_path", "name"]

    def __str__(self) -> str:
        return self.name


class CareTag(TimeStampedModel):
    """Care tag (关爱标签): the vocabulary of tags such as 独居老人, 高龄, 残疾, 低保.

    Sensitive tags (disability, 低保, health) are stored on people only as a keyed hash (see
    ``PersonTag``) and shown only to staff who may see the registry.
    """

    slug = models.SlugField(_("标识"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=40, unique=True)
    sensitive = models.BooleanField(_("敏感"), default=False)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    sort = models.PositiveSmallIntegerField(_("排序"), default=100)

    class Meta:
        verbose_name = _("关爱标签")
        verbose_name_plural = _("关爱标签")
        ordering = ["sort", "slug"]

    def __str__(self) -> str:
        return self.name

    @property
    def digest(self) -> str:
        return pii.blind_index(self.slug, purpose="tag")


class Household(ScopedModel):
    """Household (户): the people who live in one dwelling unit, with a head (户主)."""

    unit = models.ForeignKey(
        Place,
        verbose_name=_("房屋"),
        on_delete=models.PROTECT,
        related_name="households",
        limit_choices_to={"kind": PlaceKind.UNIT},
    )
    number = models.CharField(_("户号"), max_length=32, blank=True)
    head = models.ForeignKey(
        "Person", verbose_name=_("户主"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("住户")
        verbose_name_plural = _("住户")
        ordering = ["scope_path", "id"]

    def __str__(self) -> str:
        return self.number or f"{self.unit}"


class Person(ScopedModel):
    """Person (人员): one record per person, whichever business line supplied the facts.

    ID number and phone are encrypted at rest with a blind index for exact lookup; the ID number is
    unique across the registry by its index. Name, ID number and phone are masked wherever shown.
    """

    name = models.CharField(_("姓名"), max_length=50, db_index=True)
    id_number = EncryptedTextField(_("身份证号"), blank=True)
    id_number_digest = models.CharField(max_length=40, null=True, blank=True, unique=True, editable=False)
    sex = models.CharField(_("性别"), max_length=8, choices=Sex.choices, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True, db_index=True)
    phone = EncryptedTextField(_("联系电话"), blank=True)
    phone_digest = models.CharField(max_length=40, blank=True, db_index=True, editable=False)
    residence_type = models.CharField(_("人口类型"), max_length=16, choices=ResidenceType.choices, db_index=True)
    status = models.CharField(_("状态"), max_length=16, choices=PersonStatus.choices, default=PersonStatus.ACTIVE)
    # When the status last changed: the retention clock of people who moved out or died starts here.
    status_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True, editable=False)
    anonymised_at = models.DateTimeField(_("匿名化时间"), null=True, blank=True, editable=False)
    place = models.ForeignKey(Place, verbose_name=_("居住地"), on_delete=models.PROTECT, related_name="people")
    household = models.ForeignKey(
        Household,
        verbose_name=_("所在住户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    relation = models.CharField(_("与户主关系"), max_length=16, choices=Relation.choices, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("已并入"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        ordering = ["scope_path", "id"]
        indexes = [
            models.Index(fields=["scope_path", "residence_type"]),
            models.Index(fields=["scope_path", "birth_date"]),
        ]

    def __str__(self) -> str:
        return pii.mask_name(self.name)

    @property
    def audit_repr(self) -> str:
        return f"{pii.mask_name(self.name)}（{self.pk}）"

    @property
    def masked_name(self) -> str:
        return pii.mask_name(self.name)

    @property
    def masked_id_number(self) -> str:
        return pii.mask_id_number(self.id_number)

    @property
    def masked_phone(self) -> str:
        return pii.mask_phone(self.phone)

    def age(self, today: dt.date | None = None) -> int | None:
        if not self.birth_date:
            return None
        today = today or dt.date.today()
        b = self.birth_date
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day))


class PersonTag(TimeStampedModel):
    """A care tag on a person, stored as the tag's keyed hash so a dump does not name it."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="tags")
    tag_digest = models.CharField(max_length=40, db_index=True)
    source = models.CharField(_("来源条线"), max_length=32, choices=BusinessLine.choices)
    since = models.DateField(_("起始日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("人员标签")
        verbose_name_plural = _("人员标签")
        constraints = [models.UniqueConstraint(fields=["person", "tag_digest"], name="person_tag_unique")]


class PersonFact(TimeStampedModel):
    """Provenance (来源): which business line supplied which value of a person's field, and when.

    Values are kept encrypted whatever the field, so conflicting values from two lines both survive
    for a human to resolve; ``Person`` holds the value in force.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="facts")
    field = models.CharField(_("字段"), max_length=40)
    value = EncryptedTextField(_("值"), blank=True)
    value_digest = models.CharField(max_length=40, blank=True)
    source = models.CharField(_("来源条线"), max_length=32, choices=BusinessLine.choices)
    supplied_at = models.DateTimeField(_("提供时间"))
    recorded_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reference = models.CharField(_("依据"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("数据来源")
        verbose_name_plural = _("数据来源")
        ordering = ["person", "field", "-supplied_at"]
        indexes = [models.Index(fields=["person", "field"])]


class Organisation(ScopedModel):
    """Organisation (组织): 驻区单位, 社会组织, 党组织, 物业, 业委会 in a street or community."""

    kind = models.CharField(_("类型"), max_length=32, choices=OrganisationKind.choices, db_index=True)
    name = models.CharField(_("名称"), max_length=150)
    registration_number = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    place = models.ForeignKey(Place, verbose_name=_("所属区域"), on_delete=models.PROTECT, related_name="organisations")
    address = models.CharField(_("地址"), max_length=200, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = EncryptedTextField(_("联系电话"), blank=True)
    notes = models.TextField(_("简介"), blank=True)
    active = models.BooleanField(_("有效"), default=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("组织")
        verbose_name_plural = _("组织")
        ordering = ["scope_path", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration_number"],
                condition=~models.Q(registration_number=""),
                name="organisation_unique_registration",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Ownership(TimeStampedModel):
    """Ownership (产权): who owns a dwelling unit (专有部分), for owners' votes under Civil Code art. 278.

    A unit may have several co-owners (one row each); they cast one ballot for it and count as one
    owner. The owner is a person or, for the developer's unsold units (and units of a company), an
    organisation. Ending an ownership sets ``ended_on``; only current rows form an electorate.
    """

    unit = models.ForeignKey(
        Place, verbose_name=_("房屋"), on_delete=models.PROTECT, related_name="ownerships",
        limit_choices_to={"kind": PlaceKind.UNIT},
    )
    person = models.ForeignKey(
        Person, verbose_name=_("业主"), null=True, blank=True, on_delete=models.PROTECT, related_name="ownerships"
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("单位业主"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="ownerships",
    )
    scope_path = models.CharField(max_length=32, db_index=True, editable=False)
    started_on = models.DateField(_("登记日期"), null=True, blank=True)
    ended_on = models.DateField(_("注销日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("产权")
        verbose_name_plural = _("产权")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(person__isnull=False, organisation__isnull=True)
                           | models.Q(person__isnull=True, organisation__isnull=False)),
                name="ownership_one_owner",
            ),
            models.UniqueConstraint(fields=["unit", "person"], condition=models.Q(ended_on__isnull=True),
                                    name="ownership_unique_person"),
            models.UniqueConstraint(fields=["unit", "organisation"], condition=models.Q(ended_on__isnull=True),
                                    name="ownership_unique_organisation"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.person or self.organisation}"

    @property
    def owner_key(self) -> str:
        return f"p{self.person_id}" if self.person_id else f"o{self.organisation_id}"

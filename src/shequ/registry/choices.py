"""Choices of the registry, with stable English slugs and Chinese labels."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PlaceKind(models.TextChoices):
    DISTRICT = "district", _("区")
    STREET = "street", _("街镇")
    COMMUNITY = "community", _("居村")
    COMPOUND = "compound", _("小区")
    BUILDING = "building", _("楼栋")
    UNIT = "unit", _("户")


# Width in digits that each level adds to the code path. District (6) + street (3) + community (3)
# is the 12-digit statistical division code; compound, building and unit extend it.
PLACE_CODE_WIDTHS: dict[str, int] = {
    PlaceKind.DISTRICT: 6,
    PlaceKind.STREET: 3,
    PlaceKind.COMMUNITY: 3,
    PlaceKind.COMPOUND: 3,
    PlaceKind.BUILDING: 3,
    PlaceKind.UNIT: 4,
}
PLACE_CHILD_KIND: dict[str, str] = {
    PlaceKind.DISTRICT: PlaceKind.STREET,
    PlaceKind.STREET: PlaceKind.COMMUNITY,
    PlaceKind.COMMUNITY: PlaceKind.COMPOUND,
    PlaceKind.COMPOUND: PlaceKind.BUILDING,
    PlaceKind.BUILDING: PlaceKind.UNIT,
}
PLACE_PATH_LENGTHS: dict[str, int] = {}
_total = 0
for _kind, _width in PLACE_CODE_WIDTHS.items():
    _total += _width
    PLACE_PATH_LENGTHS[_kind] = _total


class CompoundType(models.TextChoices):
    """The five kinds of residential area of the Changning plan (`001` 一(四))."""

    PUBLIC_HOUSING_SOLD = "public_sold", _("售后公房")
    COMMERCIAL = "commercial", _("普通商品房")
    FOREIGN_COMMERCIAL = "foreign_commercial", _("涉外商品房")
    OLD_VILLA = "old_villa", _("老洋房")
    RESETTLEMENT = "resettlement", _("动迁安置房")
    VILLAGE = "village", _("农村宅基地")
    MIXED = "mixed", _("混合")


class Sex(models.TextChoices):
    MALE = "male", _("男")
    FEMALE = "female", _("女")


class ResidenceType(models.TextChoices):
    REGISTERED = "registered", _("户籍")
    PERMANENT = "permanent", _("常住")
    FLOATING = "floating", _("流动")


class PersonStatus(models.TextChoices):
    ACTIVE = "active", _("在册")
    MOVED_OUT = "moved_out", _("已迁出")
    DECEASED = "deceased", _("已故")
    # Folded into another record by record linkage; ``Person.merged_into`` names it, and the merge can be undone.
    MERGED = "merged", _("已合并")


class Relation(models.TextChoices):
    HEAD = "head", _("户主")
    SPOUSE = "spouse", _("配偶")
    CHILD = "child", _("子女")
    PARENT = "parent", _("父母")
    GRANDCHILD = "grandchild", _("孙子女")
    GRANDPARENT = "grandparent", _("祖父母")
    SIBLING = "sibling", _("兄弟姐妹")
    CHILD_IN_LAW = "child_in_law", _("儿媳/女婿")
    TENANT = "tenant", _("租户")
    OTHER = "other", _("其他")


class BusinessLine(models.TextChoices):
    """Business line (条线): who supplied a fact."""

    COMMUNITY = "community", _("社区采集")
    CIVIL_AFFAIRS = "civil_affairs", _("民政")
    HEALTH = "health", _("卫健")
    DISABLED_PERSONS = "disabled_persons", _("残联")
    PUBLIC_SECURITY = "public_security", _("公安")
    HUMAN_RESOURCES = "human_resources", _("人社")
    HOUSING = "housing", _("房管")
    VETERANS = "veterans", _("退役军人")
    EDUCATION = "education", _("教育")
    SELF = "self", _("本人申报")


class AgeBand(models.TextChoices):
    CHILD = "0-17", _("未成年（0–17岁）")
    ADULT = "18-59", _("18–59岁")
    YOUNG_OLD = "60-79", _("60–79岁")
    OLDEST_OLD = "80+", _("高龄（80岁以上）")


AGE_BAND_BOUNDS: dict[str, tuple[int, int | None]] = {
    AgeBand.CHILD: (0, 17),
    AgeBand.ADULT: (18, 59),
    AgeBand.YOUNG_OLD: (60, 79),
    AgeBand.OLDEST_OLD: (80, None),
}


class GridDuty(models.TextChoices):
    LEADER = "leader", _("网格长")
    FULL_TIME = "full_time", _("专职网格员")
    PART_TIME = "part_time", _("兼职网格员")
    POLICE = "police", _("社区民警")
    URBAN_MANAGEMENT = "urban_management", _("城管队员")
    PARTY = "party", _("党建指导员")


class FacilityKind(models.TextChoices):
    """Facility kinds of the 15-minute community life circle (15分钟社区生活圈)."""

    PARTY_SERVICE = "party_service", _("党群服务中心")
    COMMUNITY_SERVICE = "community_service", _("社区综合服务设施")
    AFFAIRS_CENTRE = "affairs_centre", _("社区事务受理服务中心")
    ELDERLY_CARE = "elderly_care", _("养老服务")
    ELDERLY_CANTEEN = "elderly_canteen", _("社区食堂/助餐点")
    CLINIC = "clinic", _("社区卫生服务")
    CHILDCARE = "childcare", _("托育")
    KINDERGARTEN = "kindergarten", _("幼儿园")
    PRIMARY_SCHOOL = "primary_school", _("小学")
    MIDDLE_SCHOOL = "middle_school", _("中学")
    MARKET = "market", _("菜市场")
    CULTURE = "culture", _("文化活动")
    SPORT = "sport", _("体育健身")
    PARK = "park", _("公园绿地")
    SHELTER = "shelter", _("应急避难场所")


class Construction(models.TextChoices):
    NEW_BUILT = "new_built", _("新建")
    REBUILT = "rebuilt", _("改建")
    BOUGHT = "bought", _("购置")
    RENTED = "rented", _("租赁")


class OrganisationKind(models.TextChoices):
    RESIDENT_UNIT = "resident_unit", _("驻区单位")
    SOCIAL_ORGANISATION = "social_organisation", _("社会组织")
    PARTY_ORGANISATION = "party_organisation", _("党组织")
    PROPERTY_COMPANY = "property_company", _("物业服务企业")
    OWNERS_COMMITTEE = "owners_committee", _("业主委员会")
    DEVELOPER = "developer", _("开发建设单位")


class AreaSource(models.TextChoices):
    """Where a unit's exclusive floor area comes from, in order of precedence (SPC interpretation art. 8)."""

    REGISTER = "register", _("不动产登记簿")
    SURVEYED = "surveyed", _("测绘面积")
    CONTRACT = "contract", _("合同面积")

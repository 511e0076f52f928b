"""Inventory of personal data (个人信息清单, QUALITY §6; PIPL arts. 13, 17, 28).

Every field that holds personal data is listed here once with its purpose, legal basis, whether it
is sensitive personal information (PIPL art. 28), how it is protected, and how long it is kept. A
test walks all models and fails when a field that looks personal is missing from this list, so a
new module cannot add personal data silently.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PersonalField:
    model: str  # app_label.ModelName
    field: str
    purpose: str
    legal_basis: str
    sensitive: bool
    protection: str
    retention: str


_DUTY = "履行法定职责（《个人信息保护法》第十三条第一款第三项；《城市居民委员会组织法》）"
_CONSENT = "个人同意（《个人信息保护法》第十三条第一款第一项）"
_CONTRACT = "订立、履行合同或人力资源管理所必需（《个人信息保护法》第十三条第一款第二项）"

INVENTORY: tuple[PersonalField, ...] = (
    PersonalField(
        "registry.Person",
        "name",
        "识别居民、开展走访与服务",
        _DUTY,
        False,
        "展示脱敏（张*）；查看明文须填写事由并留痕",
        "在册期间；迁出或死亡后5年",
    ),
    PersonalField(
        "registry.Person",
        "id_number",
        "一人一档、跨条线去重核验",
        _DUTY,
        True,
        "加密存储（Fernet）+ 盲索引；展示脱敏（不显示出生日期位）；查看明文须填写事由并留痕",
        "在册期间；迁出或死亡后5年",
    ),
    PersonalField(
        "registry.Person",
        "phone",
        "联系居民、回访与应急通知",
        _DUTY,
        False,
        "加密存储 + 盲索引；展示脱敏（138****5678）；查看明文须填写事由并留痕",
        "在册期间；迁出或死亡后5年",
    ),
    PersonalField(
        "registry.Person",
        "birth_date",
        "按年龄段提供为老、为小服务",
        _DUTY,
        False,
        "页面与接口只显示年龄，不显示出生日期",
        "在册期间；迁出或死亡后5年",
    ),
    PersonalField(
        "registry.Person", "sex", "人口统计与服务", _DUTY, False, "按范围授权访问", "在册期间；迁出或死亡后5年"
    ),
    PersonalField(
        "registry.Person",
        "residence_type",
        "户籍/常住/流动人口管理",
        _DUTY,
        False,
        "按范围授权访问",
        "在册期间；迁出或死亡后5年",
    ),
    PersonalField(
        "registry.Person",
        "notes",
        "工作备注",
        _DUTY,
        False,
        "按范围授权访问；不得录入敏感信息",
        "在册期间；迁出或死亡后5年",
    ),
    PersonalField(
        "registry.PersonTag",
        "tag_digest",
        "关爱对象识别（独居、高龄、残疾、低保等）",
        _DUTY,
        True,
        "仅存标签的密钥散列，数据库中不出现标签名称",
        "标签有效期间；撤销后即删除",
    ),
    PersonalField(
        "registry.PersonFact",
        "value",
        "记录各条线提供的数据及来源，便于核对冲突",
        _DUTY,
        True,
        "加密存储；不在页面与接口展示",
        "随人员记录",
    ),
    PersonalField(
        "registry.GridMember", "name", "网格责任人公示（定人定岗定责）", _CONTRACT, False, "按范围授权访问", "任职期间"
    ),
    PersonalField("registry.GridMember", "phone", "联系网格责任人", _CONTRACT, False, "加密存储；展示脱敏", "任职期间"),
    PersonalField(
        "registry.Organisation", "contact_name", "联系组织", _CONSENT, False, "按范围授权访问", "组织有效期间"
    ),
    PersonalField(
        "registry.Organisation", "contact_phone", "联系组织", _CONSENT, False, "加密存储；展示脱敏", "组织有效期间"
    ),
    PersonalField(
        "accounts.User", "display_name", "标识系统用户、审计追责", _CONTRACT, False, "按范围授权访问", "账号有效期间"
    ),
    PersonalField("accounts.User", "email", "账号通知", _CONTRACT, False, "按范围授权访问", "账号有效期间"),
    PersonalField("deliberation.Attendance", "name", "会议出席记录（会议合法性、决议效力）", _DUTY, False,
                  "按范围授权访问；公开纪要只显示人数", "会议记录保存期间（10年）"),
    PersonalField("deliberation.ProposalSupport", "person", "一人一次附议的核验", _CONSENT, False,
                  "只公开附议人数，不公开名单", "提案关闭后2年"),
    PersonalField("deliberation.Ballot", "option", "计票与复核（《民法典》第278条）", _DUTY, False,
                  "无记名投票不显示投票人与选项的对应关系；结果只公开汇总", "表决结束后10年"),
    PersonalField("cases.Case", "contact_phone", "回访上报人、核实情况", _CONSENT, False,
                  "加密存储；展示脱敏；查看明文须填写事由并留痕", "结案后3年"),
    PersonalField("cases.Case", "reporter", "告知上报人处置进展与评价", _CONSENT, False,
                  "匿名上报时不向其他居民显示上报人", "结案后3年"),
    PersonalField("core.AuditEntry", "ip", "安全审计、责任追查", _DUTY, False, "审计日志只追加不可改", "至少6个月"),
    PersonalField(
        "ledgers.PersonMerge",
        "snapshot",
        "撤销人员合并时恢复被保留记录原有信息",
        _DUTY,
        True,
        "加密存储（Fernet）；不展示，仅用于撤销合并",
        "随人员记录保留；人员匿名化时一并清除",
    ),
)


def inventory_keys() -> set[tuple[str, str]]:
    return {(item.model, item.field) for item in INVENTORY}

"""Browser walk through the administration pages, desktop and phone, saving screenshots of each.

Screenshots: test-output/screenshots/admin-<page>-<desktop|phone>.png.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from shequ.accounts import services as account_services
from shequ.registry import services
from shequ.registry.choices import OrganisationKind
from shequ.registry.validators import uscc_check_char
from tests import factories as f
from tests.e2e.conftest import DESKTOP, PHONE, sign_in

pytestmark = pytest.mark.e2e


def _uscc(body: str) -> str:
    return body + uscc_check_char(body)


def _admin_data(city: Any, actors: Any) -> dict[str, Any]:
    grid = city.a1.grids.order_by("code").first()
    services.grid_member_add(actor=None, grid=grid, name="李网格", duty="leader", phone="13700001234")
    services.grid_member_add(actor=None, grid=grid, name="赵警官", duty="police", phone="021-62345678")
    org = services.organisation_create(
        actor=None, place=city.a1, kind=OrganisationKind.SOCIAL_ORGANISATION, name="秀水睦邻互助中心",
        registration_number=_uscc("52310105MJ1234567"), contact_name="王老师", contact_phone="13912345678",
        address="华阳路112弄3号", notes="为独居老人提供助餐、陪医和上门探访。")
    services.organisation_create(actor=None, place=city.a1, kind=OrganisationKind.PARTY_ORGANISATION,
                                 name="秀水居民区党总支")
    services.organisation_create(actor=None, place=city.street_a, kind=OrganisationKind.PROPERTY_COMPANY,
                                 name="上海华阳物业管理有限公司", registration_number=_uscc("91310105MA1FL2345"))
    services.facility_create(actor=None, place=city.a1, name="秀水长者照护之家", kind="elderly_care",
                             address="华阳路120号", lon=121.405, lat=31.205, floor_area=Decimal("420"),
                             construction="rebuilt")
    services.facility_create(actor=None, place=city.a1_compound, name="秀水社区卫生服务站", kind="clinic",
                             lon=121.401, lat=31.201, floor_area=Decimal("160.5"), construction="rented")
    services.person_reveal(actor=actors.worker_a1, person=city.head, field="phone", reason="电话回访核实独居情况")
    account_services.api_token_create(actor=actors.worker_a1, user=actors.worker_a1, name="街道大屏")
    return {"grid": grid, "org": org}


def test_admin_pages_desktop_and_phone(open_page: Any, city: Any, actors: Any, tags: Any, shot: Any) -> None:
    data = _admin_data(city, actors)
    grid, org = data["grid"], data["org"]
    admin_pages = {
        "organisations": reverse("registry:organisation_list"),
        "organisation": reverse("registry:organisation_detail", args=[org.pk]),
        "organisation-edit": reverse("registry:organisation_edit", args=[org.pk]),
        "caretags": reverse("registry:caretag_list"),
        "caretag-edit": reverse("registry:caretag_edit", args=[tags["disabled"].pk]),
        "grid": reverse("registry:grid_detail", args=[grid.pk]),
        "facilities": reverse("registry:facility_list"),
        "facility-new": reverse("registry:facility_create"),
        "users": reverse("accounts:user_list"),
        "user-new": reverse("accounts:user_create"),
        "user": reverse("accounts:user_detail", args=[actors.worker_a1.pk]),
        "audit": reverse("core:audit_list"),
    }
    worker_pages = {
        "worker-organisations": reverse("registry:organisation_list"),
        "worker-grid": reverse("registry:grid_detail", args=[grid.pk]),
        "worker-audit": reverse("core:audit_list"),
        "worker-tokens": reverse("accounts:token_list"),
    }
    for size_name, size in (("desktop", DESKTOP), ("phone", PHONE)):
        # --- district administrator ---
        page = open_page(size)
        sign_in(page, "admin")
        for name, url in admin_pages.items():
            response = page.goto(url)
            assert response is not None and response.status == 200, name
            if name == "grid":
                page.wait_for_selector("#grid-map path.leaflet-interactive")
            shot(page, f"admin-{name}-{size_name}")
        # the checksum message next to the field
        page.goto(reverse("registry:organisation_create"))
        page.locator("#id_name").fill("错误代码单位")
        page.locator("#id_place").select_option(str(city.a1.pk))
        code = _uscc("91310105MA1FL0000")
        page.get_by_label("统一社会信用代码").fill(code[:17] + ("1" if code[17] != "1" else "2"))
        page.get_by_role("button", name="保存").click()
        assert page.locator("#field-registration_number .errorlist").is_visible()
        shot(page, f"admin-organisation-new-error-{size_name}")
        # the overlap message next to the geometry field
        page.goto(reverse("registry:grid_create", args=[city.a1.pk]))
        page.wait_for_selector("#grid-map path.leaflet-interactive")
        page.get_by_label("网格名称").fill("重叠网格")
        page.get_by_label("网格范围（GeoJSON）").fill(json.dumps(f.square(121.402, 31.202, 0.004)))
        page.get_by_role("button", name="保存网格").click()
        assert "重叠" in page.locator("#field-geometry .errorlist").inner_text()
        shot(page, f"admin-grid-new-error-{size_name}")
        # the chain check
        page.goto(reverse("core:audit_list"))
        page.get_by_role("button", name="校验日志链").click()
        assert "校验通过" in page.locator("#verify-result").inner_text()
        shot(page, f"admin-audit-verified-{size_name}")
        assert "13912345678" not in page.content() and "13812345678" not in page.content()

        # --- community worker ---
        page = open_page(size)
        sign_in(page, "worker_a1")
        nav = page.get_by_role("navigation", name="主导航")
        assert nav.get_by_role("link", name="用户").count() == 0
        assert nav.get_by_role("link", name="标签").count() == 0
        for name, url in worker_pages.items():
            response = page.goto(url)
            assert response is not None and response.status == 200, name
            shot(page, f"admin-{name}-{size_name}")
        assert page.goto(reverse("accounts:user_list")).status == 403
        assert page.goto(reverse("registry:caretag_list")).status == 404
        # a new token is shown once
        page.goto(reverse("accounts:token_list"))
        page.get_by_label("用途").fill("数据对接")
        page.get_by_role("button", name="生成").click()
        token = page.locator("#new-token").inner_text()
        assert token.startswith("sq_")
        shot(page, f"admin-worker-token-new-{size_name}")
        page.goto(reverse("accounts:token_list"))
        assert token not in page.content()

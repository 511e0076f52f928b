"""Care-tag vocabulary pages: district administrators only, slug fixed, audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from shequ.core.models import AuditEntry
from shequ.registry.models import CareTag


@pytest.mark.parametrize("who", ["worker_a1", "head_a1", "officer_a", "grid_a1", "resident_a1"])
def test_pages_do_not_exist_for_anyone_but_district_admins(client, actors, tags, who):
    client.force_login(getattr(actors, who))
    tag = tags["living_alone"]
    assert client.get(reverse("registry:caretag_list")).status_code == 404
    assert client.get(reverse("registry:caretag_edit", args=[tag.pk])).status_code == 404
    assert client.post(reverse("registry:caretag_list"), {"slug": "x", "name": "x", "sort": 1}).status_code == 404
    assert not CareTag.objects.filter(slug="x").exists()


def test_admin_sees_every_tag_and_the_reason_the_slug_is_fixed(client, actors, tags):
    client.force_login(actors.admin)
    html = client.get(reverse("registry:caretag_list")).content.decode()
    assert all(t.name in html for t in tags.values())
    edit = client.get(reverse("registry:caretag_edit", args=[tags["disabled"].pk])).content.decode()
    assert "标识创建后不能修改" in edit and "加密存储" in edit


def test_admin_creates_a_tag_and_it_is_audited(client, actors, tags):
    client.force_login(actors.admin)
    response = client.post(reverse("registry:caretag_list"), {
        "slug": "veteran", "name": "退役军人", "description": "优抚对象", "sort": 50})
    assert response.status_code == 302
    tag = CareTag.objects.get(slug="veteran")
    assert tag.name == "退役军人" and not tag.sensitive
    assert AuditEntry.objects.filter(action="create", object_type="registry.caretag", object_id=str(tag.pk),
                                     actor=actors.admin).exists()


def test_duplicate_name_is_shown_next_to_the_name_field(client, actors, tags):
    client.force_login(actors.admin)
    response = client.post(reverse("registry:caretag_list"), {"slug": "alone2", "name": "独居老人", "sort": 1})
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert not CareTag.objects.filter(slug="alone2").exists()


def test_edit_changes_the_name_but_never_the_slug(client, actors, tags):
    tag = tags["living_alone"]
    client.force_login(actors.admin)
    response = client.post(reverse("registry:caretag_edit", args=[tag.pk]), {
        "slug": "hacked", "name": "独居", "sort": 5, "active": "", "sensitive": ""})
    assert response.status_code == 302
    tag.refresh_from_db()
    assert (tag.slug, tag.name, tag.active, tag.sort) == ("living_alone", "独居", False, 5)
    entry = AuditEntry.objects.get(action="update", object_type="registry.caretag", object_id=str(tag.pk))
    assert entry.changes["name"] == {"old": "独居老人", "new": "独居"} and "slug" not in entry.changes

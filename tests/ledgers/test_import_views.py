"""The import wizard pages: the whole flow, the error download, conflicts, and 404 outside the scope."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shequ.core.models import AuditAction, AuditEntry
from shequ.ledgers import importer
from shequ.ledgers.choices import ConflictStatus, ImportStatus
from shequ.ledgers.models import FactConflict, ImportJob
from shequ.registry.models import Person
from tests import factories as f
from tests.ledgers.ledger_files import id_number, media, person_row, read_xlsx, upload, xlsx  # noqa: F401

pytestmark = pytest.mark.usefixtures("media")


def test_the_wizard_from_upload_to_result(client, tree, actors):
    ident = id_number()
    f.person(tree.a1_unit, name="王秀兰", id_number=ident, phone="13900001111")
    client.force_login(actors.worker_a1)
    data = xlsx([person_row("王秀兰", ident=ident), person_row("李梅", ident="123"), person_row("周兰")],
                title="秀水社区高龄老人名册")
    response = client.post(reverse("ledgers:import_new"), {
        "file": SimpleUploadedFile("高龄名册.xlsx", data), "source": "civil_affairs", "community": tree.a1.pk})
    job = ImportJob.objects.get()
    assert response.url == reverse("ledgers:import_map", args=[job.pk])
    page = client.get(response.url).content.decode()
    assert 'name="col_1"' in page and "身份证号" in page
    form = {f"col_{i}": job.mapping[header] for i, header in enumerate(job.headers)}  # jsonb keeps no key order
    response = client.post(reverse("ledgers:import_map", args=[job.pk]), {**form, "save_template_name": "民政名册"})
    assert response.url == reverse("ledgers:import_check", args=[job.pk])
    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKED
    page = client.get(response.url).content.decode()
    assert "身份证号应为18位" in page and "下载错误表" in page
    errors = client.get(reverse("ledgers:import_errors", args=[job.pk]))
    assert errors["Content-Type"].startswith("application/vnd.openxmlformats")
    assert read_xlsx(errors.content)[1][0] == "李梅"
    assert AuditEntry.objects.filter(action=AuditAction.EXPORT, object_id=str(job.pk)).exists()
    response = client.post(reverse("ledgers:import_run", args=[job.pk]), {"mode": "good_rows", "version": job.version})
    assert response.url == reverse("ledgers:import_detail", args=[job.pk])
    job.refresh_from_db()
    assert (job.status, job.created_count, job.conflict_count) == (ImportStatus.IMPORTED, 1, 1)
    page = client.get(response.url).content.decode()
    assert "已于" in page and "核实信息冲突" in page
    assert "13900001111" not in page
    listing = client.get(reverse("ledgers:import_list")).content.decode()
    assert "高龄名册.xlsx" in listing


def test_running_a_stale_version_shows_the_conflict_message(client, tree, actors):
    job = upload(actors.worker_a1, tree.a1, xlsx([person_row()]))
    importer.import_job_check(actor=actors.worker_a1, job=job)
    client.force_login(actors.worker_a1)
    response = client.post(reverse("ledgers:import_run", args=[job.pk]), {"mode": "good_rows", "version": 1},
                           follow=True)
    assert "数据已被他人修改" in response.content.decode()
    assert not Person.objects.filter(name="王秀兰").exists()


def test_conflicts_page_shows_masked_values_and_resolves(client, tree, actors):
    ident = id_number()
    person = f.person(tree.a1_unit, name="王秀兰", id_number=ident, phone="13900001111")
    job = upload(actors.worker_a1, tree.a1, xlsx([person_row("王秀兰", ident=ident)]), source="health")
    importer.import_job_run(actor=actors.worker_a1, job=job, mode="all_or_nothing")
    conflict = FactConflict.objects.get()
    client.force_login(actors.worker_a1)
    page = client.get(reverse("ledgers:conflict_list")).content.decode()
    assert "139****1111" in page and "138****5678" in page and "卫健" in page
    assert "13812345678" not in page and ident not in page
    response = client.post(reverse("ledgers:conflict_resolve", args=[conflict.pk]), {"decision": "replace"})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.phone == "13812345678"
    conflict.refresh_from_db()
    assert conflict.status == ConflictStatus.REPLACED


def test_another_community_gets_404_everywhere(client, tree, actors):
    job = upload(actors.worker_b1, tree.b1, xlsx([person_row(address="华山小区1号楼0101室")]))
    client.force_login(actors.worker_a1)
    for name in ("import_detail", "import_map", "import_check", "import_errors"):
        assert client.get(reverse(f"ledgers:{name}", args=[job.pk])).status_code == 404
    assert client.post(reverse("ledgers:import_run", args=[job.pk]), {"mode": "good_rows", "version": 1}
                       ).status_code == 404
    assert "名册.xlsx" not in client.get(reverse("ledgers:import_list")).content.decode()
    response = client.post(reverse("ledgers:import_new"), {
        "file": SimpleUploadedFile("x.xlsx", xlsx([person_row()])), "source": "health", "community": tree.b1.pk})
    assert response.status_code == 200 and ImportJob.objects.count() == 1  # B1 is not a choice for A1's worker


def test_a_bad_file_is_reported_on_the_form(client, tree, actors):
    client.force_login(actors.worker_a1)
    response = client.post(reverse("ledgers:import_new"), {
        "file": SimpleUploadedFile("x.xlsx", b"\x00\x01 not a ledger"), "source": "health"})
    assert "只能上传 Excel（.xlsx）或 CSV 文件。" in response.content.decode()


def test_a_resident_cannot_open_the_upload_page(client, tree, actors):
    client.force_login(actors.resident_a1)
    assert client.get(reverse("ledgers:import_new")).status_code == 403
    assert client.get(reverse("ledgers:import_list")).status_code == 200


def test_anonymous_is_sent_to_login(client, tree):
    assert client.get(reverse("ledgers:import_list")).status_code == 302
    assert isinstance(io.BytesIO(), io.BytesIO)


def test_a_check_that_cannot_run_sends_back_to_the_mapping_with_the_reason(client, tree, actors, settings):
    from pathlib import Path

    job = upload(actors.worker_a1, tree.a1, xlsx([person_row()]))
    (Path(settings.MEDIA_ROOT) / job.stored_name).unlink()
    client.force_login(actors.worker_a1)
    form = {f"col_{i}": job.mapping[header] for i, header in enumerate(job.headers)}
    response = client.post(reverse("ledgers:import_map", args=[job.pk]), form, follow=True)
    assert response.redirect_chain[-1][0] == reverse("ledgers:import_map", args=[job.pk])
    assert str(importer.FILE_GONE) in response.content.decode()

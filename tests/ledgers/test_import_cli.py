"""``shequ import people FILE --community CODE``: counts, the first errors, exit code 1 when rejected."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from shequ.core.models import AuditAction, AuditEntry
from shequ.ledgers.models import ImportJob
from shequ.registry.models import Person
from tests.ledgers.ledger_files import media, person_row, xlsx  # noqa: F401

pytestmark = pytest.mark.usefixtures("media")


def run(*args: str) -> tuple[str, int]:
    out = io.StringIO()
    try:
        call_command("import", *args, stdout=out)
    except SystemExit as exc:
        return out.getvalue(), int(exc.code or 0)
    return out.getvalue(), 0


@pytest.fixture
def ledger(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "高龄名册.xlsx"
    path.write_bytes(xlsx([person_row("好一"), person_row("坏一", ident="123"), person_row("好二")],
                          title="秀水社区高龄老人名册"))
    return path


def test_all_or_nothing_from_the_command_line_rejects_with_exit_code_1(tree, ledger):
    out, code = run("people", str(ledger), "--community", tree.a1.path, "--source", "civil_affairs")
    assert code == 1
    assert "第4行 B列（身份证号）：身份证号应为18位" in out
    assert not Person.objects.filter(name="好一").exists()


def test_good_rows_as_the_platform(tree, ledger):
    out, code = run("people", str(ledger), "--community", tree.a1.path, "--mode", "good_rows")
    assert code == 0
    assert "新增 2 人" in out
    assert Person.objects.filter(name__in=["好一", "好二"]).count() == 2
    assert AuditEntry.objects.get(action=AuditAction.IMPORT).actor is None


def test_check_only_and_a_mapping_override(tree, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("居民,证件,住处\n王一,,秀水小区1号楼0101室\n", encoding="utf-8")
    out, code = run("people", str(path), "--community", tree.a1.path, "--check",
                    "--map", "居民=name", "--map", "证件=id_number", "--map", "住处=address")
    assert code == 0 and "将新增 1 人" in out
    assert not Person.objects.filter(name="王一").exists()


def test_a_user_without_rights_there_is_refused(tree, actors, ledger):
    with pytest.raises(CommandError):
        run("people", str(ledger), "--community", tree.b1.path, "--user", actors.worker_a1.username)
    assert not ImportJob.objects.exists()

"""Production settings pass Django's deployment checklist, and missing secrets stop the process."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {key: os.environ[key] for key in PASSED_THROUGH if key in os.environ}
    env.update({
        "DJANGO_SETTINGS_MODULE": "shequ.settings",
        "SHEQU_ENV_FILE": str(tmp_path / "no.env"),  # a developer's .env must not leak in
        "SHEQU_VAR_DIR": str(tmp_path / "var"),
        "SHEQU_DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "SHEQU_DATA_KEY": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "shequ.example.org",
        "CSRF_TRUSTED_ORIGINS": "https://shequ.example.org",
    })
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def run_django(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "django", *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_deploy_check_is_clean_with_production_settings(tmp_path):
    # given production settings with every secret set
    env = production_env(tmp_path)
    # when Django's deployment checklist runs, failing on any message at all
    result = run_django(env, "check", "--deploy", "--fail-level", "DEBUG")
    # then it reports nothing
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_without_secret_key_fails_loudly(tmp_path):
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    result = run_django(env, "check")
    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr
    assert not (tmp_path / "var" / "secret.key").exists()  # no development key was generated instead


def test_production_without_data_key_fails_loudly(tmp_path):
    env = production_env(tmp_path)
    del env["SHEQU_DATA_KEY"]
    result = run_django(env, "check")
    assert result.returncode != 0
    assert "Set the SHEQU_DATA_KEY environment variable" in result.stderr
    assert not (tmp_path / "var" / "data.key").exists()

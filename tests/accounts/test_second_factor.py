"""Second factor for staff who can reveal personal data (QUALITY §3), a setting on in production."""

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from shequ.accounts.second_factor import CODE_INVALID
from tests import factories as f


@pytest.fixture
def required(settings):
    settings.SHEQU_REQUIRE_2FA = True


def _code(device):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def _sign_in(client, username):
    response = client.post("/login/", {"username": username, "password": f.PASSWORD})
    assert response.status_code == 302
    return response


def test_production_default_is_on(tmp_path):
    import os
    import subprocess
    import sys

    from cryptography.fernet import Fernet

    env = {
        **os.environ,
        "SHEQU_DEBUG": "false",
        "SECRET_KEY": "x" * 60,
        "SHEQU_DATA_KEY": Fernet.generate_key().decode(),
        "SHEQU_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "shequ.settings",
    }
    env.pop("SHEQU_REQUIRE_2FA", None)
    out = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.SHEQU_REQUIRE_2FA)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "True"


def test_a_worker_enrols_then_reaches_the_registry(required, actors, client):
    _sign_in(client, "worker_a1")
    response = client.get("/registry/people/")
    assert response.status_code == 302 and response["Location"].startswith("/second-factor/")
    page = client.get(response["Location"])
    assert "<svg" in page.content.decode() and "绑定" in page.content.decode()
    device = TOTPDevice.objects.get(user=actors.worker_a1)
    done = client.post(response["Location"], {"code": _code(device)})
    assert done.status_code == 302 and done["Location"] == "/registry/people/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/registry/people/").status_code == 200


def test_a_wrong_code_is_refused_with_a_message(required, actors, client):
    _sign_in(client, "worker_a1")
    client.get("/second-factor/")
    device = TOTPDevice.objects.get(user=actors.worker_a1)
    wrong = client.post("/second-factor/", {"code": "000000" if _code(device) != "000000" else "111111"})
    assert str(CODE_INVALID) in wrong.content.decode()
    assert client.get("/registry/people/").status_code == 302  # still not through


def test_the_api_with_an_unverified_session_answers_json_403(required, actors, client):
    _sign_in(client, "worker_a1")
    response = client.get("/api/v1/people")
    assert response.status_code == 403
    assert response.json()["code"] == "second_factor_required"


def test_residents_and_users_without_reveal_are_not_asked(required, actors, client):
    _sign_in(client, "resident_a1")
    assert client.get("/").status_code == 200


def test_the_next_parameter_cannot_leave_the_site(required, actors, client):
    _sign_in(client, "worker_a1")
    client.get("/second-factor/")
    device = TOTPDevice.objects.get(user=actors.worker_a1)
    response = client.post("/second-factor/?next=https://evil.example/", {"code": _code(device)})
    assert response["Location"] == "/"


def test_off_by_setting(settings, actors, client):
    settings.SHEQU_REQUIRE_2FA = False
    _sign_in(client, "worker_a1")
    assert client.get("/").status_code == 200

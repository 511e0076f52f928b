"""English is available: the language switch, the English catalogue, and the catalogue's health.

The catalogue checks read ``src/shequ/locale/en/LC_MESSAGES/django.po`` with a small reader (no polib) and
compare it with the committed ``django.mo`` through the standard library's ``gettext``, so they need no
gettext tools.
"""

from __future__ import annotations

import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

LOCALE_DIR = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"
PO_PATH = LOCALE_DIR / "django.po"
MO_PATH = LOCALE_DIR / "django.mo"
SETLANG = "/i18n/setlang/"


# --- A small .po reader -----------------------------------------------------------------------


@dataclass
class PoEntry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    references: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)


_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+"(.*)"$')
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(text: str) -> str:
    return re.sub(r'\\(.)', lambda m: _ESCAPES.get(m.group(1), m.group(0)), text)


def read_po(path: Path) -> list[PoEntry]:
    entries: list[PoEntry] = []
    current: PoEntry | None = None
    target: tuple[str, int] = ("msgid", 0)
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if current is not None:
                entries.append(current)
            current = None
            continue
        if current is None:
            current = PoEntry()
        if line.startswith("#:"):
            current.references += line[2:].split()
        elif line.startswith("#,"):
            current.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif match := _KEYWORD.match(line):
            keyword, index, value = match.group(1), int(match.group(2) or 0), _unquote(match.group(3))
            target = (keyword, index)
            _append(current, target, value, start=True)
        elif line.startswith('"'):
            _append(current, target, _unquote(line[1:-1]), start=False)
    return entries


def _append(entry: PoEntry, target: tuple[str, int], value: str, *, start: bool) -> None:
    keyword, index = target
    if keyword == "msgstr":
        entry.msgstr[index] = ("" if start else entry.msgstr[index]) + value
    elif keyword == "msgid":
        entry.msgid = ("" if start else entry.msgid) + value
    elif keyword == "msgid_plural":
        entry.msgid_plural = ("" if start else entry.msgid_plural or "") + value


PLACEHOLDER = re.compile(r"%\([A-Za-z_]\w*\)[sdif]|%[sdif]|\{[A-Za-z_]\w*\}|</?[a-zA-Z][^>]*>")


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


@pytest.fixture(scope="module")
def po_entries() -> list[PoEntry]:
    entries = read_po(PO_PATH)
    return [e for e in entries if e.msgid]


# --- The catalogue ----------------------------------------------------------------------------


def test_catalogue_covers_every_app(po_entries: list[PoEntry]) -> None:
    # given the English catalogue
    # when its references are grouped by top-level package
    apps = {ref.split("/")[0] for e in po_entries for ref in e.references}
    # then core, accounts, registry, web, cases and deliberation (code and templates) are all in it
    assert {"core", "accounts", "registry", "web", "cases", "deliberation"} <= apps
    assert any("/templates/" in ref for e in po_entries for ref in e.references)
    assert len(po_entries) > 500


def test_every_message_is_translated_and_none_is_fuzzy(po_entries: list[PoEntry]) -> None:
    untranslated = [e.msgid for e in po_entries if not e.msgstr or not all(s.strip() for s in e.msgstr.values())]
    fuzzy = [e.msgid for e in po_entries if "fuzzy" in e.flags]
    assert untranslated == []
    assert fuzzy == []


def test_plural_messages_have_both_english_forms(po_entries: list[PoEntry]) -> None:
    plurals = [e for e in po_entries if e.msgid_plural is not None]
    assert plurals
    for entry in plurals:
        assert set(entry.msgstr) == {0, 1}, entry.msgid


def test_placeholders_and_markup_survive_translation(po_entries: list[PoEntry]) -> None:
    mismatched = []
    for entry in po_entries:
        for index, text in entry.msgstr.items():
            source = entry.msgid_plural if index and entry.msgid_plural is not None else entry.msgid
            if placeholders(source) != placeholders(text):
                mismatched.append((entry.msgid, text))
    assert mismatched == []


def test_translations_are_english_not_copies(po_entries: list[PoEntry]) -> None:
    han = re.compile(r"[\u4e00-\u9fff]")
    leftovers = [e.msgid for e in po_entries for s in e.msgstr.values() if han.search(s)]
    assert leftovers == []


def test_compiled_catalogue_matches_the_po(po_entries: list[PoEntry]) -> None:
    # given the committed .mo, read by the standard library
    with MO_PATH.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    # then it holds exactly the .po's translations (so nobody forgot to run msgfmt)
    for entry in po_entries:
        if entry.msgid_plural is None:
            assert catalog.get(entry.msgid) == entry.msgstr[0], entry.msgid
        else:
            assert catalog.get((entry.msgid, 0)) == entry.msgstr[0], entry.msgid
            assert catalog.get((entry.msgid, 1)) == entry.msgstr[1], entry.msgid


# --- The switch -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_chinese_is_the_default(client: Client) -> None:
    # when a visitor with no preference opens the login page
    response = client.get("/login/")
    # then it is in Simplified Chinese, and offers English
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "社区云 · 登录" in html
    assert f'action="{SETLANG}"' in html
    assert 'name="language" value="en"' in html


@pytest.mark.django_db
def test_a_chinese_browser_gets_chinese(client: Client) -> None:
    html = client.get("/login/", headers={"accept-language": "zh-CN,zh;q=0.9"}).content.decode()
    assert "社区云 · 登录" in html


@pytest.mark.django_db
def test_switching_to_english_translates_the_login_page(client: Client) -> None:
    # when the visitor chooses English on the login page
    response = client.post(SETLANG, {"language": "en", "next": "/login/"})
    # then they are sent back to it
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    # and it is in English from then on
    html = client.get("/login/").content.decode()
    assert '<html lang="en">' in html
    assert "Community Cloud · Log in" in html
    assert ">Username<" in html
    assert ">Password<" in html
    assert ">Log in</button>" in html
    assert "社区云 · 登录" not in html
    assert 'name="language" value="zh-hans"' in html


@pytest.mark.django_db
def test_english_navigation_for_a_signed_in_worker(client: Client, actors) -> None:  # type: ignore[no-untyped-def]
    # given a community worker signed in, who switches to English
    client.force_login(actors.worker_a1)
    client.post(SETLANG, {"language": "en", "next": "/"})
    # when they open the home page
    html = client.get("/").content.decode()
    # then the navigation and the top bar are in English
    for label in (">Home</a>", ">Areas</a>", ">People</a>", ">Organisations</a>", ">Facilities</a>",
                  ">Tokens</a>", ">Log out</button>", 'aria-label="Main navigation"'):
        assert label in html, label
    assert ">首页</a>" not in html


@pytest.mark.django_db
def test_switching_back_to_chinese(client: Client, actors) -> None:  # type: ignore[no-untyped-def]
    client.force_login(actors.worker_a1)
    client.post(SETLANG, {"language": "en", "next": "/"})
    # when the worker switches back from the top bar
    client.post(SETLANG, {"language": "zh-hans", "next": "/registry/people/"})
    html = client.get("/").content.decode()
    # then the navigation is Chinese again
    assert ">首页</a>" in html
    assert ">人员</a>" in html


def test_an_english_browser_still_gets_chinese_until_the_user_switches(client):
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert 'lang="zh-hans"' in response.content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert 'lang="en"' in response.content.decode()

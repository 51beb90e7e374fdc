"""The Chinese catalogue is complete and compiled; Chinese is the default, English the second language."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

import powercis

PACKAGE = Path(powercis.__file__).resolve().parent
PO = PACKAGE / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def test_every_message_is_translated():
    po = polib.pofile(str(PO))
    untranslated = [e.msgid for e in po if not e.translated()]
    fuzzy = [e.msgid for e in po if "fuzzy" in e.flags]
    assert untranslated == [] and fuzzy == []
    assert len(po) > 400


def test_compiled_catalogue_matches_the_source():
    po = {e.msgid: e.msgstr or e.msgstr_plural.get(0, "") for e in polib.pofile(str(PO)) if not e.obsolete}
    mo = {e.msgid: e.msgstr or e.msgstr_plural.get(0, "") for e in polib.mofile(str(MO))}
    assert mo == po, "run the catalogue compile step: the .mo is older than the .po"


def test_no_message_in_the_code_is_missing_from_the_catalogue(tmp_path):
    """Extract the messages from the code as makemessages does and compare with the catalogue."""
    if shutil.which("xgettext") is None:
        pytest.fail("xgettext is missing: script/test installs Debian's gettext package")
    copy = tmp_path / "powercis"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("static", "__pycache__", "*.mo"))
    env_python = sys.executable
    subprocess.run(
        [env_python, "-m", "django", "makemessages", "-l", "zh_Hans", "--no-obsolete", "--ignore", "static/*"],
        cwd=copy, check=True, capture_output=True, env={"DJANGO_SETTINGS_MODULE": "powercis.settings",
                                                        "POWERCIS_VAR_DIR": str(tmp_path / "var"),
                                                        "PATH": "/usr/bin:/bin"},
    )
    fresh = {e.msgid for e in polib.pofile(str(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))}
    committed = {e.msgid for e in polib.pofile(str(PO)) if e.translated()}
    assert sorted(fresh - committed) == []


def test_english_pages_use_english_labels(client, staff):
    client.force_login(staff("admin"), backend="powercis.core.auth.StaffBackend")
    client.cookies["powercis_language"] = "en"
    page = client.get("/").content.decode()
    assert "Org tree" in page and "组织机构" not in page
    client.cookies["powercis_language"] = "zh-hans"
    page = client.get("/").content.decode()
    assert "组织机构" in page and "Org tree" not in page

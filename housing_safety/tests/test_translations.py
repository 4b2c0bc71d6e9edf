"""The Chinese catalogue is complete and the committed .mo matches the .po (a fresh machine may lack gettext,
so the .mo is committed and must not drift)."""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib

from housing_safety.tests.kit import service_missing

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale/zh_Hans/LC_MESSAGES/django.po"
MO = PO.with_suffix(".mo")


def active_entries(po):
    return [e for e in po if not e.obsolete]


def test_every_message_has_a_chinese_translation():
    po = polib.pofile(str(PO))
    untranslated = [e.msgid for e in active_entries(po) if not translations_of(e) or "fuzzy" in e.flags]
    assert untranslated == []


def translations_of(entry) -> list[str]:
    """The msgstr, or for a plural message its forms (Chinese has one); empty when any is missing."""
    forms = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
    return forms if all(forms) else []


def test_compiled_catalogue_matches_the_po_file():
    po = polib.pofile(str(PO))
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)

    def compiled_text(entry):
        if entry.msgid_plural:
            return [compiled.ngettext(entry.msgid, entry.msgid_plural, n) for n in (1, 2)]
        return compiled.pgettext(entry.msgctxt, entry.msgid) if entry.msgctxt else compiled.gettext(entry.msgid)

    def po_text(entry):
        return [entry.msgstr_plural[0]] * 2 if entry.msgid_plural else entry.msgstr

    stale = [e.msgid for e in active_entries(po) if compiled_text(e) != po_text(e)]
    assert stale == [], "run `make messages` and commit the .mo"
    assert len(compiled._catalog) - 1 == len(active_entries(po))  # the catalogue also holds the header


def test_every_user_facing_string_in_the_code_is_in_the_catalogue(tmp_path):
    """Re-extract messages from a copy of the source with xgettext; nothing may be missing from the .po."""
    if not shutil.which("xgettext"):
        service_missing("GNU gettext (xgettext) is not installed")
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(".venv", ".git", "staticfiles", "media", "test-artifacts", "*.pyc", "db.sqlite3"),
    )
    (copy / "locale/zh_Hans/LC_MESSAGES/django.po").unlink()
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--ignore=staticfiles"],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    extracted = {e.msgid for e in polib.pofile(str(copy / "locale/zh_Hans/LC_MESSAGES/django.po")) if e.msgid}
    committed = {e.msgid for e in active_entries(polib.pofile(str(PO)))}
    assert sorted(extracted - committed) == [], "run `make messages` and translate the new strings"


def test_no_translated_string_hides_inside_an_f_string():
    """xgettext does not look inside f-strings: a `_("…")` there would never reach the catalogue."""
    pattern = re.compile(r"""\bf(["'])[^"'\n]*\{_\(""")
    hidden = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in ROOT.rglob("*.py")
        if ".venv" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if pattern.search(line)
    ]
    assert hidden == []

"""The Welsh catalogue is complete and compiled: every message in the project has a
Welsh translation, and the committed .mo says what the .po says (docs/languages.md)."""

import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from pofile import read_po

import schoolgate

SOURCE = Path(schoolgate.__file__).resolve().parent
CATALOGUE = SOURCE / "locale" / "cy" / "LC_MESSAGES"
PO = CATALOGUE / "django.po"
MO = CATALOGUE / "django.mo"
DJANGO_CY = Path(__import__("django").__file__).parent / "conf/locale/cy/LC_MESSAGES/django.po"
# The same as docs/languages.md's `schoolgate makemessages -l cy --ignore=static`.
IGNORE = ["static"]
PLACEHOLDER = re.compile(r"%\((\w+)\)")
FIX = (
    "Run `schoolgate makemessages -l cy --ignore=static --no-obsolete --add-location=file` "
    "in src/schoolgate, translate, then `schoolgate compilemessages -l cy` "
    "(docs/languages.md)."
)
GETTEXT_TOOLS = ("xgettext", "msgmerge", "msguniq")


def committed() -> dict:
    return {entry.key: entry for entry in read_po(PO)[1:]}


def header(path: Path) -> dict[str, str]:
    text = read_po(path)[0].msgstr[0]
    return dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)


def describe(entries) -> str:
    shown = [f"  {entry.msgid!r} ({', '.join(entry.locations[:2])})" for entry in entries[:25]]
    more = f"\n  ...and {len(entries) - 25} more" if len(entries) > 25 else ""
    return "\n".join(shown) + more


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in GETTEXT_TOOLS),
    reason="needs GNU gettext (xgettext, msgmerge); the committed-catalogue tests still run",
)
def test_every_message_in_the_project_is_translated_into_welsh(tmp_path, settings, monkeypatch):
    # makemessages writes to any locale/ folder beside the files it reads, so it runs over
    # a copy of the source: the committed catalogue is never touched by a test.
    source = tmp_path / "schoolgate"
    shutil.copytree(
        SOURCE, source, ignore=shutil.ignore_patterns("locale", "static", "__pycache__")
    )
    settings.LOCALE_PATHS = [str(source / "locale")]
    monkeypatch.chdir(source)

    call_command(
        "makemessages",
        locale=["cy"],
        ignore_patterns=IGNORE,
        keep_pot=True,
        no_obsolete=True,
        verbosity=0,
    )

    in_source = read_po(source / "locale" / "django.pot")[1:]
    assert len(in_source) > 500, "makemessages found too few messages: is it reading the source?"
    translations = committed()
    missing = [
        entry
        for entry in in_source
        if entry.key not in translations or not translations[entry.key].translated
    ]
    assert not missing, (
        f"{len(missing)} message(s) in the project have no Welsh translation:\n"
        f"{describe(missing)}\n{FIX}"
    )


def test_the_committed_catalogue_has_no_empty_or_fuzzy_translations():
    entries = read_po(PO)

    assert "fuzzy" not in entries[0].flags, "the header is still marked fuzzy"
    untranslated = [entry for entry in entries[1:] if not entry.translated]
    assert not untranslated, f"untranslated or fuzzy:\n{describe(untranslated)}\n{FIX}"
    assert len(entries) > 500


def test_the_catalogue_header_is_welsh_with_djangos_plural_forms():
    ours = header(PO)

    assert ours["Language"] == "cy"
    assert ours["Content-Type"] == "text/plain; charset=UTF-8"
    # Django's own Welsh catalogue is merged with ours at run time: the same plural rule.
    assert ours["Plural-Forms"] == header(DJANGO_CY)["Plural-Forms"]
    assert ours["Plural-Forms"].startswith("nplurals=4;")


def test_placeholders_and_markup_are_kept_in_every_translation():
    def shape(text: str) -> tuple:
        tags = re.findall(r"<[^>]+>", text)
        return set(PLACEHOLDER.findall(text)), tags, text.startswith("\n"), text.endswith("\n")

    wrong = [
        entry
        for entry in read_po(PO)[1:]
        for index, text in entry.msgstr.items()
        if shape(text) != shape(entry.msgid if index == 0 else entry.msgid_plural)
    ]
    assert not wrong, f"placeholders, tags or line ends differ:\n{describe(wrong)}"


def test_the_compiled_catalogue_matches_the_po_file():
    """The .mo is committed so that installing needs no gettext: it must be up to date."""
    with MO.open("rb") as file:
        compiled = gettext.GNUTranslations(file)

    stale = []
    for entry in read_po(PO)[1:]:
        if entry.msgid_plural:
            # Welsh plural forms: 1 -> 0, 2 -> 1, 3 -> 2, 8 -> 3.
            for n, index in ((1, 0), (2, 1), (3, 2), (8, 3)):
                if entry.msgctxt is None:
                    got = compiled.ngettext(entry.msgid, entry.msgid_plural, n)
                else:
                    got = compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                if got != entry.msgstr[index]:
                    stale.append(entry)
                    break
        else:
            if entry.msgctxt is None:
                got = compiled.gettext(entry.msgid)
            else:
                got = compiled.pgettext(entry.msgctxt, entry.msgid)
            if got != entry.msgstr[0]:
                stale.append(entry)
    assert not stale, (
        f"django.mo is out of date with django.po for:\n{describe(stale)}\n"
        "Run `schoolgate compilemessages -l cy` in src/schoolgate and commit django.mo."
    )


@pytest.mark.skipif(not shutil.which("msgfmt"), reason="needs GNU gettext's msgfmt")
def test_msgfmt_check_passes():
    result = subprocess.run(
        ["msgfmt", "--check", "-o", "/dev/null", str(PO)], capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr

"""The translation catalogues: complete, in sync with the sources, and loadable.

To update the catalogues after changing a user-facing string (from the repository root):

    pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 -k pgettext:1c,2 \
        --no-location --sort-output --project consult --version 0.1.0 \
        -o consult/locale/messages.pot .
    pybabel update -i consult/locale/messages.pot -d consult/locale -D messages --ignore-obsolete
    # translate the new French entries in consult/locale/fr/LC_MESSAGES/messages.po
    pybabel compile -d consult/locale -D messages
"""

from __future__ import annotations

import contextvars
import gettext
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO, TypeVar

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from consult import i18n

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[1]
BABEL_CFG = ROOT / "babel.cfg"
LOCALE_DIR = ROOT / "consult" / "locale"
POT = LOCALE_DIR / "messages.pot"
LANGUAGES = ("fr", "en")
# The keywords given to `pybabel extract` (on top of Babel's defaults, as the CLI does).
KEYWORDS = ["_", "gettext", "ngettext:1,2", "pgettext:1c,2"]
FRENCH_PLURAL_FORMS = "nplurals=2; plural=(n > 1);"
NBSP = "\u00a0"
NNBSP = "\u202f"

UPDATE_HINT = (
    "Run the extract / update commands in tests/test_i18n.py's docstring, "
    "then translate the new French entries."
)

# `%(name)s`-style (Jinja newstyle gettext, ngettext) and `{name}`-style (str.format) fields;
# `{[^{}]*}` also catches mistyped fields such as `{ line}` or `{}`.
PLACEHOLDER_RE = re.compile(r"%\(\w+\)[#0 +-]?\d*(?:\.\d+)?[diouxXeEfFgGcrsa]|\{[^{}]*\}")

MessageKey = tuple[str | None, str | tuple[str, ...]]


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"


def read_catalog(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as fileobj:
        return read_po(fileobj, locale=language, domain=i18n.DOMAIN)


def entries(catalog: Catalog) -> list[Message]:
    """The catalogue's messages, without the header entry."""
    return [message for message in catalog if message.id]


def key(message: Message) -> MessageKey:
    msgid = tuple(message.id) if isinstance(message.id, list | tuple) else message.id
    return (message.context, msgid)


def describe(keys: set[MessageKey]) -> str:
    return "\n".join(
        f"  {f'[{context}] ' if context else ''}{msgid!r}"
        for context, msgid in sorted(keys, key=repr)
    )


def forms(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """The singular and plural forms of a msgid or msgstr, as a tuple."""
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list | tuple) else (value,)


def in_fresh_context(function: Callable[[], T]) -> T:
    """Run `function` so that `i18n.set_language` does not leak into other tests."""
    return contextvars.copy_context().run(function)


# --- extraction ----------------------------------------------------------------------------


# Babel's reader of babel.cfg, with the types it returns (Babel does not annotate it).
read_mapping: Callable[[TextIO, str], tuple[list[tuple[str, str]], dict[str, dict[str, Any]]]]
read_mapping = parse_mapping_cfg


@pytest.fixture(scope="module")
def extracted() -> tuple[Catalog, list[str]]:
    """Re-extract the sources exactly as `pybabel extract -F babel.cfg ... .` does."""
    with BABEL_CFG.open(encoding="utf-8") as fileobj:
        method_map, options_map = read_mapping(fileobj, str(BABEL_CFG))
    keywords = {**DEFAULT_KEYWORDS, **parse_keywords(KEYWORDS)}
    scanned: list[str] = []

    def callback(filename: str, method: str, options: dict[str, Any]) -> None:
        scanned.append(filename)

    catalog = Catalog(domain=i18n.DOMAIN)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords, callback=callback
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog, scanned


def test_extraction_scans_only_the_application_sources(
    extracted: tuple[Catalog, list[str]],
) -> None:
    catalog, scanned = extracted
    assert scanned, "babel.cfg matched no file"
    outside = [name for name in scanned if not name.startswith(("consult/", "templates/"))]
    assert not outside, f"extraction scanned files outside consult/ and templates/: {outside}"
    assert any(name.startswith("templates/") for name in scanned)
    assert any(name.endswith(".py") for name in scanned)
    assert entries(catalog)


@pytest.mark.parametrize("path", [POT, *(po_path(language) for language in LANGUAGES)])
def test_catalogues_match_the_sources(path: Path, extracted: tuple[Catalog, list[str]]) -> None:
    catalog, _ = extracted
    in_sources = {key(message) for message in entries(catalog)}
    in_catalogue = {key(message) for message in entries(read_catalog(path))}
    missing = in_sources - in_catalogue
    stale = in_catalogue - in_sources
    problems = []
    if missing:
        problems.append(f"strings used in the sources but missing:\n{describe(missing)}")
    if stale:
        problems.append(f"strings no longer used in the sources:\n{describe(stale)}")
    assert not problems, f"{path.relative_to(ROOT)} is out of date. {UPDATE_HINT}\n" + "\n".join(
        problems
    )


def test_catalogues_have_no_obsolete_entries() -> None:
    for language in LANGUAGES:
        catalog = read_catalog(po_path(language), language)
        assert not catalog.obsolete, f"{language}: remove the #~ entries (--ignore-obsolete)"


# --- the French catalogue ------------------------------------------------------------------


@pytest.fixture(scope="module")
def french() -> Catalog:
    return read_catalog(po_path("fr"), "fr")


def test_french_catalogue_header(french: Catalog) -> None:
    assert str(french.locale) == "fr"
    assert french.plural_forms == FRENCH_PLURAL_FORMS
    assert not french.fuzzy, "the header of the French catalogue is marked fuzzy"


def test_french_catalogue_is_complete(french: Catalog) -> None:
    fuzzy = {key(message) for message in entries(french) if message.fuzzy}
    untranslated = {
        key(message)
        for message in entries(french)
        if len(forms(message.string)) != (french.num_plurals if message.pluralizable else 1)
        or not all(form.strip() for form in forms(message.string))
    }
    problems = []
    if untranslated:
        problems.append(f"untranslated French entries:\n{describe(untranslated)}")
    if fuzzy:
        problems.append(f"fuzzy French entries (check, then remove the flag):\n{describe(fuzzy)}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_babel_checks_pass(language: str) -> None:
    catalog = read_catalog(po_path(language), language)
    errors = [
        f"  {message.id!r}: {'; '.join(map(str, problems))}"
        for message, problems in catalog.check()
    ]
    assert not errors, f"{language} catalogue errors:\n" + "\n".join(errors)


def test_french_keeps_every_placeholder(french: Catalog) -> None:
    problems = []
    for message in entries(french):
        expected = sorted(
            {field for msgid in forms(message.id) for field in PLACEHOLDER_RE.findall(msgid)}
        )
        bare_percent = max(PLACEHOLDER_RE.sub("", msgid).count("%") for msgid in forms(message.id))
        for translation in forms(message.string):
            if not translation:
                continue  # reported by test_french_catalogue_is_complete
            found = sorted(set(PLACEHOLDER_RE.findall(translation)))
            if found != expected:
                problems.append(f"  {message.id!r}: expected {expected}, found {found}")
            if PLACEHOLDER_RE.sub("", translation).count("%") != bare_percent:
                # Jinja's newstyle gettext %-formats every template string.
                problems.append(f"  {message.id!r}: stray % in {translation!r}")
    assert not problems, "placeholders differ in the French catalogue:\n" + "\n".join(problems)


def test_french_typography(french: Catalog) -> None:
    """Non-breaking space before : ; ! ? and inside « », typographic apostrophe and quotes."""
    rules = {
        "a non-breaking space before ; ! ? »": re.compile(rf"(?<![{NBSP}{NNBSP}])[;!?»]"),
        "a non-breaking space before :": re.compile(rf"(?<![{NBSP}{NNBSP}\d]):|(?<=\d):(?!\d)"),
        "a non-breaking space after «": re.compile(rf"«(?![{NBSP}{NNBSP}])"),
        "the apostrophe ’, not '": re.compile(r"'"),
        '« guillemets », not “ ” or "': re.compile(r"[\"“”]"),
    }
    # Markup inside a message (links) and URL schemes follow their own syntax, not French rules.
    markup = re.compile(r"<[^>]+>|https?://")
    problems = [
        f"  {translation!r} needs {rule}"
        for message in entries(french)
        for translation in forms(message.string)
        for rule, pattern in rules.items()
        if pattern.search(markup.sub("", translation))
    ]
    assert not problems, "French typography:\n" + "\n".join(problems)


def test_french_phase_names(french: Catalog) -> None:
    phases = {
        "Draft": "En préparation",
        "Open": "Ouverte",
        "Closed": "Clôturée",
        "Answered": "Réponses apportées",
        "Published": "Bilan publié",
    }
    for english, expected in phases.items():
        message = french.get(english, context="phase")
        assert message is not None, f"no phase entry for {english!r}"
        assert message.string == expected


# --- compiled catalogues -------------------------------------------------------------------


@pytest.fixture
def compiled(tmp_path: Path) -> Path:
    """Compile every .po into a temporary locale directory, as `pybabel compile` does."""
    for language in LANGUAGES:
        target = tmp_path / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.mo"
        target.parent.mkdir(parents=True)
        with target.open("wb") as fileobj:
            write_mo(fileobj, read_catalog(po_path(language), language))
    return tmp_path


def test_compiled_french_catalogue_loads(compiled: Path) -> None:
    french = gettext.translation(i18n.DOMAIN, localedir=compiled, languages=["fr"])
    assert french.gettext("Log in") == "Se connecter"
    assert french.gettext("%(division)s: %(heading)s") == f"%(division)s{NBSP}: %(heading)s"
    assert french.pgettext("phase", "Closed") == "Clôturée"
    singular, plural = "%(count)s article found.", "%(count)s articles found."
    # French uses the singular for 0 and 1.
    assert french.ngettext(singular, plural, 0) == "%(count)s article trouvé."
    assert french.ngettext(singular, plural, 1) == "%(count)s article trouvé."
    assert french.ngettext(singular, plural, 2) == "%(count)s articles trouvés."


def test_compiled_english_catalogue_loads(compiled: Path) -> None:
    english = gettext.translation(i18n.DOMAIN, localedir=compiled, languages=["en"])
    assert english.gettext("Log in") == "Log in"
    assert english.pgettext("phase", "Closed") == "Closed"
    singular, plural = "%(count)s article found.", "%(count)s articles found."
    assert english.ngettext(singular, plural, 0) == plural
    assert english.ngettext(singular, plural, 1) == singular
    assert english.ngettext(singular, plural, 2) == plural


def test_templates_translate_through_consult_i18n(
    compiled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from consult.web.templating import create_environment

    monkeypatch.setattr(i18n, "LOCALE_DIR", compiled)
    i18n.translations_for.cache_clear()
    try:
        template = create_environment().from_string(
            '{{ _("%(division)s: %(heading)s", division=_("Chapter %(number)s", number="II"),'
            " heading=heading) }} · "
            '{{ pgettext("phase", "Open") }} · '
            '{{ ngettext("%(count)s article found.", "%(count)s articles found.", n, count=n) }}'
        )

        def render(language: str, n: int) -> str:
            i18n.set_language(language)
            return template.render(heading="Dispositions générales", n=n)

        assert in_fresh_context(lambda: render("fr", 1)) == (
            f"Chapitre II{NBSP}: Dispositions générales · Ouverte · 1 article trouvé."
        )
        assert in_fresh_context(lambda: render("en", 3)) == (
            "Chapter II: Dispositions générales · Open · 3 articles found."
        )
    finally:
        i18n.translations_for.cache_clear()


# --- language negotiation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-GB,en;q=0.9", "en"),
        ("de-DE", "fr"),
        ("en;q=0.1, fr;q=0.9", "fr"),
        ("", "fr"),
        (None, "fr"),
        ("fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7", "fr"),
        ("de-DE,de;q=0.9,en;q=0.5", "en"),
        ("en;q=0", "fr"),
        ("EN-us", "en"),
        ("en;q=abc, fr;q=0.2", "fr"),
    ],
)
def test_negotiate_language(header: str | None, expected: str) -> None:
    assert i18n.negotiate_language(header) == expected


def test_default_language_is_french() -> None:
    assert i18n.DEFAULT_LANGUAGE == "fr"
    assert set(i18n.SUPPORTED_LANGUAGES) == set(LANGUAGES)

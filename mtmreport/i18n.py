"""The report's words in every language: gettext catalogues read through Babel.

Every fixed word of the report (templates, generated sentences, chart labels, annex headers)
is a gettext message whose id is the English text. Translations live in PO files, as MkDocs
and Sphinx keep theirs, so translators work in Poedit, Weblate or any PO editor:

    templates/locales/messages.pot                  every message, made by `i18n extract`
    templates/locales/<lang>/LC_MESSAGES/messages.po   one language's translations

English is the source language and needs no catalogue. A build reads the PO file itself
(Babel compiles it in memory in a few milliseconds), so an edited translation never waits for
a compile step; `mtmreport i18n compile` checks the catalogues and writes the MO files that
other gettext tools expect.

The pseudo-locale (`qps`, as Windows names its pseudo-locales) wraps every message in ‹ ›:
a build in it shows at a glance, and a test checks, that no visible word escaped the
catalogue.
"""

from __future__ import annotations

import gettext
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from mtmreport.errors import CatalogueError

if TYPE_CHECKING:  # Babel's catalogue modules are imported where used: `validate` needs none
    from babel.messages.catalog import Catalog
    from babel.support import Translations

SOURCE_LANGUAGE = "en"
PSEUDO_LANGUAGE = "qps"
DOMAIN = "messages"
LOCALES = "locales"  # inside the templates folder
PROJECT = "mtmreport"
COPYRIGHT = "the mtmreport authors"
OPEN, CLOSE = (
    "‹",
    "›",
)  # the pseudo-locale's markers (Carlito has them, so PDFs and charts show them)


def locales_dir(templates_dir: Path) -> Path:
    return templates_dir / LOCALES


def template_path(templates_dir: Path) -> Path:
    """The catalogue template (POT): every message, no translations."""
    return locales_dir(templates_dir) / f"{DOMAIN}.pot"


def catalogue_path(templates_dir: Path, language: str) -> Path:
    return locales_dir(templates_dir) / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def catalogue_languages(templates_dir: Path) -> list[str]:
    """Languages with a catalogue, sorted."""
    folder = locales_dir(templates_dir)
    if not folder.is_dir():
        return []
    return sorted(p.parent.parent.name for p in folder.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def languages(templates_dir: Path) -> list[str]:
    """Every edition the project makes: English first, then each language with a catalogue."""
    return [SOURCE_LANGUAGE, *(x for x in catalogue_languages(templates_dir) if x != "en")]


def cldr_locale(language: str) -> str:
    """The CLDR locale that formats numbers and dates for `language` (English for pseudo)."""
    return SOURCE_LANGUAGE if language == PSEUDO_LANGUAGE else language


def check_language_code(language: str) -> None:
    """Refuse a language code CLDR does not know, in plain words."""
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(language)
    except (ValueError, UnknownLocaleError) as error:
        raise CatalogueError(f"{language!r} is not a language code CLDR knows ({error})") from None


def check_language(language: str, templates_dir: Path) -> None:
    """Refuse a language with no catalogue or one CLDR does not know, in plain words."""
    if language in (SOURCE_LANGUAGE, PSEUDO_LANGUAGE):
        return
    check_language_code(language)
    if not catalogue_path(templates_dir, language).is_file():
        known = ", ".join(languages(templates_dir))
        raise CatalogueError(
            f"no catalogue for language {language!r}: "
            f"{catalogue_path(templates_dir, language)} does not exist (languages: {known}); "
            f"`mtmreport i18n init {language}` starts one"
        )


def read_catalogue(path: Path, language: str | None = None) -> Catalog:
    """A PO file as a Babel catalogue; a malformed file is a located error."""
    from babel.messages.pofile import PoFileError, read_po

    try:
        with path.open("rb") as handle:
            return read_po(handle, locale=language, abort_invalid=True)
    except PoFileError as error:
        # Babel counts lines from 0 and ends its message with "on <line>".
        line = getattr(error, "lineno", -1) + 1
        what = str(error).rsplit(" on ", 1)[0]
        raise CatalogueError(
            f"{path}:{line}: malformed PO file: {what}: {getattr(error, 'line', '')!r}"
        ) from None
    except UnicodeDecodeError as error:
        raise CatalogueError(f"{path}: not UTF-8 text ({error.reason})") from None
    except OSError as error:
        raise CatalogueError(f"{path}: cannot read: {error.strerror}") from None


@dataclass(frozen=True)
class CatalogueProblem:
    """One translation that cannot be used, with its place in the PO file."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def checked_catalogue(path: Path, language: str) -> Catalog:
    """A language's catalogue, refused (located, line by line) where a translation breaks
    the placeholders of its message."""
    catalog = read_catalogue(path, language)
    problems = catalogue_problems(catalog, path)
    if problems:
        raise CatalogueError(
            f"{len(problems)} translation(s) break their placeholders:\n"
            + "\n".join(str(p) for p in problems)
        )
    return catalog


def catalogue_problems(catalog: Catalog, path: Path) -> list[CatalogueProblem]:
    """Translations that drop, add or rename a placeholder (Babel's own python-format check)."""
    problems = []
    for message, errors in catalog.check():
        for error in errors:
            msgid = message.id if isinstance(message.id, str) else message.id[0]
            problems.append(CatalogueProblem(path, message.lineno, f"{error} in {msgid!r}"))
    return problems


@dataclass(frozen=True)
class CatalogueStats:
    translated: int
    fuzzy: int
    untranslated: int

    @property
    def complete(self) -> bool:
        return not (self.fuzzy or self.untranslated)


def catalogue_stats(catalog: Catalog) -> CatalogueStats:
    translated = fuzzy = untranslated = 0
    for message in catalog:
        if not message.id:
            continue
        if message.fuzzy:
            fuzzy += 1
        elif message.string and all(message.string if message.pluralizable else [message.string]):
            translated += 1
        else:
            untranslated += 1
    return CatalogueStats(translated, fuzzy, untranslated)


def _compile(catalog: Catalog) -> bytes:
    from babel.messages.mofile import write_mo

    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)  # a fuzzy translation is not yet a translation
    return buffer.getvalue()


@cache
def _translations(path: Path, digest: str, language: str) -> Translations:
    """One catalogue compiled in memory, kept while its bytes stay the same."""
    from babel.support import Translations

    catalog = checked_catalogue(path, language)
    return Translations(io.BytesIO(_compile(catalog)), domain=DOMAIN)


def load_translations(templates_dir: Path, language: str) -> gettext.NullTranslations:
    """The gettext object for `language`: English needs none, the pseudo-locale wraps."""
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    if language == PSEUDO_LANGUAGE:
        return PseudoTranslations()
    check_language(language, templates_dir)
    path = catalogue_path(templates_dir, language)
    return _translations(path, catalogue_digest(path), language)


def translations_of(templates_dir: Path, language: str, digest: str) -> gettext.NullTranslations:
    """`load_translations` for a catalogue already checked and hashed (`digest`): what every
    message of an edition asks, so the file is not read and hashed again each time."""
    if language in (SOURCE_LANGUAGE, PSEUDO_LANGUAGE):
        return load_translations(templates_dir, language)
    return _translations(catalogue_path(templates_dir, language), digest, language)


def catalogue_digest(path: Path) -> str:
    """A hash of a catalogue's bytes (empty for none): what charts and caches depend on."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return ""


class PseudoTranslations(gettext.NullTranslations):
    """Every message's own words wrapped in ‹ ›, for the pseudo-locale test.

    Only the words between placeholders are wrapped, never a placeholder: what fills it (a
    name, a period, a text of the quarter file) must come marked from its own source, or the
    test sees it.
    """

    def gettext(self, message: str) -> str:
        return wrap_message(message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return wrap_message(msgid1 if n == 1 else msgid2)

    def pgettext(self, context: str, message: str) -> str:
        return wrap_message(message)

    def npgettext(self, context: str, msgid1: str, msgid2: str, n: int) -> str:
        return wrap_message(msgid1 if n == 1 else msgid2)


_PLACEHOLDER = re.compile(r"(%\(\w+\)[sdif]|%%)")


def wrap_message(message: str) -> str:
    """ "Figure %(number)s." -> "‹Figure ›%(number)s‹.›": the words marked, not the values."""
    return "".join(
        part if not part or _PLACEHOLDER.fullmatch(part) else wrap(part)
        for part in _PLACEHOLDER.split(message)
    )


def wrap(text: str) -> str:
    return f"{OPEN}{text}{CLOSE}"


def unwrapped(text: str) -> str:
    """`text` with every ‹…› span (nested ones too) taken out: what did not come through
    the catalogue."""
    out: list[str] = []
    depth = 0
    for char in text:
        if char == OPEN:
            depth += 1
        elif char == CLOSE and depth:
            depth -= 1
        elif not depth:
            out.append(char)
    return "".join(out)


# --- extraction, update, compilation (the `mtmreport i18n` commands) -------------------------

# Where messages are: the package's Python and the templates. Jinja's own extractor reads the
# templates with the options the report's environment uses.
METHOD_MAP = [("**.py", "python"), ("**.j2", "jinja2.ext:babel_extract")]
JINJA_OPTIONS = {
    "extensions": "jinja2.ext.do",
    "trim_blocks": "true",
    "lstrip_blocks": "true",
    "trimmed": "true",
}
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
}


def extract(package_dir: Path, templates_dir: Path) -> Catalog:
    """Every message of the package's code and the templates, as a catalogue template."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    catalog = Catalog(project=PROJECT, copyright_holder=COPYRIGHT, charset="utf-8", fuzzy=False)
    sources = [(package_dir, package_dir.parent), (templates_dir, templates_dir.parent)]
    for folder, base in sources:
        for filename, lineno, message, comments, context in extract_from_dir(
            str(folder),
            method_map=METHOD_MAP,
            options_map={"**.j2": JINJA_OPTIONS},
            keywords=KEYWORDS,
            comment_tags=("Translators:",),
            strip_comment_tags=True,
        ):
            where = (folder / filename).relative_to(base).as_posix()
            catalog.add(message, None, [(where, lineno)], auto_comments=comments, context=context)
    return catalog


def write_catalogue(
    catalog: Catalog, path: Path, *, template: bool = False, line_numbers: bool = False
) -> Path:
    """Write a PO (or POT) file the way translators' tools expect, with no dates that change
    on every run, so an unchanged catalogue gives unchanged bytes."""
    from babel.messages.pofile import write_po

    path.parent.mkdir(parents=True, exist_ok=True)
    catalog.creation_date = catalog.revision_date = _EPOCH
    buffer = io.BytesIO()
    # The catalogue leaves out line numbers, which change with every edit of the code around
    # a message; a quarter's translation keeps them, to lead a translator to the text.
    write_po(buffer, catalog, width=100, include_lineno=line_numbers)
    text = b"\n".join(
        line
        for line in buffer.getvalue().split(b"\n")
        if not line.startswith((b'"POT-Creation-Date:', b'"PO-Revision-Date:'))
    )
    if not template:
        text = text.replace(b'#, fuzzy\nmsgid ""', b'msgid ""', 1)
    path.write_bytes(text)
    return path


def _epoch() -> object:
    from datetime import UTC, datetime

    return datetime(2000, 1, 1, tzinfo=UTC)


_EPOCH = _epoch()


def update(templates_dir: Path, template: Catalog, language: str) -> tuple[Path, CatalogueStats]:
    """Merge the catalogue template into one language's catalogue, as `pybabel update` does:
    translations are kept, a message whose English changed is kept as fuzzy for review, and
    messages no longer used are dropped to the file's obsolete section."""
    from babel.messages.catalog import Catalog

    path = catalogue_path(templates_dir, language)
    if path.is_file():
        catalog = read_catalogue(path, language)
    else:
        catalog = Catalog(locale=language, project=PROJECT, charset="utf-8", fuzzy=False)
    catalog.update(template, update_header_comment=False)
    write_catalogue(catalog, path)
    return path, catalogue_stats(catalog)


def compile_catalogues(templates_dir: Path) -> Iterator[tuple[str, Path, CatalogueStats]]:
    """Check each catalogue and write its MO file beside it (fuzzy entries left out)."""
    for language in catalogue_languages(templates_dir):
        path = catalogue_path(templates_dir, language)
        catalog = checked_catalogue(path, language)
        target = path.with_suffix(".mo")
        target.write_bytes(_compile(catalog))
        yield language, target, catalogue_stats(catalog)

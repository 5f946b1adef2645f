"""The analyst's own texts in other languages: one PO file per quarter and language.

A quarter file's words — section titles, paragraphs, commentary, sources, subjects, notes —
are the analyst's, not the catalogue's. `mtmreport translate 2023-Q3 --lang ru` gathers them
into `data/quarters/2023-Q3.ru.po`, beside the quarter file, as gettext entries whose id is
the English text and whose comment names the line it comes from, so a translator works on
them in any PO editor. Run again after an edit, it keeps every translation, marks as fuzzy
(to review) the entries whose English changed, and sets aside those of texts that are gone.

A build reads the file for each edition and puts the translations into a copy of the
computed figures' texts (the figures themselves are computed once, for every edition). A
text with no translation yet, or a fuzzy one, prints in English behind a visible
"translation pending" mark and makes the edition a draft: `list` counts them and `--strict`
refuses to build.

PO rather than YAML: translators' tools read it, it carries the fuzzy state and the source
line, and Babel merges it; a YAML file would need all three written by hand.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from babel.messages.catalog import Catalog

from mtmreport import i18n
from mtmreport.errors import CatalogueError, display_path

if TYPE_CHECKING:
    from mtmreport.compute import QuarterFigures
    from mtmreport.load import YamlDocument

# Keys of a quarter file whose values are words to translate. Everything else is an id, a
# period, a name from the reference tables (translated there) or a setting.
TEXT_KEYS = frozenset(
    {
        "about_iom",
        "bullets",  # a list of plain strings (or of paragraphs, whose text is a `text`)
        "caption",
        "category",
        "commentary",
        "definition",
        "disclaimer",
        "funding",
        "intro",
        "label",
        "note",
        "overtitle",
        "paragraphs",
        "reported_by",
        "source",
        "subject",
        "term",
        "text",
        "title",
    }
)
PENDING = "pending"  # what a draft writes for a text still to come
_LINK = re.compile(r"\]\(([^)\s]+)")  # a Markdown link's target


@dataclass(frozen=True)
class SourceText:
    """One text of a quarter file and the line it is on."""

    text: str
    line: int


def source_texts(doc: YamlDocument) -> list[SourceText]:
    """Every translatable text of a quarter file, in file order, each once."""
    found: dict[str, SourceText] = {}

    def walk(node: Any, location: tuple[str | int, ...], key: str | None) -> None:
        if isinstance(node, dict):
            for name, value in node.items():
                walk(value, (*location, name), str(name))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, (*location, index), key)
        elif isinstance(node, str) and key in TEXT_KEYS and node.strip() and node != PENDING:
            line = doc.position(location)[0] or 0
            found.setdefault(node, SourceText(node, line))

    walk(doc.data, (), None)
    return list(found.values())


def translation_path(quarter_path: Path, language: str) -> Path:
    """`data/quarters/2023-Q3.yaml` -> `data/quarters/2023-Q3.ru.po`."""
    return quarter_path.with_name(f"{quarter_path.stem}.{language}.po")


def update_translation(doc: YamlDocument, language: str) -> tuple[Path, i18n.CatalogueStats]:
    """Write or update the quarter's translation file for `language`."""
    if language in (i18n.SOURCE_LANGUAGE, i18n.PSEUDO_LANGUAGE):
        raise CatalogueError(f"{language!r} needs no translation of the quarter's texts")
    i18n.check_language_code(language)
    template = Catalog(project=doc.path.stem, charset="utf-8", fuzzy=False)
    for source in source_texts(doc):
        template.add(source.text, None, [(doc.path.name, source.line)])
    path = translation_path(doc.path, language)
    if path.is_file():
        catalog = i18n.read_catalogue(path, language)
    else:
        catalog = Catalog(locale=language, project=doc.path.stem, charset="utf-8", fuzzy=False)
        catalog.header_comment = (
            f"# The texts of {doc.path.name} in {language}, for its edition of the report.\n"
            "# Made by `mtmreport translate`; run it again after editing the quarter file."
        )
    catalog.update(template, update_header_comment=False)
    i18n.write_catalogue(catalog, path, line_numbers=True)
    return path, i18n.catalogue_stats(catalog)


@dataclass(frozen=True)
class QuarterTexts:
    """A quarter's texts in one edition's language: translations, and what is still pending."""

    language: str
    translations: dict[str, str] = field(default_factory=dict)
    pending: tuple[SourceText, ...] = ()
    warnings: tuple[str, ...] = ()
    wrap: bool = False  # the pseudo-locale marks every text

    def translate(self, text: str, mark: str) -> str:
        if self.language == i18n.SOURCE_LANGUAGE:
            return text
        if self.wrap:
            return i18n.wrap(text)
        found = self.translations.get(text)
        return found if found is not None else f"{mark} {text}"


def load_texts(doc: YamlDocument, language: str) -> QuarterTexts:
    """The quarter's translation file for `language`, checked against its current texts.

    A translation that loses or changes a link of its text is an error, located in the PO
    file; a translation of a text no longer in the quarter file is a warning, as is a
    missing or fuzzy one (the edition is then a draft).
    """
    if language == i18n.SOURCE_LANGUAGE:
        return QuarterTexts(language)
    if language == i18n.PSEUDO_LANGUAGE:
        return QuarterTexts(language, wrap=True)
    sources = source_texts(doc)
    path = translation_path(doc.path, language)
    name = display_path(path)
    if not path.is_file():
        warning = (
            f"{name}: no translation of the quarter's texts yet; "
            f"`mtmreport translate {doc.path.stem} --lang {language}` starts one"
        )
        return QuarterTexts(language, pending=tuple(sources), warnings=(warning,))
    catalog = i18n.read_catalogue(path, language)
    wanted = {s.text for s in sources}
    translations: dict[str, str] = {}
    problems: list[str] = []
    warnings: list[str] = []
    for message in catalog:
        if not message.id or not isinstance(message.id, str):
            continue
        if message.id not in wanted:
            warnings.append(
                f"{name}:{message.lineno}: a translation of a text that is no longer in "
                f"{display_path(doc.path)}; `mtmreport translate` sets it aside"
            )
            continue
        if message.fuzzy or not message.string:
            continue
        lost = sorted(set(_LINK.findall(message.id)) - set(_LINK.findall(message.string)))
        if lost:
            problems.append(
                f"{name}:{message.lineno}: the translation leaves out or changes the link "
                f"{', '.join(lost)} of its text"
            )
            continue
        translations[message.id] = message.string
    if problems:
        raise CatalogueError("\n".join(problems))
    pending = tuple(s for s in sources if s.text not in translations)
    if pending:
        warnings.append(
            f"{name}: {len(pending)} text(s) not translated yet (or fuzzy, to review), "
            f"first at {display_path(doc.path)}:{pending[0].line}; the edition is a draft"
        )
    return QuarterTexts(language, translations, pending, tuple(warnings))


def with_other_quarters(texts: QuarterTexts, data_dir: Path, quarters: list[str]) -> QuarterTexts:
    """`texts` that also translate the other quarters' texts a report cites (an earlier
    quarter's source, under a trend chart or a change against that quarter), from those
    quarters' own translation files; the quarter's own translations take precedence."""
    if texts.language in (i18n.SOURCE_LANGUAGE, i18n.PSEUDO_LANGUAGE):
        return texts
    others: dict[str, str] = {}
    for quarter in quarters:
        path = translation_path(data_dir / f"{quarter}.yaml", texts.language)
        if path.is_file():
            others.update(_finished(path, path.stat().st_mtime_ns, texts.language))
    return replace(texts, translations={**others, **texts.translations})


@cache
def _finished(path: Path, stamp: int, language: str) -> dict[str, str]:
    """The reviewed translations of a translation file (`stamp`: its modification time, so an
    edited file is read again)."""
    catalog = i18n.read_catalogue(path, language)
    return {
        m.id: m.string
        for m in catalog
        if isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string and not m.fuzzy
    }


def translated_figures(figures: QuarterFigures, texts: QuarterTexts, mark: str) -> QuarterFigures:
    """A copy of `figures` whose quarter-file texts are in the edition's language; the
    figures themselves are shared, never recomputed. English gives `figures` itself."""
    if texts.language == i18n.SOURCE_LANGUAGE:
        return figures
    copied = copy.deepcopy(figures)
    for model in _models(copied):
        for name in type(model).model_fields:
            value = getattr(model, name)
            if name in TEXT_KEYS and isinstance(value, str) and value != PENDING:
                # The models are frozen; this copy is private to one edition's rendering.
                object.__setattr__(model, name, texts.translate(value, mark))
    return copied


def _models(figures: QuarterFigures) -> Iterator[Any]:
    """Every pydantic model reachable from the figures' quarter and blocks, once each."""
    from pydantic import BaseModel

    seen: set[int] = set()
    stack: list[Any] = [figures.quarter_file, *(b.block for b in figures.blocks)]
    visit: Callable[[Any], None] = stack.append
    while stack:
        node = stack.pop()
        if isinstance(node, BaseModel):
            if id(node) in seen:
                continue
            seen.add(id(node))
            yield node
            for name in type(node).model_fields:
                visit(getattr(node, name))
        elif isinstance(node, list | tuple):
            for item in node:
                visit(item)

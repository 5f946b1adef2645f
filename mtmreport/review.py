"""The review view: every printed figure with how it was obtained and the lines it comes from.

A reviewer signing a draft off hovers over (or tabs to) a number and sees, for example,
"43.3 per cent = Uzbekistan ÷ CIS arrivals × 100", Uzbekistan 1,753,689 at
`data/quarters/2023-Q3.yaml:120`, CIS arrivals 4,051,488 = the stated 4,034,184 (line 117) +
Belarus 17,304 (line 131), and that the source's own 43.5 does not agree. Each line is a link
that opens the quarter file there in the analyst's editor.

Only `mtmreport build --review` (`review.html`) and the live preview use it: the published
HTML and PDF carry none of it. The marks wrap the templates' number filters, so the templates
stay as they are; a number that reaches a filter without a trace is marked as such, which
shows a reviewer (and a test) every figure compute did not produce.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from markupsafe import Markup, escape

from mtmreport.load import Location, YamlDocument
from mtmreport.provenance import Input, Trace, trace_of
from mtmreport.wording import Wording

# How a location becomes a link that opens the editor there; {path} is the file's absolute
# path with a leading slash ("/home/…", "/C:/…"), URL-quoted; {line} and {column} are
# numbers. VS Code's form is the default.
DEFAULT_EDITOR_URL = "vscode://file{path}:{line}:{column}"
EDITOR_URL_VARIABLE = "MTMREPORT_EDITOR_URL"
_MAX_DEPTH = 4  # nested computations shown; deeper ones say "…"

_BASIS = {
    "typed": "as typed in the quarter file",
    "stated": "the source's own figure",
    "computed": "computed",
}


def editor_url_template(given: str = "") -> str:
    """The editor link template: `given`, else $MTMREPORT_EDITOR_URL, else VS Code's.

    Raises ValueError, in words for the analyst, when the template names anything but
    {path}, {line} and {column}."""
    template = given or os.environ.get(EDITOR_URL_VARIABLE) or DEFAULT_EDITOR_URL
    try:
        template.format(path="/x", line=1, column=1)
    except (KeyError, IndexError, ValueError) as error:
        raise ValueError(
            f"the editor link {template!r} can only name {{path}}, {{line}} and {{column}} "
            f"(problem: {error}); for example {DEFAULT_EDITOR_URL!r}"
        ) from None
    return template


@dataclass(frozen=True)
class Review:
    """Where a quarter's figures come from, as links into its file."""

    doc: YamlDocument
    editor_url: str = DEFAULT_EDITOR_URL

    def place(self, location: Location | None) -> Markup:
        """ "2023-Q3.yaml:120" as a link to that line, or nothing for no location."""
        if location is None:
            return Markup("")
        line, column = self.doc.position(location)
        if line is None:
            return Markup("")
        path = Path(self.doc.path).resolve().as_posix()
        path = path if path.startswith("/") else "/" + path
        href = self.editor_url.format(path=quote(path, safe="/:"), line=line, column=column or 1)
        return Markup(' <a class="fig-at" href="{}">{}:{}</a>').format(href, self.doc.name, line)

    def _input(self, item: Input, depth: int) -> Markup:
        text = Markup('<span class="fig-input">{} <b>{}</b>{}').format(
            item.label, item.value, self.place(item.location)
        )
        if item.trace is not None:
            text += self._trace(item.trace, depth + 1)
        return text + Markup("</span>")

    def _trace(self, trace: Trace, depth: int) -> Markup:
        if depth > _MAX_DEPTH:
            return Markup(" …")
        parts = Markup("")
        if trace.formula and trace.basis != "typed":
            parts += Markup('<span class="fig-formula">= {}</span>').format(trace.formula)
        inputs = [i for i in trace.inputs if not (trace.basis == "typed" and i.location is None)]
        if inputs:
            # Spans, not a list: the note sits inside a paragraph, where a <ul> is not allowed.
            parts += Markup('<span class="fig-inputs">{}</span>').format(
                Markup("").join(self._input(i, depth) for i in inputs)
            )
        return parts

    def explain(self, trace: Trace) -> Markup:
        """The whole story of one figure, as the popup shows it."""
        text = Markup('<span class="fig-basis">{}</span>').format(_BASIS[trace.basis])
        text += self._trace(trace, 0)
        if trace.stated is not None:
            text += Markup(
                '<span class="fig-source">Stated in the source: <b>{}</b>{}</span>'
            ).format(trace.stated.value, self.place(trace.stated.location))
        if trace.remark:
            text += Markup('<span class="fig-remark">{}</span>').format(trace.remark)
        return text

    def mark(self, value: object, printed: str | Markup) -> Markup:
        """`printed` wrapped so that hovering or focusing it shows where `value` comes from."""
        trace = trace_of(value)
        if trace is None:
            return Markup('<span class="fig fig-untraced" title="{}">{}</span>').format(
                "not traced: this number did not come from the computation", printed
            )
        return Markup(
            '<span class="fig fig-{}" tabindex="0">{}<span class="fig-how" role="tooltip">'
            "{}</span></span>"
        ).format(trace.basis, printed, self.explain(trace))

    def filters(self, wording: Wording) -> dict[str, Callable[..., Markup]]:
        """The number filters of `render.make_environment`, each marking what it prints."""

        def marking(format_number: Callable[..., str]) -> Callable[..., Markup]:
            def marked(value: object, *args: object, **kwargs: object) -> Markup:
                printed = format_number(value, *args, **kwargs)
                if value is None:
                    return escape(printed)
                return self.mark(value, printed)

            return marked

        billion_kzt = marking(wording.billion_kzt)
        million_usd = marking(wording.million_usd)
        # The catalogue's message, as `Wording.money` has it, escaped; the amounts go in marked.
        money = escape(wording.translations.gettext("%(kzt)s (%(usd)s)"))
        return {
            "num": marking(wording.number),
            "per_cent": marking(wording.per_cent),
            "pct": marking(wording.percent_sign),
            "billion_kzt": billion_kzt,
            "million_usd": million_usd,
            "money": lambda kzt, usd: money % {"kzt": billion_kzt(kzt), "usd": million_usd(usd)},
            "change": marking(wording.change),
            "signed": marking(wording.signed),
            "rate": marking(wording.rate),
        }

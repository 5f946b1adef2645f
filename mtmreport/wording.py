"""How figures and periods are written: IOM number style and the report's fixed strings.

One `Wording` serves the templates (as Jinja filters), the chart captions and alt texts, so a
figure reads the same everywhere. Strings come from `templates/strings/<language>.yaml`;
number grouping and month names from Babel, so a Russian edition needs only a translated
strings file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from babel.dates import get_month_names
from babel.numbers import format_decimal, get_decimal_symbol, parse_decimal

from mtmreport.numbers import Number, decimals_of, half_unit, half_up
from mtmreport.periods import Period
from mtmreport.provenance import decimals_printed

if TYPE_CHECKING:
    from mtmreport.theme import Templates


@dataclass(frozen=True)
class Wording:
    strings: dict[str, Any]

    @property
    def locale(self) -> str:
        return str(self.strings.get("locale", "en"))

    def text(self, dotted: str, **values: object) -> str:
        """A fixed string by its dotted key, with {placeholders} filled in."""
        node: Any = self.strings
        for part in dotted.split("."):
            node = node[part]
        return str(node).format(**values) if values else str(node)

    # --- numbers ---------------------------------------------------------------------------

    def number(
        self, value: Number | None, decimals: int | None = None, unsigned: bool = False
    ) -> str:
        """Thousands separated, as IOM prints them: 4,482,427; 280.6.

        A figure from compute prints with the decimals compute chose for it (a stated 11.42
        keeps both), whatever `decimals` asks; `unsigned` prints its size without sign, for
        sentences that say the direction in words ("departures exceeded arrivals by …").
        """
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        chosen = decimals_printed(value)
        if chosen is not None:
            decimals = chosen
        elif decimals is None:
            decimals = decimals_of(value)
        if unsigned:
            value = abs(value)
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        # Rounded here, half up, so the text and the charts' tables print the same digits.
        return format_decimal(half_up(value, decimals), format=pattern, locale=self.locale)

    def per_cent(self, value: Number | None, decimals: int | None = None) -> str:
        """Running text: "43.5 per cent"."""
        return self.text("numbers.per_cent", value=self.number(value, decimals))

    def percent_sign(self, value: Number | None, decimals: int | None = None) -> str:
        """Tables and charts: "43.5%"."""
        return self.text("numbers.percent_sign", value=self.number(value, decimals))

    def billion_kzt(self, value: Number, decimals: int | None = 1, unsigned: bool = False) -> str:
        return self.text("numbers.billion_kzt", value=self.number(value, decimals, unsigned))

    def million_usd(self, value: Number, decimals: int | None = 1) -> str:
        return self.text("numbers.million_usd", value=self.number(value, decimals))

    def money(self, kzt_bn: Number, usd_mn: Number) -> str:
        """ "280.6 billion KZT (593.9 million USD)"."""
        return f"{self.billion_kzt(kzt_bn)} ({self.million_usd(usd_mn)})"

    def qualified(self, text: str, qualifier: str | None) -> str:
        """An amount with the words its source puts before it: "estimated to be over 280.6
        billion KZT (594 million USD)"; as it is without a qualifier."""
        if not qualifier:
            return text
        return self.text(f"qualifiers.{qualifier}", value=text)

    def rate(self, value: Number) -> str:
        """ "1 USD = 472.5 KZT", with the decimals compute chose (see `compute._rate`)."""
        return self.text("numbers.rate", value=self.number(value))

    def printed_value(self, text: str) -> Decimal:
        """A number as this wording prints it ("4,482,427", "43.3%", "−484") read back."""
        decimal = get_decimal_symbol(self.locale)
        kept = "".join(ch for ch in text if ch.isdigit() or ch == decimal)
        value = parse_decimal(kept or "0", locale=self.locale)
        return -value if text.lstrip().startswith(("-", "−")) else value

    def rounding_shows(self, parts: Sequence[str], total: str, exact_total: bool = False) -> bool:
        """Whether printed parts miss their printed total by no more than their rounding can
        explain: where a reader needs "may not sum … due to rounding". Decided from the
        printed text, so it holds for whatever the table shows. A larger gap is no rounding
        (the audit reports it), so it gets no such note. `exact_total`: a whole that is not
        rounded itself (100 per cent)."""
        values = [self.printed_value(part) for part in parts]
        whole = self.printed_value(total)
        gap = abs(sum(values, Decimal(0)) - whole)
        rounded_total = Decimal(0) if exact_total else Decimal(half_unit(whole))
        slack = sum((Decimal(half_unit(v)) for v in values), rounded_total)
        return 0 < gap <= slack

    def change(self, value: float | None, decimals: int = 1) -> str:
        """ "up 38.8 per cent" / "down 1.1 per cent"."""
        if value is None:
            return "–"
        chosen = decimals_printed(value)
        decimals = decimals if chosen is None else chosen
        rounded = half_up(value, decimals)
        if rounded == 0:
            return self.text("numbers.unchanged")
        amount = self.per_cent(abs(rounded), decimals)
        return self.text("numbers.up" if rounded > 0 else "numbers.down", value=amount)

    def signed(self, value: int) -> str:
        """Balances in tables and charts: "+6,885", "−484" (a true minus sign)."""
        sign = "+" if value > 0 else "−" if value < 0 else ""
        return sign + self.number(abs(value))

    def country_in_text(self, name: str) -> str:
        """ "the Russian Federation", "Uzbekistan": names as running text needs them."""
        rule = self.strings.get("country_article") or {}
        if any(word in name for word in rule.get("when_name_contains", [])):
            return f"{rule.get('article', '')}{name}"
        return name

    # --- periods ---------------------------------------------------------------------------

    def month_name(self, month: int) -> str:
        return str(get_month_names("wide", locale=self.locale, context="stand-alone")[month])

    def period(self, period: Period, style: str = "long") -> str:
        """A period in words.

        "the third quarter of 2023" (long), "July – September 2023" (range), "Q3 2023" (short).
        """
        kind = period.kind
        (y1, m1), (y2, m2) = period.start, period.end
        if kind == "as_of" and period.as_of is not None:
            day = period.as_of
            return self.text(
                "period.as_of", day=day.day, month=self.month_name(day.month), year=day.year
            )
        if style == "short" and kind == "quarter":
            return self.text("period.quarter_short", number=period.quarter_number, year=y1)
        if style == "short" and kind == "half":
            return self.text("period.half_short", number=period.half_number, year=y1)
        if style == "long" and kind == "quarter":
            ordinal = self.strings["period"]["quarter_ordinals"][(period.quarter_number or 1) - 1]
            return self.text("period.quarter", ordinal=ordinal, year=y1)
        if style == "long" and kind == "half":
            ordinal = self.strings["period"]["half_ordinals"][(period.half_number or 1) - 1]
            return self.text("period.half", ordinal=ordinal, year=y1)
        if kind == "year":
            return self.text("period.year", year=y1)
        if kind == "month":
            return self.text("period.month", month=self.month_name(m1), year=y1)
        if y1 != y2:
            return self.text(
                "period.months_across_years",
                first=self.month_name(m1),
                first_year=y1,
                last=self.month_name(m2),
                last_year=y2,
            )
        return self.text(
            "period.months", first=self.month_name(m1), last=self.month_name(m2), year=y1
        )


@cache
def _load_strings(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def load_wording(templates: Templates, language: str = "en") -> Wording:
    """The fixed strings of `language` from the templates in use (a project's own
    `strings/<language>.yaml`, or the packaged one)."""
    return Wording(_load_strings(templates.find(f"strings/{language}.yaml")))

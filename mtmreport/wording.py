"""How figures, periods and names are written in one edition's language.

One `Wording` serves the templates (as Jinja filters and gettext callables), the chart
captions and alt texts, and the data annex, so a figure reads the same everywhere. Words come
from the edition's gettext catalogue (`i18n`); number grouping, decimal marks, percent style
and month names from CLDR through Babel; country and region names from the reference tables.
A new language is a catalogue and a names column: nothing here changes.
"""

from __future__ import annotations

import gettext
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from babel import Locale
from babel.dates import get_month_names
from babel.numbers import format_decimal, get_decimal_symbol, parse_decimal
from markupsafe import Markup, escape

from mtmreport import i18n
from mtmreport.numbers import Number, decimals_of, half_unit, half_up
from mtmreport.periods import Period
from mtmreport.provenance import decimals_printed

if TYPE_CHECKING:
    from mtmreport.theme import Templates


@dataclass(frozen=True)
class Wording:
    """The words of one edition. Picklable (it travels to the chart-drawing helper): the
    catalogue is read, once a process, when first needed."""

    language: str = i18n.SOURCE_LANGUAGE
    templates_dir: Path | None = None
    # The catalogue's hash: part of every chart's cache key, so a changed translation
    # redraws the charts that show it.
    digest: str = ""
    # The quarter file's own texts in this language (`texts.QuarterTexts`), where a sentence
    # names one of them (a breakdown's subject in a trend's title).
    texts: Any = None

    @property
    def locale(self) -> str:
        """The CLDR locale of numbers and dates ("en" for the pseudo-locale)."""
        return i18n.cldr_locale(self.language)

    @property
    def html_lang(self) -> str:
        """What HTML `lang` and the PDF's /Lang say."""
        return "en-XA" if self.language == i18n.PSEUDO_LANGUAGE else self.language

    @property
    def pseudo(self) -> bool:
        return self.language == i18n.PSEUDO_LANGUAGE

    @property
    def translations(self) -> gettext.NullTranslations:
        if self.templates_dir is None:
            return i18n.load_translations(Path(), i18n.SOURCE_LANGUAGE)
        if self.digest:  # `load_wording` checked the language and hashed the catalogue once
            return i18n.translations_of(self.templates_dir, self.language, self.digest)
        return i18n.load_translations(self.templates_dir, self.language)

    # --- the catalogue ---------------------------------------------------------------------
    # Every message is %-formatted even without values, as Jinja's newstyle gettext does, so
    # a literal per cent sign is always written %% in a message.

    def gettext(self, message: str, **values: object) -> str:
        return self.translations.gettext(message) % values

    def ngettext(self, singular: str, plural: str, n: int, **values: object) -> str:
        """A message in the plural form CLDR's rules choose for `n` (1 мигрант, 2 мигранта,
        5 мигрантов); `n` is a value of the message too."""
        return self.translations.ngettext(singular, plural, n) % {"n": n, **values}

    def pgettext(self, context: str, message: str, **values: object) -> str:
        """A message whose English alone is ambiguous ("Share" a header, "Share" a verb)."""
        return self.translations.pgettext(context, message) % values

    def sentence_list(self, items: Sequence[str]) -> str:
        """ "a, b and c", for running text, captions and alt texts alike. Items that are all
        Markup (escaped already, as templates pass them) give Markup, the message escaped."""
        parts = list(items)
        if len(parts) <= 1:
            return parts[0] if parts else ""
        # Translators: the end of a list in running text, "a, b and c".
        pattern = self.translations.gettext("%(items)s and %(last)s")
        if all(isinstance(part, Markup) for part in parts):
            return escape(pattern) % {"items": Markup(", ").join(parts[:-1]), "last": parts[-1]}
        return pattern % {"items": ", ".join(parts[:-1]), "last": parts[-1]}

    def quarter_text(self, text: str) -> str:
        """A text of a quarter file (its own or one it cites, such as an earlier quarter's
        source) in the edition's language, marked while its translation is pending."""
        if self.texts is None:
            return text
        return self.texts.translate(text, self.gettext("[translation pending]"))

    def cldr(self, text: str) -> str:
        """A word that comes from CLDR rather than the catalogue (month names): the
        pseudo-locale marks it too, since it is translated all the same."""
        return i18n.wrap(text) if self.pseudo else text

    # --- numbers ---------------------------------------------------------------------------

    def number(
        self, value: Number | None, decimals: int | None = None, unsigned: bool = False
    ) -> str:
        """Thousands grouped in the edition's style: 4,482,427 and 280.6; 4 482 427 and 280,6.

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
        """Running text: "43.5 per cent" (UN style); "43,5 %" in Russian."""
        return self.gettext("%(value)s per cent", value=self.number(value, decimals))

    def percent_sign(self, value: Number | None, decimals: int | None = None) -> str:
        """Tables and charts, in CLDR's percent pattern: "43.5%"; "43,5 %"."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        if decimals is None:
            decimals = decimals_of(value)
        return self.percent_text(self.number(value, decimals))

    def percent_text(self, number: str) -> str:
        """A number already written, with the per cent sign where CLDR puts it."""
        pattern = Locale.parse(self.locale).percent_formats[None]
        sign = Locale.parse(self.locale).number_symbols["latn"]["percentSign"]
        return pattern.prefix[0].replace("%", sign) + number + pattern.suffix[0].replace("%", sign)

    def billion_kzt(self, value: Number, decimals: int | None = 1, unsigned: bool = False) -> str:
        return self.gettext("%(value)s billion KZT", value=self.number(value, decimals, unsigned))

    def million_usd(self, value: Number, decimals: int | None = 1) -> str:
        return self.gettext("%(value)s million USD", value=self.number(value, decimals))

    def money(self, kzt_bn: Number, usd_mn: Number) -> str:
        """ "280.6 billion KZT (593.9 million USD)"."""
        return self.gettext(
            "%(kzt)s (%(usd)s)", kzt=self.billion_kzt(kzt_bn), usd=self.million_usd(usd_mn)
        )

    def qualified(self, text: str, qualifier: str | None) -> str:
        """An amount with the words its source puts before it: "estimated to be over 280.6
        billion KZT (594 million USD)"; as it is without a qualifier."""
        if not qualifier:
            return text
        messages = {
            "over": self.gettext("over %(value)s", value=text),
            "estimated over": self.gettext("estimated to be over %(value)s", value=text),
            "about": self.gettext("about %(value)s", value=text),
        }
        return messages[qualifier]

    def rate(self, value: Number) -> str:
        """ "1 USD = 472.5 KZT", with the decimals compute chose (see `compute._rate`)."""
        return self.gettext("1 USD = %(value)s KZT", value=self.number(value))

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
            return self.gettext("unchanged")
        amount = self.per_cent(abs(rounded), decimals)
        if rounded > 0:
            return self.gettext("up %(value)s", value=amount)
        return self.gettext("down %(value)s", value=amount)

    def signed(self, value: int) -> str:
        """Balances in tables and charts: "+6,885", "−484" (a true minus sign)."""
        sign = "+" if value > 0 else "−" if value < 0 else ""
        return sign + self.number(abs(value))

    # --- names -----------------------------------------------------------------------------

    def series_label(self, key: tuple[str, ...]) -> str:
        """How a series of figures across quarters (`history.SeriesKey`) is named in sentences
        and charts."""
        match key:
            case ("remittances", direction):
                if direction == "outflow":
                    return self.gettext("Remittances sent from Kazakhstan")
                return self.gettext("Remittances received by Kazakhstan")
            case ("flows", "arrivals"):
                return self.gettext("Migrant arrivals")
            case ("flows", "departures"):
                return self.gettext("Migrant departures")
            case ("non_cis_arrival_share", country):
                return self.gettext(
                    "%(country)s's share of non-CIS arrivals", country=self.place(country)
                )
            case ("total", subject):
                text = self.quarter_text(subject)
                return text[:1].upper() + text[1:]
        return " ".join(key)

    def place(self, label: str) -> str:
        """A country's or region's name, given its ISO code (what the model carries), in
        this edition's language, from the reference tables; any other label (a category the
        quarter file names) as it is."""
        from mtmreport.reference import place_by_code

        found = place_by_code(label)
        if found is None:
            return label
        return found.name_in(self.locale) if not self.pseudo else i18n.wrap(str(found))

    def country_in_text(self, code: str) -> str:
        """ "the Russian Federation", "Uzbekistan": names as running text needs them."""
        from mtmreport.reference import country_by_code

        country = country_by_code(code)
        local = self.place(code)
        if country is not None and country.takes_article:
            # Translators: a country name that English writes with "the" in running text.
            return self.pgettext("country in running text", "the %(country)s", country=local)
        return local

    # --- periods ---------------------------------------------------------------------------

    def month_name(self, month: int) -> str:
        return self.cldr(
            str(get_month_names("wide", locale=self.locale, context="stand-alone")[month])
        )

    def _day(self, day: date) -> str:
        month = get_month_names("wide", locale=self.locale, context="format")[day.month]
        return self.gettext(
            "%(day)s %(month)s %(year)s", day=day.day, month=self.cldr(str(month)), year=day.year
        )

    def period(self, period: Period, style: str = "long") -> str:
        """A period in words, in one of four styles.

        long: "the third quarter of 2023"; range: "July – September 2023"; short: "Q3 2023";
        in: the period after a preposition, as a whole phrase, since languages with cases
        inflect it ("in the third quarter of 2023", "в третьем квартале 2023 года").
        """
        kind = period.kind
        (y1, m1), (y2, m2) = period.start, period.end
        if kind == "as_of" and period.as_of is not None:
            date = self._day(period.as_of)
            return self.gettext("as of %(date)s", date=date) if style == "in" else date
        if style == "short" and kind == "quarter":
            return self.gettext("Q%(number)s %(year)s", number=period.quarter_number, year=y1)
        if style == "short" and kind == "half":
            return self.gettext("H%(number)s %(year)s", number=period.half_number, year=y1)
        if style in ("long", "in") and kind == "quarter":
            return self._quarter(period.quarter_number or 1, y1, style == "in")
        if style in ("long", "in") and kind == "half":
            return self._half(period.half_number or 1, y1, style == "in")
        if kind == "year":
            if style == "in":
                return self.gettext("in %(year)s", year=y1)
            return self.gettext("%(year)s", year=y1)
        if kind == "month":
            text = self.gettext("%(month)s %(year)s", month=self.month_name(m1), year=y1)
        elif y1 != y2:
            text = self.gettext(
                "%(first)s %(first_year)s – %(last)s %(last_year)s",
                first=self.month_name(m1),
                first_year=y1,
                last=self.month_name(m2),
                last_year=y2,
            )
        else:
            text = self.gettext(
                "%(first)s – %(last)s %(year)s",
                first=self.month_name(m1),
                last=self.month_name(m2),
                year=y1,
            )
        return self.gettext("in %(months)s", months=text) if style == "in" else text

    def _quarter(self, number: int, year: int, after_in: bool) -> str:
        if after_in:
            return (
                self.gettext("in the first quarter of %(year)s", year=year),
                self.gettext("in the second quarter of %(year)s", year=year),
                self.gettext("in the third quarter of %(year)s", year=year),
                self.gettext("in the fourth quarter of %(year)s", year=year),
            )[number - 1]
        return (
            self.gettext("the first quarter of %(year)s", year=year),
            self.gettext("the second quarter of %(year)s", year=year),
            self.gettext("the third quarter of %(year)s", year=year),
            self.gettext("the fourth quarter of %(year)s", year=year),
        )[number - 1]

    def _half(self, number: int, year: int, after_in: bool) -> str:
        if after_in:
            return (
                self.gettext("in the first half of %(year)s", year=year),
                self.gettext("in the second half of %(year)s", year=year),
            )[number - 1]
        return (
            self.gettext("the first half of %(year)s", year=year),
            self.gettext("the second half of %(year)s", year=year),
        )[number - 1]


def load_wording(templates: Templates, language: str = i18n.SOURCE_LANGUAGE) -> Wording:
    """The wording of one edition from the templates in use (a project's own catalogue of the
    language, or the packaged one); a language without a catalogue is a clear error."""
    folder = templates.catalogue_folder(language)
    i18n.check_language(language, folder)
    digest = i18n.catalogue_digest(i18n.catalogue_path(folder, language))
    wording = Wording(language, folder, digest)
    wording.translations  # noqa: B018  # a malformed catalogue fails here, before any work
    return wording

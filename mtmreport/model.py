"""The typed schema of a quarter file.

A quarter file is what an analyst edits, so its keys read like the report. Raw counts and
amounts are the truth; shares, balances, averages, conversions and changes that a published
report states are kept *as published* (the audit compares them with the computed ones), and
the report prints the computed figures. Every data block names its source (a footnote) and its
period. Countries and regions are checked against the reference tables in the package.

Blocks are written as a one-key mapping naming their kind (`- flows: {...}`), which keeps error
paths readable (`sections[1].blocks[0].flows.arrivals.total`) and lets editors complete keys.
"""

from __future__ import annotations

import types
import typing
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from mtmreport.numbers import FIGURE_RANGE, usable_figure
from mtmreport.periods import PERIOD_HELP, QUARTER_ID, QUARTER_ID_PATTERN, Period
from mtmreport.reference import (
    english_name,
    find_country,
    find_region,
    suggest_country,
    suggest_region,
)


class StrictModel(BaseModel):
    """Unknown keys are errors; models are read-only once validated.

    `defer_build`: a validator is built only for the model validated (the quarter file), with
    the nested models' schemas inside it, rather than one per class at import (0.07 s less).
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, use_attribute_docstrings=True, defer_build=True
    )


def _country(name: str) -> str:
    """A country named any way the reference table knows (in English, Russian, an alias or
    its ISO code), as its ISO 3166-1 alpha-3 code."""
    country = find_country(name)
    if country is None:
        hint = suggest_country(name)
        raise ValueError(
            f"unknown country {name!r}" + (f" — did you mean {hint!r}?" if hint else "")
        )
    return country.iso3


def _region(name: str) -> str:
    """A region or city of Kazakhstan named any way the reference table knows, as its
    ISO 3166-2 code."""
    region = find_region(name)
    if region is None:
        hint = suggest_region(name)
        raise ValueError(
            f"unknown region {name!r}" + (f" — did you mean {hint!r}?" if hint else "")
        )
    return region.iso


def _quarter_id(value: object) -> str:
    if not isinstance(value, str) or not QUARTER_ID.match(value):
        raise ValueError(f"expected a quarter such as 2023-Q3, got {value!r}")
    return value


def _usable(value: Decimal) -> Decimal:
    # Numbers written as text ("1e400") reach here without passing the loader's range check.
    if not usable_figure(value):
        raise ValueError(f"{value} is out of range: {FIGURE_RANGE}")
    return value


def _month(value: object) -> Period:
    period = Period.parse(value)
    if period.kind != "month":
        raise ValueError(f"expected a month such as 2023-07, got {value!r}")
    return period


# What every Markdown text and every source is, said once for the fields that hold them.
MARKDOWN_HELP = "Markdown: paragraphs, **bold**, *italic*, lists and links. No HTML, no images."
SOURCE_HELP = (
    "Who published the figures, e.g. 'National Bank, 2023'. Printed as a footnote; the same "
    "source right after itself becomes 'Ibid.'."
)

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Markdown = Annotated[str, StringConstraints(min_length=1)]
Count = Annotated[int, Field(ge=0, strict=True)]
SignedCount = Annotated[int, Field(strict=True)]
# Bounds first, so they stay plain JSON Schema keywords (`minimum`) in `mtmreport schema`.
Usable = AfterValidator(_usable)
Figure = Annotated[Decimal, Usable]
"""Any decimal figure; as text or as a number, within the bounds a report's figures keep."""
Percent = Annotated[Decimal, Field(ge=0), Usable]
"""A share in per cent as published, e.g. 43.5 for 43.5 per cent."""
Change = Figure
"""A change in per cent as published; negative for a decrease."""
Billions = Annotated[Decimal, Field(ge=0), Usable]
Millions = Annotated[Decimal, Field(ge=0), Usable]
Rate = Annotated[Decimal, Field(gt=0), Usable]
Source = Text
# Places are carried by their ISO code, never by a name in one language: alpha-3 for a
# country (what UN and IOM data sets key on, and unlike alpha-2 never a word of running
# text); ISO 3166-2 for a region (KZ-75). Names come from the reference tables.
CountryCode = Annotated[str, AfterValidator(_country)]
RegionCode = Annotated[str, AfterValidator(_region)]
QuarterId = Annotated[
    str,
    PlainValidator(_quarter_id),
    WithJsonSchema({"type": "string", "pattern": f"^{QUARTER_ID_PATTERN}$"}),
]
MonthValue = Annotated[
    Period,
    PlainValidator(_month),
    PlainSerializer(str),
    WithJsonSchema({"type": "string", "pattern": r"^\s*\d{4}-(0[1-9]|1[0-2])\s*$"}),
]
PeriodValue = Annotated[
    Period,
    PlainValidator(Period.parse),
    PlainSerializer(str),
    WithJsonSchema({"type": ["string", "integer"], "description": PERIOD_HELP}),
]


class Paragraph(StrictModel):
    """A paragraph or bullet of narrative, in Markdown, with the source it cites."""

    text: Markdown = Field(description=MARKDOWN_HELP)
    source: Source | None = Field(None, description=SOURCE_HELP)

    @model_validator(mode="before")
    @classmethod
    def _plain_text(cls, data: Any) -> Any:
        return {"text": data} if isinstance(data, str) else data


class FrontItem(StrictModel):
    """A part of the opening page (About MTM, Objectives, Methodology)."""

    title: Text
    """A heading, as printed."""
    text: Markdown = Field(description=MARKDOWN_HELP)
    source: Source | None = Field(None, description=SOURCE_HELP)


class TextBlock(StrictModel):
    """Narrative: an optional lead-in, then paragraphs or bullets."""

    intro: Markdown | None = Field(None, description=f"Text before the rest. {MARKDOWN_HELP}")
    paragraphs: list[Paragraph] = []
    """Paragraphs: each Markdown text, or {text, source}."""
    bullets: list[Paragraph] = []
    """Bullet points: each Markdown text, or {text, source}."""

    @model_validator(mode="after")
    def _not_empty(self) -> TextBlock:
        if not (self.intro or self.paragraphs or self.bullets):
            raise ValueError("a text block needs an intro, paragraphs or bullets")
        return self


class CountryFigure(StrictModel):
    """A country as a published list names it: its count, its share (as published), or both."""

    country: CountryCode
    number: Count | None = None
    """A count: a whole number without separators (4482427, not 4,482,427)."""
    share: Percent | None = None
    """Per cent of the group's total, as published."""

    @model_validator(mode="after")
    def _has_figure(self) -> CountryFigure:
        if self.number is None and self.share is None:
            raise ValueError(f"give a number or a share for {english_name(self.country)}")
        return self


class CountryGroup(StrictModel):
    """The countries a report lists under one heading (CIS or non-CIS), as published."""

    total: Count | None = None
    """The group's total as published."""
    share: Percent | None = None
    """The group's share of the whole, as published."""
    countries: list[CountryFigure] = []
    """The countries as the source lists them, in its order."""


class Flow(StrictModel):
    """Arrivals or departures: the total and the published CIS and non-CIS lists."""

    total: Count
    """A total: a whole number without separators."""
    cis: CountryGroup
    non_cis: CountryGroup


class EarlierShare(StrictModel):
    """A country's share of non-CIS arrivals in an earlier period, as the report's text gives it."""

    period: PeriodValue
    country: CountryCode
    share: Percent
    """Per cent as published, e.g. 43.5."""
    number: Count | None = None
    """A count: a whole number without separators (4482427, not 4,482,427)."""


class FlowsBlock(StrictModel):
    """Migrant arrivals and departures by country (border crossings)."""

    period: PeriodValue
    source: Source = Field(description=SOURCE_HELP)
    reported_by: Text | None = None
    """Who published the totals, as the lead sentence names them."""
    arrivals: Flow
    departures: Flow
    note: Markdown | None = Field(None, description=MARKDOWN_HELP)
    earlier_shares: list[EarlierShare] = []
    """Shares of non-CIS arrivals in earlier periods that the text cites (for trends)."""


class ResidenceCount(StrictModel):
    """Permit holders (or terminations) of a country group, with the countries named."""

    total: Count
    """A total: a whole number without separators."""
    countries: list[CountryFigure] = []
    """The countries as the source lists them, in its order."""
    children: Count | None = None
    """Of whom children under 18, where published."""


class GroupResidence(StrictModel):
    holders: ResidenceCount
    """Permit holders of the group."""
    terminated: ResidenceCount
    """Permits terminated (holders who left the country)."""
    balance: SignedCount | None = None
    """Migration balance (holders minus terminations) as published."""


class PermanentResidenceBlock(StrictModel):
    """Permanent residence permit holders and terminations, CIS and non-CIS."""

    period: PeriodValue
    source: Source = Field(description=SOURCE_HELP)
    total: Count | None = None
    """All holders as published (CIS plus non-CIS)."""
    cis: GroupResidence
    """CIS countries: holders, terminations, balance."""
    non_cis: GroupResidence
    """Other countries: holders, terminations, balance."""


class BreakdownItem(StrictModel):
    """One line of a breakdown: a country, a region or a category, with number and/or share."""

    country: CountryCode | None = None
    region: RegionCode | None = None
    category: Text | None = None
    """A category of the breakdown, e.g. 'construction'."""
    number: Count | None = None
    """A count: a whole number without separators (4482427, not 4,482,427)."""
    share: Percent | None = None
    """Per cent of the total, as published."""

    @model_validator(mode="after")
    def _one_label(self) -> BreakdownItem:
        labels = [x for x in (self.country, self.region, self.category) if x is not None]
        if len(labels) != 1:
            raise ValueError("name exactly one of country, region or category")
        if self.number is None and self.share is None:
            raise ValueError(f"give a number or a share for {english_name(labels[0])}")
        return self

    @property
    def label(self) -> str:
        return self.country or self.region or self.category or ""

    @property
    def dimension(self) -> Literal["country", "region", "category"]:
        return "country" if self.country else "region" if self.region else "category"


class Remainder(StrictModel):
    """What a breakdown puts under "other", as published."""

    number: Count | None = None
    """A count: a whole number without separators (4482427, not 4,482,427)."""
    share: Percent | None = None
    """Per cent as published, e.g. 43.5."""


class BreakdownBlock(StrictModel):
    """A total split by country, region or category (permits, visas, workers…)."""

    subject: Text
    """What is counted, plural, as the sentence names it: "temporary residence permits"."""
    period: PeriodValue
    source: Source = Field(description=SOURCE_HELP)
    reported_by: Text | None = None
    """Who published the figures, as the lead sentence names them."""
    total: Count | None = None
    """A total: a whole number without separators."""
    items: list[BreakdownItem] = Field(min_length=1)
    """The lines of the breakdown, in the source's order."""
    other: Remainder | None = None
    chart: Literal["bars", "donut", "map", "none"] = "bars"
    """How the figures are drawn; 'none' for a table only."""
    caption: Text | None = None
    """Figure caption; by default one is made from the subject and period."""
    commentary: Markdown | None = Field(
        None, description=f"Text after the figures. {MARKDOWN_HELP}"
    )

    @model_validator(mode="after")
    def _consistent_items(self) -> BreakdownBlock:
        dimensions = {item.dimension for item in self.items}
        if len(dimensions) > 1:
            raise ValueError("all items of a breakdown name the same kind: country, region or …")
        if self.chart == "map" and dimensions != {"region"}:
            raise ValueError("a map needs items that name regions")
        return self

    @property
    def dimension(self) -> Literal["country", "region", "category"]:
        return self.items[0].dimension


class PeriodFigure(StrictModel):
    period: PeriodValue
    value: Count
    """A count: a whole number without separators."""


class ComparisonBlock(StrictModel):
    """One indicator over two or more periods, with the change as published."""

    subject: Text
    """What is counted, plural, as the sentence names it."""
    source: Source = Field(description=SOURCE_HELP)
    values: list[PeriodFigure] = Field(min_length=2)
    """The indicator's value in each period, oldest first."""
    change: Change | None = None
    """Per cent change from the first to the last value, as published."""
    total: Count | None = None
    """The values added up, as published (e.g. Q1 + Q2 as the first half-year)."""
    chart: Literal["bars", "none"] = "none"
    """How the figures are drawn; 'none' for a table only."""
    caption: Text | None = None
    """Figure caption; by default one is made from the subject and period."""
    commentary: Markdown | None = Field(
        None, description=f"Text after the figures. {MARKDOWN_HELP}"
    )


class Amount(StrictModel):
    """An amount in billions of tenge, with the dollar figure as published."""

    kzt_bn: Billions
    """Billions of tenge (KZT), e.g. 280.6."""
    usd_mn: Millions | None = None
    """Millions of US dollars as published; the report prints its own conversion."""


Qualifier = Literal["over", "estimated over", "about"]


class Money(Amount):
    """A period's amount, with the word the source puts before it, if any."""

    qualifier: Qualifier | None = None
    """As the source words the amount: `over` ("over 70.7 billion KZT"), `estimated over`
    ("estimated to be over 280.6 billion KZT") or `about`; the report keeps the words."""


class MonthAmount(Amount):
    month: MonthValue
    """The month, as YYYY-MM (e.g. 2023-07)."""


class CountryAmount(Amount):
    country: CountryCode
    share: Percent | None = None
    """Per cent of the period's total, as published."""
    change: Change | None = None
    """Per cent change against the same period a year before, as published."""


class EarlierRemittances(StrictModel):
    """An earlier period the report compares with (previous quarter, a year before)."""

    period: PeriodValue
    total: Money | None = None
    """The earlier period's total amount."""
    monthly_average: Money | None = None
    """The earlier period's monthly average."""
    rate: Rate | None = None
    """Average tenge per US dollar in that period."""
    rate_basis: Literal["average", "implied"] = "average"
    """`implied` when the source states no rate and it is read off its dollar figures."""
    change: Change | None = None
    """Per cent change to the current period, as published."""
    change_kzt_bn: Figure | None = None
    """Change in billions of tenge to the current period, as published."""

    @model_validator(mode="after")
    def _has_amount(self) -> EarlierRemittances:
        if self.total is None and self.monthly_average is None:
            raise ValueError("give the earlier period's total or monthly_average")
        return self

    @property
    def stated_amount(self) -> tuple[Literal["total", "monthly_average"], Decimal, int]:
        """What the source states for the period: the field, its billions of tenge, and the
        factor that makes it the period's total (1, or the months of an average)."""
        if self.total is not None:
            return "total", self.total.kzt_bn, 1
        assert self.monthly_average is not None  # `_has_amount`
        return "monthly_average", self.monthly_average.kzt_bn, self.period.months


class RemittancesBlock(StrictModel):
    """Money transfers sent from (outflow) or to (inflow) Kazakhstan."""

    direction: Literal["outflow", "inflow"]
    """'outflow': sent from Kazakhstan; 'inflow': sent to Kazakhstan."""
    period: PeriodValue
    source: Source = Field(description=SOURCE_HELP)
    rate: Rate
    """Average tenge per US dollar over the period, used for every dollar figure."""
    rate_basis: Literal["average", "implied"] = "average"
    """`implied` when the source states no rate and it is read off its dollar figures."""
    total: Money
    """The period's total amount."""
    transactions: Count | None = None
    """Number of transfers, where published."""
    months: list[MonthAmount] = []
    """The amount of each month of the period."""
    monthly_average: Money | None = None
    """As published; the report prints the computed average."""
    countries: list[CountryAmount] = []
    """The receiving (or sending) countries as published."""
    compare_with: list[EarlierRemittances] = []
    """Earlier periods the report compares with."""
    commentary: Markdown | None = Field(
        None, description=f"Text after the figures. {MARKDOWN_HELP}"
    )


class Term(StrictModel):
    term: Text
    """The term being defined."""
    definition: Markdown = Field(description=MARKDOWN_HELP)


class DefinitionsBlock(StrictModel):
    """Key terms and their definitions."""

    terms: list[Term] = Field(min_length=1)
    """The terms and their definitions."""
    note: Markdown | None = Field(None, description=MARKDOWN_HELP)
    source: Source | None = Field(None, description=SOURCE_HELP)


class ByDirection(StrictModel):
    """A figure for arrivals and one for departures (per cent, as published)."""

    arrivals: Change | None = None
    """The figure for arrivals, in per cent, as published."""
    departures: Change | None = None
    """The figure for departures, in per cent, as published."""


class PopulationMigrationBlock(StrictModel):
    """Migration with a change of permanent residence (Bureau of National Statistics)."""

    period: PeriodValue
    source: Source = Field(description=SOURCE_HELP)
    arrivals: Count
    """People who arrived in Kazakhstan for permanent residence."""
    departures: Count
    """People who left Kazakhstan for permanent residence abroad."""
    net: SignedCount | None = None
    """Net migration as published; the report prints arrivals minus departures."""
    change_on_year: ByDirection | None = None
    """Per cent change against the same period a year before, as published."""
    cis_share: ByDirection | None = None
    """Per cent of arrivals from and departures to CIS countries, as published."""
    commentary: Markdown | None = Field(
        None, description=f"Text after the figures. {MARKDOWN_HELP}"
    )


class SummaryBlock(StrictModel):
    """Key figures of the quarter, computed from the other sections, under an intro."""

    intro: Markdown | None = Field(None, description=f"Text before the rest. {MARKDOWN_HELP}")


BLOCK_KINDS = (
    "text",
    "flows",
    "permanent_residence",
    "breakdown",
    "comparison",
    "remittances",
    "definitions",
    "summary",
    "population_migration",
)


class Block(StrictModel):
    """One block of a section, named by its kind: `- breakdown: {...}`."""

    text: TextBlock | None = None
    flows: FlowsBlock | None = None
    permanent_residence: PermanentResidenceBlock | None = None
    breakdown: BreakdownBlock | None = None
    comparison: ComparisonBlock | None = None
    remittances: RemittancesBlock | None = None
    definitions: DefinitionsBlock | None = None
    summary: SummaryBlock | None = None
    population_migration: PopulationMigrationBlock | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Block:
        given = [kind for kind in BLOCK_KINDS if getattr(self, kind) is not None]
        if len(given) != 1:
            raise ValueError(
                "a block is one of: " + ", ".join(BLOCK_KINDS) + f" (found {len(given)})"
            )
        return self

    @property
    def kind(self) -> str:
        return next(kind for kind in BLOCK_KINDS if getattr(self, kind) is not None)

    @property
    def body(self) -> BaseModel:
        return getattr(self, self.kind)


class Subsection(StrictModel):
    title: Text
    """A heading, as printed."""
    blocks: list[Block] = Field(min_length=1)
    """The subsection's content, in order."""


class Section(StrictModel):
    """A numbered chapter of the report, in the order the file gives."""

    title: Text
    """A heading, as printed."""
    numbered: bool = True
    """False for unnumbered chapters such as the conclusion."""
    blocks: list[Block] = []
    """The chapter's content, in order."""
    subsections: list[Subsection] = []
    """Titled parts of the chapter, each with its own blocks."""

    @model_validator(mode="after")
    def _has_content(self) -> Section:
        if not (self.blocks or self.subsections):
            raise ValueError("a section needs blocks or subsections")
        return self


class ReportInfo(StrictModel):
    country: CountryCode = "KAZ"
    """The country the report covers, printed on the cover and in headers."""
    title: Text = "Quarterly Compilation Report"
    """The report's title on the cover and in the running header."""
    overtitle: Text | None = None
    """A line above the title, as the Q2 2023 issue has."""
    published: PeriodValue | None = None
    """Month of publication, e.g. 2023-12."""


class BackMatter(StrictModel):
    """Overrides of the standard closing texts (disclaimer, funding, publisher)."""

    disclaimer: Markdown | None = Field(None, description=MARKDOWN_HELP)
    about_iom: Markdown | None = Field(None, description=MARKDOWN_HELP)
    funding: Markdown | None = Field(None, description=MARKDOWN_HELP)
    terms_link: Text | None = None
    """Where the terms of use are published (a web address)."""


class QuarterFile(StrictModel):
    """Everything one quarter's report says."""

    quarter: QuarterId
    """The quarter this file reports on, as YYYY-QN (e.g. 2023-Q3). It must match the file's
    name, 2023-Q3.yaml."""
    report: ReportInfo
    """The cover: country, title, month of publication."""
    front: list[FrontItem] = []
    """The opening page's texts (About MTM, Objectives), before section 1."""
    sections: list[Section] = Field(min_length=1)
    """The report's chapters, in the order they are printed."""
    back_matter: BackMatter = BackMatter()
    """Overrides of the standard closing texts."""
    status: Literal["complete", "draft"] = "complete"
    """'draft' prints DRAFT on the cover; 'complete' when the report is final."""


# --- what the model says of a value at a place in the file --------------------------------
# Drafts, the schema, scaffolding and validation messages ask these instead of keeping their
# own lists of field names.


def bare_type(annotation: Any) -> Any:
    """`Count | None` -> `int`: Optional and Annotated stripped down to the type that holds
    keys, items or a value (a union of several types is left as it is)."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation


def type_at(annotation: Any, key: str | int) -> Any:
    """The type of what `key` holds in a value of type `annotation`: a model's field, a list's
    item; `Any` where the model says nothing (an unknown key)."""
    holder = bare_type(annotation)
    if isinstance(key, int):
        args = typing.get_args(holder)
        return args[0] if typing.get_origin(holder) is list and args else Any
    if isinstance(holder, type) and issubclass(holder, BaseModel):
        field = holder.model_fields.get(key)
        return field.annotation if field is not None else Any
    return Any


def is_figure(annotation: Any) -> bool:
    """Whether a value of this type is a figure (a count, an amount, a share, a rate)."""
    bare = bare_type(annotation)
    return (
        isinstance(bare, type) and issubclass(bare, (int, Decimal)) and not issubclass(bare, bool)
    )


def figures_only(annotation: Any) -> dict[str, Any] | None:
    """For a model whose required fields are all figures, or such models (an amount, a
    count with its countries), its required fields with the types they hold; None otherwise."""
    bare = bare_type(annotation)
    if not (isinstance(bare, type) and issubclass(bare, BaseModel)):
        return None
    required = {name: f.annotation for name, f in bare.model_fields.items() if f.is_required()}
    if not required:
        return None
    if all(is_figure(kind) or figures_only(kind) is not None for kind in required.values()):
        return required
    return None

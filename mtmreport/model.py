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
from mtmreport.periods import PERIOD_HELP, QUARTER_ID, Period
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
    WithJsonSchema({"type": "string", "pattern": r"^\d{4}-Q[1-4]$"}),
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

    text: Markdown
    source: Source | None = None

    @model_validator(mode="before")
    @classmethod
    def _plain_text(cls, data: Any) -> Any:
        return {"text": data} if isinstance(data, str) else data


class FrontItem(StrictModel):
    """A part of the opening page (About MTM, Objectives, Methodology)."""

    title: Text
    text: Markdown
    source: Source | None = None


class TextBlock(StrictModel):
    """Narrative: an optional lead-in, then paragraphs or bullets."""

    intro: Markdown | None = None
    paragraphs: list[Paragraph] = []
    bullets: list[Paragraph] = []

    @model_validator(mode="after")
    def _not_empty(self) -> TextBlock:
        if not (self.intro or self.paragraphs or self.bullets):
            raise ValueError("a text block needs an intro, paragraphs or bullets")
        return self


class CountryFigure(StrictModel):
    """A country as a published list names it: its count, its share (as published), or both."""

    country: CountryCode
    number: Count | None = None
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


class Flow(StrictModel):
    """Arrivals or departures: the total and the published CIS and non-CIS lists."""

    total: Count
    cis: CountryGroup
    non_cis: CountryGroup


class EarlierShare(StrictModel):
    """A country's share of non-CIS arrivals in an earlier period, as the report's text gives it."""

    period: PeriodValue
    country: CountryCode
    share: Percent
    number: Count | None = None


class FlowsBlock(StrictModel):
    """Migrant arrivals and departures by country (border crossings)."""

    period: PeriodValue
    source: Source
    reported_by: Text | None = None
    """Who published the totals, as the lead sentence names them."""
    arrivals: Flow
    departures: Flow
    note: Markdown | None = None
    earlier_shares: list[EarlierShare] = []
    """Shares of non-CIS arrivals in earlier periods that the text cites (for trends)."""


class ResidenceCount(StrictModel):
    """Permit holders (or terminations) of a country group, with the countries named."""

    total: Count
    countries: list[CountryFigure] = []
    children: Count | None = None
    """Of whom children under 18, where published."""


class GroupResidence(StrictModel):
    holders: ResidenceCount
    terminated: ResidenceCount
    balance: SignedCount | None = None
    """Migration balance (holders minus terminations) as published."""


class PermanentResidenceBlock(StrictModel):
    """Permanent residence permit holders and terminations, CIS and non-CIS."""

    period: PeriodValue
    source: Source
    total: Count | None = None
    """All holders as published (CIS plus non-CIS)."""
    cis: GroupResidence
    non_cis: GroupResidence


class BreakdownItem(StrictModel):
    """One line of a breakdown: a country, a region or a category, with number and/or share."""

    country: CountryCode | None = None
    region: RegionCode | None = None
    category: Text | None = None
    number: Count | None = None
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
    share: Percent | None = None


class BreakdownBlock(StrictModel):
    """A total split by country, region or category (permits, visas, workers…)."""

    subject: Text
    """What is counted, plural, as the sentence names it: "temporary residence permits"."""
    period: PeriodValue
    source: Source
    reported_by: Text | None = None
    total: Count | None = None
    items: list[BreakdownItem] = Field(min_length=1)
    other: Remainder | None = None
    chart: Literal["bars", "donut", "map", "none"] = "bars"
    caption: Text | None = None
    """Figure caption; by default one is made from the subject and period."""
    commentary: Markdown | None = None

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


class ComparisonBlock(StrictModel):
    """One indicator over two or more periods, with the change as published."""

    subject: Text
    source: Source
    values: list[PeriodFigure] = Field(min_length=2)
    change: Change | None = None
    """Per cent change from the first to the last value, as published."""
    total: Count | None = None
    """The values added up, as published (e.g. Q1 + Q2 as the first half-year)."""
    chart: Literal["bars", "none"] = "none"
    caption: Text | None = None
    commentary: Markdown | None = None


class Amount(StrictModel):
    """An amount in billions of tenge, with the dollar figure as published."""

    kzt_bn: Billions
    usd_mn: Millions | None = None


Qualifier = Literal["over", "estimated over", "about"]


class Money(Amount):
    """A period's amount, with the word the source puts before it, if any."""

    qualifier: Qualifier | None = None
    """As the source words the amount: `over` ("over 70.7 billion KZT"), `estimated over`
    ("estimated to be over 280.6 billion KZT") or `about`; the report keeps the words."""


class MonthAmount(Amount):
    month: MonthValue


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
    monthly_average: Money | None = None
    rate: Rate | None = None
    """Average tenge per US dollar in that period."""
    rate_basis: Literal["average", "implied"] = "average"
    """`implied` when the source states no rate and it is read off its dollar figures."""
    change: Change | None = None
    """Per cent change to the current period, as published."""
    change_kzt_bn: Figure | None = None

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
    period: PeriodValue
    source: Source
    rate: Rate
    """Average tenge per US dollar over the period, used for every dollar figure."""
    rate_basis: Literal["average", "implied"] = "average"
    """`implied` when the source states no rate and it is read off its dollar figures."""
    total: Money
    transactions: Count | None = None
    months: list[MonthAmount] = []
    monthly_average: Money | None = None
    """As published; the report prints the computed average."""
    countries: list[CountryAmount] = []
    compare_with: list[EarlierRemittances] = []
    commentary: Markdown | None = None


class Term(StrictModel):
    term: Text
    definition: Markdown


class DefinitionsBlock(StrictModel):
    """Key terms and their definitions."""

    terms: list[Term] = Field(min_length=1)
    note: Markdown | None = None
    source: Source | None = None


class ByDirection(StrictModel):
    """A figure for arrivals and one for departures (per cent, as published)."""

    arrivals: Change | None = None
    departures: Change | None = None


class PopulationMigrationBlock(StrictModel):
    """Migration with a change of permanent residence (Bureau of National Statistics)."""

    period: PeriodValue
    source: Source
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
    commentary: Markdown | None = None


class SummaryBlock(StrictModel):
    """Key figures of the quarter, computed from the other sections, under an intro."""

    intro: Markdown | None = None


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
    blocks: list[Block] = Field(min_length=1)


class Section(StrictModel):
    """A numbered chapter of the report, in the order the file gives."""

    title: Text
    numbered: bool = True
    """False for unnumbered chapters such as the conclusion."""
    blocks: list[Block] = []
    subsections: list[Subsection] = []

    @model_validator(mode="after")
    def _has_content(self) -> Section:
        if not (self.blocks or self.subsections):
            raise ValueError("a section needs blocks or subsections")
        return self


class ReportInfo(StrictModel):
    country: CountryCode = "KAZ"
    title: Text = "Quarterly Compilation Report"
    overtitle: Text | None = None
    """A line above the title, as the Q2 2023 issue has."""
    published: PeriodValue | None = None
    """Month of publication, e.g. 2023-12."""


class BackMatter(StrictModel):
    """Overrides of the standard closing texts (disclaimer, funding, publisher)."""

    disclaimer: Markdown | None = None
    about_iom: Markdown | None = None
    funding: Markdown | None = None
    terms_link: Text | None = None


class QuarterFile(StrictModel):
    """Everything one quarter's report says."""

    quarter: QuarterId
    report: ReportInfo
    front: list[FrontItem] = []
    sections: list[Section] = Field(min_length=1)
    back_matter: BackMatter = BackMatter()
    status: Literal["complete", "draft"] = "complete"

"""Computed figures against values worked out by hand from the published Q3 2023 report."""

import pytest

from mtmreport import compute as c
from mtmreport.load import read_yaml
from mtmreport.numbers import half_up
from mtmreport.validate import validate_document
from tests.conftest import DATA


def test_flows_regroup_by_cis_membership(q3):
    flows = q3.of_kind("flows")[0].figures
    arrivals = flows.arrivals
    # Belarus (CIS) was published among non-CIS arrivals: its 17,304 move to the CIS total.
    assert arrivals.cis_total == 4_034_184 + 17_304 == 4_051_488
    assert arrivals.non_cis_total == 4_482_427 - 4_051_488 == 430_939
    # 4,051,488 / 4,482,427 = 90.386 per cent: the published "90" agrees within its rounding
    # (89.5-90.5), so the report prints the source's own figure
    assert arrivals.cis_share == 90 and arrivals.cis_share.decimals == 0
    assert arrivals.cis_share.trace.basis == "stated"
    # Countries are carried by their ISO alpha-3 code, whatever name the file gives them.
    assert list(arrivals.cis["country"]) == ["UZB", "RUS", "KGZ", "TJK", "BLR"]
    # 1,753,689 / 4,051,488 = 43.285 per cent
    assert arrivals.cis["share"].iloc[0] == pytest.approx(43.285, abs=1e-3)
    # China: 131,203 / 430,939 = 30.446 per cent
    assert arrivals.non_cis.set_index("country").loc["CHN", "share"] == pytest.approx(
        30.446, abs=1e-3
    )
    # Kyrgyzstan: 748,123 / 4,051,488 = 18.465 per cent, inside the published 18.5's rounding
    kyrgyzstan = arrivals.cis.set_index("country").loc["KGZ", "share"]
    assert (kyrgyzstan, kyrgyzstan.trace.basis) == (18.5, "stated")
    assert arrivals.other_cis == 4_051_488 - 4_044_460 == 7_028
    assert flows.net == 4_482_427 - 4_533_933 == -51_506


def test_a_group_total_is_never_smaller_than_its_listed_parts(q3):
    departures = q3.of_kind("flows")[0].figures.departures
    # Stated CIS departures 4,080,540 + Belarus 16,426 = 4,096,966, but the CIS countries
    # listed add up to 1,774,200 + 1,209,912 + 744,948 + 363,519 + 16,426 = 4,109,005.
    assert departures.cis_total == 4_109_005
    assert "smaller than the CIS countries" in departures.cis_total.trace.remark
    assert departures.non_cis_total == 4_533_933 - 4_109_005 == 424_928
    assert departures.cis_share == pytest.approx(90.628, abs=1e-3)  # prints 90.6
    assert departures.non_cis_share == pytest.approx(9.372, abs=1e-3)  # prints 9.4


def test_permanent_residence_balances(q3):
    pr = q3.of_kind("permanent_residence")[0].figures
    assert pr.cis.balance == 16_833 - 9_948 == 6_885
    assert pr.non_cis.balance == 2_300 - 2_784 == -484
    assert pr.holders == 19_133
    # Mongolia: 400 / 2,300 = 17.39 per cent (published 13.4)
    shares = pr.non_cis.holders_by_country.set_index("country")["share"]
    assert shares["MNG"] == pytest.approx(17.391, abs=1e-3)
    # Terminations published only as shares get estimated counts: 64.47% of 2,784 = 1,795
    terminated = pr.non_cis.terminated_by_country.set_index("country")
    assert terminated.loc["DEU", "number"] == 1_795
    assert bool(terminated.loc["DEU", "estimated"])


def test_breakdown_shares_and_other(q3):
    workers = [b.figures for b in q3.of_kind("breakdown")][2]
    assert workers.total == 14_571
    assert workers.other_number == 14_571 - (3_771 + 2_002 + 1_370 + 1_363) == 6_065
    # 3,771 / 14,571 = 25.88 per cent (published 26.2)
    assert workers.items["share"].iloc[0] == pytest.approx(25.880, abs=1e-3)
    # India: 1,363 / 14,571 = 9.354 per cent, inside the published 9.4's rounding: as stated.
    # The others are computed: 2,002 / 14,571 = 13.74, 1,370 / 14,571 = 9.40, other 41.62.
    shown = workers.display_shares()
    assert [float(half_up(s, s.decimals)) for s in shown] == [25.9, 13.7, 9.4, 9.4, 41.6]
    assert [s.trace.basis for s in shown] == ["computed"] * 3 + ["stated", "computed"]


def test_region_shares_are_taken_as_published(q3):
    regions = q3.of_kind("breakdown")[0].figures
    assert regions.shares_only
    assert regions.items.set_index("label").loc["KZ-75", "share"]  # Almaty city == 17.5
    assert regions.other_share is None  # regions without a figure are not lumped together


def test_remittances_conversions_averages_and_changes(q3):
    outflow, inflow = (b.figures for b in q3.of_kind("remittances"))
    # 280.6 billion KZT at 472.5 is 593.86 million USD; with the rounding of both inputs
    # (280.55-280.65 ÷ 472.45-472.55) 593.69-594.04, so the central bank's 594 prints
    assert outflow.total_usd == 594 and outflow.total_usd.trace.basis == "stated"
    assert outflow.monthly_average_kzt == pytest.approx(93.533, abs=1e-3)  # not 72.82
    assert outflow.monthly_average_kzt.trace.basis == "computed"
    assert outflow.monthly_average_usd == pytest.approx(198.0, abs=1e-3)  # 594 / 3
    [before] = outflow.earlier
    assert before.relation == "year_before"
    assert before.total_kzt == pytest.approx(94.6 * 3)
    assert before.change == pytest.approx((93.5333 / 94.6 - 1) * 100, abs=1e-3)  # -1.13%
    # 94.9 billion KZT at 472.5 = 200.846 (200.72-200.97 with rounding): the stated 200.8
    assert outflow.countries.set_index("country").loc["UZB", "usd_mn"] == 200.8
    # Russian Federation: 64.2 at 472.5 = 135.87 (135.76-135.99): the stated 135.8 prints
    assert outflow.countries.set_index("country").loc["RUS", "usd_mn"] == 135.8
    assert inflow.months_sum_kzt == pytest.approx(70.62)
    # (70.7 / 3 / 76.73 - 1) × 100 = -69.29 per cent: the published -69.3 agrees and prints
    assert inflow.earlier[0].change == -69.3
    # Sorted by amount: the USA (8.2) before the Republic of Korea (8.1)
    assert list(inflow.countries["country"][2:4]) == ["USA", "KOR"]


def test_largest_remainder_sums_exactly():
    assert c.largest_remainder([33.333, 33.333, 33.334]) == [33.3, 33.3, 33.4]
    assert sum(c.largest_remainder([12.25, 12.25, 75.5], 0)) == 100
    assert c.largest_remainder([]) == []


def test_relations_and_changes():
    from mtmreport.periods import Period

    q2 = Period.parse("2023-Q2")
    assert c.relation(q2, Period.parse("2023-Q1")) == "previous"
    assert c.relation(q2, Period.parse("2022-Q2")) == "year_before"
    assert c.change_percent(253.8, 182.9) == pytest.approx(38.765, abs=1e-3)
    assert c.change_percent(1, 0) is None


def test_changes_compare_spans_of_different_length_per_month(q3):
    # A quarter against a month: 280.6 / 3 = 93.533 a month against 94.6, −1.13 per cent.
    assert c.change_per_month(280.6, 3, 94.6, 1) == pytest.approx(-1.128, abs=1e-3)
    # A quarter against a half-year: 280.6 / 3 against 500.0 / 6 = 83.333, +12.24 per cent.
    assert c.change_per_month(280.6, 3, 500.0, 6) == pytest.approx(12.24, abs=1e-2)
    assert c.change_per_month(280.6, 3, 0, 3) is None
    # Q3 2023 outflows against Q3 2022's published 94.6 billion KZT a month (283.8 in the
    # quarter): 280.6 / 283.8 − 1 = −1.13 per cent; the published −22.3 is not printed.
    [before] = q3.of_kind("remittances")[0].figures.earlier
    assert before.change == pytest.approx(-1.128, abs=1e-3)
    assert before.change.trace.basis == "computed"


def test_a_country_share_of_its_group_and_of_the_whole(q3):
    arrivals = q3.of_kind("flows")[0].figures.arrivals
    india = arrivals.non_cis.set_index("country").loc["IND"]
    # 33,109 of 430,939 non-CIS arrivals = 7.683 per cent; of all 4,482,427 = 0.739 per cent
    assert india["share"] == pytest.approx(7.683, abs=1e-3)
    assert india["share_of_all"] == pytest.approx(0.739, abs=1e-3)
    assert india["share_of_all"].trace.formula == "India ÷ all arrivals × 100"
    residence = q3.of_kind("permanent_residence")[0].figures
    mongolia = residence.non_cis.holders_by_country.set_index("country").loc["MNG"]
    # 400 of 2,300 non-CIS holders = 17.39 per cent; of all 16,833 + 2,300 = 19,133: 2.091
    assert mongolia["share"] == pytest.approx(17.391, abs=1e-3)
    assert mongolia["share_of_all"] == pytest.approx(2.091, abs=1e-3)


def test_table_rows_keep_traced_figures_and_read_missing_as_none(q3):
    arrivals = q3.of_kind("flows")[0].figures.arrivals
    rows = c.table_rows(arrivals.cis)
    assert [r.country for r in rows][:2] == ["UZB", "RUS"]
    # the figure itself, with its trace (not a plain float, as DataFrame.to_dict gives)
    assert rows[0].share.trace.formula == "Uzbekistan ÷ CIS arrivals × 100"
    frame = c.pd.DataFrame({"a": [1.5, float("nan")], "b": [None, "x"]}, dtype=object)
    assert [(r.a, r.b) for r in c.table_rows(frame)] == [(1.5, None), (None, "x")]


def test_published_shares_make_a_whole_only_when_they_add_up_to_100():
    q2 = c.compute(validate_document(read_yaml(DATA / "2023-Q2.yaml")))
    splits = {p.figures.block.subject: p.figures for p in q2.of_kind("breakdown")}
    # CIS migrant workers: 73.8 + 17.8 + 3.9 + 2.6 + 0.8 + 0.7 + 0.4 = 100.0
    assert splits["officially registered migrant workers among CIS nationals"].makes_whole
    # temporary residence permits: 68.8 + 22.3 + 3.9 + 3.0 + 1.0 + 0.7 + 0.4 = 100.1, within
    # the rounding of seven one-decimal shares
    assert splits["temporary residence permits"].makes_whole
    # permanent residence permits: 36.3 + 34.8 + 3.5 + 3.0 + 1.7 + 1.2 + "other" 17.5 = 98.0:
    # the published split misses 2 per cent, so no donut, though "other" is stated
    permanent = splits["permanent residence permits"]
    assert permanent.complete and not permanent.makes_whole

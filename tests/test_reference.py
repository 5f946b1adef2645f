"""Reference data: country and region look-ups, CIS grouping, boundaries, the region map."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from mtmreport.charts.draw import map_words
from mtmreport.charts.regionmap import draw_region_map
from mtmreport.charts.style import use_fonts
from mtmreport.reference import (
    Country,
    all_countries,
    all_regions,
    find_country,
    find_region,
    region_label_points,
    region_shapes,
    suggest_country,
    suggest_region,
)
from mtmreport.wording import Wording, load_wording
from tests.conftest import REPO_TEMPLATES

ENGLISH = map_words(Wording())


@pytest.fixture(autouse=True, scope="module")
def _chart_fonts() -> None:
    """Maps are drawn in the fonts of the templates in use, registered as a build does."""
    use_fonts(REPO_TEMPLATES.font_files)


Q3_2023_TRP_SHARES = {
    "Almaty city": 17.5,
    "Atyrau region": 13.9,
    "Almaty region": 11,
    "Shymkent city": 8.7,
    "Mangystau region": 8.5,
    "Abay region": 0.4,
    "Ulytau region": 0.7,
    "East Kazakhstan region": 0.7,
}


def country(text: str) -> Country:
    found = find_country(text)
    assert found is not None, text
    return found


# --- countries ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "iso3"),
    [
        ("Russian Federation", "RUS"),
        ("Russia", "RUS"),
        ("the Russian Federation", "RUS"),
        ("  russian   federation ", "RUS"),
        ("RF", "RUS"),
        ("RU", "RUS"),
        ("rus", "RUS"),
        ("Türkiye", "TUR"),
        ("Turkiye", "TUR"),
        ("Turkey", "TUR"),
        ("Republic of Türkiye", "TUR"),
        ("REPUBLIC OF TURKIYE", "TUR"),
        ("Republic of Korea", "KOR"),
        ("South Korea", "KOR"),
        ("Korea", "KOR"),
        ("the USA", "USA"),
        ("US", "USA"),
        ("U.S.A.", "USA"),
        ("United States of America", "USA"),
        ("UK", "GBR"),
        ("United Kingdom", "GBR"),
        ("Great Britain", "GBR"),
        ("Kyrgyz Republic", "KGZ"),
        ("Moldova", "MDA"),
        ("Iran", "IRN"),
        ("Vietnam", "VNM"),
        ("Czech Republic", "CZE"),
        ("Cote d’Ivoire", "CIV"),
        ("Kosovo", "XKX"),
        ("State of Palestine", "PSE"),
        ("Taiwan", "TWN"),
        ("Hong Kong", "HKG"),
    ],
)
def test_find_country(text: str, iso3: str) -> None:
    assert country(text).iso3 == iso3


def test_find_country_unknown() -> None:
    assert find_country("Atlantis") is None
    assert find_country("") is None
    assert find_country("CIS") is None


def test_countries_cover_the_world() -> None:
    countries = all_countries()
    assert len(countries) >= 249
    assert len({c.iso2 for c in countries}) == len(countries)
    assert len({c.iso3 for c in countries}) == len(countries)
    assert all(len(c.iso2) == 2 and len(c.iso3) == 3 for c in countries)


def test_every_country_in_the_seeds_is_known() -> None:
    named_in_reports = [
        "Afghanistan", "Armenia", "Azerbaijan", "Belarus", "China", "Georgia", "Germany",
        "Hungary", "India", "Italy", "Kazakhstan", "Kyrgyzstan", "Mongolia", "Poland",
        "Republic of Korea", "Republic of Türkiye", "Russian Federation", "Tajikistan",
        "Türkiye", "Turkmenistan", "Ukraine", "United Arab Emirates", "United Kingdom",
        "United States of America", "USA", "Uzbekistan",
    ]  # fmt: skip
    assert [t for t in named_in_reports if find_country(t) is None] == []


def test_names_and_short_names() -> None:
    uk = country("UK")
    assert uk.name == "United Kingdom of Great Britain and Northern Ireland"
    assert uk.short_name == "United Kingdom"
    assert str(uk) == "United Kingdom"
    assert country("Turkey").name == "Türkiye"
    assert country("Russia").short_name == "Russian Federation"


@pytest.mark.parametrize(
    "text",
    [
        "Armenia",
        "Azerbaijan",
        "Belarus",
        "Kazakhstan",
        "Kyrgyzstan",
        "Moldova",
        "Russia",
        "Tajikistan",
        "Uzbekistan",
        "Turkmenistan",
    ],
)
def test_cis_countries(text: str) -> None:
    assert country(text).is_cis


@pytest.mark.parametrize("text", ["Türkiye", "China", "Georgia", "Ukraine", "Mongolia", "USA"])
def test_not_cis(text: str) -> None:
    assert not country(text).is_cis


def test_cis_statuses() -> None:
    assert country("Turkmenistan").cis_status == "associate"
    assert country("Georgia").cis_status == "former"
    assert country("Ukraine").cis_status == "former"
    assert country("Belarus").cis_status == "member"
    assert country("China").cis_status == ""
    members = {c.short_name for c in all_countries() if c.cis_status == "member"}
    assert len(members) == 9


@pytest.mark.parametrize(
    ("typo", "expected"),
    [
        ("Uzbekstan", "Uzbekistan"),
        ("Kazakstan", "Kazakhstan"),
        ("Kyrgystan", "Kyrgyzstan"),
        ("Tadjikstan", "Tajikistan"),
        ("Russian Federaton", "Russian Federation"),
        ("Turkye", "Türkiye"),
        ("Germny", "Germany"),
        ("Unted Kingdom", "United Kingdom"),
    ],
)
def test_suggest_country(typo: str, expected: str) -> None:
    assert find_country(typo) is None
    assert suggest_country(typo) == expected


def test_suggest_country_gives_up_on_nonsense() -> None:
    assert suggest_country("Qwertyuiop") is None
    assert suggest_country("Russia") == "Russian Federation"


# --- regions -----------------------------------------------------------------------------


def test_twenty_regions() -> None:
    regions = all_regions()
    assert len(regions) == 20
    assert sum(r.is_city for r in regions) == 3
    assert {r.name for r in regions if r.is_city} == {"Astana city", "Almaty city", "Shymkent city"}
    assert len({r.iso for r in regions}) == 20
    for new in ("Abay region", "Jetisu region", "Ulytau region"):
        assert find_region(new) is not None


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Almaty city", "Almaty city"),
        ("Almaty", "Almaty city"),
        ("Almaty region", "Almaty region"),
        ("Almaty oblast", "Almaty region"),
        ("Almatinskaya", "Almaty region"),
        ("ALMATY PROVINCE", "Almaty region"),
        ("Nur-Sultan", "Astana city"),
        ("Astana", "Astana city"),
        ("Aqmola oblysy", "Akmola region"),
        ("Akmola", "Akmola region"),
        ("Zhetysu", "Jetisu region"),
        ("Abai", "Abay region"),
        ("Turkestan region", "Turkistan region"),
        ("Qyzylorda", "Kyzylorda region"),
        ("Aqtobe", "Aktobe region"),
        ("Mangistau", "Mangystau region"),
        ("Qaraghandy", "Karaganda region"),
        ("Qostanay", "Kostanay region"),
        ("Jambyl", "Zhambyl region"),
        ("East Kazakhstan", "East Kazakhstan region"),
        ("Ulytau regions", "Ulytau region"),
        ("KZ-62", "Ulytau region"),
        ("kz-75", "Almaty city"),
        ("city of Shymkent", "Shymkent city"),
    ],
)
def test_find_region(text: str, name: str) -> None:
    region = find_region(text)
    assert region is not None, text
    assert region.name == name


def test_find_region_unknown() -> None:
    assert find_region("Baikonur") is None
    assert find_region("Pavlodar city") is None  # Pavlodar is a region here, not a city


def test_new_region_iso_codes() -> None:
    codes = {r.name: r.iso for r in all_regions()}
    assert codes["Abay region"] == "KZ-10"
    assert codes["Jetisu region"] == "KZ-33"
    assert codes["Ulytau region"] == "KZ-62"


@pytest.mark.parametrize(
    ("typo", "expected"),
    [
        ("Pavlodr", "Pavlodar region"),
        ("Shimkent", "Shymkent city"),
        ("Karagandy", "Karaganda region"),
        ("Kyzylordaa region", "Kyzylorda region"),
    ],
)
def test_suggest_region(typo: str, expected: str) -> None:
    assert suggest_region(typo) == expected


def test_suggest_region_gives_up_on_nonsense() -> None:
    assert suggest_region("Bavaria") is None


# --- boundaries --------------------------------------------------------------------------


def test_geojson_has_one_feature_per_region() -> None:
    text = resources.files("mtmreport.reference").joinpath("kz_regions.geojson").read_text()
    names = [f["properties"]["name"] for f in json.loads(text)["features"]]
    assert sorted(names) == sorted(r.geo_name for r in all_regions())
    assert len(text.encode()) < 150_000


def test_every_region_has_a_shape() -> None:
    shapes = region_shapes()
    assert set(shapes) == {r.name for r in all_regions()}
    for name, rings in shapes.items():
        assert rings, name
        for ring in rings:
            assert len(ring) >= 4, name
            assert ring[0] == ring[-1], name
            for lon, lat in ring:
                assert 46 < lon < 88 and 40 < lat < 56, name


def test_label_points_inside_kazakhstan() -> None:
    points = region_label_points()
    assert set(points) == {r.name for r in all_regions()}
    assert all(46 < lon < 88 and 40 < lat < 56 for lon, lat in points.values())


# --- the map -----------------------------------------------------------------------------


def _face(fig: Figure, region: str) -> str:
    (patch,) = [p for p in fig.axes[0].patches if p.get_gid() == region]
    return to_hex(patch.get_facecolor())


def test_map_shades_regions_with_values_only() -> None:
    fig = draw_region_map(Q3_2023_TRP_SHARES, words=ENGLISH)
    with_value, without = _face(fig, "Atyrau region"), _face(fig, "Akmola region")
    assert with_value != without
    assert without == "#efefef"
    assert _face(fig, "Almaty city") == "#0033a0"  # the largest value gets IOM blue
    assert _face(fig, "Abay region") != _face(fig, "Almaty city")
    hatched = [p.get_gid() for p in fig.axes[0].patches if p.get_hatch()]
    assert "Akmola region" in hatched and "Atyrau region" not in hatched
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"17.5%", "11%", "0.4%", "13.9%"} <= texts


def test_map_treats_none_like_missing() -> None:
    fig = draw_region_map({"Atyrau region": None, "Almaty": 3.0}, words=ENGLISH)
    assert _face(fig, "Atyrau region") == "#efefef"
    assert _face(fig, "Almaty city") == "#0033a0"
    assert _face(fig, "Almaty region") == "#efefef"


def test_map_accepts_aliases_and_other_units() -> None:
    fig = draw_region_map(
        {"Nur-Sultan": 1200.0, "Aqtobe": 300.0}, value_label="migrants", words=ENGLISH
    )
    assert _face(fig, "Astana city") == "#0033a0"
    assert "1,200" in {t.get_text() for t in fig.axes[0].texts}


def test_map_draws_without_any_value() -> None:
    fig = draw_region_map({}, words=ENGLISH)
    assert {_face(fig, r.name) for r in all_regions()} == {"#efefef"}


def test_map_unknown_region_raises() -> None:
    with pytest.raises(KeyError, match="did you mean 'Mangystau region'"):
        draw_region_map({"Mangistaw oblast": 1.0, "Atlantis": 2.0}, words=ENGLISH)
    with pytest.raises(KeyError, match="Atlantis"):
        draw_region_map({"Atlantis": 2.0}, words=ENGLISH)


def test_map_words_come_from_the_catalogue_and_round_half_up() -> None:
    """Labels from the reference table less the generic word (never where the rest reads as
    a city's name), the swatch's words from the catalogue, numbers rounded half up: 0.125
    is 0.13 (a float formatted as usual rounds it half to even, 0.12)."""
    fig = draw_region_map({"KZ-11": 0.125, "Almaty region": 2.0, "KZ-75": 1.5}, words=ENGLISH)
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"0.13%", "Akmola", "Almaty region", "Almaty city", "2%", "1.5%"} <= texts
    legend = {t.get_text() for ax in fig.axes[1:] for t in ax.texts}
    assert "No published figure" in legend
    russian = map_words(load_wording(REPO_TEMPLATES, "ru"))
    fig = draw_region_map({"KZ-11": 0.125, "KZ-19": 2.0}, words=russian)
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"0,13\u00a0%", "Акмолинская", "Алматинская", "город Алматы"} <= texts
    legend = {t.get_text() for ax in fig.axes[1:] for t in ax.texts}
    assert "Нет опубликованных данных" in legend


def test_map_rejects_a_region_given_twice() -> None:
    with pytest.raises(ValueError, match="Almaty city"):
        draw_region_map({"Almaty": 1.0, "Almaty city": 2.0}, words=ENGLISH)

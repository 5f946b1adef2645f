"""The IOM visual language for charts: palette, bundled font, sizes.

Every chart function takes its colours and type from here, so the charts and the report's
CSS speak one visual language.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

from mtmreport.errors import TemplateFailedError, display_path

IOM_BLUE = "#0033A0"
LIGHT_BLUE = "#418FDE"
YELLOW = "#FFB81C"
MINT = "#5CB8B2"
ORANGE = "#FF671F"
RED = "#D22630"
GREY = "#666666"
BLUE_TINTS = ("#4066B8", "#8099D0", "#B3C2E3", "#D9E0F1")
OTHER = "#9E9E9E"  # remainders ("Other", "Other CIS"): present, but not a category to read
INK = "#1A1A1A"  # values on the marks
INK_SOFT = "#404040"  # category names: quieter than the values, still well above 4.5:1
NO_DATA = "#EFEFEF"
NO_DATA_HATCH = "////"

# Categorical order: strong blue first, then the accents, for donuts and multi-series bars.
CATEGORICAL = (IOM_BLUE, LIGHT_BLUE, YELLOW, MINT, ORANGE, RED, *BLUE_TINTS, GREY)

# The family charts are set in; its files come from the templates in use (`theme.Templates`).
FONT_FAMILY = "Carlito"
BASE_SIZE = 8.5
FIGURE_WIDTH_IN = 6.3  # the region map's drawing width (its layout is tuned to it)
# Charts are drawn at the size they are printed, so their type is BASE_SIZE on paper: the
# text column of report.css (A4, 18 mm side margins) and two half columns with a gap.
TEXT_WIDTH_MM = 174.0
COLUMN_GAP_MM = 6.0
FULL_WIDTH_IN = TEXT_WIDTH_MM / 25.4
HALF_WIDTH_IN = (TEXT_WIDTH_MM - COLUMN_GAP_MM) / 2 / 25.4


def use_fonts(font_files: Sequence[Path]) -> None:
    """Make the fonts of the templates in use known to matplotlib (once a set, a process).

    Charts must be drawn in the report's own typeface: should the set lack FONT_FAMILY, this
    fails rather than let matplotlib fall back to another font (and other bytes).
    """
    _register(tuple(Path(p) for p in font_files))


@cache
def _register(font_files: tuple[Path, ...]) -> None:
    from matplotlib import font_manager

    for path in font_files:
        try:
            font_manager.fontManager.addfont(str(path))
        except (RuntimeError, ValueError, KeyError, OSError) as error:
            # FreeType says RuntimeError, in its own terms, for a file that is not a font.
            reason = getattr(error, "strerror", None) or "not a font file the charts can read"
            raise TemplateFailedError(
                f"{display_path(path)}: {reason.lower()}; replace it or take it out of the "
                "templates' fonts folder"
            ) from None
    _check_family()


def _check_family() -> None:
    from matplotlib import font_manager

    try:
        font_manager.fontManager.findfont(FONT_FAMILY, fallback_to_default=False)
    except ValueError:
        # The templates' fonts are part of the templates: a set without it is theirs to fix.
        raise TemplateFailedError(
            f"the charts are set in {FONT_FAMILY}, and the fonts of the templates in use have "
            f"no {FONT_FAMILY} font file"
        ) from None


def rc_params() -> dict[str, object]:
    """matplotlib settings shared by every chart (applied with `plt.rc_context`); the chart
    font must have been registered (`use_fonts`)."""
    _check_family()
    return {
        "font.family": FONT_FAMILY,
        "font.size": BASE_SIZE,
        "axes.edgecolor": GREY,
        "axes.labelcolor": GREY,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "xtick.color": GREY,
        "ytick.color": GREY,
        "svg.hashsalt": "mtmreport",
        "svg.fonttype": "none",
        "path.simplify": True,
    }

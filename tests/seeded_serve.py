"""`python -m mtmreport`, with every preview's chart cache starting as a copy (hard links) of
the folder named by MTMREPORT_TESTS_CHART_SEED: for preview tests whose point is not how charts
are drawn, as `test_failures` seeds an in-process preview's. The cache is keyed by what a chart
shows (`chartcache`), so a seeded draft is byte for byte a fresh one; only the drawing of
charts a session's build already drew is spared. Everything else is the real command."""

from __future__ import annotations

import os
import shutil
from typing import Any

from mtmreport import preview
from mtmreport.cli import run

SEED = os.environ["MTMREPORT_TESTS_CHART_SEED"]
_init = preview.Preview.__init__


def _seeded_init(self: preview.Preview, *args: Any, **kwargs: Any) -> None:
    _init(self, *args, **kwargs)
    # Links are safe: the cache replaces or unlinks names, never writes into an entry.
    shutil.copytree(SEED, self._chart_cache, copy_function=os.link)


preview.Preview.__init__ = _seeded_init  # type: ignore[method-assign]

if __name__ == "__main__":
    run()

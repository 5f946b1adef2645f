"""Chart files kept by what they show, so a rebuild redraws only charts whose data changed.

A chart's bytes are a function of its `ChartSpec` (table, caption, kind, unit, series,
shares...), of the wording that formats its numbers and labels, of the drawing code and its
style constants, of the bundled fonts and map outlines, of the versions of matplotlib and
Pillow, and of the file format. The cache key hashes all of these, so a narrative edit hits
every chart and a changed figure, label, colour or library version misses. Drawing is
deterministic (no dates, fixed SVG salt), so a cached file is byte for byte what a fresh draw
would write.

Entries are written under a temporary name and renamed, so parallel builds of several
quarters may share one cache and a half-written entry is never read. The cache never follows
a symbolic link: not as its folder (a linked `output/.cache/charts` is refused), not as an
entry (read without following links), and pruning deletes only entries named as keys.
`ChartPlan` is one report's use of the cache: which charts it needs, which must be drawn (by
the build's helper process or here), and copying them into the report's folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mtmreport.provenance import decimals_printed

if TYPE_CHECKING:
    from mtmreport.charts.spec import ChartSpec
    from mtmreport.helper import Helper
    from mtmreport.wording import Wording

PACKAGE = Path(__file__).resolve().parent
# Everything the drawing reads besides the spec and the wording: code, style, map outlines.
DRAWING_INPUTS = (
    "charts/*.py",
    "wording.py",
    "numbers.py",
    "periods.py",
    "reference/*.py",
    "reference/*.csv",
    "reference/*.geojson",
)
KEEP_ENTRIES = 400  # ~40 charts a quarter for ten quarters; older entries are pruned
_ENTRY = re.compile(r"[0-9a-f]{64}\.(png|svg)")


@cache
def _drawing_fingerprint(fonts: tuple[Path, ...]) -> str:
    """Hash of the drawing code, the fonts charts use and the libraries that rasterise."""
    digest = hashlib.sha256()
    files = sorted({p for pattern in DRAWING_INPUTS for p in PACKAGE.glob(pattern)})
    files += sorted(fonts)
    for path in files:
        digest.update(path.name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for package in ("matplotlib", "pillow", "numpy"):
        try:
            digest.update(f"{package}={version(package)}".encode())
        except PackageNotFoundError:  # pragma: no cover - all three are dependencies
            digest.update(f"{package}=?".encode())
    return digest.hexdigest()


def _wording_fingerprint(wording: Wording) -> str:
    """The edition's language and its catalogue's bytes: what a chart's words come from."""
    return f"{wording.language}:{wording.digest}"


def chart_key(spec: ChartSpec, wording: Wording, chart_format: str, fonts: tuple[Path, ...]) -> str:
    """A hex digest naming everything that decides the chart file's bytes.

    The figure number is left out: it names the file, it is not drawn.
    """
    table = spec.table
    described: dict[str, Any] = {
        "format": chart_format,
        "drawing": _drawing_fingerprint(fonts),
        "wording": _wording_fingerprint(wording),
        "columns": [str(c) for c in table.columns],
        "dtypes": [str(t) for t in table.dtypes],
        "rows": table.to_numpy().tolist(),
        # the decimals a figure prints with are drawn too (a stated "10%" against "10.0%")
        "decimals": [[decimals_printed(v) for v in row] for row in table.to_numpy().tolist()],
        **{name: value for name, value in spec.__dict__.items() if name not in ("table", "number")},
    }
    # repr() for floats and numpy scalars keeps every digit, so 0.1 and 0.1000001 differ.
    text = json.dumps(described, sort_keys=True, ensure_ascii=False, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


class ChartCache:
    """A folder of chart files named by their key, plus the keys each quarter used last."""

    def __init__(self, folder: Path):
        self.folder = folder

    @classmethod
    def inside(cls, root: Path, relative: Path) -> ChartCache:
        """The cache at `root/relative`, refused (BuildError) if a symbolic link stands on the
        way from `root`: pruning and writing there would reach files elsewhere."""
        from mtmreport.errors import BuildError, display_path

        path = root
        for part in relative.parts:
            path = path / part
            if path.is_symlink():
                raise BuildError(
                    f"{display_path(path)} is a symbolic link; the chart cache must be a plain "
                    f"folder inside {display_path(root)}: delete the link (a cache is always "
                    "safe to delete)"
                )
        return cls(path)

    def path(self, key: str, chart_format: str) -> Path:
        return self.folder / f"{key}.{chart_format}"

    def fetch(self, key: str, chart_format: str, dest: Path) -> bool:
        """Copy the cached chart to `dest`; False when there is none."""
        source = self.path(key, chart_format)
        try:  # never through a link planted under an entry's name
            descriptor = os.open(source, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError:  # a link (ELOOP) or a folder: not an entry
            return False
        with open(descriptor, "rb") as entry:
            if not stat.S_ISREG(os.fstat(entry.fileno()).st_mode):
                return False
            # Whole or not at all under its name: a PDF helper may be reading the folder.
            part = dest.with_name(dest.name + ".part")
            with open(part, "wb") as out:
                shutil.copyfileobj(entry, out)
            os.replace(part, dest)
            os.utime(entry.fileno())  # recently used entries survive pruning
        return True

    @contextmanager
    def writing(self, key: str, chart_format: str) -> Iterator[Path]:
        """A temporary path to draw into; it becomes the entry when the block ends well.

        The rename is atomic, so parallel builds may share the cache and a reader never sees
        half a file; two builds drawing the same key write equal bytes.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self.folder / f".incoming-{os.getpid()}-{key}.{chart_format}"
        temporary.unlink(missing_ok=True)  # drawing would follow a link planted there
        try:
            yield temporary
            os.replace(temporary, self.path(key, chart_format))
        finally:
            temporary.unlink(missing_ok=True)

    # The manifest lets a build guess, before it has computed anything, whether it will need
    # to draw: if every chart of the quarter's last build is still cached, probably not.

    def _manifest(self, quarter: str, chart_format: str) -> Path:
        return self.folder / f"{quarter}.{chart_format}.keys"

    def remember(self, quarter: str, chart_format: str, keys: list[str]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        manifest = self._manifest(quarter, chart_format)
        temporary = manifest.with_name(f".{manifest.name}.{os.getpid()}")
        temporary.unlink(missing_ok=True)
        temporary.write_text("\n".join(keys) + "\n", encoding="utf-8")
        os.replace(temporary, manifest)

    def probably_complete(self, quarter: str, chart_format: str) -> bool:
        """Whether every chart of `quarter`'s last build is cached (a guess, never a promise)."""
        try:
            keys = self._manifest(quarter, chart_format).read_text(encoding="utf-8").split()
        except (OSError, UnicodeDecodeError):  # none yet, or unreadable: draw
            return False
        return all(
            _ENTRY.fullmatch(f"{key}.{chart_format}") and self.path(key, chart_format).is_file()
            for key in keys
        )

    def prune(self, keep: int = KEEP_ENTRIES) -> None:
        """Delete the least recently used entries beyond `keep`: files named as entries only,
        and links as links (never what they point to)."""
        try:
            names = [p for p in self.folder.iterdir() if _ENTRY.fullmatch(p.name)]
        except FileNotFoundError:
            return
        if len(names) <= keep:
            return
        entries = [(p, p.lstat().st_mtime) for p in names]
        entries.sort(key=lambda entry: entry[1], reverse=True)
        for stale, _ in entries[keep:]:
            stale.unlink(missing_ok=True)


# --- a report's charts: drawn into the cache (in the helper or here), then copied out --------


def draw_into_cache(
    cache_dir: Path,
    jobs: list[tuple[ChartSpec, str]],
    wording: Wording,
    chart_format: str,
    fonts: tuple[Path, ...],
) -> None:
    """Draw each (spec, key) into the cache folder, in the fonts of the templates in use.
    Runs in the helper or in this process."""
    from mtmreport.charts.draw import draw, save
    from mtmreport.charts.style import use_fonts

    use_fonts(fonts)
    cache = ChartCache(cache_dir)
    for spec, key in jobs:
        with cache.writing(key, chart_format) as path:
            save(draw(spec, wording), path)


class ChartPlan:
    """Which chart files a report needs, which the cache holds, and copying them in place."""

    def __init__(
        self,
        specs: dict[tuple, list[ChartSpec]],
        wording: Wording,
        chart_format: str,
        cache: ChartCache,
        fonts: tuple[Path, ...],
    ):
        self.format = chart_format
        self.cache = cache
        self.fonts = fonts  # the font files of the templates in use
        self.specs = [spec for block in specs.values() for spec in block]
        self.keys = [chart_key(spec, wording, chart_format, fonts) for spec in self.specs]
        self.missing = [
            (spec, key)
            for spec, key in zip(self.specs, self.keys, strict=True)
            if not cache.path(key, chart_format).is_file()
        ]
        self.files = {s.file_stem: f"charts/{s.file_stem}.{chart_format}" for s in self.specs}

    def start(self, helper: Helper | None, wording: Wording) -> bool:
        """Draw the charts the cache lacks: in the helper if it prepared for them (True is
        returned: collect them with `wait`), otherwise here and now."""
        if not self.missing:
            return False
        job = (self.cache.folder, self.missing, wording, self.format, self.fonts)
        if helper is not None and helper.role == "charts":
            helper.start(draw_into_cache, *job)
            return True
        draw_into_cache(*job)
        return False

    def wait(self, helper: Helper, wording: Wording) -> None:
        """The helper's drawing done (or, should it have died, done here)."""
        helper.finish(
            draw_into_cache, self.cache.folder, self.missing, wording, self.format, self.fonts
        )

    def copy_into(self, folder: Path, wording: Wording) -> None:
        """Copy every chart into `folder/charts`, drawing here any that went missing since."""
        charts_dir = folder / "charts"
        charts_dir.mkdir(parents=True, exist_ok=True)
        for spec, key in zip(self.specs, self.keys, strict=True):
            dest = folder / self.files[spec.file_stem]
            if not self.cache.fetch(key, self.format, dest):  # pruned by a parallel build
                draw_into_cache(self.cache.folder, [(spec, key)], wording, self.format, self.fonts)
                self.cache.fetch(key, self.format, dest)

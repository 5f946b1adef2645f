"""`mtmreport init FOLDER`: a new project to start from, never written over an existing one.

The project gets its project file, the quarter folder with the example quarter (the shipped
2023-Q3 file, whose comments explain every block) and its translations (`2023-Q3.ru.po`, so
the Russian edition, which the packaged catalogues give every project as they give this
repository, is complete from the start), the editor schema beside that folder, and a
`.gitignore` for the output. It has no `templates/` of its own: the packaged templates are
used until the project adds files there (see `theme`).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from mtmreport.errors import MtmReportError, display_path
from mtmreport.project import PROJECT_FILE, SETTINGS, project_file_text
from mtmreport.theme import shipped

EXAMPLE_QUARTER = "2023-Q3.yaml"
GITIGNORE = "# Reports are made from the files here; `mtmreport build` makes them again.\noutput/\n"


class InitError(MtmReportError):
    """The folder already holds what `init` would write."""

    exit_code = 2


@dataclass(frozen=True)
class Initialised:
    folder: Path
    written: list[Path]


def example_quarters() -> Path:
    """The folder of the example quarter the package ships."""
    return shipped("example", "data/quarters", EXAMPLE_QUARTER)


def init_project(folder: Path) -> Initialised:
    """Write a new project into `folder` (made if missing); refuse if any file it would write
    is there already, so nothing is ever overwritten and nothing half-written."""
    from mtmreport.schema import SCHEMA_FILE_NAME, schema_text

    data_dir = folder / SETTINGS["data"][0]
    files: dict[Path, str | Path] = {
        folder / PROJECT_FILE: project_file_text(),
        folder / ".gitignore": GITIGNORE,
        data_dir.parent / SCHEMA_FILE_NAME: schema_text(),
        data_dir / EXAMPLE_QUARTER: example_quarters() / EXAMPLE_QUARTER,
    }
    stem = EXAMPLE_QUARTER.removesuffix(".yaml")
    for translation in sorted(example_quarters().glob(f"{stem}.*.po")):
        files[data_dir / translation.name] = translation
    there = [path for path in files if path.exists()]
    if there:
        names = ", ".join(display_path(p) for p in there)
        raise InitError(
            f"{display_path(folder)} already has {names}; mtmreport init never overwrites a file"
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    for path, content in files.items():
        if isinstance(content, Path):
            shutil.copyfile(content, path)
        else:
            with path.open("x", encoding="utf-8") as handle:  # "x": refuse even in a race
                handle.write(content)
    return Initialised(folder, list(files))

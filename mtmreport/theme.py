"""The templates in use: a project's own `templates/` over the defaults shipped in the package.

The package carries the default templates, stylesheet, fonts and strings (the wheel maps the
repository's top-level `templates/` to `mtmreport/templates`, see pyproject.toml). A project
overrides only the files its own `templates/` folder holds: a Jinja `ChoiceLoader` looks in
the project's folder first, then in the package's, as Datasette does; `default:NAME` always
names the packaged file, so a project's template can extend the one it replaces. Assets
follow the same rule file by file, except the fonts, which come as one set: the project's
`fonts/` when it holds any font file, otherwise the package's. The charts take that same set,
so the PDF and its charts always speak one typeface.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jinja2 import BaseLoader

PACKAGE_DIR = Path(__file__).resolve().parent
MARKER = "report.html.j2"  # the file every templates folder has at its top
FONT_SUFFIXES = (".ttf", ".otf")


def shipped(in_package: str, in_checkout: str, marker: str) -> Path:
    """A folder of data the package ships, found by a file it always holds (`marker`).

    Installed from a wheel it is `mtmreport/<in_package>/` (pyproject.toml maps the
    repository's folders there). In a source checkout (the repository installed editable, as
    `make setup` does) it is read where it is edited, `<checkout>/<in_checkout>/`: setuptools'
    editable install cannot map a data folder into a package, so the checkout is recognised by
    its pyproject.toml beside the package.
    """
    inside = PACKAGE_DIR / in_package
    if (inside / marker).is_file():
        return inside
    checkout = PACKAGE_DIR.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / in_checkout / marker).is_file():
        return checkout / in_checkout
    raise RuntimeError(f"the package's {in_package} are missing: no {inside / marker}")


@cache
def package_templates() -> Path:
    """The default templates, stylesheet, fonts and strings shipped with the package."""
    return shipped("templates", "templates", MARKER)


@dataclass(frozen=True)
class Templates:
    """The folders templates and assets are looked up in, the project's first."""

    folders: tuple[Path, ...]

    @classmethod
    def over_defaults(cls, project_templates: Path | None) -> Templates:
        """The project's templates folder (when it exists) over the package's defaults."""
        defaults = package_templates()
        folders = [defaults]
        if (
            project_templates is not None
            and project_templates.is_dir()
            and project_templates.resolve() != defaults.resolve()
        ):
            folders.insert(0, project_templates)
        return cls(tuple(folders))

    @property
    def defaults(self) -> Path:
        return self.folders[-1]

    def find(self, name: str) -> Path:
        """The file `name` (relative, with `/`) from the first folder that has it."""
        for folder in self.folders:
            candidate = folder / name
            if candidate.is_file():
                return candidate
        raise FileNotFoundError(f"no template file {name!r} in {', '.join(map(str, self.folders))}")

    def optional(self, *names: str) -> Path | None:
        """The first of `names` that some folder has, or None."""
        for name in names:
            for folder in self.folders:
                if (folder / name).is_file():
                    return folder / name
        return None

    @property
    def fonts_dir(self) -> Path:
        """The folder of the fonts in use: the first `fonts/` that holds a font file."""
        for folder in self.folders:
            if _font_files(folder / "fonts"):
                return folder / "fonts"
        return self.defaults / "fonts"

    @property
    def font_files(self) -> tuple[Path, ...]:
        return _font_files(self.fonts_dir)

    def catalogue_folder(self, language: str) -> Path:
        """The templates folder whose catalogue of `language` is in use: the project's own
        when it has one, else the package's (where a missing one is reported)."""
        from mtmreport import i18n

        for folder in self.folders:
            if i18n.catalogue_path(folder, language).is_file():
                return folder
        return self.defaults

    def languages(self) -> list[str]:
        """Every language with a catalogue in some folder, English first."""
        from mtmreport import i18n

        found = {x for folder in self.folders for x in i18n.languages(folder)}
        return [i18n.SOURCE_LANGUAGE, *sorted(found - {i18n.SOURCE_LANGUAGE})]

    def loader(self) -> BaseLoader:
        """Jinja's loader: the project's folder, then the package's; `default:` the package's."""
        from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader

        return ChoiceLoader(
            [
                FileSystemLoader([str(folder) for folder in self.folders]),
                PrefixLoader({"default": FileSystemLoader(str(self.defaults))}, delimiter=":"),
            ]
        )


def _font_files(folder: Path) -> tuple[Path, ...]:
    if not folder.is_dir():
        return ()
    return tuple(sorted(p for p in folder.iterdir() if p.suffix.lower() in FONT_SUFFIXES))

"""The PDF step: WeasyPrint, fenced in.

WeasyPrint's default fetcher reads any local file and any URL, so a crafted link could embed
`/etc/passwd` or call out to the network. Ours admits only `data:` URLs and files inside the
folders the build names (its own output and the templates); everything else is refused and
recorded. WeasyPrint is imported here only, so commands that make no PDF never pay for it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import HTML, URLFetcher

REPRODUCIBLE_EPOCH = "1700000000"
# WeasyPrint names every raster image in the PDF after the MD5 of its absolute URL, so the
# same report laid out from two folders (or from the build's random staging folder) would
# differ in bytes. The document is therefore read from this fixed address, and the fetcher
# maps it back to the folder the HTML really is in.
VIRTUAL_ROOT = "file:///mtmreport-document/"


class ConfinedFetcher(URLFetcher):
    """A URL fetcher for `data:` URLs and files below the allowed folders, nothing else."""

    def __init__(self, allowed_roots: list[Path], document_folder: Path | None = None):
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False)
        self.roots = [root.resolve() for root in allowed_roots]
        self.document_folder = document_folder.resolve() if document_folder else None
        self.refused: list[str] = []

    def real_url(self, url: str) -> str:
        """A URL below `VIRTUAL_ROOT` as the file URL of the document's folder."""
        if self.document_folder is None or not url.startswith(VIRTUAL_ROOT):
            return url
        relative = unquote(urlsplit(url).path)[len(urlsplit(VIRTUAL_ROOT).path) :]
        return (self.document_folder / relative).as_uri()

    def allows(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme == "data":
            return True
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            return False
        path = Path(unquote(parts.path)).resolve()
        return any(path.is_relative_to(root) for root in self.roots)

    def fetch(self, url: str, headers: dict[str, str] | None = None):  # type: ignore[override]
        url = self.real_url(url)
        if not self.allows(url):
            self.refused.append(url)
            raise ValueError(f"mtmreport does not fetch {url!r}")
        return super().fetch(url, headers)


@contextmanager
def _reproducible_timestamps() -> Iterator[None]:
    """Font subsetting stamps the current time into fonts unless SOURCE_DATE_EPOCH is set."""
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = previous or REPRODUCIBLE_EPOCH
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)


def render_pdf(html_path: Path, pdf_path: Path, allowed_roots: list[Path]) -> list[str]:
    """Write `pdf_path` from `html_path`; returns the URLs that were refused."""
    fetcher = ConfinedFetcher([html_path.parent, *allowed_roots], document_folder=html_path.parent)
    document = HTML(
        string=html_path.read_text(encoding="utf-8"),
        base_url=VIRTUAL_ROOT + html_path.name,
        url_fetcher=fetcher,
    )
    with _reproducible_timestamps():
        document.write_pdf(pdf_path, pdf_tags=True)
    return fetcher.refused

"""PDF/UA repairs on the PDF WeasyPrint writes, before the build swaps it into place.

WeasyPrint 70 tags the document (`pdf_variant="pdf/ua-1"`) but leaves five things a
PDF/UA-1 validator (veraPDF, the Matterhorn Protocol) rejects, which cannot be set from HTML
or CSS:

- page-margin content (running header, footer, page number) is marked as tagged content
  that no structure element reaches; PDF 1.7 wants it marked as an artifact;
- footnotes are plain spans in an untyped group; they are notes, with their number as label;
- table header cells carry no `Scope`;
- figure bounding boxes are written in CSS pixels measured from the top of the page, not in
  PDF points from the bottom;
- link annotations describe themselves by their bare target ("section-1").

`repair` fixes each in place, reading nothing but the PDF and the HTML it was made from
(the tree WeasyPrint parsed it into: parsing it again cost ~0.05 s an edition). Each page's
content is parsed once (~0.05 s more).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pikepdf

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
ARTIFACT_PROPERTIES = {"/Type": pikepdf.Name.Pagination}


def repair(pdf_path: Path, link_texts: dict[str, str]) -> None:
    """Rewrite `pdf_path` in place with the repairs described above; `link_texts` are those
    of the HTML it was made from (`link_texts`)."""
    with pikepdf.open(pdf_path, allow_overwriting_input=True) as pdf:
        tree = StructTree(pdf)
        contents = [pikepdf.parse_content_stream(page) for page in pdf.pages]
        _margin_content_as_artifacts(pdf, tree, contents)
        _footnotes_as_notes(tree)
        _header_scopes(tree)
        _list_bodies(pdf, tree)
        _column_lists_joined(tree)
        # From the content as WeasyPrint drew it: the margin content made artifacts above
        # holds no figure, and its marks' owners are gone from the parent tree.
        _figure_boxes_in_points(pdf, tree, contents)
        _link_descriptions(pdf, link_texts)
        # The same input gives the same bytes: the file identifier comes from the content.
        pdf.save(pdf_path, deterministic_id=True)


@dataclass
class StructTree:
    """The structure elements reachable from the document's root, in reading order.

    Walked once (each walk costs ~10 ms): the repairs change roles and regroup kids, but
    add no element another repair looks for (an `LBody` wraps elements already listed).
    """

    pdf: pikepdf.Pdf

    def __post_init__(self) -> None:
        self.root = self.pdf.Root.StructTreeRoot
        self.walked = list(_walk(self.root.K))
        self.reachable = {element.objgen for element in self.walked}

    def elements(self) -> Iterator[pikepdf.Dictionary]:
        return iter(self.walked)

    def of_type(self, role: str) -> Iterator[pikepdf.Dictionary]:
        return (element for element in self.elements() if element.get("/S") == role)


def _walk(kids: pikepdf.Object) -> Iterator[pikepdf.Dictionary]:
    for kid in _kids(kids):
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            yield kid
            if "/K" in kid:
                yield from _walk(kid.K)


def _kids(kids: pikepdf.Object) -> list[pikepdf.Object]:
    return list(kids) if isinstance(kids, pikepdf.Array) else [kids]


def _children(element: pikepdf.Dictionary) -> list[pikepdf.Dictionary]:
    if "/K" not in element:
        return []
    return [kid for kid in _kids(element.K) if isinstance(kid, pikepdf.Dictionary) and "/S" in kid]


def _page_mcids(tree: StructTree, page_index: int) -> pikepdf.Array:
    """The parent tree's array for a page: entry n is the element that owns MCID n."""
    nums = tree.root.ParentTree.Nums
    for i in range(0, len(nums), 2):
        if int(nums[i]) == page_index:
            return nums[i + 1]
    return pikepdf.Array()


def _margin_content_as_artifacts(
    pdf: pikepdf.Pdf, tree: StructTree, contents: list[list[pikepdf.ContentStreamInstruction]]
) -> None:
    """WeasyPrint builds structure elements for the margin boxes but links them to nothing
    (it says so in `pdf/tags.py`: an Artifact element exists only in PDF 2.0). Their marked
    content becomes `/Artifact` instead, and the parent tree forgets them."""
    for index, page in enumerate(pdf.pages):
        owners = _page_mcids(tree, page.obj.get("/StructParents", index))
        orphans = {
            mcid
            for mcid, owner in enumerate(owners)
            if isinstance(owner, pikepdf.Dictionary) and owner.objgen not in tree.reachable
        }
        if not orphans:
            continue
        instructions = []
        for instruction in contents[index]:
            operands, operator = instruction.operands, str(instruction.operator)
            if operator == "BDC" and _mcid(operands) in orphans:
                properties = pikepdf.Dictionary(ARTIFACT_PROPERTIES)
                instruction = pikepdf.ContentStreamInstruction(
                    [pikepdf.Name.Artifact, properties], pikepdf.Operator("BDC")
                )
            instructions.append(instruction)
        page.Contents = pdf.make_stream(pikepdf.unparse_content_stream(instructions))
        for mcid in orphans:
            owners[mcid] = None


def _mcid(operands: list[pikepdf.Object]) -> int | None:
    if len(operands) == 2 and isinstance(operands[1], pikepdf.Dictionary):
        mcid = operands[1].get("/MCID")
        return int(mcid) if mcid is not None else None
    return None


def _footnotes_as_notes(tree: StructTree) -> None:
    """A page's footnote area comes out as an untyped group right under the document, holding
    one span per footnote, itself led by an untyped group for the `::footnote-marker`.
    Nothing else in the report sits right under the document as spans only."""
    document = _children(tree.root)[0] if "/K" in tree.root else None
    if document is None:
        return
    number = 0
    for group in _children(document):
        notes = _children(group)
        if group.S != "/NonStruct" or not notes or any(note.S != "/Span" for note in notes):
            continue
        for note in notes:
            number += 1
            note.S = pikepdf.Name.Note
            note.ID = pikepdf.String(f"note-{number}")
            marker = _children(note)
            if marker and marker[0].S == "/NonStruct":
                marker[0].S = pikepdf.Name.Lbl


def _list_bodies(pdf: pikepdf.Pdf, tree: StructTree) -> None:
    """An item with a label (the outline's section numbers are `::marker`s laid inside the
    line) gets its other content as siblings of the label; PDF wants them in an `LBody`."""
    for item in list(tree.of_type("/LI")):
        kids = _kids(item.K)
        loose = [kid for kid in kids if not _is_role(kid, "/Lbl", "/LBody")]
        if not loose or len(loose) == len(kids):
            continue
        body = pdf.make_indirect(
            pikepdf.Dictionary(
                {"/Type": pikepdf.Name.StructElem, "/S": pikepdf.Name.LBody, "/P": item}
            )
        )
        if "/Pg" in item:
            body.Pg = item.Pg
        body.K = pikepdf.Array(loose)
        for kid in loose:
            if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                kid.P = body
        item.K = pikepdf.Array([kid for kid in kids if _is_role(kid, "/Lbl", "/LBody")] + [body])


def _column_lists_joined(tree: StructTree) -> None:
    """A list set in columns (the outline) comes out as a list of one list per column; it is
    one list of items to a reader."""
    for outer in list(tree.of_type("/L")):
        columns = _kids(outer.K)
        if len(columns) < 2 or not all(_is_role(column, "/L") for column in columns):
            continue
        items = [item for column in columns for item in _kids(column.K)]
        for item in items:
            if isinstance(item, pikepdf.Dictionary) and "/S" in item:
                item.P = outer
        outer.K = pikepdf.Array(items)


def _is_role(kid: pikepdf.Object, *roles: str) -> bool:
    return isinstance(kid, pikepdf.Dictionary) and kid.get("/S") in roles


def _header_scopes(tree: StructTree) -> None:
    """Header cells in a table's head are column headers, those beside data cells in its body
    are row headers: HTML's own `scope` rule, which the report's templates follow."""
    for row_group in tree.elements():
        if row_group.S not in ("/THead", "/TBody", "/TFoot"):
            continue
        for row in _children(row_group):
            cells = _children(row)
            has_data = any(cell.S == "/TD" for cell in cells)
            for cell in cells:
                if cell.S != "/TH":
                    continue
                scope = "/Row" if row_group.S != "/THead" and has_data else "/Column"
                attributes = cell.get("/A")
                if not isinstance(attributes, pikepdf.Dictionary):
                    attributes = pikepdf.Dictionary({"/O": pikepdf.Name.Table})
                    cell.A = attributes
                attributes.Scope = pikepdf.Name(scope)


def _figure_boxes_in_points(
    pdf: pikepdf.Pdf, tree: StructTree, contents: list[list[pikepdf.ContentStreamInstruction]]
) -> None:
    """A figure's bounding box, from where the page actually draws its image: the unit square
    of the image XObject under the transformation in force at its `Do`."""
    drawn: dict[tuple[int, int], list[float]] = {}
    for index, page in enumerate(pdf.pages):
        owners = _page_mcids(tree, page.obj.get("/StructParents", index))
        for mcid, box in _image_boxes(contents[index]).items():
            if mcid < len(owners) and isinstance(owners[mcid], pikepdf.Dictionary):
                drawn[owners[mcid].objgen] = box
    for figure in tree.of_type("/Figure"):
        box = drawn.get(figure.objgen)
        if box is None:
            continue
        attributes = figure.get("/A")
        if not isinstance(attributes, pikepdf.Dictionary):
            attributes = pikepdf.Dictionary({"/O": pikepdf.Name.Layout})
            figure.A = attributes
        attributes.BBox = pikepdf.Array([round(value, 3) for value in box])


def _image_boxes(content: list[pikepdf.ContentStreamInstruction]) -> dict[int, list[float]]:
    """MCID -> [x1, y1, x2, y2] in points of every image drawn inside marked content."""
    boxes: dict[int, list[float]] = {}
    ctm, saved, marked = IDENTITY, [], []
    for instruction in content:
        operands, operator = instruction.operands, str(instruction.operator)
        if operator == "q":
            saved.append(ctm)
        elif operator == "Q":
            ctm = saved.pop() if saved else IDENTITY
        elif operator == "cm":
            ctm = _multiply(tuple(float(value) for value in operands), ctm)  # type: ignore[arg-type]
        elif operator in ("BDC", "BMC"):
            marked.append(_mcid(operands) if operator == "BDC" else None)
        elif operator == "EMC":
            if marked:
                marked.pop()
        elif operator == "Do":
            mcid = next((m for m in reversed(marked) if m is not None), None)
            if mcid is not None:
                corners = [_apply(ctm, x, y) for x in (0, 1) for y in (0, 1)]
                xs, ys = [c[0] for c in corners], [c[1] for c in corners]
                boxes[mcid] = [min(xs), min(ys), max(xs), max(ys)]
    return boxes


def _multiply(m: Matrix, n: Matrix) -> Matrix:
    """m then n: the matrix `m × n` of the PDF specification (`cm` puts m before the CTM)."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    )


def _apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = m
    return a * x + c * y + e, b * x + d * y + f


def link_texts(root: ElementTree.Element) -> dict[str, str]:
    """Each link target of the parsed HTML -> the text of its (first) link, spaces collapsed."""
    texts: dict[str, str] = {}
    for element in root.iter():
        if str(element.tag).rsplit("}", 1)[-1] != "a" or not element.get("href"):
            continue
        href = element.get("href")
        key = href[1:] if href.startswith("#") else href
        text = " ".join("".join(element.itertext()).split())
        if text and key not in texts:
            texts[key] = text
    return texts


def _link_descriptions(pdf: pikepdf.Pdf, texts: dict[str, str]) -> None:
    """A link's `Contents` is what a screen reader announces: its own text, not its target."""
    for page in pdf.pages:
        for annotation in page.obj.get("/Annots", pikepdf.Array()):
            if annotation.get("/Subtype") != "/Link":
                continue
            if "/Dest" in annotation:
                target = str(annotation.Dest)
            elif "/A" in annotation and "/URI" in annotation.A:
                target = str(annotation.A.URI)
            else:
                continue
            text = texts.get(target)
            if text:
                annotation.Contents = pikepdf.String(text)

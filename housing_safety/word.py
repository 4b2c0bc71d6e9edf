"""The Word kit: an official document (公文) after GB/T 9704-2012, the layout offices edit, sign and stamp.

python-docx writes the .docx itself (no template file, no office suite on the server): A4 with the standard's
margins (37 mm top, 35 mm bottom, 28 mm left, 26 mm right), the title in 小标宋 22 pt (二号) centred, the 主送 line,
body paragraphs in 仿宋 16 pt (三号) with a first-line indent of two characters at a fixed 28 pt line, headings 一、
in 黑体 and (一) in 楷体, a figures table, the 附件 line and the 落款 (unit and date) on the right.

Fonts are named by their East Asian name (what Word on the offices' computers has, FONTS); the font table also
names a fallback each (FONT_FALLBACKS) that Word and WPS take where the first is missing, so a computer without
方正小标宋 shows 宋体 bold instead of a Latin font. Latin text and digits are Times New Roman, as the standard has.

Every figure comes from the caller (the app's selectors); this module knows no app.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterable, Sequence

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from lxml import etree

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

FONTS = {"title": "方正小标宋简体", "body": "仿宋_GB2312", "heading": "黑体", "subheading": "楷体_GB2312"}
FONT_FALLBACKS = {"方正小标宋简体": "宋体", "仿宋_GB2312": "仿宋", "黑体": "SimHei", "楷体_GB2312": "楷体"}
LATIN_FONT = "Times New Roman"
TITLE_SIZE, BODY_SIZE, TABLE_SIZE = Pt(22), Pt(16), Pt(12)  # 二号, 三号, 小四
LINE = Pt(28)  # 22 lines on a page of the standard's type area
MARGINS = {"top": Mm(37), "bottom": Mm(35), "left": Mm(28), "right": Mm(26)}
CHINESE_NUMBERS = "一二三四五六七八九十"


def chinese_date(day: datetime.date) -> str:
    """The 成文日期 as the standard writes it: 2026年12月23日 (Arabic numerals, no leading zeros)."""
    if (get_language() or "").startswith("zh"):
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day:%d %B %Y}".lstrip("0")


def heading_number(number: int, level: int = 1) -> str:
    """一、 for a first-level heading, (一) for a second (in Chinese; 1. and (1) otherwise)."""
    chinese = (get_language() or "").startswith("zh") and 1 <= number <= len(CHINESE_NUMBERS)
    word = CHINESE_NUMBERS[number - 1] if chinese else str(number)
    if level == 1:
        return f"{word}、" if chinese else f"{word}. "
    return f"（{word}）" if chinese else f"({word}) "


def _font(run, name: str, size, *, bold: bool = False) -> None:
    run.font.name = LATIN_FONT
    run.font.size = size
    run.font.bold = bold
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), name)
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)


def _spacing(paragraph, *, indent: bool = False, line=LINE) -> None:
    layout = paragraph.paragraph_format
    layout.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    layout.line_spacing = line
    layout.space_before = layout.space_after = Pt(0)
    if indent:
        layout.first_line_indent = BODY_SIZE * 2  # two characters


class OfficialDocument:
    """One official document, written top to bottom: title, recipient, body, attachments, signature."""

    def __init__(self, *, title: str, recipient: str = "", subtitle: str = ""):
        self.document = Document()
        section = self.document.sections[0]
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin, section.bottom_margin = MARGINS["top"], MARGINS["bottom"]
        section.left_margin, section.right_margin = MARGINS["left"], MARGINS["right"]
        normal = self.document.styles["Normal"]
        normal.font.name, normal.font.size = LATIN_FONT, BODY_SIZE
        normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONTS["body"])
        self.document.core_properties.title = title
        self._headings = 0
        self._table_styles: dict = {}
        self._subheadings = 0
        self._title(title)
        if subtitle:
            self.paragraph(subtitle, centred=True)
        self.blank()
        if recipient:
            self._recipient(recipient)

    # The parts -----------------------------------------------------------------------------------------------

    def _title(self, text: str) -> None:
        paragraph = self.document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _spacing(paragraph, line=Pt(35))
        # Normal, not Word's "Title" style: that draws a rule under the title, which no official document has.
        _font(paragraph.add_run(text), FONTS["title"], TITLE_SIZE)

    def _recipient(self, text: str) -> None:
        paragraph = self.document.add_paragraph()
        _spacing(paragraph)
        _font(paragraph.add_run(f"{text}：" if _chinese() else f"{text}:"), FONTS["body"], BODY_SIZE)

    def blank(self) -> None:
        _spacing(self.document.add_paragraph())

    def heading(self, text: str, level: int = 1) -> None:
        """一、 in 黑体 (level 1) or (一) in 楷体 (level 2), numbered in order; a Word heading style underneath,
        so the navigation pane lists them (its look is overridden to the standard's)."""
        if level == 1:
            self._headings += 1
            self._subheadings = 0
            number = heading_number(self._headings, 1)
        else:
            self._subheadings += 1
            number = heading_number(self._subheadings, 2)
        paragraph = self.document.add_paragraph(style=f"Heading {level}")
        _spacing(paragraph, indent=True)
        paragraph.paragraph_format.keep_with_next = True
        run = paragraph.add_run(f"{number}{text}")
        _font(run, FONTS["heading" if level == 1 else "subheading"], BODY_SIZE)
        run.font.color.rgb = None
        run.font.italic = False

    def paragraph(
        self, text: str, *, indent: bool = True, bold: bool = False, centred: bool = False, heading: bool = False
    ) -> None:
        """Body text; each line of `text` its own paragraph (a narrative typed with line breaks keeps them).
        `heading`: in 黑体 at the left margin (the 附件 label over an attachment)."""
        for line in (text or "").splitlines() or [""]:
            paragraph = self.document.add_paragraph()
            _spacing(paragraph, indent=indent and not centred)
            if centred:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            font = FONTS["heading"] if heading else FONTS["body"]
            _font(paragraph.add_run(line.strip()), font, BODY_SIZE, bold=bold)

    def new_page(self) -> None:
        self.document.add_page_break()

    def table(
        self,
        headers: Sequence[str],
        rows: Iterable[Sequence[object]],
        *,
        widths_mm: Sequence[int] = (),
        right: Sequence[int] = (),
        font_size: float | None = None,
    ):
        """A boxed table in 仿宋 小四 (or `font_size` points, for a wide one): a bold header row repeated on each
        page; numbers, and the columns `right`, right aligned."""
        size = Pt(font_size) if font_size else TABLE_SIZE
        table = self.document.add_table(rows=1, cols=len(headers))
        table.style = self.document.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        header = table.rows[0]
        _repeat_header(header)
        for cell, text in zip(header.cells, headers, strict=True):
            self._cell(cell, str(text), size, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        for values in rows:
            cells = table.add_row().cells
            for index, (cell, value) in enumerate(zip(cells, values, strict=True)):
                number = isinstance(value, int | float) and not isinstance(value, bool)
                align = WD_ALIGN_PARAGRAPH.RIGHT if number or index in right else None
                self._cell(cell, _shown(value), size, align=align)
        if widths_mm:
            for row in table.rows:
                for cell, width in zip(row.cells, widths_mm, strict=False):
                    cell.width = Mm(width)
        self.blank()
        return table

    def _cell(self, cell, text: str, size, *, bold: bool = False, align=None) -> None:
        # The font and spacing come from a paragraph style per size (_table_style): setting them on every cell's run
        # took python-docx about 3 ms a cell, most of a long table's time.
        paragraph = cell.paragraphs[0]
        paragraph._p.get_or_add_pPr().style = self._table_style(size).style_id  # the setter searches every style
        if align is not None:
            paragraph.alignment = align
        run = paragraph.add_run(text)
        if bold:
            run.bold = True

    def _table_style(self, size):
        if size in self._table_styles:
            return self._table_styles[size]
        styles = self.document.styles
        style = self._table_styles[size] = styles.add_style(f"Table Text {size.pt:g}", WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = styles["Normal"]
        style.font.name, style.font.size = LATIN_FONT, size
        fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), FONTS["body"])
        layout = style.paragraph_format
        layout.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        layout.line_spacing = Pt(size.pt * 1.5)
        layout.space_before = layout.space_after = Pt(0)
        layout.first_line_indent = Pt(0)
        return style

    def picture(self, png: bytes, *, width_mm: int = 150) -> None:
        paragraph = self.document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        # single spacing, never the body's exact 28 pt: an exact line height would cut the picture to one line
        layout = paragraph.paragraph_format
        layout.line_spacing_rule = WD_LINE_SPACING.SINGLE
        layout.space_before = layout.space_after = Pt(0)
        paragraph.add_run().add_picture(io.BytesIO(png), width=Mm(width_mm))

    def attachments(self, names: Sequence[str], *, label: str) -> None:
        """附件：1. … (the standard: one line below the body, indented two characters; numbered when several)."""
        if not names:
            return
        self.blank()
        colon = "：" if _chinese() else ": "
        for index, name in enumerate(names):
            lead = f"{label}{colon}" if index == 0 else " " * (len(label) + 1)
            number = f"{index + 1}. " if len(names) > 1 else ""
            self.paragraph(f"{lead}{number}{name}")

    def signature(self, unit: str, day: datetime.date) -> None:
        """The 落款: the issuing unit, the date below it, both right aligned (four characters from the right edge,
        where the stamp goes over them)."""
        self.blank()
        self.blank()
        for text in (unit, chinese_date(day)):
            paragraph = self.document.add_paragraph()
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _spacing(paragraph)
            paragraph.paragraph_format.right_indent = BODY_SIZE * 4
            _font(paragraph.add_run(text), FONTS["body"], BODY_SIZE)

    def to_bytes(self) -> bytes:
        _declare_fallbacks(self.document)
        buffer = io.BytesIO()
        self.document.save(buffer)
        return buffer.getvalue()


def _chinese() -> bool:
    return (get_language() or "").startswith("zh")


def _shown(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _repeat_header(row) -> None:
    properties = row._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    properties.append(repeat)


def _declare_fallbacks(document) -> None:
    """Name each East Asian font in the font table with its fallback (w:altName) and the GB2312 character set, so
    Word and WPS substitute the fallback, not a Latin font, on a computer without the first."""
    part = next((rel.target_part for rel in document.part.rels.values() if rel.reltype.endswith("/fontTable")), None)
    if part is None:
        return
    root = etree.fromstring(part.blob)
    namespace = root.nsmap.get("w") or "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    known = {font.get(f"{{{namespace}}}name") for font in root.findall(f"{{{namespace}}}font")}
    for name in FONTS.values():
        if name in known:
            continue
        font = etree.SubElement(root, f"{{{namespace}}}font", {f"{{{namespace}}}name": name})
        etree.SubElement(font, f"{{{namespace}}}altName", {f"{{{namespace}}}val": FONT_FALLBACKS[name]})
        etree.SubElement(font, f"{{{namespace}}}charset", {f"{{{namespace}}}val": "86"})
        etree.SubElement(font, f"{{{namespace}}}family", {f"{{{namespace}}}val": "auto"})
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def docx_response(content: bytes, filename: str) -> HttpResponse:
    """A .docx download; a Chinese file name is sent as RFC 5987 asks, as the workbooks' are."""
    response = HttpResponse(content, content_type=DOCX_TYPE)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response

"""Helpers of the fuzz test (test_fuzz.py): a page's forms as a browser would submit them, with each field's kind;
hostile values per kind; hostile files (a pixel flood, zip bombs); and how to tell a refused submission."""

from __future__ import annotations

import functools
import io
import struct
import zlib
from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.contrib.messages import constants as message_levels
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms import BaseForm, BaseFormSet

# A form as the page renders it ------------------------------------------------------------------------------------

TEXT_TYPES = {"text", "search", "email", "url", "tel", "password", ""}


@dataclass
class Field:
    name: str
    kind: str  # text | number | date | time | datetime | choice | multichoice | checkbox | hidden | file
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    method: str
    action: str | None
    fields: dict[str, Field] = field(default_factory=dict)
    data: list[tuple[str, str]] = field(default_factory=list)  # what the browser submits, in order
    submits: list[tuple[str, str]] = field(default_factory=list)  # named submit buttons

    def add(self, name: str, kind: str, options: list[str] | None = None) -> None:
        if name not in self.fields:
            self.fields[name] = Field(name, kind, options or [])
        elif options:
            self.fields[name].options += options


def _kind_of_input(attrs: dict) -> str:
    kind = (attrs.get("type") or "text").lower()
    classes = set((attrs.get("class") or "").split())
    if "vDateField" in classes or kind == "date":
        return "date"
    if "vTimeField" in classes or kind == "time":
        return "time"
    if kind == "datetime-local":
        return "datetime"
    if kind in ("number", "range"):
        return "number"
    if kind in ("checkbox", "radio", "hidden", "file"):
        return {"radio": "choice"}.get(kind, kind)
    return "text"


class FormParser(HTMLParser):
    """Every form of a page with its fields' kinds and the values a browser would send without the user touching
    anything (checked boxes, selected options or the first, text areas' text); disabled fields are not sent."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select = None
        self._option = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = Form(method=(a.get("method") or "get").lower(), action=a.get("action"))
            self.forms.append(self._form)
            return
        form = self._form
        if form is None or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "image", "button", "reset"):
                if kind == "submit":
                    form.submits.append((name, a.get("value", "")))
                return
            field_kind = _kind_of_input(a)
            value = a.get("value", "on" if kind == "checkbox" else "")
            if kind in ("checkbox", "radio"):
                existing = form.fields.get(name)
                if existing is None:
                    form.add(name, field_kind, [value])
                else:  # a group of boxes: a multiple choice
                    existing.options.append(value)
                    existing.kind = "multichoice" if kind == "checkbox" else existing.kind
                if "checked" in a:
                    form.data.append((name, value))
                return
            form.add(name, field_kind)
            if kind != "file":
                form.data.append((name, value))
        elif tag == "button" and name and (a.get("type") or "submit").lower() == "submit":
            form.submits.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select = {"name": name, "first": None, "chosen": [], "multiple": "multiple" in a, "options": []}
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "text": "", "selected": "selected" in a}
        elif tag == "textarea" and name:
            self._textarea = [name, ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data
        if self._option is not None:
            self._option["text"] += data

    def _end_option(self):
        option, select = self._option, self._select
        if option is None or select is None:
            return
        value = option["value"] if option["value"] is not None else option["text"].strip()
        select["options"].append(value)
        if select["first"] is None:
            select["first"] = value
        if option["selected"]:
            select["chosen"].append(value)
        self._option = None

    def handle_endtag(self, tag):
        if tag == "option":
            self._end_option()
        elif tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            self._end_option()
            select, self._select = self._select, None
            if self._form is not None:
                chosen = select["chosen"] or ([] if select["multiple"] else [select["first"] or ""])
                self._form.add(select["name"], "multichoice" if select["multiple"] else "choice", select["options"])
                self._form.data += [(select["name"], value) for value in chosen]
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            self._textarea = None
            if self._form is not None:
                self._form.add(name, "text")
                self._form.data.append((name, text.removeprefix("\r\n").removeprefix("\n")))


def forms_of(html: str) -> list[Form]:
    parser = FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


# Hostile values -------------------------------------------------------------------------------------------------

DIGITS_25 = "1234567890123456789012345"
COMMON = {
    "empty": "",
    "spaces": "   ",
    "NUL": "a\x00b",
    "10,000 characters": "危" * 10_000,
    "emoji": "🏠😀👨‍👩‍👧",
    "HTML and script": '<script>alert("x")</script><b onmouseover=alert(1)>x</b>',
    "formula": "=1+1",
}
NUMBERS = {
    "negative": "-1",
    "25 digits": DIGITS_25,
    "-25 digits": "-" + DIGITS_25,
    "text in a number": "一二三",
    "NaN": "NaN",
    "1e400": "1e400",
}
DATES = {
    "year 1": "0001-01-01",
    "year 9999": "9999-12-31",
    "30 February": "2026-02-30",
    "negative": "-1",
    "25 digits": DIGITS_25,
}
VALUES_BY_KIND: dict[str, dict[str, str]] = {
    "text": {**COMMON, "negative": "-1", "25 digits": DIGITS_25},
    "number": {**COMMON, **NUMBERS},
    "date": {**COMMON, **DATES},
    "time": {**COMMON, "25:61": "25:61", "negative": "-1"},
    "datetime": {
        **COMMON,
        "year 1": "0001-01-01T00:00",
        "year 9999": "9999-12-31T23:59",
        "30 February": "2026-02-30T10:00",
        "negative": "-1",
        "25 digits": DIGITS_25,
    },
    "choice": {**COMMON, "no such choice": "不存在的选项", "negative": "-1", "25 digits": DIGITS_25},
    "multichoice": {**COMMON, "no such choice": "不存在的选项", "negative": "-1", "25 digits": DIGITS_25},
    "checkbox": {"unchecked": None, "text": "不是勾选"},
    "hidden": {**COMMON, **NUMBERS},
    "file": {},  # HOSTILE_FILES
}


def hostile_values(kind: str) -> dict[str, object]:
    """{label: value} for a field of this kind; a value of None leaves the field out (an unchecked box), a callable
    makes a fresh upload (a file object is read once)."""
    if kind == "file":
        return dict(HOSTILE_FILES)
    return dict(VALUES_BY_KIND[kind])


# Hostile files -----------------------------------------------------------------------------------------------------


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def png_claiming(width: int, height: int) -> bytes:
    """A valid PNG header claiming width × height pixels, with almost no pixel data: 30 GB if decoded."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )


BOMB_UNPACKED = 1 << 30  # one part of 1 GiB of zeros, about 1 MB packed (deflate's best is about 1,000 to 1)


@functools.cache
def _zeros_deflated(size: int) -> tuple[bytes, int]:
    """A raw deflate stream of `size` zero bytes, and its CRC, without compressing `size` bytes: after a full
    flush the compressor starts afresh, so each MiB of zeros compresses to the same bytes."""
    mib = 1 << 20
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(b"\x00" * mib) + compressor.flush(zlib.Z_FULL_FLUSH)
    stream = block * (size // mib) + b"\x03\x00"  # an empty final block
    crc, zeros = 0, b"\x00" * mib
    for _ in range(size // mib):
        crc = zlib.crc32(zeros, crc)
    assert zlib.decompressobj(-15).decompress(stream[: len(block) * 2], 2 * mib) == b"\x00" * (2 * mib)
    return stream, crc & 0xFFFFFFFF


def _zip(members: list[tuple[str, bytes]], bomb: str) -> bytes:
    """A zip archive of small deflated members plus one member `bomb` of BOMB_UNPACKED zeros (written by hand:
    zipfile cannot store an already deflated stream)."""
    out, directory = io.BytesIO(), []
    entries = [(name, zlib.compress(data, 9)[2:-4], zlib.crc32(data), len(data)) for name, data in members]
    stream, crc = _zeros_deflated(BOMB_UNPACKED)
    entries.append((bomb, stream, crc, BOMB_UNPACKED))
    for name, packed, crc32, size in entries:
        offset, encoded = out.tell(), name.encode()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc32, len(packed), size, len(encoded), 0))
        out.write(encoded + packed)
        directory.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc32, len(packed), size, len(encoded),
                0, 0, 0, 0, 0, offset,
            ) + encoded
        )  # fmt: skip
    start = out.tell()
    out.write(b"".join(directory))
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), out.tell() - start, start, 0))
    return out.getvalue()


CONTENT_TYPES = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'


@functools.cache
def xlsx_bomb() -> bytes:
    """A workbook whose one sheet unpacks to 1 GiB."""
    workbook = b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets/></workbook>'
    return _zip(
        [
            ("[Content_Types].xml", CONTENT_TYPES),
            ("xl/workbook.xml", workbook),
            ("xl/_rels/workbook.xml.rels", b"<Relationships/>"),
        ],
        "xl/worksheets/sheet1.xml",
    )


@functools.cache
def docx_bomb() -> bytes:
    """A Word document whose body unpacks to 1 GiB."""
    return _zip([("[Content_Types].xml", CONTENT_TYPES)], "word/document.xml")


HOSTILE_FILES = {
    "pixel flood PNG": lambda: SimpleUploadedFile("flood.png", png_claiming(100_000, 100_000)),
    "zip bomb (xlsx)": lambda: SimpleUploadedFile("bomb.xlsx", xlsx_bomb()),
    "zip bomb (docx)": lambda: SimpleUploadedFile("bomb.docx", docx_bomb()),
    "damaged JPEG": lambda: SimpleUploadedFile("broken.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 200),
    "empty file": lambda: SimpleUploadedFile("empty.png", b""),
}


# Was the submission refused? ----------------------------------------------------------------------------------------


def _contexts(response):
    context = response.context
    if context is None:
        return []
    return list(context) if isinstance(context, list) else [context]


def form_errors(response) -> bool:
    """Whether the page answers with a bound form or formset that has errors (the admin's and our own pages)."""
    for context in _contexts(response):
        values = context.flatten().values() if hasattr(context, "flatten") else context.values()
        for value in values:
            for candidate in (value, getattr(value, "form", None), getattr(value, "formset", None)):
                if isinstance(candidate, BaseForm) and candidate.is_bound and candidate.errors:
                    return True
                if isinstance(candidate, BaseFormSet) and candidate.is_bound and candidate.total_error_count():
                    return True
    return False


def error_messages(response) -> list[str]:
    """The error messages (django.contrib.messages) the request queued, for a view that redirects with one."""
    storage = getattr(response.wsgi_request, "_messages", None)
    queued = getattr(storage, "_queued_messages", [])
    return [str(message) for message in queued if message.level >= message_levels.ERROR]


def refusal(response) -> str | None:
    """How the page refused the submission (a 4xx, a form with errors, an error message), or None."""
    if response.status_code >= 400:
        return f"status {response.status_code}"
    if form_errors(response):
        return f"status {response.status_code}, a form with errors"
    if errors := error_messages(response):
        return f"status {response.status_code}, error message {errors[0][:100]!r}"
    return None

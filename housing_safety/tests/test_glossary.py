"""The catalogue follows the glossary (docs/glossary.md): for each of its terms whose English is a msgid of the
catalogue, the Chinese translation of that msgid uses the glossary's Chinese, without a context and in every
context where it appears (a row with a context speaks for that context only; "(none)" for the entry without one).

The glossary's tables are read as they are written: a row pairs an English cell with a Chinese cell; parts in
parallel (" → ", " / ", ", " against "，") pair part by part, one English part against several Chinese ones lists
alternatives, and a parenthesis on both sides is a second term ("household (covered household)" and
"农户（帮扶对象户）"); an English parenthesis alone explains the term."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[2]
GLOSSARY = ROOT / "docs/glossary.md"
PO = ROOT / "locale/zh_Hans/LC_MESSAGES/django.po"
NO_CONTEXT = "(none)"


def table_rows(text: str) -> list[tuple[str, str, str]]:
    """(English, Chinese, context) of every table row below a header row "| English | Chinese | context |..."."""
    rows, in_table = [], False
    for line in text.splitlines():
        if not line.startswith("|"):
            in_table = False
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[:2] == ["English", "Chinese"]:
            in_table = True
        elif in_table and not set("".join(cells)) <= set("-: "):
            rows.append((cells[0], cells[1], cells[2].strip("`") if len(cells) > 2 else ""))
    return rows


_PARENS = re.compile(r"\s*(?<!%)[(（]([^)）]*)[)）]\s*")  # not a placeholder's "%(name)s"


def _parts(text: str, separator: str) -> list[str]:
    """`text` split at `separator` outside parentheses."""
    parts, depth, start, index = [], 0, 0, 0
    while index < len(text):
        char = text[index]
        depth += char in "(（" and text[index - 1 : index] != "%"
        depth -= char in ")）" and depth > 0
        if depth == 0 and text.startswith(separator, index):
            parts.append(text[start:index].strip())
            index = start = index + len(separator)
            continue
        index += 1
    return [*parts, text[start:].strip()]


def _split(english: str, chinese: str) -> list[tuple[str, list[str]]]:
    """[(English term, [acceptable Chinese])] of one cell pair."""
    for en_sep, zh_sep in ((" → ", " → "), (" vs ", " / "), (" / ", " / "), (", ", "，")):
        en_parts, zh_parts = _parts(english, en_sep), _parts(chinese, zh_sep)
        if len(en_parts) > 1 and len(en_parts) == len(zh_parts):
            return [pair for en, zh in _shared(en_parts, zh_parts) for pair in _split(en, zh)]
        if len(en_parts) == 1 and len(zh_parts) > 1 and en_sep == " / ":
            return [(term, zh_parts) for term, _zh in _split(english, zh_parts[0])]
        if len(en_parts) > 1 and len(zh_parts) == 1 and en_sep == ", ":
            return [pair for en in en_parts for pair in _split(en, chinese)]
    en_extra, zh_extra = _PARENS.search(english), _PARENS.search(chinese)
    base = _PARENS.sub(" ", english).strip()
    if not en_extra:  # a Chinese parenthesis alone is part of the Chinese term: 乡镇（街道）工作人员
        return [(base, [chinese])]
    if not zh_extra:  # an English parenthesis alone explains the term: helper (assigned helper)
        return [(base, [chinese])]
    terms = [(base, [_PARENS.sub("", chinese).strip()])]
    extra = en_extra.group(1)
    if extra.startswith("or "):  # township (or subdistrict): another name
        extra = extra[3:]
    elif base.split()[-1] not in extra.split() and " " not in extra:  # revisit (quarterly): a kind, 季度回访
        extra = f"{extra} {base}"
    return [*terms, (extra, [zh_extra.group(1)])]


def _shared(en_parts: list[str], zh_parts: list[str]) -> list[tuple[str, str]]:
    """Parts that share the first part's leading words (and the last part's placeholder) written out in full:
    "Can add / change / view %(model)s" gives "Can change %(model)s" with "可修改%(model)s", "grade A / B" gives
    "grade B"."""
    placeholder = re.search(r"\s*%\(\w+\)s$", en_parts[-1])
    suffix = placeholder.group(0) if placeholder else ""
    bare = [part.removesuffix(suffix) for part in en_parts]
    single = all(" " not in part for part in bare[1:])
    if not (" " in bare[0] and single and (suffix or all(len(part) == 1 for part in bare[1:]))):
        return list(zip(en_parts, zh_parts, strict=True))
    lead = bare[0].rsplit(" ", 1)[0] + " "
    zh_lead = zh_parts[0].rsplit(" ", 1)[0] + " " if " " in zh_parts[0] else ""
    zh_suffix = suffix.strip()
    return [
        (
            (lead if index else "") + en + suffix,
            (zh_lead if index else "") + (zh if zh.endswith(zh_suffix) else zh + zh_suffix),
        )
        for index, (en, zh) in enumerate(zip(bare, zh_parts, strict=True))
    ]


def glossary_terms() -> list[tuple[str, list[str], str]]:
    """(English term, [acceptable Chinese], context) for every term of the glossary's tables."""
    terms = []
    for english, chinese, context in table_rows(GLOSSARY.read_text(encoding="utf-8")):
        english = english.replace("`", "")
        for term, accepted in _split(english, chinese):
            terms.append((term, [zh for zh in accepted if zh], context))
    return terms


def catalogue() -> dict[str, list[polib.POEntry]]:
    """The catalogue's active entries by their msgid in lower case (a term is written in lower case in the
    glossary, capitalised where it heads a column or a page)."""
    by_msgid: dict[str, list[polib.POEntry]] = {}
    for entry in polib.pofile(str(PO)):
        if not entry.obsolete:
            by_msgid.setdefault(entry.msgid.lower(), []).append(entry)
    return by_msgid


def _text(entry: polib.POEntry) -> str:
    return entry.msgstr_plural[0] if entry.msgid_plural else entry.msgstr


def disagreements() -> tuple[list[str], int]:
    """Every catalogue entry whose translation does not use its glossary term's Chinese; and how many entries were
    checked."""
    terms, entries = glossary_terms(), catalogue()
    named_contexts = {(term.lower(), context) for term, _zh, context in terms if context and context != NO_CONTEXT}
    wrong, checked = [], 0
    for term, accepted, context in terms:
        for entry in entries.get(term.lower(), []):
            if context == NO_CONTEXT:
                applies = not entry.msgctxt
            elif context:
                applies = entry.msgctxt == context
            else:  # the term in general: without a context, and in every context the glossary does not name
                applies = (term.lower(), entry.msgctxt) not in named_contexts
            if not applies:
                continue
            checked += 1
            if not any(zh in _text(entry) for zh in accepted):
                where = f" [{entry.msgctxt}]" if entry.msgctxt else ""
                wrong.append(f"{entry.msgid}{where}: {_text(entry)!r}, glossary: {' / '.join(accepted)}")
    return wrong, checked


def test_the_glossary_is_read_as_it_is_written():
    terms = {(term, tuple(zh), context) for term, zh, context in glossary_terms()}
    for expected in (
        ("household", ("农户",), ""),
        ("covered household", ("帮扶对象户",), ""),
        ("house", ("房屋",), ""),
        ("responsible unit", ("责任单位", "单位"), ""),
        ("renovated safe", ("改造安全",), ""),
        ("problem list", ("整改问题清单",), ""),
        ("township review", ("乡镇审核",), ""),
        ("Overdue", ("逾期未鉴定",), "appraisal"),
        ("Overdue", ("已逾期",), "complaint"),
        ("Due on", ("截止日期",), NO_CONTEXT),
        ("Due on", ("应鉴定日期",), "appraisal"),
        ("quarterly revisit", ("季度回访",), ""),
        ("dynamic monitoring", ("动态监测",), ""),
        ("Lists and reports", ("名单与报表",), "menu section"),
        ("Can change %(model)s", ("可修改%(model)s",), "permission"),
    ):
        assert expected in terms, expected


def test_every_glossary_term_in_the_catalogue_uses_the_glossarys_chinese():
    wrong, checked = disagreements()
    assert checked >= 30, f"only {checked} catalogue entries matched a glossary term: is the glossary still read?"
    assert wrong == []


@pytest.mark.parametrize(
    ("msgid", "context", "chinese"),
    [
        ("Overdue", "appraisal", "逾期未鉴定"),
        ("Overdue", "complaint", "已逾期"),
        ("Due on", None, "截止日期"),
        ("Due on", "appraisal", "应鉴定日期"),
        ("Due on", "revisit", "应回访日期"),
        ("Problem", None, "整改问题"),
        ("Problem", "problem list column", "问题"),
    ],
)
def test_the_words_with_several_meanings_are_each_in_the_catalogue(msgid, context, chinese):
    entries = [entry for entry in catalogue()[msgid.lower()] if entry.msgid == msgid and entry.msgctxt == context]
    assert [_text(entry) for entry in entries] == [chinese]

"""Reading a department's list as it keeps it: the header row found by the names departments give their columns
(DEFAULT_HEADERS, and a department's own ColumnMapping), and each row normalised as a clerk reads it (half-width,
ID number and phone cleaned, township and village names with or without 镇/乡/村), with the reasons a row cannot
be used."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from housing_safety.dates import BIRTH, date_error

from .. import cleaning
from ..identity import birth_date_of, half_width, id_number_error, normalise_id_number, normalise_phone, validate_phone
from ..models import ColumnMapping, Unit, Village
from ..sheets import SheetError

HEADER_SEARCH_ROWS = 20

# Header text as departments write it -> our field. A department's ColumnMapping adds to (and overrides) these.
DEFAULT_HEADERS = {
    **dict.fromkeys(["姓名", "户主姓名", "户主", "户主名", "对象姓名", "申请人", "户主(对象)姓名"], "head_name"),
    **dict.fromkeys(
        ["身份证号", "身份证号码", "公民身份号码", "户主身份证号", "户主身份证号码", "身份证", "证件号码"], "id_number"
    ),
    **dict.fromkeys(["联系电话", "电话", "手机", "手机号", "手机号码", "联系方式", "电话号码"], "phone"),
    **dict.fromkeys(["乡镇", "乡镇(街道)", "所属乡镇", "乡(镇)", "乡镇街道", "镇(乡)"], "township"),
    **dict.fromkeys(["村", "行政村", "村(社区)", "所属村", "村居", "村委会", "村(居)"], "village"),
    **dict.fromkeys(["类别", "对象类别", "帮扶对象类别", "人员类别", "户类型", "救助类别", "对象类型"], "categories"),
    **dict.fromkeys(["家庭人口", "家庭人口数", "人口数", "家庭人数", "户人口数", "保障人口"], "members_count"),
    **dict.fromkeys(["出生日期", "出生年月", "出生年月日"], "birth_date"),
    # The household's poverty state (未脱贫/已脱贫/新致贫) and the year it got out, as the poverty office's system
    # exports them; 户类型 stays a category column (lists use it for 低保户, 特困户 ...).
    **dict.fromkeys(
        ["帮扶状态", "脱贫状态", "贫困户状态", "贫困状态", "是否脱贫", "脱贫情况", "脱贫标志", "脱贫属性"],
        "poverty_status",
    ),
    **dict.fromkeys(["脱贫年度", "脱贫年份", "脱贫年", "脱贫时间", "脱贫年月"], "poverty_exit_year"),
}
FIELD_LABELS = {
    "head_name": gettext_lazy("Name"),
    "id_number": gettext_lazy("ID number"),
    "phone": gettext_lazy("Phone"),
    "township": gettext_lazy("Township"),
    "village": gettext_lazy("Village"),
    "categories": gettext_lazy("Categories"),
    "members_count": gettext_lazy("Members"),
    "birth_date": gettext_lazy("Date of birth"),
    "poverty_status": gettext_lazy("Poverty state"),
    "poverty_exit_year": gettext_lazy("Year out of poverty"),
    "newly_poor_on": gettext_lazy("Newly poor since"),
}


def header_key(value) -> str:
    """Header text compared as a clerk reads it: half-width, no spaces or line breaks."""
    return re.sub(r"\s+", "", half_width(cleaning.text(value)))


def headers_for(unit: Unit) -> dict[str, str]:
    mapping = {header_key(k): v for k, v in DEFAULT_HEADERS.items()}
    saved = ColumnMapping.objects.filter(unit=unit).values_list("columns", flat=True).first() or {}
    mapping.update({header_key(k): v for k, v in saved.items()})
    return mapping


@dataclass
class Parsed:
    row_number: int
    raw: list
    values: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)  # [header, reason]
    birth_date: datetime.date | None = None
    id_label: str = ""  # the list's own heading of the ID column


def find_header(rows: Iterator[tuple[int, list]], mapping: dict[str, str]) -> tuple[list, dict[int, str]]:
    """The header row: the first of the first rows naming a name or ID column and one more known column."""
    for _count in range(HEADER_SEARCH_ROWS):
        try:
            _number, cells = next(rows)
        except StopIteration:
            break
        columns = {index: mapping[header_key(cell)] for index, cell in enumerate(cells) if header_key(cell) in mapping}
        found = set(columns.values())
        if len(found) >= 2 and found & {"head_name", "id_number"}:
            return [cleaning.text(cell) for cell in cells], columns
    raise SheetError(
        _(
            "No header row found in the first %(rows)s rows: name the columns 姓名 and 身份证号码 (or set this "
            "department's column mapping in the admin)."
        )
        % {"rows": HEADER_SEARCH_ROWS}
    )


class Villages:
    """Township and village names as clerks write them (with or without 镇/乡/村) -> our village."""

    def __init__(self):
        self.by_pair: dict[tuple[str, str], int] = {}
        self.by_name: dict[str, list[int]] = {}
        self.township_of: dict[int, int] = {}
        for pk, village, township, township_id in Village.objects.values_list(
            "pk", "name", "township__name", "township_id"
        ):
            self.township_of[pk] = township_id
            village, township = half_width(village), half_width(township)
            for t in {township, self._bare(township)}:
                for v in {village, self._bare(village)}:
                    self.by_pair[(t, v)] = pk
            for v in {village, self._bare(village)}:
                self.by_name.setdefault(v, []).append(pk)

    @staticmethod
    def _bare(name: str) -> str:
        """Without the words clerks add or leave out: (演示), 人民政府, 镇, 乡, 街道, 村委会, 村, 社区."""
        previous = None
        while previous != name:
            previous = name
            name = re.sub(r"(\(演示\)|人民政府|街道办事处|村民委员会|村委会|镇|乡|街道|村|社区)$", "", name)
        return name or previous

    def find(self, township: str, village: str) -> int | None:
        if township:
            return self.by_pair.get((township, village)) or self.by_pair.get(
                (self._bare(township), self._bare(village))
            )
        candidates = self.by_name.get(village) or self.by_name.get(self._bare(village)) or []
        return candidates[0] if len(candidates) == 1 else None


def parse_row(
    number: int, cells: list, columns: dict[int, str], header: list, villages: Villages, today: datetime.date
) -> Parsed:
    # Numbers stay numbers (an Excel date is a serial number), so the rows-to-fix file reads back the same.
    raw = [
        cell if isinstance(cell, int | float) and not isinstance(cell, bool) else cleaning.text(cell) for cell in cells
    ]
    parsed = Parsed(row_number=number, raw=raw)
    cell = {name: cells[index] if index < len(cells) else None for index, name in columns.items()}
    heading = {name: header[index] for index, name in columns.items()}
    parsed.id_label = heading.get("id_number") or str(FIELD_LABELS["id_number"])

    def fail(name: str, reason: str) -> None:
        parsed.errors.append([heading.get(name) or str(FIELD_LABELS[name]), reason])

    name = re.sub(r"\s+", "", cleaning.text(cell.get("head_name")))
    if name:
        parsed.values["head_name"] = name[:50]
    else:
        fail("head_name", _("The name is empty."))
    id_number = normalise_id_number(cell.get("id_number"))
    parsed.values["id_number"] = id_number
    if id_number:
        reason = id_number_error(id_number, today=today)
        if reason:
            parsed.values["id_error"] = reason
        else:
            parsed.birth_date = birth_date_of(id_number)
    if parsed.birth_date is None:
        try:
            parsed.birth_date = cleaning.parse_date(cell.get("birth_date"))
        except ValueError as error:
            fail("birth_date", str(error))
        if parsed.birth_date is not None and (reason := date_error(parsed.birth_date, BIRTH)):
            parsed.birth_date = None
            fail("birth_date", reason)
    phone = normalise_phone(cell.get("phone"))
    if phone:
        try:
            validate_phone(phone)
            parsed.values["phone"] = phone
        except ValidationError as error:
            fail("phone", error.messages[0])
    township, village = cleaning.plain(cell.get("township")), cleaning.plain(cell.get("village"))
    if village:
        village_id = villages.find(township, village)
        if village_id is None:
            fail(
                "village",
                _("No village “%(village)s” in %(township)s in our registry.")
                % {"village": village, "township": township or _("any township")},
            )
        parsed.values["village_id"] = village_id
    _read_poverty_state(parsed, cell, fail, today)
    try:
        members = cleaning.parse_int(cell.get("members_count"), unit="人")
        if members is not None and not 1 <= members <= 30:
            raise ValueError(_("The number of members must be between 1 and 30."))
        parsed.values["members_count"] = members
    except ValueError as error:
        fail("members_count", str(error))
    return parsed


def _read_poverty_state(parsed: Parsed, cell: dict, fail, today: datetime.date) -> None:
    """The categories, and the household's poverty state from the category cell ('建档立卡贫困户（新致贫）') or its
    own column (帮扶状态 …), with the year out of poverty from either or its column (脱贫年度 …)."""
    status, year = "", None
    try:
        parsed.values["categories"], status, year = cleaning.parse_categories_with_state(cell.get("categories"))
    except ValueError as error:
        fail("categories", str(error))
    try:
        column_status, column_year = cleaning.parse_state(cell.get("poverty_status"))
    except ValueError as error:
        fail(
            "poverty_status",
            _("“%(state)s” is not a known poverty state (write one of: %(known)s).")
            % {"state": str(error), "known": cleaning.KNOWN_STATES},
        )
        column_status, column_year = "", None
    if status and column_status and status != column_status:
        fail("poverty_status", _("The category cell names another poverty state than this column."))
    status, year = status or column_status, year or column_year
    raw_year = cleaning.plain(cell.get("poverty_exit_year"))
    if raw_year:
        found = re.match(r"((?:19|20)\d\d)", raw_year)
        if found is None or not 2013 <= int(found.group(1)) <= today.year:
            fail(
                "poverty_exit_year",
                _("“%(value)s” is not a year out of poverty (2013 to %(year)s).")
                % {"value": raw_year, "year": today.year},
            )
        else:
            year = int(found.group(1))
    elif year is not None and not 2013 <= year <= today.year:
        fail(
            "categories",
            _("%(value)s is not a year out of poverty (2013 to %(year)s).") % {"value": year, "year": today.year},
        )
    parsed.values["poverty_status"] = status
    parsed.values["poverty_exit_year"] = year if status == "exited" else None


def chunks(rows: Iterator, size: int) -> Iterator[list]:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def has_identity(cells: list, columns: dict[int, str]) -> bool:
    """Rows without a name and an ID (titles, totals, 制表人 lines) are not households."""
    return any(
        cleaning.text(cells[i]) for i, name in columns.items() if name in ("head_name", "id_number") and i < len(cells)
    )

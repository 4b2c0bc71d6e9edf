"""Partner departments' lists (信息比对): read a department's list as it keeps it, compare it with our records
(preview, which writes only the comparison), then apply what the liaison confirms in one transaction.

Reading streams (households.sheets); each chunk of rows is normalised as a clerk reads it and matched against our
households with one query per chunk. Confirming is set-based SQL (INSERT ... SELECT, UPDATE ... FROM) over the
stored comparison, with history rows written the same way, so a 100,000-row list costs a few statements.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from housing_safety.access import require_perm, scope_of
from housing_safety.bulk import copy_csv, insert_select
from housing_safety.dates import BIRTH, check_date, date_error

from . import cleaning
from .identity import birth_date_of, half_width, id_number_error, normalise_id_number, normalise_phone, validate_phone
from .models import ChangeProposal, ColumnMapping, DepartmentList, Household, ListRow, Unit, Village
from .sheets import SheetError, check_upload, expected_rows, read_rows

IMPORT = "households.add_departmentlist"
CHUNK = 2000
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
}


def header_key(value) -> str:
    """Header text compared as a clerk reads it: half-width, no spaces or line breaks."""
    return re.sub(r"\s+", "", half_width(cleaning.text(value)))


def headers_for(unit: Unit) -> dict[str, str]:
    mapping = {header_key(k): v for k, v in DEFAULT_HEADERS.items()}
    saved = ColumnMapping.objects.filter(unit=unit).values_list("columns", flat=True).first() or {}
    mapping.update({header_key(k): v for k, v in saved.items()})
    return mapping


def lists_for_user(user) -> QuerySet[DepartmentList]:
    """The bureau sees every department's lists; a liaison their own department's; others none."""
    if not user.has_perm("households.view_departmentlist"):
        return DepartmentList.objects.none()
    lists = DepartmentList.objects.select_related("unit", "uploaded_by")
    scope = scope_of(user)
    if scope.everything:
        return lists
    return lists.filter(unit_id=scope.unit_id) if scope.unit_id else lists.none()


def units_for_import(user) -> QuerySet[Unit]:
    """The departments whose lists the user may upload and confirm: a liaison's own, any for the bureau admin."""
    if not user.has_perm(IMPORT):
        return Unit.objects.none()
    departments = Unit.objects.filter(kind=Unit.Kind.DEPARTMENT, is_active=True)
    scope = scope_of(user)
    if scope.everything:
        return departments
    return departments.filter(pk=scope.unit_id) if scope.unit_id else departments.none()


# Reading and normalising -----------------------------------------------------------------------------------------


@dataclass
class Parsed:
    row_number: int
    raw: list
    values: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)  # [header, reason]
    birth_date: datetime.date | None = None
    id_label: str = ""  # the list's own heading of the ID column


def _find_header(rows: Iterator[tuple[int, list]], mapping: dict[str, str]) -> tuple[list, dict[int, str]]:
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
        _("No header row found in the first %(rows)s rows: name the columns 姓名 and 身份证号码 (or set this "
          "department's column mapping in the admin).") % {"rows": HEADER_SEARCH_ROWS}
    )  # fmt: skip


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


def _parse(
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
            fail("village", _("No village “%(village)s” in %(township)s in our registry.")
                 % {"village": village, "township": township or _("any township")})  # fmt: skip
        parsed.values["village_id"] = village_id
    try:
        parsed.values["categories"] = cleaning.parse_categories(cell.get("categories"))
    except ValueError as error:
        fail("categories", str(error))
    try:
        members = cleaning.parse_int(cell.get("members_count"), unit="人")
        if members is not None and not 1 <= members <= 30:
            raise ValueError(_("The number of members must be between 1 and 30."))
        parsed.values["members_count"] = members
    except ValueError as error:
        fail("members_count", str(error))
    return parsed


def _chunks(rows: Iterator, size: int) -> Iterator[list]:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# Comparing -----------------------------------------------------------------------------------------------------


def _categories_text(codes: Iterable[str]) -> str:
    codes = sorted(set(codes))
    return f",{','.join(codes)}," if codes else ""


MATCHED_FIELDS = ("pk", "id_number", "head_name", "phone", "village_id", "members_count", "source_id", "status")


def _categories_of(household_ids: Iterable[int]) -> dict[int, set[str]]:
    categories: dict[int, set[str]] = {}
    through = Household.categories.through.objects.filter(household_id__in=list(household_ids))
    for household_id, code in through.values_list("household_id", "householdcategory__code"):
        categories.setdefault(household_id, set()).add(code)
    return categories


def _compare(
    parsed: list[Parsed], unit: Unit, department_list: DepartmentList, seen: dict[str, int], villages: Villages
) -> list:
    """One chunk: match by ID number (one query), suggest by name + birth date + village (one query)."""
    ids = [p.values["id_number"] for p in parsed if p.values.get("id_number") and not p.values.get("id_error")]
    ours = {h["id_number"]: h for h in Household.objects.filter(id_number__in=ids).values(*MATCHED_FIELDS)}
    categories = _categories_of(h["pk"] for h in ours.values())
    unmatched = [p for p in parsed if not p.errors and (not p.values.get("id_number") or p.values.get("id_error"))]
    candidates: dict[tuple[str, int], list[dict]] = {}
    if unmatched:
        similar = Household.objects.filter(
            head_name__in={p.values["head_name"] for p in unmatched},
            village_id__in={p.values.get("village_id") for p in unmatched if p.values.get("village_id")},
        ).values("pk", "head_name", "village_id", "id_number")
        for h in similar:
            candidates.setdefault((h["head_name"], h["village_id"]), []).append(h)
    rows = []
    for p in parsed:
        v = p.values
        # A plain record, not a model instance: building 100,000 ListRow objects costs more than writing them.
        row = SimpleNamespace(
            department_list_id=department_list.pk, row_number=p.row_number, raw=p.raw, outcome="",
            household_id=None, suggested_id=None, changes={}, proposed={}, errors=[],
            head_name=v.get("head_name", ""), id_number=v.get("id_number", "")[:18], phone=v.get("phone", ""),
            village_id=v.get("village_id"), categories=_categories_text(v.get("categories", [])),
            members_count=v.get("members_count"),
        )  # fmt: skip
        errors = list(p.errors)
        id_number = v.get("id_number")
        if id_number and not v.get("id_error") and id_number in seen:
            errors.append([p.id_label, _("The same ID number as row %(row)s.") % {"row": seen[id_number]}])
        elif id_number and not v.get("id_error"):
            seen[id_number] = p.row_number
        if errors:
            row.outcome, row.errors = ListRow.Outcome.INVALID, errors
        elif id_number and not v.get("id_error"):
            household = ours.get(id_number)
            if household is None:
                if v.get("village_id") is None:
                    row.outcome = ListRow.Outcome.INVALID
                    row.errors = [[str(FIELD_LABELS["village"]), _("A new household needs its township and village.")]]
                else:
                    row.outcome = ListRow.Outcome.NEW
            else:
                row.household_id = household["pk"]
                row.changes, row.proposed = split_changes(
                    household, v, categories.get(household["pk"], set()), unit, villages.township_of
                )
                if household["source_id"] != unit.pk:
                    row.outcome = ListRow.Outcome.REGISTERED  # whatever differs: the liaison learns only that
                else:
                    changed = row.changes or row.proposed
                    row.outcome = ListRow.Outcome.CHANGED if changed else ListRow.Outcome.UNCHANGED
        else:
            reason = v.get("id_error") or _("The ID number is empty.")
            matches = [
                h for h in candidates.get((v.get("head_name"), v.get("village_id")), [])
                if p.birth_date and h["id_number"] and h["id_number"][6:14] == f"{p.birth_date:%Y%m%d}"
            ]  # fmt: skip
            if len(matches) == 1:
                row.outcome, row.suggested_id = ListRow.Outcome.SUGGESTED, matches[0]["pk"]
                row.errors = [[p.id_label, reason]]
            else:
                row.outcome, row.errors = ListRow.Outcome.INVALID, [[p.id_label, reason]]
        rows.append(row)
    return rows


DIRECT_FIELDS = ("head_name", "phone", "village", "members_count")  # what a list may change on its own households


def split_changes(
    household: dict, values: dict, categories: set[str], unit: Unit, township_of: dict[int, int]
) -> tuple[dict, dict]:
    """The differences between a list's row and our household, each [ours, theirs], split into what confirming
    applies and what it proposes to the township. A department's authority is its own programme: it adds its
    categories to any household, and changes name, phone, members and village only on its own households (source),
    within their township. A move between townships, taking a removed household back onto the list and taking over
    the source are never applied by a list: they, and every difference on another's household, are proposed."""
    differences = {}
    if values.get("head_name") and values["head_name"] != household["head_name"]:
        differences["head_name"] = [household["head_name"], values["head_name"]]
    if values.get("phone") and values["phone"] != household["phone"]:
        differences["phone"] = [household["phone"], values["phone"]]
    if values.get("village_id") and values["village_id"] != household["village_id"]:
        differences["village"] = [household["village_id"], values["village_id"]]
    if values.get("members_count") and values["members_count"] != household["members_count"]:
        differences["members_count"] = [household["members_count"], values["members_count"]]
    if household["source_id"] is None:
        differences["source"] = [None, unit.pk]
    if household["status"] != Household.Status.ACTIVE:
        differences["status"] = [household["status"], Household.Status.ACTIVE]
    applied = {}
    added = set(values.get("categories", [])) - categories
    if added:
        applied["categories"] = [sorted(categories), sorted(categories | added)]
    if household["source_id"] == unit.pk:
        moves = "village" in differences and township_of.get(differences["village"][0]) != township_of.get(
            differences["village"][1]
        )
        for name in DIRECT_FIELDS:
            if name in differences and not (name == "village" and moves):
                applied[name] = differences.pop(name)
    return applied, differences


# Preview -------------------------------------------------------------------------------------------------------


def _check_upload(actor, unit: Unit, listed_on: datetime.date, uploaded_file) -> None:
    require_perm(actor, IMPORT)
    if not units_for_import(actor).filter(pk=unit.pk).exists():
        raise PermissionDenied(_("You may only import your own department's lists."))
    check_date("listed_on", listed_on)  # new households are registered on it: not in the future, not year 1
    try:
        # Before the file is stored: a zip bomb or a file over the limit is refused now, also on the background path.
        check_upload(uploaded_file, uploaded_file.name)
    except SheetError as error:
        raise ValidationError({"file": str(error)}) from error


def _stored_upload(actor, unit: Unit, listed_on: datetime.date, uploaded_file, status: str) -> DepartmentList:
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    return DepartmentList.objects.create(
        unit=unit, listed_on=listed_on, file=uploaded_file, original_name=uploaded_file.name.rsplit("/", 1)[-1][:200],
        sha256=digest.hexdigest(), uploaded_by=actor, status=status,
    )  # fmt: skip


def preview_list(*, actor, unit: Unit, listed_on: datetime.date, uploaded_file) -> DepartmentList:
    """Read and compare an uploaded list now; nothing but the comparison is written. A file that cannot be read
    is refused with the reason and leaves nothing behind."""
    _check_upload(actor, unit, listed_on, uploaded_file)
    with transaction.atomic():
        department_list = _stored_upload(actor, unit, listed_on, uploaded_file, DepartmentList.Status.PREVIEWED)
        try:
            compare_file(department_list)
        except SheetError as error:
            transaction.set_rollback(True)
            department_list.file.delete(save=False)  # personal data: a refused file is not kept
            raise ValidationError({"file": str(error)}) from error
    return department_list


def start_preview(*, actor, unit: Unit, listed_on: datetime.date, uploaded_file) -> DepartmentList:
    """For large files: store the upload and read it in the background (households.tasks.read_department_list);
    the list's page shows the progress until the comparison is ready. With the broker down the upload is kept and
    the task waits for the ten-minute retry (housing_safety.background), which the list's page says."""
    from housing_safety.background import enqueue_on_commit

    from .tasks import read_department_list

    _check_upload(actor, unit, listed_on, uploaded_file)
    with transaction.atomic():
        department_list = _stored_upload(actor, unit, listed_on, uploaded_file, DepartmentList.Status.READING)
        enqueue_on_commit(read_department_list, department_list.pk)
    return department_list


def read_in_background(department_list_id: int) -> str:
    """The background reading: chunks commit as they go so the page can show progress; a file that cannot be read
    ends as 'could not be read' with the reason and no rows. Running it again for a list already read does nothing."""
    department_list = DepartmentList.objects.get(pk=department_list_id)
    if department_list.status != DepartmentList.Status.READING:
        return department_list.status
    department_list.rows.all().delete()  # a crashed earlier attempt

    def progress(rows: int) -> None:
        DepartmentList.objects.filter(pk=department_list.pk).update(rows_read=rows)

    try:
        compare_file(department_list, progress=progress)
    except SheetError as error:
        department_list.rows.all().delete()
        department_list.file.delete(save=False)
        department_list.status, department_list.error = DepartmentList.Status.FAILED, str(error)
        department_list.save(update_fields=["status", "error"])
        return department_list.status
    department_list.status = DepartmentList.Status.PREVIEWED
    department_list.save(update_fields=["status"])
    return department_list.status


def compare_file(department_list: DepartmentList, progress=None) -> dict:
    """Read the stored file, write its comparison rows, and store the counts (also what the background task runs)."""
    mapping = headers_for(department_list.unit)
    villages = Villages()
    today = timezone.localdate()
    seen: dict[str, int] = {}
    with department_list.file.open("rb") as handle:
        department_list.rows_expected = expected_rows(handle, department_list.original_name)
        DepartmentList.objects.filter(pk=department_list.pk).update(rows_expected=department_list.rows_expected)
        rows = read_rows(handle, department_list.original_name)
        header, columns = _find_header(rows, mapping)
        data = ((number, cells) for number, cells in rows if _has_identity(cells, columns))
        total = 0
        for chunk in _chunks(data, CHUNK):
            parsed = [_parse(number, cells, columns, header, villages, today) for number, cells in chunk]
            _store(_compare(parsed, department_list.unit, department_list, seen, villages))
            total += len(chunk)
            if progress:
                progress(total)
    counts = count_outcomes(department_list)
    counts["header"] = header
    counts["columns"] = {str(index): name for index, name in columns.items()}
    department_list.counts = counts
    department_list.save(update_fields=["counts"])
    return counts


LIST_ROW_COLUMNS = (
    "department_list_id", "row_number", "outcome", "household_id", "suggested_id", "head_name", "id_number", "phone",
    "village_id", "categories", "members_count", "changes", "proposed", "errors", "raw",
)  # fmt: skip
JSON_COLUMNS = ("changes", "proposed", "errors", "raw")


def _store(rows: list) -> None:
    """Write a chunk of comparison rows: COPY on PostgreSQL (a tenth of bulk_create's time), bulk_create elsewhere."""
    if connection.vendor != "postgresql":
        ListRow.objects.bulk_create([ListRow(**vars(row)) for row in rows], batch_size=CHUNK)
        return
    import csv
    import io
    import json

    columns, defaults = copy_csv(ListRow, LIST_ROW_COLUMNS, now=timezone.now())  # a column added later: its default
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        values = [
            json.dumps(getattr(row, column), ensure_ascii=False) if column in JSON_COLUMNS else getattr(row, column)
            for column in LIST_ROW_COLUMNS
        ]
        writer.writerow(["\\N" if value is None else value for value in values] + defaults)
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.copy_expert(f"COPY households_listrow ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer)


def _has_identity(cells: list, columns: dict[int, str]) -> bool:
    """Rows without a name and an ID (titles, totals, 制表人 lines) are not households."""
    return any(
        cleaning.text(cells[i]) for i, name in columns.items() if name in ("head_name", "id_number") and i < len(cells)
    )


def count_outcomes(department_list: DepartmentList) -> dict:
    counts = dict.fromkeys(ListRow.Outcome.values, 0)
    counts.update(dict(department_list.rows.values_list("outcome").annotate(n=Count("pk")).order_by()))
    counts["rows"] = sum(counts[outcome] for outcome in ListRow.Outcome.values)
    counts["missing"] = missing_households(department_list).count()
    return counts


def missing_households(department_list: DepartmentList) -> QuerySet[Household]:
    """Households of that department on our list but not on theirs."""
    return _not_listed(department_list.unit, [department_list.pk])


def _not_listed(unit: Unit, list_ids: list[int]) -> QuerySet[Household]:
    """The department's active households on none of these lists, by ID number or by an accepted match."""
    rows = ListRow.objects.filter(department_list__in=list_ids)
    return (
        Household.objects.filter(source=unit, status=Household.Status.ACTIVE)
        .exclude(id_number__in=rows.exclude(id_number="").values("id_number"))
        .exclude(pk__in=rows.filter(household__isnull=False).values("household_id"))
    )


# Confirm -------------------------------------------------------------------------------------------------------


def confirm_list(*, actor, department_list: DepartmentList, accepted: Iterable[int] = ()) -> dict:
    """Apply a previewed list in one transaction: create the new households (registered on the list's date, the
    department as their source), update the department's own households that changed and the suggested matches the
    user accepted (see `split_changes` for what a list may change), add the department's categories to every matched
    household, send every other difference to the township as a change proposal, and write history rows naming the
    list. Applying the same list twice, or a list equal to our records, changes nothing."""
    require_perm(actor, IMPORT)
    if not units_for_import(actor).filter(pk=department_list.unit_id).exists():
        raise PermissionDenied(_("You may only import your own department's lists."))
    now = timezone.now()
    reason = f"部门名单 #{department_list.pk}"
    with transaction.atomic():
        department_list = DepartmentList.objects.select_for_update().get(pk=department_list.pk)
        if department_list.status == DepartmentList.Status.CONFIRMED:
            raise ValidationError(_("This list was already confirmed."))
        if department_list.status != DepartmentList.Status.PREVIEWED:
            raise ValidationError(_("This list has not been read and compared yet."))
        _match_accepted(department_list, accepted)
        with connection.cursor() as cursor:
            applied = _apply(cursor, department_list, now)
            _write_history(cursor, department_list, actor, now, reason)
        applied["proposals"] = _propose(department_list, now)
        department_list.status = DepartmentList.Status.CONFIRMED
        department_list.confirmed_by, department_list.confirmed_at = actor, now
        department_list.counts = {**department_list.counts, "applied": applied}
        department_list.save(update_fields=["status", "confirmed_by", "confirmed_at", "counts"])
    return applied


def _match_accepted(department_list: DepartmentList, accepted: Iterable[int]) -> None:
    """The suggested matches the user ticked: linked to their household, the differences split as for a match by
    ID number (a few rows a page, so in Python)."""
    rows = list(
        department_list.rows.filter(outcome=ListRow.Outcome.SUGGESTED, pk__in=list(accepted), suggested__isnull=False)
    )
    if not rows:
        return
    households = {
        h["pk"]: h for h in Household.objects.filter(pk__in=[r.suggested_id for r in rows]).values(*MATCHED_FIELDS)
    }
    categories = _categories_of(households)
    villages = {r.village_id for r in rows} | {h["village_id"] for h in households.values()}
    township_of = dict(Village.objects.filter(pk__in=villages - {None}).values_list("pk", "township_id"))
    for row in rows:
        values = {
            "head_name": row.head_name, "phone": row.phone, "village_id": row.village_id,
            "members_count": row.members_count, "categories": [code for code in row.categories.split(",") if code],
        }  # fmt: skip
        household = households[row.suggested_id]
        row.household_id = household["pk"]
        row.changes, row.proposed = split_changes(
            household, values, categories.get(household["pk"], set()), department_list.unit, township_of
        )
    ListRow.objects.bulk_update(rows, ["household_id", "changes", "proposed"])


def _subquery(queryset: QuerySet) -> tuple[str, tuple]:
    """A queryset of list-row ids as SQL to embed in the set-based statements below."""
    return queryset.values("pk").query.sql_with_params()


def _own_changed(department_list: DepartmentList) -> QuerySet[ListRow]:
    """Rows whose differences confirming applies to the department's own household (still its own now)."""
    return department_list.rows.filter(
        outcome__in=[ListRow.Outcome.CHANGED, ListRow.Outcome.SUGGESTED],
        household__source_id=department_list.unit_id,
        changes__has_any_keys=list(DIRECT_FIELDS),
    )


def _apply(cursor, department_list: DepartmentList, now) -> dict:
    list_id, unit_id = department_list.pk, department_list.unit_id
    # Someone registered one of the new households since the preview: that row is left out, with the reason.
    registered = [[str(FIELD_LABELS["id_number"]), _("Registered by someone else after the comparison; upload again.")]]
    cursor.execute(
        """
        UPDATE households_listrow SET outcome = 'invalid', errors = %s
        WHERE department_list_id = %s AND outcome = 'new'
          AND EXISTS (SELECT 1 FROM households_household h WHERE h.id_number = households_listrow.id_number)
        """,
        [json.dumps(registered, ensure_ascii=False), list_id],
    )
    # The list's columns; every other one gets the model's default (active, no dwelling yet so unappraised, ...).
    listed = {
        "head_name": "r.head_name",
        "id_number": "r.id_number",
        "phone": "r.phone",
        "village_id": "r.village_id",
        "members_count": "COALESCE(r.members_count, 1)",
        "source_id": "%s",
        "registered_on": "%s",
    }
    columns, values, defaults = insert_select(Household, listed, now=now)
    cursor.execute(
        f"""
        INSERT INTO households_household ({columns})
        SELECT {values}
        FROM households_listrow r
        WHERE r.department_list_id = %s AND r.outcome = 'new'
        """,
        [unit_id, department_list.listed_on, *defaults, list_id],
    )
    created = cursor.rowcount
    cursor.execute(
        """
        UPDATE households_listrow SET household_id =
            (SELECT h.id FROM households_household h WHERE h.id_number = households_listrow.id_number)
        WHERE department_list_id = %s AND outcome = 'new'
        """,
        [list_id],
    )
    # The department's own households: name, phone, members, and the village within the same township.
    own_sql, own_params = _subquery(_own_changed(department_list))
    cursor.execute(
        f"""
        UPDATE households_household SET
            head_name = CASE WHEN r.head_name <> '' THEN r.head_name ELSE households_household.head_name END,
            phone = CASE WHEN r.phone <> '' THEN r.phone ELSE households_household.phone END,
            village_id = CASE
                WHEN (SELECT township_id FROM households_village WHERE id = r.village_id)
                   = (SELECT township_id FROM households_village WHERE id = households_household.village_id)
                THEN r.village_id ELSE households_household.village_id END,
            members_count = COALESCE(r.members_count, households_household.members_count),
            updated_at = %s
        FROM households_listrow r
        WHERE r.household_id = households_household.id AND households_household.source_id = %s
          AND r.id IN ({own_sql})
        """,
        [now, unit_id, *own_params],
    )
    updated = cursor.rowcount
    cursor.execute(
        """
        INSERT INTO households_household_categories (household_id, householdcategory_id)
        SELECT DISTINCT r.household_id, c.id
        FROM households_listrow r JOIN households_householdcategory c ON r.categories LIKE '%%,' || c.code || ',%%'
        WHERE r.department_list_id = %s AND r.household_id IS NOT NULL
          AND r.outcome IN ('new', 'changed', 'suggested', 'registered')
          AND NOT EXISTS (SELECT 1 FROM households_household_categories t
                          WHERE t.household_id = r.household_id AND t.householdcategory_id = c.id)
        """,
        [list_id],
    )
    return {"created": created, "updated": updated, "categories_added": cursor.rowcount}


def _write_history(cursor, department_list: DepartmentList, actor, now, reason: str) -> None:
    """One history row per household created or changed, and its categories, as simple-history would write them,
    with the list named as the reason."""
    history = Household.history.model
    columns = [f.column for f in Household._meta.concrete_fields if f.name not in Household.summary_fields]
    listed = ", ".join(f"h.{column}" for column in columns)
    written = department_list.rows.filter(household__isnull=False).filter(
        Q(outcome=ListRow.Outcome.NEW) | Q(pk__in=_own_changed(department_list).values("pk"))
        | Q(changes__has_key="categories")
    )  # fmt: skip
    written_sql, written_params = _subquery(written)
    cursor.execute(
        f"""
        INSERT INTO {history._meta.db_table} ({", ".join(columns)}, history_date, history_change_reason,
            history_type, history_user_id)
        SELECT {listed}, %s, %s, CASE WHEN r.outcome = 'new' THEN '+' ELSE '~' END, %s
        FROM households_household h JOIN households_listrow r ON r.household_id = h.id
        WHERE r.id IN ({written_sql})
        """,
        [now, reason, actor.pk, *written_params],
    )
    m2m = apps.get_model("households", "HistoricalHousehold_categories")  # simple-history's m2m history
    cursor.execute(
        f"""
        INSERT INTO {m2m._meta.db_table} (id, household_id, householdcategory_id, history_id)
        SELECT t.id, t.household_id, t.householdcategory_id, hh.history_id
        FROM {history._meta.db_table} hh JOIN households_household_categories t ON t.household_id = hh.id
        WHERE hh.history_change_reason = %s AND hh.history_date = %s
        """,
        [reason, now],
    )


def _propose(department_list: DepartmentList, now) -> int:
    """Every difference confirming does not apply becomes a change proposal for the township holding the household
    (the bureau decides a move between townships), in one statement; the department's earlier undecided proposals
    for the same households are replaced. Returns the number of proposals."""
    rows = department_list.rows.filter(household__isnull=False).exclude(proposed={})
    ChangeProposal.objects.filter(
        status=ChangeProposal.Status.PENDING, department_list__unit_id=department_list.unit_id,
        household_id__in=rows.values("household_id"),
    ).update(status=ChangeProposal.Status.SUPERSEDED)  # fmt: skip
    rows_sql, rows_params = _subquery(rows)
    # The list's village is in another township than the household's: a move, which the bureau decides.
    proposed = {
        "household_id": "r.household_id",
        "department_list_id": "r.department_list_id",
        "row_number": "r.row_number",
        "township_id": (
            "CASE WHEN (SELECT township_id FROM households_village WHERE id = r.village_id) <> v.township_id"
            " THEN NULL ELSE v.township_id END"
        ),
        "changes": "r.proposed",
        "created_at": "%s",
    }
    columns, values, defaults = insert_select(ChangeProposal, proposed, now=now)  # pending, undecided
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO households_changeproposal ({columns})
            SELECT {values}
            FROM households_listrow r
                JOIN households_household h ON h.id = r.household_id
                JOIN households_village v ON v.id = h.village_id
            WHERE r.id IN ({rows_sql})
            """,
            [now, *defaults, *rows_params],
        )
        return cursor.rowcount


# Reconciliation (信息比对) ----------------------------------------------------------------------------------------

AGREE, DIFFER, THEIRS, UNREADABLE, OURS = "consistent", "different", "only_theirs", "invalid", "only_ours"


def latest_lists(user) -> list[list[DepartmentList]]:
    """Per department in the user's scope, its latest list: every readable upload with the newest list date, oldest
    first (a list may come in several files, such as the rows fixed after a first upload). Two queries."""
    groups: dict[int, list[DepartmentList]] = {}
    readable = lists_for_user(user).filter(
        status__in=[DepartmentList.Status.PREVIEWED, DepartmentList.Status.CONFIRMED]
    )
    for department_list in readable.order_by("-listed_on", "uploaded_at", "pk"):
        group = groups.setdefault(department_list.unit_id, [])
        if not group or group[0].listed_on == department_list.listed_on:
            group.append(department_list)
    return sorted(groups.values(), key=lambda group: group[0].unit.name)


def _standing(outcome: str, applied: bool, changes: dict, proposed: dict, full: bool) -> tuple[str, dict]:
    """Where a row stands against our records now, and in which fields it differs. A confirmed list's applied
    differences agree with our records; its proposals still differ until the township decides (the next list tells).
    Outside the bureau (`full`), a household registered elsewhere differs only in what the department may apply:
    its categories; the other differences are the township's, and are not shown to the department."""
    if outcome == ListRow.Outcome.INVALID:
        return UNREADABLE, {}
    if outcome in (ListRow.Outcome.NEW, ListRow.Outcome.SUGGESTED) and not applied:
        return THEIRS, {}
    visible = proposed if full or outcome == ListRow.Outcome.CHANGED else {}
    differences = visible if applied else {**changes, **visible}
    return (DIFFER if differences else AGREE), differences


def consistency(counts: dict) -> float | None:
    compared = sum(counts.get(key, 0) for key in (AGREE, DIFFER, THEIRS, UNREADABLE, OURS))
    return counts.get(AGREE, 0) / compared if compared else None


def _rows_of(group: list[DepartmentList], full: bool):
    """The group's rows as they stand: a later upload's row replaces an earlier one with the same ID number, and
    only the newest upload's invalid rows count (the earlier ones were fixed and uploaded again)."""
    confirmed = {item.pk for item in group if item.status == DepartmentList.Status.CONFIRMED}
    newest = group[-1].pk
    rows = (
        ListRow.objects.filter(department_list__in=[item.pk for item in group])
        .order_by("department_list__uploaded_at", "department_list_id", "row_number")
        .values_list(
            "department_list_id", "outcome", "household_id", "suggested_id", "id_number", "village__township_id",
            "household__village__township_id", "changes", "proposed",
        )
    )  # fmt: skip
    current: dict[str, tuple] = {}
    unnamed = []
    for row in rows.iterator(2000):
        list_id, outcome, household_id, suggested_id, id_number, row_township, our_township, changes, proposed = row
        if outcome == ListRow.Outcome.INVALID and list_id != newest:
            continue
        applied = list_id in confirmed and (outcome != ListRow.Outcome.SUGGESTED or household_id is not None)
        entry = (*_standing(outcome, applied, changes, proposed, full), our_township or row_township)
        # One entry per household: a later row for the same household (by match or by ID number) replaces it.
        key = household_id or suggested_id or (id_number if outcome != ListRow.Outcome.INVALID else None)
        if key:
            current[key] = entry
        else:
            unnamed.append(entry)
    return [*current.values(), *unnamed]


def _reconcile(group: list[DepartmentList], full: bool) -> dict:
    keys = (AGREE, DIFFER, THEIRS, UNREADABLE, OURS)
    by_township: dict[int | None, dict] = {}
    fields: dict[str, int] = {}
    for bucket, changes, township_id in _rows_of(group, full):
        by_township.setdefault(township_id, dict.fromkeys(keys, 0))[bucket] += 1
        if bucket == DIFFER:
            for name in changes:
                fields[name] = fields.get(name, 0) + 1
    missing = _not_listed(group[0].unit, [item.pk for item in group])
    for township_id, n in missing.values_list("village__township_id").annotate(n=Count("pk")).order_by():
        by_township.setdefault(township_id, dict.fromkeys(keys, 0))[OURS] = n
    total = {key: sum(counts[key] for counts in by_township.values()) for key in keys}
    ordered = sorted(by_township.items(), key=lambda item: (item[0] is None, item[0] or 0))
    return {
        "total": {**total, "rate": consistency(total)},
        "fields": sorted(fields.items(), key=lambda item: -item[1]),
        "rows": [{"township": township_id, **counts, "rate": consistency(counts)} for township_id, counts in ordered],
    }


def reconciliation(user) -> list[dict]:
    """Per department: its latest list against our records, per township and in total: in both and consistent, in
    both with differences (and in which fields), only on their list (new, or a match still to confirm), rows we
    could not read, only on ours; and the consistency rate."""
    from .models import Township

    townships = {t.pk: t for t in Township.objects.all()}
    report = []
    for group in latest_lists(user):
        # A department's figures are kept for RECONCILIATION_CACHE_SECONDS per set of uploads and their status, so
        # the dashboard does not re-read 100,000-row lists on every visit.
        full = scope_of(user).everything
        key = f"reconciliation:{int(full)}:" + ",".join(f"{item.pk}-{item.status}" for item in group)
        department = cache.get(key)
        if department is None:
            department = _reconcile(group, full)
            cache.set(key, department, settings.RECONCILIATION_CACHE_SECONDS)
        department["townships"] = [{**row, "township": townships.get(row["township"])} for row in department["rows"]]
        report.append({**department, "list": group[-1], "lists": group, "unit": group[0].unit})
    return report


def remove_read_files(*, uploaded_before: datetime.datetime) -> int:
    """Retention: a department's file holds personal data and is only needed until it has been read; the comparison
    rows and the counts stay. Files of lists read (previewed or confirmed) and uploaded before the cut-off are
    deleted from storage; a list still being read keeps its file."""
    done = (DepartmentList.Status.PREVIEWED, DepartmentList.Status.CONFIRMED)
    removed = 0
    for department_list in DepartmentList.objects.filter(status__in=done, uploaded_at__lt=uploaded_before).exclude(
        file=""
    ):
        department_list.file.delete(save=False)
        DepartmentList.objects.filter(pk=department_list.pk).update(file="")
        removed += 1
    return removed

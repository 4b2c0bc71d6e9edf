"""Writes of department lists: preview (read the file, write only the comparison rows; now or in the background) and
confirm (apply what the liaison confirms in one transaction, as set-based SQL over the stored comparison, with
history rows written the same way, so a 100,000-row list costs a few statements); the files' retention."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
from collections.abc import Iterable

from django.apps import apps
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from housing_safety.access import require_perm
from housing_safety.background import enqueue_on_commit
from housing_safety.bulk import copy_csv, insert_select
from housing_safety.dates import check_date
from housing_safety.notices import notify

from ..models import ChangeProposal, DepartmentList, Household, ListRow, Unit, Village
from ..sheets import SheetError, check_upload, expected_rows, read_rows
from .match import DIRECT_FIELDS, MATCHED_FIELDS, categories_of, compare_rows, split_changes
from .parse import FIELD_LABELS, Villages, chunks, find_header, has_identity, headers_for, parse_row
from .selectors import IMPORT, count_outcomes, units_for_import

CHUNK = 2000


def _check_upload(actor: AbstractBaseUser, unit: Unit, listed_on: datetime.date, uploaded_file) -> None:
    require_perm(actor, IMPORT)
    if not units_for_import(actor).filter(pk=unit.pk).exists():
        raise PermissionDenied(_("You may only import your own department's lists."))
    check_date("listed_on", listed_on)  # new households are registered on it: not in the future, not year 1
    try:
        # Before the file is stored: a zip bomb or a file over the limit is refused now, also on the background path.
        check_upload(uploaded_file, uploaded_file.name)
    except SheetError as error:
        raise ValidationError({"file": str(error)}) from error


def _stored_upload(
    actor: AbstractBaseUser, unit: Unit, listed_on: datetime.date, uploaded_file, status: str
) -> DepartmentList:
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    return DepartmentList.objects.create(
        unit=unit,
        listed_on=listed_on,
        file=uploaded_file,
        original_name=uploaded_file.name.rsplit("/", 1)[-1][:200],
        sha256=digest.hexdigest(),
        uploaded_by=actor,
        status=status,
    )


def preview_list(*, actor: AbstractBaseUser, unit: Unit, listed_on: datetime.date, uploaded_file) -> DepartmentList:
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


def start_preview(*, actor: AbstractBaseUser, unit: Unit, listed_on: datetime.date, uploaded_file) -> DepartmentList:
    """For large files: store the upload and read it in the background (households.tasks.read_department_list);
    the list's page shows the progress until the comparison is ready. With the broker down the upload is kept and
    the task waits for the ten-minute retry (housing_safety.background), which the list's page says."""
    from ..tasks import read_department_list  # a cycle: the task calls read_in_background

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
        tell_uploader(department_list)
        return department_list.status
    department_list.status = DepartmentList.Status.PREVIEWED
    department_list.save(update_fields=["status"])
    tell_uploader(department_list)
    return department_list.status


def tell_uploader(department_list: DepartmentList) -> int:
    """The person who uploaded a list read in the background is told it is done (inbox, and e-mail where they have
    an address): 「名单已处理：新增 x、匹配 y、待确认 z」 or why it could not be read, with the link to the list.
    Once per list (key `list-read:<pk>`); how many it reached."""
    counts = department_list.counts or {}
    Outcome = ListRow.Outcome
    with translation.override(settings.LANGUAGE_CODE):
        if department_list.status == DepartmentList.Status.FAILED:
            title = _("List could not be read: %(name)s") % {"name": department_list.original_name}
            body = department_list.error
        else:
            title = _("List processed: %(new)s new, %(matched)s matched, %(suggested)s to confirm") % {
                "new": counts.get(Outcome.NEW, 0),
                "matched": sum(counts.get(o, 0) for o in (Outcome.CHANGED, Outcome.UNCHANGED, Outcome.REGISTERED)),
                "suggested": counts.get(Outcome.SUGGESTED, 0),
            }
            body = _("%(name)s: %(rows)s rows read, %(invalid)s invalid. Check and confirm it.") % {
                "name": department_list.original_name,
                "rows": counts.get("rows", 0),
                "invalid": counts.get(Outcome.INVALID, 0),
            }
        return notify(
            key=f"list-read:{department_list.pk}",
            users=[department_list.uploaded_by],
            title=title,
            body=body,
            url=reverse("households:list", args=[department_list.pk]),
        )


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
        header, columns = find_header(rows, mapping)
        data = ((number, cells) for number, cells in rows if has_identity(cells, columns))
        total = 0
        for chunk in chunks(data, CHUNK):
            parsed = [parse_row(number, cells, columns, header, villages, today) for number, cells in chunk]
            _store(compare_rows(parsed, department_list.unit, department_list, seen, villages))
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
    "department_list_id",
    "row_number",
    "outcome",
    "household_id",
    "suggested_id",
    "head_name",
    "id_number",
    "phone",
    "village_id",
    "categories",
    "members_count",
    "poverty_status",
    "poverty_exit_year",
    "changes",
    "proposed",
    "errors",
    "raw",
)
JSON_COLUMNS = ("changes", "proposed", "errors", "raw")


def _store(rows: list) -> None:
    """Write a chunk of comparison rows: COPY on PostgreSQL (a tenth of bulk_create's time), bulk_create elsewhere."""
    if connection.vendor != "postgresql":
        ListRow.objects.bulk_create([ListRow(**vars(row)) for row in rows], batch_size=CHUNK)
        return
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


# Confirm -------------------------------------------------------------------------------------------------------


def confirm_list(*, actor: AbstractBaseUser, department_list: DepartmentList, accepted: Iterable[int] = ()) -> dict:
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
    categories = categories_of(households)
    villages = {r.village_id for r in rows} | {h["village_id"] for h in households.values()}
    township_of = dict(Village.objects.filter(pk__in=villages - {None}).values_list("pk", "township_id"))
    for row in rows:
        values = {
            "head_name": row.head_name,
            "phone": row.phone,
            "village_id": row.village_id,
            "members_count": row.members_count,
            "categories": [code for code in row.categories.split(",") if code],
            "poverty_status": row.poverty_status,
            "poverty_exit_year": row.poverty_exit_year,
            "listed_on": department_list.listed_on,
        }
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
        "poverty_status": "r.poverty_status",
        "poverty_exit_year": "r.poverty_exit_year",
        "newly_poor_on": "CASE WHEN r.poverty_status = 'newly_poor' THEN %s END",
    }
    columns, values, defaults = insert_select(Household, listed, now=now)
    cursor.execute(
        f"""
        INSERT INTO households_household ({columns})
        SELECT {values}
        FROM households_listrow r
        WHERE r.department_list_id = %s AND r.outcome = 'new'
        """,
        [unit_id, department_list.listed_on, department_list.listed_on, *defaults, list_id],
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
            poverty_status = CASE
                WHEN r.poverty_status = '' THEN households_household.poverty_status
                WHEN r.poverty_status = 'exited'
                 AND COALESCE(r.poverty_exit_year, households_household.poverty_exit_year) IS NULL
                THEN households_household.poverty_status
                ELSE r.poverty_status END,
            poverty_exit_year = CASE WHEN r.poverty_status = 'exited'
                THEN COALESCE(r.poverty_exit_year, households_household.poverty_exit_year)
                ELSE households_household.poverty_exit_year END,
            newly_poor_on = CASE WHEN r.poverty_status = 'newly_poor'
                THEN COALESCE(households_household.newly_poor_on, %s)
                ELSE households_household.newly_poor_on END,
            updated_at = %s
        FROM households_listrow r
        WHERE r.household_id = households_household.id AND households_household.source_id = %s
          AND r.id IN ({own_sql})
        """,
        [department_list.listed_on, now, unit_id, *own_params],
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


def _write_history(cursor, department_list: DepartmentList, actor: AbstractBaseUser, now, reason: str) -> None:
    """One history row per household created or changed, and its categories, as simple-history would write them,
    with the list named as the reason."""
    history = Household.history.model
    columns = [f.column for f in Household._meta.concrete_fields if f.name not in Household.summary_fields]
    listed = ", ".join(f"h.{column}" for column in columns)
    written = department_list.rows.filter(household__isnull=False).filter(
        Q(outcome=ListRow.Outcome.NEW)
        | Q(pk__in=_own_changed(department_list).values("pk"))
        | Q(changes__has_key="categories")
    )
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
        status=ChangeProposal.Status.PENDING,
        department_list__unit_id=department_list.unit_id,
        household_id__in=rows.values("household_id"),
    ).update(status=ChangeProposal.Status.SUPERSEDED)
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

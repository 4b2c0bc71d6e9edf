"""No text a user typed becomes a formula in any workbook or CSV the system writes (formula or "CSV" injection).

Every user-editable text that reaches an export holds a payload (=HYPERLINK(...), +1+1, -2+3, @SUM(A1), a tab or
carriage return before =, a full-width ＝): household heads, helpers and notes, village names and codes, a
township renamed by the bureau, addresses, appraisers, problems and measures, complaints and replies, leads,
unit names, monthly reports, renovation-case notes and document kinds, export-template headers, and the cells
and headings of a department's list. Then every export the system offers is generated: the admin's exports of
each model with export (xlsx and csv), the provincial exports (at once and in the background), the
consolidated monthly report (with its overdue sheet; built now and stored), the problem list, the complaints, the
quarterly lead report, a case's archive index, a department list's rows to fix and the reconciliation. Each file
is opened and no cell is a formula or starts like one, while each payload is still there to read, behind an
apostrophe; numbers, negative ones too, stay numbers.

A last test fails when a new export appears (a URL serving .xlsx or .zip, an admin with export) that is not here.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.contrib import admin as django_admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import get_resolver, reverse
from django.utils import timezone
from import_export.admin import ExportMixin
from import_export.forms import SelectableFieldsExportForm
from openpyxl.utils.escape import unescape

from households.department_lists import preview_list
from households.models import Attachment, ColumnMapping, Township, Unit
from households.tests.conftest import *  # noqa: F403 - the personas and the townships
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory
from housing_safety.access import Role
from housing_safety.excel import safe_cell
from inspections.tests.factories import AppraisalFactory
from rectification import services as rectification_services
from rectification.models import Complaint, ComplaintCategory, DocumentKind, LeadTransfer, Problem
from rectification.tests.factories import dangerous_dwelling, new_case, standards
from reporting.models import ExportTemplate, MonthlyReport, ReportKind, ReportStatus

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://evil.example/x","点这里")'
PLUS = "+1+1"
MINUS = "-2+3"
AT = "@SUM(A1)"
TAB = "\t=1+1"
CR = "\r=1+1"
FULL = "＝1+1"  # full-width, as a Chinese input method types it
PAYLOADS = (HYPERLINK, PLUS, MINUS, AT, TAB, CR, FULL)
LIST_HEADING = "-人口"  # a department's own heading for the members column (its column mapping)
TODAY = timezone.localdate()


# Reading what was written ----------------------------------------------------------------------------------------


def workbook_cells(content: bytes) -> list:
    """Every cell of every sheet, as openpyxl reads the file back (formulas as formulas, not their results)."""
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]


def looks_like_formula(value) -> bool:
    """What Excel would take for a formula: the OWASP characters first, also after line breaks (an XML reader
    reads a written carriage return as a line feed), and their full-width forms. Read as Excel reads it: its
    _xHHHH_ escapes (XlsxWriter writes a carriage return as _x000D_) are the characters."""
    if not isinstance(value, str):
        return False
    value = unescape(value)
    return value[:1] in ("\t", "\r") or value.lstrip("\r\n")[:1] in tuple("=+-@\t＝＋－＠")


def readable(value: str) -> str:
    return unescape(value).replace("\r", "\n")  # Excel's _x000D_ is a carriage return; XML keeps one as a line feed


def check_workbook(content: bytes, label: str) -> list:
    cells = workbook_cells(content)
    formulas = [(cell.parent.title, cell.coordinate, cell.value) for cell in cells if cell.data_type == "f"]
    assert formulas == [], f"{label}: formula cells {formulas}"
    unsafe = [(cell.parent.title, cell.coordinate, cell.value) for cell in cells if looks_like_formula(cell.value)]
    assert unsafe == [], f"{label}: cells starting like a formula {unsafe}"
    return [cell.value for cell in cells]


NUMBER = re.compile(r"-?\d+(\.\d+)?")


def check_csv(text: str, label: str) -> list:
    """In a CSV every field is text; a plain number (-3.5) is read as the number it is, anything else must not
    start like a formula."""
    values = [value for row in csv.reader(io.StringIO(text, newline="")) for value in row]
    unsafe = [value for value in values if looks_like_formula(value) and not NUMBER.fullmatch(value)]
    assert unsafe == [], f"{label}: fields starting like a formula {unsafe}"
    return values


def carries(values: list, *payloads: str, label: str) -> None:
    """Each payload is in the file, whole, behind the apostrophe that keeps it text (alone in its cell, or leading
    a cell that goes on, as a late item's label does)."""
    texts = [readable(value) for value in values if isinstance(value, str)]
    for payload in payloads:
        escaped = readable("'" + payload)
        assert any(text == escaped or text.startswith(escaped) for text in texts), f"{label}: {payload!r} missing"


def content_of(response) -> bytes:
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content) if response.streaming else response.content


# The world -------------------------------------------------------------------------------------------------------


def department_list_xlsx(rows) -> bytes:
    """A department's list as a clerk typed it: text starting with "=" is text in the cell, not a formula."""
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    for row in workbook.active.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def world(personas, xinqiao, shuangyang, poverty_office):
    users = {
        "admin": personas[Role.BUREAU_ADMIN],
        "staff": personas[Role.TOWNSHIP_STAFF],
        "clerk": personas[Role.COMPLAINT_CLERK],
        "official": personas[Role.BUREAU_OFFICIAL],
    }
    standards()
    users["admin"].first_name = AT  # the name a monthly report is submitted under
    users["admin"].save(update_fields=["first_name"])
    renamed = Township.objects.exclude(pk__in=[xinqiao.pk, shuangyang.pk]).order_by("code").first()
    Township.objects.filter(pk=renamed.pk).update(name=FULL)
    village = VillageFactory(township=xinqiao, name=HYPERLINK, code=PLUS)
    far = VillageFactory(township=renamed, name="远山村")

    # Never appraised since 2024: an overdue item of the consolidated report, labelled with the head's name.
    overdue = HouseholdFactory(
        village=village, head_name=AT, helper_name=PLUS, notes=TAB, registered_on=datetime.date(2024, 1, 1)
    )
    home = HouseholdFactory(village=far, head_name=MINUS, helper_name=CR, notes=HYPERLINK)
    dwelling = DwellingFactory(
        household=home, address=MINUS, notes=TAB, latitude=Decimal("-3.500000"), longitude=Decimal("-10.250000")
    )
    AppraisalFactory(dwelling=dwelling, organisation=FULL, appraisers=AT, notes=PLUS)

    # A renovation case with a step note, an overridden rule, a document kind and a file name typed by people.
    case_home = HouseholdFactory(village=village, head_name=HYPERLINK)
    case = new_case(users["staff"], dangerous_dwelling(case_home, address=PLUS))
    case.transitions.update(note=HYPERLINK, overridden=MINUS, override_reason=PLUS)
    DocumentKind.objects.filter(pk__in=case.documents.values("kind")).update(name=AT)
    Attachment.objects.filter(pk__in=case.documents.values("attachment")).update(original_name=HYPERLINK + ".png")

    Problem.objects.create(
        township=xinqiao, household=overdue, source=Problem.Source.SELF_INSPECTION, kind=Problem.Kind.NEW_DAMAGE,
        description=HYPERLINK, measure=MINUS, responsible_person=AT, deadline=TODAY - datetime.timedelta(days=40),
    )  # fmt: skip
    complaint, _code = rectification_services.log_complaint(
        actor=users["clerk"],
        complaint=Complaint(
            channel=Complaint.Channel.HOTLINE, received_at=timezone.now() - datetime.timedelta(hours=1),
            reporter_name=AT, reporter_phone="13912345678", category=ComplaintCategory.values[0], content=HYPERLINK,
            township=xinqiao, village=village,
        ),
    )  # fmt: skip
    Complaint.objects.filter(pk=complaint.pk).update(reply=TAB)

    department = Unit.objects.create(name=PLUS, kind=Unit.Kind.DEPARTMENT)
    sent = TODAY - datetime.timedelta(days=20)
    lead = {"direction": LeadTransfer.Direction.OUTGOING, "from_unit": department, "created_by": users["admin"]}
    LeadTransfer.objects.create(
        **lead, to_unit=poverty_office, subject=HYPERLINK, sent_on=sent, receipt_on=sent, receipt_by=MINUS,
        feedback_on=sent, feedback=FULL,
    )  # fmt: skip
    LeadTransfer.objects.create(**lead, to_discipline=True, subject=MINUS, sent_on=sent)  # no receipt: overdue

    month = TODAY.replace(day=1)
    for unit, progress in ((Unit.objects.get(township=xinqiao), HYPERLINK), (department, CR)):
        MonthlyReport.objects.create(
            unit=unit, kind=ReportKind.MONTHLY, period=month, due_on=month.replace(day=23), progress=progress,
            problems_handled=MINUS, status=ReportStatus.SUBMITTED, submitted_by=users["admin"],
            submitted_at=timezone.now(), on_time=True,
        )  # fmt: skip

    ExportTemplate.objects.create(
        dataset="households",
        columns=[[AT, "head_name"], [PLUS, "helper_name"], ["", "village__name"], ["", "village__township__name"],
                 ["", "members_count"]],
    )  # fmt: skip
    ExportTemplate.objects.create(
        dataset="dwellings", columns=[[MINUS, "address"], ["", "latitude"], ["", "longitude"]]
    )

    # The department's list: its own headings (one mapped to members), a household whose cells are payloads and
    # whose members count is -3 (a number, invalid), so it comes back in the rows to fix.
    ColumnMapping.objects.create(unit=department, columns={LIST_HEADING: "members_count"})
    department_list = preview_list(
        actor=users["admin"], unit=department, listed_on=TODAY,
        uploaded_file=SimpleUploadedFile("名单.xlsx", department_list_xlsx([
            ["姓名", "身份证号码", "乡镇", "村", LIST_HEADING, HYPERLINK],
            [PLUS, "350881199001011004", "新桥镇", "东坑村", -3, AT],
        ])),
    )  # fmt: skip
    assert department_list.counts["invalid"] == 1
    return {**users, "case": case, "department_list": department_list, "sent": sent}


# The exports -----------------------------------------------------------------------------------------------------

ADMIN_EXPORTS = {
    "households.household": (HYPERLINK, PLUS, MINUS, AT, TAB, CR, FULL),
    "households.dwelling": (MINUS, TAB),
    "households.village": (HYPERLINK, PLUS, FULL),
    "inspections.appraisal": (FULL, AT, PLUS),
}


def admin_export(client, label: str, file_format: str) -> bytes:
    model_admin = next(a for m, a in django_admin.site._registry.items() if m._meta.label_lower == label)
    resource = model_admin.get_export_resource_classes(None)[0]
    titles = [fmt().get_title() for fmt in model_admin.get_export_formats()]
    data = {"format": str(titles.index(file_format)), "resource": "0"}
    for field in resource().get_export_order():
        data[SelectableFieldsExportForm.create_boolean_field_name(resource, field)] = "on"
    app, model = label.split(".")
    return content_of(client.post(f"/admin/{app}/{model}/export/", data))


@pytest.mark.parametrize("label", ADMIN_EXPORTS)
def test_admin_exports(label, client, world):
    client.force_login(world["admin"])
    values = check_workbook(admin_export(client, label, "xlsx"), label)
    carries(values, *ADMIN_EXPORTS[label], label=label)
    csv_values = check_csv(admin_export(client, label, "csv").decode("utf-8-sig"), f"{label} csv")
    carries(csv_values, *ADMIN_EXPORTS[label], label=f"{label} csv")
    if label == "households.dwelling":
        assert {"-3.500000", "-10.250000"} <= set(csv_values)  # numbers, not escaped


def test_admin_export_keeps_negative_numbers_numbers(client, world):
    client.force_login(world["admin"])
    cells = workbook_cells(admin_export(client, "households.dwelling", "xlsx"))
    coordinates = {cell.value: cell for cell in cells if isinstance(cell.value, int | float)}
    assert coordinates[-3.5].data_type == "n" and coordinates[-10.25].data_type == "n"


PROVINCIAL = {
    "households": (AT, PLUS, HYPERLINK, FULL),
    "dwellings": (MINUS,),
    "appraisals": (FULL, MINUS),
    "cases": (HYPERLINK,),
}


@pytest.mark.parametrize("dataset", PROVINCIAL)
def test_provincial_exports(dataset, client, world):
    client.force_login(world["admin"])
    content = content_of(client.get(reverse("reporting:export", args=[dataset])))
    values = check_workbook(content, dataset)
    carries(values, *PROVINCIAL[dataset], label=dataset)
    if dataset == "dwellings":
        numbers = [cell for cell in workbook_cells(content) if cell.value in (-3.5, -10.25)]
        assert [cell.data_type for cell in numbers] == ["n", "n"]


def test_provincial_export_built_in_the_background(client, world, settings, django_capture_on_commit_callbacks):
    from reporting.models import ExportFile

    settings.EXPORT_INLINE_MAX_ROWS = 0
    client.force_login(world["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("reporting:export", args=["households"]))
    export = ExportFile.objects.get()
    content = content_of(client.get(reverse("reporting:export-file", args=[export.pk])))
    carries(check_workbook(content, "background export"), *PROVINCIAL["households"], label="background export")


CONSOLIDATED = (HYPERLINK, MINUS, PLUS, FULL, AT, CR)


def test_consolidated_report_now_and_stored(client, world):
    from reporting.models import ConsolidatedReport
    from reporting.services import build_consolidated_report

    client.force_login(world["admin"])
    now = content_of(client.get(reverse("reporting:consolidated-now")))
    carries(check_workbook(now, "consolidated now"), *CONSOLIDATED, label="consolidated now")
    build_consolidated_report(day=TODAY)
    stored = ConsolidatedReport.objects.get()
    content = content_of(client.get(reverse("reporting:consolidated", args=[stored.pk])))
    values = check_workbook(content, "consolidated stored")
    carries(values, *CONSOLIDATED, label="consolidated stored")
    overdue = openpyxl.load_workbook(io.BytesIO(content)).worksheets[-1]  # the overdue sheet
    labels = [readable(str(row[2])) for row in overdue.iter_rows(values_only=True)]
    assert any(label.startswith(f"'{AT} · ") for label in labels)  # the overdue household, by its head's name
    assert any(label.startswith(f"'{PLUS} · ") for label in labels)  # the lead without receipt, by its unit


def test_problem_list_export(client, world):
    client.force_login(world["admin"])
    content = content_of(client.get(reverse("rectification:problem-export")))
    carries(check_workbook(content, "problems"), HYPERLINK, MINUS, AT, label="problems")


def test_complaint_export(client, world):
    client.force_login(world["admin"])
    content = content_of(client.get(reverse("rectification:complaint-export")))
    carries(check_workbook(content, "complaints"), HYPERLINK, AT, TAB, label="complaints")


def test_quarterly_lead_report(client, world):
    client.force_login(world["admin"])
    sent = world["sent"]
    query = {"year": sent.year, "quarter": (sent.month - 1) // 3 + 1}
    content = content_of(client.get(reverse("rectification:lead-report"), query))
    carries(check_workbook(content, "leads"), PLUS, HYPERLINK, MINUS, FULL, label="leads")


def test_year_end_summary(client, world):
    client.force_login(world["admin"])
    content = content_of(client.get(reverse("reporting:year-end-xlsx", args=[TODAY.year])))
    carries(check_workbook(content, "year-end"), HYPERLINK, label="year-end")  # the open problem's description


def test_case_archive_index(client, world):
    client.force_login(world["admin"])
    archive = zipfile.ZipFile(io.BytesIO(content_of(client.get(reverse("rectification:case-archive", args=[world["case"].pk])))))  # fmt: skip
    index = next(name for name in archive.namelist() if name.endswith(".xlsx"))
    carries(check_workbook(archive.read(index), "case archive"), HYPERLINK, AT, MINUS, PLUS, label="case archive")


def test_department_list_rows_to_fix(client, world):
    client.force_login(world["admin"])
    department_list = world["department_list"]
    content = content_of(client.get(reverse("households:list-invalid", args=[department_list.pk])))
    values = check_workbook(content, "rows to fix")
    carries(values, HYPERLINK, PLUS, AT, LIST_HEADING, label="rows to fix")
    numbers = [cell for cell in workbook_cells(content) if cell.value == -3]
    assert [cell.data_type for cell in numbers] == ["n"]  # the list's own number, read back as a number


def test_reconciliation_export(client, world):
    client.force_login(world["official"])
    content = content_of(client.get(reverse("households:reconciliation-export")))
    carries(check_workbook(content, "reconciliation"), PLUS, label="reconciliation")


def test_safe_cell_neutralises_text_only():
    for payload in PAYLOADS:
        assert safe_cell(payload) == "'" + payload
    for value in (-3, -2.5, Decimal("-1.50"), 0, None, True, TODAY, "正常的文字", "", " =1"):
        assert safe_cell(value) == value


# Nothing escapes this file ---------------------------------------------------------------------------------------

COVERED_URLS = {
    "reporting:export", "reporting:export-file", "reporting:consolidated", "reporting:consolidated-now",
    "rectification:problem-export", "rectification:complaint-export", "rectification:lead-report",
    "rectification:case-archive", "households:list-invalid", "households:reconciliation-export",
    "reporting:year-end-xlsx",
}  # fmt: skip


def _named_routes(resolver, namespace=""):
    for pattern in resolver.url_patterns:
        if hasattr(pattern, "url_patterns"):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _named_routes(pattern, inner)
        elif pattern.name:
            yield f"{namespace}{pattern.name}", str(pattern.pattern)


def test_every_export_is_covered_here():
    files = {name for name, route in _named_routes(get_resolver()) if route.endswith((".xlsx", ".zip", ".csv"))}
    assert files - COVERED_URLS == set(), "a new export: add it to this file"
    exporting = {
        model._meta.label_lower for model, model_admin in django_admin.site._registry.items()
        if isinstance(model_admin, ExportMixin)
    }  # fmt: skip
    assert exporting == set(ADMIN_EXPORTS), "a new admin export: add it to ADMIN_EXPORTS"

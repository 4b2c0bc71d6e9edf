"""Every URL of the project, as every persona, against township B's records (IDOR sweep).

The URLs are read from the root URLconf (the admin's included), so a new page is swept the day it is added; and
it must be classified in the tables below first (test_every_url_is_classified fails until it is), so nobody can
add a page without saying whose record its parameter names and who may see it.

For each (persona, URL):
- the response, in any format (HTML, JSON, Excel, ZIP, file names in headers), carries none of the markers of
  township B that the persona may not see (idor_world.forbidden_markers: scope and permissions);
- a URL naming one of B's records answers a persona whose scope or permissions do not reach it with 400, 403, 404,
  405 or a redirect to the login page;
- a persona who may reach it (a city-wide role with the permission) gets the page with the marker: the control
  that proves the marker check can fail;
- a write (admin add/change/delete/actions/import, every page's POST) by a persona who may not make it changes no
  row of any table.

The world is built once per module inside a transaction that is rolled back at the end; each case runs in a
savepoint of it (pytest-django's `db`), so a write that got through does not leak into the next case.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone, translation

from housing_safety.access import PERSONAL_DATA_PERMISSION, Role, scope_of
from reporting.exports import DATASETS

from .idor_world import (
    PERSONAS,
    M,
    World,
    build_world,
    changed_tables,
    forbidden_markers,
    leaked,
    response_text,
    scraped_form,
    table_rows,
    written_tables,
)

# Who may reach a record: only a city-wide scope (township B's records, and the records of units other than the
# persona's own); the registry's reference data (every role but other townships' staff); anyone with the
# permission (configuration, shared by the whole city); only the record's owner (a user's own export file).
EVERYTHING, REFERENCE, PERMISSION, OWNER = "everything", "reference", "permission", "owner"
CONTROLS = ("admin",)  # never writes: its POSTs would be allowed
DENIED = {400, 401, 403, 404, 405}  # 401: the API's answer to a caller without key or session
NOBODY = "nobody.may_write"  # the write permission of public forms: every persona's POST is checked


def today() -> str:
    return timezone.localdate().isoformat()


def days_from_now(days: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


@dataclass(frozen=True)
class Scraped:
    """A POST body read from the page's own form, as the bureau admin gets it (a browser's submission), with the
    notes altered and `extra` fields set: a save that was not refused would show in the tables."""

    extra: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Entry:
    """How to sweep one URL pattern."""

    target: str | None = None  # the world's record the URL (path or query) names; None: a page of many records
    reach: str = EVERYTHING  # who may reach `target`
    perm: str | tuple[str, ...] | None = None  # what the page needs besides login and scope
    shows: str | None = None  # the marker a persona allowed in finds on the page (GET)
    args: Callable[[World], list[list]] | None = None  # path arguments, one list per URL (default: target's pk)
    query: Callable[[World], dict | list[dict]] | None = None  # a list: one URL per query
    post: Callable[[World], dict] | Scraped | None = None  # a write: the body a browser would send
    write_perm: str | tuple[str, ...] | None = None  # who may make the write (default: perm)
    silent: bool = False  # a refused persona gets the page with nothing of B (a filter), not an error
    reads_only: bool = False  # the POST is a read (an export): only its body is checked, not the tables
    public: bool = False  # anonymous readers are expected (placard check, complaint lookup, login)
    allows: frozenset[str] = frozenset()  # markers this page shows to anyone, by design


def _appraisal_body(world: World) -> dict:
    components = {"foundation": "a", "load_bearing_walls": "a", "timber_frame": "a", "roof_truss": "a"}
    return {
        "kind": "assessment", "appraised_on": today(), "organisation": "篡改", "appraisers": "篡改",
        **components, "concrete_frame": "n", "floor_roof_slab": "a", "grade": "A", "recommendation": "none",
    }  # fmt: skip


def _complaint_body(world: World) -> dict:
    return {
        "channel": "hotline", "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "reporter_name": "篡改",
        "township": world["township_b"].pk, "village": world["village_b"].pk, "category": "other", "content": "篡改",
    }  # fmt: skip


def _lead_body(world: World) -> dict:
    lead = world["lead_b"]
    return {
        "direction": "incoming", "from_unit": lead.to_unit_id, "to_unit": lead.from_unit_id, "subject": "篡改",
        "sent_on": today(),
    }  # fmt: skip


def _upload_body(world: World) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = world["department_list_b"].file.open("rb").read()
    upload = SimpleUploadedFile("篡改.xlsx", content)
    return {"unit": world["department_list_b"].unit_id, "listed_on": today(), "file": upload}


def _lead_quarter(world: World) -> dict:
    sent = world["lead_b"].sent_on
    return {"year": sent.year, "quarter": (sent.month - 1) // 3 + 1}


VIEW_HOUSEHOLD = "households.view_household"
_API_UNMASK = {"unmask": "1", "reason": "入户核实身份"}  # a full-number read: only for roles that may, logged
VIEW_CASE = "rectification.view_renovationcase"

# The project's own pages, by URL name. --------------------------------------------------------------------------
APP: dict[str, Entry] = {
    "home": Entry(),  # counts only, each computed through the user's scope (inspections/tests/test_home.py)
    # The search box: B's household by the start of its head's name (the page repeats the term, so not the whole
    # name), found only by those who may reach it.
    "search": Entry(
        perm=VIEW_HOUSEHOLD, query=lambda w: {"q": w["household_b"].head_name[:-1]}, shows="head_b1", silent=True
    ),
    # The inbox: each user's own notices only; township B's staff's notice (a helper's report) is theirs alone,
    # so no persona opens or marks it (404), and "mark all read" touches only the user's own.
    "notices": Entry(),
    "notices-read-all": Entry(post=lambda w: {}),
    "notice-open": Entry(target="notice_b", reach=OWNER, post=lambda w: {}),
    # A large print (housing_safety.printing): its page and its PDF are its asker's alone.
    "print-job": Entry(target="print_job_b", reach=OWNER),
    "print-job-file": Entry(target="print_job_b", reach=OWNER),
    "set_language": Entry(public=True),
    "healthz": Entry(public=True),
    # The QR code on the house door: anyone who scans it sees the village and the masked name, nothing more.
    "placard-verify": Entry(
        target="placard_b", public=True, args=lambda w: [[w["placard_b"].token]], allows=frozenset({"village"})
    ),
    "complaint-lookup": Entry(
        public=True,
        post=lambda w: {"ticket": w["complaint_b"].ticket, "code": w.values["complaint_code"]},
        write_perm=NOBODY,
    ),
    "attachment-download": Entry(target="attachment_b", shows="attachment"),
    # Asking for one record's full numbers (a logged disclosure): the kind is a record type, the pk B's record.
    "unmask": Entry(
        target="household_b",
        write_perm=PERSONAL_DATA_PERMISSION,
        args=lambda w: [
            ["households.household", w["household_b"].pk],
            ["rectification.complaint", w["complaint_b"].pk],
        ],
        post=lambda w: {"reason": "入户核实身份"},
    ),
    # Field pages and overviews.
    "inspections:field": Entry(perm=VIEW_HOUSEHOLD, query=lambda w: {"village": w["village_b"].pk}, shows="head_b1"),
    # The offline field app (docs/field-app.md): its shell names no record and carries only the user's own name (its
    # data comes from /api/v1/field/..., swept with the API); the worker and the manifest carry no data at all.
    "fieldwork:app": Entry(),
    "fieldwork:sw": Entry(public=True),
    "fieldwork:manifest": Entry(public=True),
    "inspections:household": Entry(target="household_b", shows="head_b1"),
    "inspections:appraise": Entry(
        target="dwelling_b", perm="inspections.add_appraisal", shows="address", post=_appraisal_body
    ),
    # The appraisal form on paper (inspections/documents.py): one appraisal's, the blank one, a village's batch.
    "inspections:appraisal-form": Entry(target="appraisal_b", perm="inspections.view_appraisal", shows="head_b1"),
    "inspections:appraisal-form-blank": Entry(perm="inspections.add_appraisal"),
    "inspections:village-forms": Entry(target="village_b", perm="inspections.view_appraisal", post=lambda w: {}),
    "inspections:overdue": Entry(perm=VIEW_HOUSEHOLD, shows="head_b4"),
    "inspections:dangerous": Entry(perm=VIEW_HOUSEHOLD, shows="head_b3"),
    "inspections:status": Entry(perm=VIEW_HOUSEHOLD),
    "inspections:placard-issue": Entry(
        target="household_b5",
        perm="inspections.add_placard",
        silent=True,
        post=lambda w: {"household": w["household_b5"].pk},
    ),
    "inspections:placard-print": Entry(
        perm="inspections.view_placard", query=lambda w: {"household": w["household_b2"].pk}, shows="head_b2"
    ),
    "inspections:placard-install": Entry(
        target="placard_b", perm="inspections.change_placard", post=lambda w: {"installed_on": today()}
    ),
    "inspections:placard-coverage": Entry(perm="inspections.view_placard"),
    # The province's list of base villages: the bureau's (administrators and officials load and confirm it).
    "inspections:base-villages": Entry(
        perm="inspections.view_basevillagelist",
        write_perm="inspections.add_basevillagelist",
        post=lambda w: {"year": "2020", "batch": "篡改"},
    ),
    "inspections:base-village-list": Entry(
        target="base_village_list", reach=PERMISSION, perm="inspections.view_basevillagelist"
    ),
    "inspections:base-village-confirm": Entry(
        target="base_village_list", reach=PERMISSION, perm="inspections.add_basevillagelist", post=lambda w: {}
    ),
    "inspections:revisits": Entry(perm="inspections.view_revisit", shows="head_b3"),
    "inspections:revisit": Entry(
        target="revisit_b",
        perm="inspections.change_revisit",
        shows="head_b3",
        post=lambda w: {"visited_on": today(), "still_lived_in": "yes", "outcome": "none", "notes": "篡改"},
    ),
    "inspections:reports": Entry(perm="inspections.change_helperreport", shows="helper_note"),
    "inspections:report": Entry(
        target="helper_report_b",
        perm="inspections.change_helperreport",
        shows="helper_note",
        post=lambda w: {"action_taken": "篡改"},
    ),
    "inspections:helper": Entry(perm="inspections.add_helperreport"),
    "inspections:helper-report": Entry(
        target="household_b",
        perm="inspections.add_helperreport",
        post=lambda w: {"note": "篡改", "findings": "leaking"},
    ),
    # Problems.
    "rectification:problems": Entry(perm="rectification.view_problem", shows="problem"),
    "rectification:problem-export": Entry(perm="rectification.view_problem", shows="problem"),
    # The township's problem list on paper (rectification/paper.py): one township's, another's is a 404.
    "rectification:problem-print": Entry(
        target="township_b",
        perm="rectification.view_problem",
        shows="problem",
        query=lambda w: {"township": w["township_b"].pk},
    ),
    "rectification:problem": Entry(target="problem_b", perm="rectification.view_problem", shows="problem"),
    "rectification:problem-move": Entry(
        target="problem_b", write_perm="rectification.change_problem", post=lambda w: {"to": "in_progress"}
    ),
    # Renovation cases.
    "rectification:cases": Entry(perm=VIEW_CASE, shows="head_b1"),
    "rectification:dangerous-without-case": Entry(perm=VIEW_CASE, shows="head_b3"),
    "rectification:case-new": Entry(
        target="dwelling_b3",
        perm="rectification.add_renovationcase",
        shows="head_b3",
        query=lambda w: {"dwelling": w["dwelling_b3"].pk},
        post=lambda w: {
            "programme_year": timezone.localdate().year,
            "renovation_type": "repair",
            "build_mode": "self",
            "funding_source": "central",
            "planned_subsidy": "8000",
            "applied_on": today(),
        },
    ),
    "rectification:archive": Entry(perm=VIEW_CASE, query=lambda w: {"township": w["township_b"].pk}),
    "rectification:subsidies": Entry(perm=VIEW_CASE),
    "rectification:case": Entry(target="case_b", perm=VIEW_CASE, shows="builder"),
    "rectification:case-move": Entry(
        target="case_b",
        perm=VIEW_CASE,
        write_perm="rectification.advance_case",
        post=lambda w: {"to": "archived", "on": today()},
    ),
    "rectification:case-documents": Entry(
        target="case_b",
        perm=VIEW_CASE,
        write_perm="households.add_attachment",
        post=lambda w: {"kind": w["document_kind"].pk},
    ),
    "rectification:case-check": Entry(
        target="case_b",
        perm=VIEW_CASE,
        write_perm="rectification.advance_case",
        post=lambda w: {"on": today(), "note": "篡改"},
    ),
    "rectification:case-new-dwelling": Entry(
        target="case_b",
        perm=VIEW_CASE,
        write_perm="rectification.advance_case",
        post=lambda w: {"address": "篡改", "structure_type": "frame", "storeys": "1"},
    ),
    "rectification:case-supplement": Entry(
        target="case_b",
        perm=VIEW_CASE,
        write_perm="rectification.override_case_rules",
        post=lambda w: {"paid_on": today(), "amount": "100", "voucher_number": "篡改", "reason": "篡改"},
    ),
    # The household archive holds identity documents: personal-data roles only.
    "rectification:case-archive": Entry(target="case_b", perm=(VIEW_CASE, PERSONAL_DATA_PERMISSION), shows="head_b1"),
    # The paper folder's cover and contents (rectification/paper.py): the ID number masked, as on the case page.
    "rectification:case-folder": Entry(target="case_b", perm=VIEW_CASE, shows="head_b1"),
    # A posting notice (公示) of the case's village assessment or township review; no posting period: a 404.
    "rectification:case-posting": Entry(
        target="case_b", perm=VIEW_CASE, shows="head_b1", query=lambda w: {"step": "village_assessed"}
    ),
    # A township's covers and contents lists, laid out in the background (a print job for its asker).
    "rectification:township-folders": Entry(target="township_b", perm=VIEW_CASE, post=lambda w: {}),
    # Complaints and leads.
    "rectification:complaints": Entry(perm="rectification.view_complaint", shows="complaint"),
    "rectification:complaint-export": Entry(perm="rectification.view_complaint", shows="complaint"),
    "rectification:complaint-new": Entry(perm="rectification.add_complaint", post=_complaint_body),
    "rectification:complaint": Entry(target="complaint_b", perm="rectification.view_complaint", shows="complaint"),
    "rectification:complaint-move": Entry(
        target="complaint_b",
        perm="rectification.view_complaint",
        write_perm="rectification.handle_complaint",
        post=lambda w: {"to": "replied", "replied_on": today(), "reply_method": "phone", "reply": "篡改"},
    ),
    "rectification:complaint-problem": Entry(
        target="complaint_b",
        perm="rectification.view_complaint",
        write_perm="rectification.add_problem",
        post=lambda w: {"description": "篡改", "deadline": days_from_now(30)},
    ),
    "rectification:leads": Entry(perm="rectification.view_leadtransfer", shows="lead"),
    # A lead between two units that are not the liaison's: recorded only by the complaint desk and the bureau.
    "rectification:lead-new": Entry(
        target="lead_b", perm="rectification.add_leadtransfer", silent=True, post=_lead_body
    ),
    "rectification:lead-report": Entry(perm="rectification.manage_complaint", query=_lead_quarter, shows="lead"),
    "rectification:lead-receipt": Entry(
        target="lead_b", perm="rectification.change_leadtransfer", post=lambda w: {"on": today(), "by": "篡改"}
    ),
    "rectification:lead-feedback": Entry(
        target="lead_b",
        perm="rectification.change_leadtransfer",
        post=lambda w: {"on": today(), "feedback": "篡改"},
    ),
    # The units' quarterly lead returns: a department's liaison files their own; the bureau reads them all.
    "rectification:lead-returns": Entry(perm="rectification.view_leadquarterreturn"),
    "rectification:lead-return": Entry(
        target="lead_return_b",
        perm="rectification.view_leadquarterreturn",
        shows="lead_return",
        args=lambda w: [[w["lead_return_b"].year, w["lead_return_b"].quarter, w["lead_return_b"].unit_id]],
        write_perm="rectification.add_leadquarterreturn",
        post=lambda w: {
            "sent_to_units": "9",
            "sent_to_discipline": "0",
            "received": "0",
            "receipts_confirmed": "0",
            "feedback": "0",
            "situation": "篡改",
            "difference_reason": "篡改",
        },
    ),
    # Dashboard, unit reports, exports.
    "reporting:dashboard": Entry(
        target="township_b",
        reach=REFERENCE,
        perm="reporting.view_dashboard",
        shows="village",
        query=lambda w: {"township": w["township_b"].pk},
    ),
    "reporting:reports": Entry(perm="reporting.view_monthlyreport"),
    "reporting:report": Entry(
        target="report_b",
        perm="reporting.view_monthlyreport",
        shows="progress",
        write_perm="reporting.submit_monthlyreport",
        post=lambda w: {"progress": "篡改", "problems_handled": "篡改"},
    ),
    # A unit report as a Word document (its narrative inside) and its stamped scan: whoever sees the report.
    "reporting:report-docx": Entry(target="report_b", perm="reporting.view_monthlyreport", shows="progress"),
    "reporting:report-stamped-copy": Entry(target="report_b", perm="reporting.view_monthlyreport"),
    "reporting:consolidated": Entry(target="consolidated", reach=PERMISSION, perm="reporting.view_consolidatedreport"),
    "reporting:consolidated-docx": Entry(
        target="consolidated", reach=PERMISSION, perm="reporting.view_consolidatedreport"
    ),
    "reporting:consolidated-now-docx": Entry(perm="reporting.view_consolidatedreport"),
    "reporting:year-end-docx": Entry(
        perm="reporting.view_consolidatedreport", args=lambda w: [[timezone.localdate().year]]
    ),
    "reporting:consolidated-now": Entry(perm="reporting.view_consolidatedreport"),
    # The city's year-end summary (its page and workbook): the bureau's, like the consolidated report; by year.
    "reporting:year-end": Entry(perm="reporting.view_consolidatedreport", args=lambda w: [[timezone.localdate().year]]),
    "reporting:year-end-xlsx": Entry(
        perm="reporting.view_consolidatedreport", args=lambda w: [[timezone.localdate().year]]
    ),
    # The year's data sent to Longyan (五月提交龙岩市审核): the bureau's, by year; a file with full ID numbers only for
    # who may see them.
    "reporting:submissions": Entry(
        perm="reporting.view_datasubmission",
        write_perm="reporting.add_datasubmission",
        post=lambda w: {"year": timezone.localdate().year, "sent_on": today(), "recipient": "篡改", "method": "篡改"},
    ),
    "reporting:submission": Entry(
        target="submission",
        reach=PERMISSION,
        perm="reporting.view_datasubmission",
        args=lambda w: [[w["submission"].year]],
        write_perm="reporting.change_datasubmission",
        post=lambda w: {"review": "returned", "reviewed_on": today(), "remarks": "篡改"},
    ),
    "reporting:submission-file": Entry(
        target="submission_file", reach=PERMISSION, perm=("reporting.view_datasubmission", PERSONAL_DATA_PERMISSION)
    ),
    "reporting:exports": Entry(perm=VIEW_HOUSEHOLD),
    # The parameter is a dataset name, not a record: each export is a list, scoped like the pages.
    "reporting:export": Entry(perm=VIEW_HOUSEHOLD, args=lambda w: [[name] for name in DATASETS], shows="head_b1"),
    "reporting:export-file": Entry(target="export_file_b", reach=OWNER),
    # Partner departments' lists.
    # The REST API (housing_safety/api/, households/api.py), through the session here (a key acts as its system
    # account, whose pages these are: housing_safety/tests/test_api_keys.py). Lists by the cursor, with B's filter.
    "api:root": Entry(),
    "api:schema": Entry(),
    "api:docs": Entry(),
    "api:townships-list": Entry(perm="households.view_township"),
    "api:townships-detail": Entry(target="township_b", reach=REFERENCE, perm="households.view_township"),
    "api:villages-list": Entry(
        perm="households.view_village", shows="village", query=lambda w: [{}, {"township": w["township_b"].pk}]
    ),
    "api:villages-detail": Entry(target="village_b", reach=REFERENCE, perm="households.view_village", shows="village"),
    "api:households-list": Entry(
        perm=VIEW_HOUSEHOLD,
        shows="head_b1",
        query=lambda w: [{}, {"township": w["township_b"].pk}, {"village": w["village_b"].pk, "unmask": "1"}],
    ),
    "api:households-detail": Entry(
        target="household_b", perm=VIEW_HOUSEHOLD, shows="head_b1", query=lambda w: [{}, _API_UNMASK]
    ),
    "api:dwellings-list": Entry(
        perm="households.view_dwelling", shows="address", query=lambda w: [{}, {"household": w["household_b"].pk}]
    ),
    "api:dwellings-detail": Entry(target="dwelling_b", perm="households.view_dwelling", shows="address"),
    # inspections/api.py: ids, grades and dates (no marker of B's to show; the lists filtered to B's records).
    "api:appraisals-list": Entry(
        perm="inspections.view_appraisal",
        query=lambda w: [{}, {"township": w["township_b"].pk}, {"household": w["household_b"].pk}],
    ),
    "api:appraisals-detail": Entry(target="appraisal_b", perm="inspections.view_appraisal"),
    "api:revisits-list": Entry(
        perm="inspections.view_revisit",
        query=lambda w: [{}, {"township": w["township_b"].pk}, {"campaign": w["campaign"].pk}],
    ),
    "api:revisits-detail": Entry(target="revisit_b", perm="inspections.view_revisit"),
    # rectification/api.py: the reporter masked (whole only with unmask, for the complaint desk's roles).
    "api:problems-list": Entry(
        perm="rectification.view_problem", shows="problem", query=lambda w: [{}, {"township": w["township_b"].pk}]
    ),
    "api:problems-detail": Entry(target="problem_b", perm="rectification.view_problem", shows="problem"),
    "api:cases-list": Entry(perm=VIEW_CASE, shows="builder", query=lambda w: [{}, {"village": w["village_b"].pk}]),
    "api:cases-detail": Entry(target="case_b", perm=VIEW_CASE, shows="builder"),
    "api:complaints-list": Entry(
        perm="rectification.view_complaint",
        shows="complaint",
        query=lambda w: [{}, {"township": w["township_b"].pk, "unmask": "1", "reason": "入户核实身份"}],
    ),
    "api:complaints-detail": Entry(
        target="complaint_b", perm="rectification.view_complaint", shows="complaint", query=lambda w: [{}, _API_UNMASK]
    ),
    # reporting/api.py: unit reports as on their pages; the dashboard's table, drilled down to B as the dashboard is.
    "api:reports-list": Entry(
        perm="reporting.view_monthlyreport",
        shows="progress",
        query=lambda w: [{}, {"township": w["township_b"].pk}, {"unit": w["unit_b"].pk}],
    ),
    "api:reports-detail": Entry(target="report_b", perm="reporting.view_monthlyreport", shows="progress"),
    "api:figures-list": Entry(
        target="township_b",
        reach=REFERENCE,
        perm="reporting.view_dashboard",
        shows="village",
        query=lambda w: [{"township": w["township_b"].pk}],
    ),
    # The API's writes (inspections/api_writes.py, rectification/api_writes.py): POSTs only (a GET is a 405), each the
    # page's write through the page's service, so the same personas may make it and the same record is out of reach.
    "api:appraisal-create": Entry(target="dwelling_b", perm="inspections.add_appraisal", post=_appraisal_body),
    "api:revisit-record": Entry(
        target="revisit_b",
        perm="inspections.change_revisit",
        post=lambda w: {"visited_on": today(), "still_lived_in": "true", "outcome": "none", "notes": "篡改"},
    ),
    "api:helper-report-create": Entry(
        target="household_b",
        perm="inspections.add_helperreport",
        post=lambda w: {"note": "篡改", "findings": "leaking"},
    ),
    "api:complaint-intake": Entry(perm="rectification.add_complaint", post=_complaint_body),
    "api:problem-move": Entry(
        target="problem_b", write_perm="rectification.change_problem", post=lambda w: {"to": "in_progress"}
    ),
    "api:case-move": Entry(
        target="case_b",
        perm=VIEW_CASE,
        write_perm="rectification.advance_case",
        post=lambda w: {"to": "archived", "on": today()},
    ),
    # fieldwork/api.py: the field app's reads, through a person's session only (a key is a 403), for township staff
    # and helpers (the city-wide roles have no package: a 403 too); B's village's package is its own staff's alone.
    "api:field-me": Entry(),
    "api:field-villages": Entry(),
    "api:field-package": Entry(target="village_b", query=lambda w: {"village": w["village_b"].pk}),
    "households:lists": Entry(
        target="department_list_b",
        perm="households.view_departmentlist",
        silent=True,
        shows="list_file",
        write_perm="households.add_departmentlist",
        post=_upload_body,
    ),
    "households:reconciliation": Entry(perm="households.view_departmentlist"),
    "households:reconciliation-export": Entry(perm="households.view_departmentlist"),
    "households:list": Entry(target="department_list_b", perm="households.view_departmentlist", shows="list_file"),
    "households:list-confirm": Entry(
        target="department_list_b", perm="households.add_departmentlist", post=lambda w: {}
    ),
    "households:list-invalid": Entry(target="department_list_b", perm="households.view_departmentlist"),
    # Change proposals: the township holding the household and the bureau administrator decide them.
    "households:proposals": Entry(perm="households.change_household", silent=True, shows="head_b1"),
    "households:proposal-decide": Entry(
        target="proposal_b", perm="households.change_household", post=lambda w: {"decision": "accept", "reason": "篡改"}
    ),
}

# The admin site's own pages, by URL name (or route where it has none). --------------------------------------------
SITE: dict[str, Entry] = {
    "admin:index": Entry(),
    "admin:login": Entry(public=True),
    "admin:logout": Entry(public=True),  # POST-only; never posted (it would end the persona's session)
    "admin:password_change": Entry(),  # one's own password
    "admin/password_change/": Entry(),  # the project's own (households.views.password_change), before the admin's
    # Every autocomplete of the admin, searching for B's records by their marker.
    "admin:autocomplete": Entry(query=lambda w: _autocomplete_queries(), shows="head_b1"),
    "admin:password_change_done": Entry(),
    "admin:jsi18n": Entry(public=True),
    # Redirects to the record's page (which checks); the redirect itself tells nothing the URL did not.
    "admin:view_on_site": Entry(
        target="complaint_b",
        silent=True,
        args=lambda w: [[ContentType.objects.get_for_model(w["complaint_b"]).pk, w["complaint_b"].pk]],
    ),
    # The parameter is an app label, not a record: each app's index lists the models the persona may see.
    "admin:app_list": Entry(
        args=lambda w: [[label] for label in sorted({m._meta.app_label for m in admin.site._registry})]
    ),
    "admin/(?P<url>.*)$": Entry(
        target="household_b", silent=True, args=lambda w: [[f"households/household/{w['household_b'].pk}"]]
    ),
}


AUTOCOMPLETE_TERMS = {
    "households.household": "head_b1",
    "households.dwelling": "address",
    "households.village": "village",
}


def _autocomplete_queries() -> list[dict]:
    queries = []
    for model, model_admin in admin.site._registry.items():
        for name in model_admin.autocomplete_fields:
            remote = model._meta.get_field(name).remote_field.model._meta
            term = M[AUTOCOMPLETE_TERMS[remote.label_lower]].text
            queries.append(
                {"app_label": model._meta.app_label, "model_name": model._meta.model_name, "field_name": name,
                 "term": term}
            )  # fmt: skip
    return queries


@dataclass(frozen=True)
class AdminModel:
    """A registered ModelAdmin's record to sweep with: township B's (or the configuration row every page shows)."""

    target: str
    reach: str = EVERYTHING
    shows: str | None = None  # on the change page, for a persona allowed in
    list_shows: str | None = None  # on the list
    export_shows: str | None = None  # in the admin's export, when it differs from the list
    add: Callable[[World], dict] | None = None  # an add form naming B's records (the write must be refused)


ADMIN_MODELS: dict[str, AdminModel] = {
    "households.household": AdminModel(
        "household_b",
        shows="head_b1",
        list_shows="head_b1",
        add=lambda w: {
            "head_name": "篡改",
            "village": w["village_b"].pk,
            "members_count": "1",
            "registered_on": today(),
            "status": "active",
            "categories": "1",
        },
    ),
    "households.dwelling": AdminModel(
        "dwelling_b",
        shows="address",
        list_shows="address",
        add=lambda w: {"household": w["household_b"].pk, "address": "篡改", "structure_type": "frame", "storeys": "1"},
    ),
    "households.village": AdminModel(
        "village_b",
        REFERENCE,
        shows="village",
        list_shows="village",
        add=lambda w: {"township": w["township_b"].pk, "name": "篡改村"},
    ),
    "households.township": AdminModel("township_b", REFERENCE),
    "households.unit": AdminModel("unit_b", PERMISSION),  # responsible units are shared reference data
    "auth.user": AdminModel("staff_b", PERMISSION),
    "auth.group": AdminModel("group", PERMISSION),
    "households.columnmapping": AdminModel("column_mapping", PERMISSION),
    "households.departmentlist": AdminModel("department_list_b", shows="list_file", list_shows="list_file"),
    "inspections.appraisal": AdminModel(
        "appraisal_b",
        shows="address",
        list_shows="head_b1",
        export_shows="id_b1",  # the export names the household by its head's ID number only
        add=lambda w: {"dwelling": w["dwelling_b"].pk, **_appraisal_body(w)},
    ),
    "inspections.securedhousing": AdminModel(
        "secured_b",
        shows="head_b3",
        list_shows="head_b3",
        add=lambda w: {"household": w["household_b"].pk, "kind": "relatives", "since": today()},
    ),
    "inspections.placard": AdminModel("placard_b", shows="head_b2", list_shows="head_b2"),
    "inspections.campaign": AdminModel("campaign", PERMISSION),
    "inspections.revisit": AdminModel("revisit_b", shows="address_b3", list_shows="address_b3"),
    "inspections.helperreport": AdminModel("helper_report_b", shows="helper_note", list_shows="head_b1"),
    "inspections.spotcheck": AdminModel("spot_check", PERMISSION),
    "inspections.guidanceassignment": AdminModel("guidance", PERMISSION),  # 包片: the bureau's, every township's
    "rectification.problem": AdminModel(
        "problem_b",
        shows="problem",
        list_shows="head_b3",
        add=lambda w: {
            "township": w["township_b"].pk,
            "household": w["household_b"].pk,
            "source": "other",
            "kind": "other",
            "phase": "3",
            "description": "篡改",
            "deadline": days_from_now(30),
        },
    ),
    "rectification.renovationcase": AdminModel("case_b", shows="builder", list_shows="head_b1"),
    "rectification.documentkind": AdminModel("document_kind", PERMISSION),
    "rectification.subsidystandard": AdminModel("subsidy_standard", PERMISSION),
    "rectification.subsidypayment": AdminModel("payment_b"),
    "rectification.complaintdeadline": AdminModel("complaint_deadline", PERMISSION),
    "rectification.campaignphase": AdminModel("campaign_phase", PERMISSION),  # the plan's work phases, per year
    "rectification.planitem": AdminModel("plan_item", PERMISSION),  # the plan's tasks and mechanisms (issue 24)
    "rectification.leadtransfer": AdminModel("lead_b", shows="lead"),
    "reporting.monthlyreport": AdminModel("report_b", shows="progress"),
    "reporting.consolidatedreport": AdminModel("consolidated", PERMISSION),
    "reporting.overdueitem": AdminModel("overdue_b", PERMISSION),  # the bureau's; its label names B's household
    "reporting.exporttemplate": AdminModel("export_template", PERMISSION),
    "housing_safety.outgoingemail": AdminModel("email_b", PERMISSION),
    "housing_safety.personaldataaccess": AdminModel("disclosure_b", PERMISSION),  # the bureau's log; names B's head
    "housing_safety.holidayyear": AdminModel("holiday_year", PERMISSION),  # the State Council's holidays, per year
    "housing_safety.apikey": AdminModel("api_key", PERMISSION),  # the bureau's keys for systems (staff B's account)
    "housing_safety.webhooksubscription": AdminModel("webhook_subscription", PERMISSION),  # systems told of events
    "housing_safety.webhookdelivery": AdminModel("webhook_delivery", PERMISSION),  # read only; resend given-up ones
    "django_celery_beat.periodictask": AdminModel("periodic_task", PERMISSION),
    "django_celery_beat.crontabschedule": AdminModel("crontab", PERMISSION),
    "django_celery_beat.intervalschedule": AdminModel("interval", PERMISSION),
    "django_celery_beat.solarschedule": AdminModel("solar", PERMISSION),
    "django_celery_beat.clockedschedule": AdminModel("clocked", PERMISSION),
    "axes.accessattempt": AdminModel("access_attempt", PERMISSION),
    "axes.accesslog": AdminModel("access_log", PERMISSION),
    "axes.accessfailurelog": AdminModel("access_failure", PERMISSION),
}

# Admin pages beyond the standard ones, by URL name: model label and the permission the page needs.
ADMIN_EXTRA: dict[str, tuple[str, str]] = {
    "admin:inspections_campaign_launch": ("inspections.campaign", "inspections.add_campaign"),
    "admin:auth_user_password_change": ("auth.user", "auth.change_user"),
}

# The standard pages of every ModelAdmin, by the route after the model's prefix.
ADMIN_KINDS = {
    "": "changelist",
    "add/": "add",
    "<path:object_id>/history/": "history",
    "<path:object_id>/delete/": "delete",
    "<path:object_id>/change/": "change",
    "<path:object_id>/": "object",
    "^([^/]+)/history/([^/]+)/$": "history_version",  # simple-history's one saved version
    "import/": "import",
    "process_import/": "process_import",
    "export/": "export",
}


# URL enumeration ----------------------------------------------------------------------------------------------


# A path converter (<int:pk>) or a regex group ((?P<url>.*), ([^/]+)), in the route of a pattern and its parents.
PARAMETER = re.compile(r"\(\?P<\w+>[^)]*\)|\((?!\?:)[^)]*\)|<(?:\w+:)?\w+>")


@dataclass(frozen=True)
class Route:
    key: str  # the URL name (with namespace), or the route where there is none
    route: str
    name: str | None
    params: int  # how many path parameters

    def fill(self, values: list) -> str:
        """The route with its parameters replaced by `values`, as a path."""
        values = iter(values)
        path = PARAMETER.sub(lambda _match: str(next(values)), self.route)
        return "/" + path.replace("^", "").replace("$", "")


def _walk(patterns, prefix: str = "", namespace: str | None = None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield Route(key=name or route, route=route, name=name, params=len(PARAMETER.findall(route)))


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns))


ROUTES = {route.key: route for route in all_routes()}


def admin_model_of(route: Route) -> tuple[str | None, str | None]:
    """(model label, kind) of an admin route of a registered ModelAdmin; (None, None) for any other route."""
    for model in admin.site._registry:
        prefix = f"admin/{model._meta.app_label}/{model._meta.model_name}/"
        if route.route.startswith(prefix):
            rest = route.route[len(prefix) :]
            return model._meta.label_lower, ADMIN_KINDS.get(rest, "extra")
    return None, None


def _admin_perm(label: str, kind: str) -> str | tuple[str, ...]:
    app, model = label.split(".")
    return {
        "add": f"{app}.add_{model}",
        "delete": f"{app}.delete_{model}",
        "import": f"{app}.add_{model}",
        "process_import": f"{app}.add_{model}",
    }.get(kind, f"{app}.view_{model}")


def _admin_write_perm(label: str, kind: str) -> str:
    app, model = label.split(".")
    return {"add": f"{app}.add_{model}", "delete": f"{app}.delete_{model}", "changelist": f"{app}.delete_{model}"}.get(
        kind, f"{app}.change_{model}"
    )


def admin_entry(route: Route, label: str, kind: str) -> Entry | None:
    spec = ADMIN_MODELS[label]
    if kind == "extra":
        if route.key not in ADMIN_EXTRA:
            return None  # test_every_url_is_classified says what to add
        _label, perm = ADMIN_EXTRA[route.key]
        return Entry(target=spec.target, reach=spec.reach, perm=perm, post=lambda w: {}, write_perm=perm)
    perm = _admin_perm(label, kind)
    write = _admin_write_perm(label, kind)
    if kind == "changelist":
        action = "send_now" if label == "housing_safety.outgoingemail" else "delete_selected"
        return Entry(
            perm=perm, shows=spec.list_shows, write_perm=write,
            post=lambda w: {"action": action, "_selected_action": [w[spec.target].pk], "index": "0", "post": "yes"},
        )  # fmt: skip
    if kind == "add":
        # A persona who may add (township staff) must still not add into B: the add form names B's records, in
        # the POST and, as the admin's initial values, in the query string of the empty form.
        if spec.add is not None:
            return Entry(
                target=spec.target, reach=spec.reach, perm=perm, silent=True, post=spec.add, write_perm=write,
                query=lambda w: [{}, {k: v for k, v in spec.add(w).items() if k != "registered_on"}],
            )  # fmt: skip
        return Entry(perm=perm, post=lambda w: {}, write_perm=write)
    if kind in ("import", "process_import"):
        return Entry(perm=perm, post=lambda w: {}, write_perm=write)
    if kind == "export":  # the export form, every field ticked, as Excel: scoped like the list
        shows = spec.export_shows or spec.list_shows
        return Entry(perm=perm, post=Scraped((("format", "0"),)), reads_only=True, shows=shows)
    if kind == "history_version":
        history = lambda w: [[w[spec.target].pk, w.values["history_id"][spec.target]]]  # noqa: E731
        # simple-history saves a valid POST to this page (a revert) for anyone who may view the record: the body is
        # the version's form as the bureau admin sees it, notes altered.
        return Entry(target=spec.target, reach=spec.reach, perm=perm, args=history, post=Scraped(), write_perm=write)
    if kind == "object":  # a redirect to the change page, which checks
        return Entry(target=spec.target, reach=spec.reach, perm=perm, silent=True)
    body = {"delete": lambda w: {"post": "yes"}, "change": None, "history": None}[kind]
    return Entry(
        target=spec.target, reach=spec.reach, perm=perm, shows=spec.shows if kind == "change" else None,
        post=body if kind == "delete" else (Scraped() if kind == "change" else None), write_perm=write,
    )  # fmt: skip


def entry_for(route: Route) -> Entry | None:
    label, kind = admin_model_of(route)
    if label is not None:
        return admin_entry(route, label, kind) if label in ADMIN_MODELS else None
    return APP.get(route.key) or SITE.get(route.key)


# Classification: a new URL fails here until somebody says what it is. ---------------------------------------------


def test_every_url_is_classified():
    unclassified, unnamed_records = [], []
    for route in ROUTES.values():
        label, kind = admin_model_of(route)
        if label is not None:
            if label not in ADMIN_MODELS:
                unclassified.append(f"{route.route} (admin of {label}: add it to ADMIN_MODELS)")
            elif kind == "extra" and route.key not in ADMIN_EXTRA:
                unclassified.append(f"{route.route} (extra admin page {route.key}: add it to ADMIN_EXTRA)")
            continue
        entry = APP.get(route.key) or SITE.get(route.key)
        if entry is None:
            unclassified.append(f"{route.route} ({route.key}: add it to APP or SITE)")
        elif route.params and entry.target is None and entry.args is None:
            unnamed_records.append(f"{route.route} ({route.key}: say which record its parameter names)")
    assert not unclassified, "URLs the IDOR sweep does not know:\n" + "\n".join(unclassified)
    assert not unnamed_records, "\n".join(unnamed_records)


def test_every_registered_model_admin_is_in_the_table_and_no_entry_is_stale():
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert registered == set(ADMIN_MODELS), {
        "missing": registered - set(ADMIN_MODELS),
        "stale": set(ADMIN_MODELS) - registered,
    }
    stale = (set(APP) | set(SITE)) - set(ROUTES)
    assert not stale, f"entries for URLs that no longer exist: {sorted(stale)}"


def test_the_sweep_covers_the_admin_of_every_model():
    """The enumeration sees the admin's URLs (a broken walk would sweep only the project's own pages)."""
    kinds = {admin_model_of(route) for route in ROUTES.values()}
    for model in admin.site._registry:
        assert (model._meta.label_lower, "change") in kinds


# The world -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("idor-media")
    overrides = override_settings(
        MEDIA_ROOT=str(media),
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        SESSION_IDLE_SECONDS=24 * 60 * 60,  # the sessions are made once, and each case's renewal is rolled back
    )
    with django_db_blocker.unblock(), overrides, translation.override(settings.LANGUAGE_CODE), transaction.atomic():
        built = build_world()
        built.values["media"] = str(media)
        built.values["sessions"] = {}
        for persona, user in built.users.items():
            if user is not None:
                client = Client()
                client.force_login(user)
                built.values["sessions"][persona] = client.cookies[settings.SESSION_COOKIE_NAME].value
        built.values["history_id"] = {
            spec.target: _history_id(built[spec.target])
            for spec in ADMIN_MODELS.values()
            if hasattr(built[spec.target], "history")
        }
        built.values["scraped"] = {}
        built.values["baseline"] = table_rows()
        yield built
        transaction.set_rollback(True)


def _history_id(obj) -> int:
    """The newest saved version of a record (rows made by data migrations have none yet: saving makes one)."""
    if not obj.history.exists():
        obj.save()
    return obj.history.order_by("-history_id").first().history_id


@pytest.fixture(autouse=True)
def _world_media(_fast_and_isolated, settings, request):
    """The world's files live in the module's media folder (the project's autouse fixture points each test at an
    empty one)."""
    if "world" in request.fixturenames:
        settings.MEDIA_ROOT = request.getfixturevalue("world").values["media"]


def client_for(world: World, persona: str) -> Client:
    client = Client()
    if persona != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = world.values["sessions"][persona]
    return client


# The sweep -------------------------------------------------------------------------------------------------------


def _perms(value) -> tuple[str, ...]:
    return () if value is None else (value,) if isinstance(value, str) else tuple(value)


def reaches(user, entry: Entry) -> bool:
    """May this persona read the page (with its record)? From ROLE_PERMISSIONS and the scope rules, not from the
    code under test."""
    if entry.public:
        return True
    if user is None:
        return False
    if not all(user.has_perm(p) for p in _perms(entry.perm)):
        return False
    if entry.target is None:
        return True
    scope = scope_of(user)
    return {
        EVERYTHING: scope.everything,
        REFERENCE: scope.role is not None and (scope.everything or scope.role != Role.TOWNSHIP_STAFF),
        PERMISSION: True,
        OWNER: False,
    }[entry.reach]


def may_write(user, entry: Entry) -> bool:
    return (
        user is not None
        and reaches(user, entry)
        and all(user.has_perm(p) for p in _perms(entry.write_perm or entry.perm))
    )


def is_login_redirect(response) -> bool:
    return response.status_code in (301, 302) and "/login/" in response.get("Location", "")


def urls_for(world: World, route: Route, entry: Entry) -> list[str]:
    if entry.args is not None:
        arg_lists = entry.args(world)
    elif route.params:
        arg_lists = [[world[entry.target].pk]]
    else:
        arg_lists = [[]]
    queries = entry.query(world) if entry.query else [{}]
    queries = [queries] if isinstance(queries, dict) else queries
    urls = []
    for args in arg_lists:
        url = reverse(route.name, args=args) if route.name else route.fill(args)
        urls += [f"{url}?{urlencode(query)}" if query else url for query in queries]
    return urls


def post_body(world: World, route: Route, entry: Entry, urls: list[str]) -> dict:
    if not isinstance(entry.post, Scraped):
        return entry.post(world)
    scraped = world.values["scraped"]
    if route.key not in scraped:
        response = client_for(world, "admin").get(urls[0])
        scraped[route.key] = scraped_form(response.content.decode()) if response.status_code == 200 else {}
    return {**scraped[route.key], **{name: [value] for name, value in entry.post.extra}}


# Known leaks, pinned until they are fixed: (persona, URL key) -> what leaks. Each case fails today (strict xfail),
# so a fix turns it into an XPASS that asks for its line here to be removed.
KNOWN_LEAKS: dict[tuple[str, str], str] = {}


def _cases():
    for key in sorted(ROUTES):
        if entry_for(ROUTES[key]) is None:
            continue
        for persona in PERSONAS:
            leak = KNOWN_LEAKS.get((persona, key))
            marks = [pytest.mark.xfail(strict=True, reason=leak)] if leak else []
            yield pytest.param(persona, key, marks=marks, id=f"{persona}-{key}")


CASES = list(_cases())


def test_known_leaks_name_swept_cases():
    swept = {(case.values[0], case.values[1]) for case in CASES}
    assert set(KNOWN_LEAKS) <= swept, set(KNOWN_LEAKS) - swept


@pytest.mark.django_db
@pytest.mark.parametrize(("persona", "key"), CASES)
def test_no_persona_reaches_another_townships_records(world, persona, key):
    route, entry = ROUTES[key], entry_for(ROUTES[key])
    user = world.users[persona]
    client = client_for(world, persona)
    forbidden = forbidden_markers(user)
    allowed_in = reaches(user, entry)
    refused = entry.target is not None and not allowed_in and not entry.silent
    urls = urls_for(world, route, entry)

    texts = []
    for url in urls:
        response = client.get(url)
        texts.append(response_text(response))
        shown = leaked(texts[-1], forbidden, entry.allows)
        assert not shown, f"GET {url} as {persona} ({response.status_code}) shows {shown}"
        if refused:
            assert response.status_code in DENIED or is_login_redirect(response), (
                f"GET {url} as {persona}: {response.status_code}, expected a refusal"
            )

    # A write is tried by every persona who may not make it; a read-only POST (an export) by everyone.
    if entry.post is not None and (entry.reads_only or (persona not in CONTROLS and not may_write(user, entry))):
        body = post_body(world, route, entry, urls)
        with CaptureQueriesContext(connection) as queries:
            response = client.post(urls[0], body)
        texts.append(response_text(response))
        if not entry.reads_only:
            written = changed_tables(world.values["baseline"], written_tables(queries.captured_queries))
            assert not written, f"POST {urls[0]} as {persona} ({response.status_code}) wrote {written}"
        shown = leaked(texts[-1], forbidden, entry.allows)
        assert not shown, f"POST {urls[0]} as {persona} ({response.status_code}) shows {shown}"
        if refused:
            assert response.status_code in DENIED or is_login_redirect(response), (
                f"POST {urls[0]} as {persona}: {response.status_code}, expected a refusal"
            )

    if allowed_in and entry.shows and entry.shows not in forbidden:
        # The control: a persona the rules let in gets the record, marker and all, so the checks above can fail.
        assert M[entry.shows].text in "\n".join(texts), (
            f"{urls} as {persona}: the control marker {entry.shows} is missing"
        )

"""The rectification app's paper documents (issue 18), drawn by housing_safety.pdf from templates under
rectification/print/: the township's problem list (一乡镇一清单) in the layout townships file it, and the household
archive's cover and contents list (一户一档) for the paper folder. Every value comes from the records the caller's
scoped selector found; nothing is typed by hand."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from households.identity import mask_id_number
from housing_safety.pdf import render_pdf

from .models import CASE_STEPS, CaseDocument, CaseStatus, DocumentKind, Problem, RenovationCase


def chinese_date(day) -> str:
    return f"{day:%Y年%m月%d日}".replace("年0", "年").replace("月0", "月") if day else ""


# The township's problem list (一乡镇一清单) -----------------------------------------------------------------------


def problem_list_pdf(township, problems: Iterable[Problem]) -> bytes:
    """One landscape A4 table: numbered rows with the timetable and the responsible person, the township and the
    date on top, the township's responsible leader's signature and stamp under it."""
    today = timezone.localdate()
    return render_pdf(
        "rectification/print/problem_list.html",
        {"township": township, "problems": list(problems), "today": today, "printed_on": chinese_date(today)},
    )


# The household archive's cover and contents (一户一档) ------------------------------------------------------------


def page_count(attachment) -> int:
    """A PDF's pages (pypdf), one for an image or any other file; a PDF that cannot be read counts as one."""
    name = (attachment.original_name or attachment.file.name or "").lower()
    if attachment.mime_type != "application/pdf" and not name.endswith(".pdf"):
        return 1
    import pypdf

    try:
        with attachment.file.open("rb") as handle:
            return len(pypdf.PdfReader(io.BytesIO(handle.read())).pages) or 1
    except Exception:  # noqa: BLE001 - a damaged upload still sits in the folder as one sheet
        return 1


@dataclass
class ContentsRow:
    number: int | str
    step: str
    kind: str
    required: bool
    present: bool
    files: int
    pages: int


def contents_of(case: RenovationCase, documents: list, kinds: list[DocumentKind] | None = None) -> list[ContentsRow]:
    """Each document kind by step, in the steps' order: those filed (with their pages) and the required ones that
    are not. A kind the case has not reached yet is listed only when something was filed under it. `kinds`: the
    document kinds, when the caller has read them once for many cases."""
    reached = set(case.reached_steps())
    by_kind: dict[int, list] = {}
    for document in documents:
        by_kind.setdefault(document.kind_id, []).append(document)
    rows: list[ContentsRow] = []
    number = 0
    labels = dict(CaseStatus.choices)
    kinds = sorted(
        DocumentKind.objects.all() if kinds is None else kinds,
        key=lambda k: (CASE_STEPS.index(k.step) if k.step in CASE_STEPS else 99, k.order, k.pk),
    )
    for kind in kinds:
        filed = by_kind.get(kind.pk, [])
        if not filed and not (kind.is_required and kind.step in reached):
            continue
        pages = sum(page_count(document.attachment) for document in filed)
        if filed:
            number += 1
        rows.append(
            ContentsRow(
                number=number if filed else "",
                step=str(labels.get(kind.step, kind.step)),
                kind=kind.name,
                required=kind.is_required,
                present=bool(filed),
                files=len(filed),
                pages=pages,
            )
        )
    return rows


FOLDER_TEMPLATE = "rectification/print/archive_folder.html"


def folder_of(case: RenovationCase, documents: list, *, full_id_number: bool = False, kinds=None) -> dict:
    """What the folder's cover and contents say of one case; the ID number masked unless `full_id_number`."""
    id_number = case.household.id_number or ""
    rows = contents_of(case, documents, kinds)
    return {
        "case": case,
        "id_number": id_number if full_id_number else mask_id_number(id_number),
        "rows": rows,
        "total_pages": sum(row.pages for row in rows),
        "missing": sum(1 for row in rows if not row.present),
    }


def archive_folder_pdfs(case: RenovationCase, documents: list, *, full_id_number: bool = False) -> tuple[bytes, bytes]:
    """The paper folder's cover (household, house, case number, programme year, township) and its contents list,
    one PDF each (the archive ZIP holds both); the ID number masked unless `full_id_number`."""
    context = {
        "folders": [folder_of(case, documents, full_id_number=full_id_number)],
        "printed_on": chinese_date(timezone.localdate()),
    }
    return (
        render_pdf(FOLDER_TEMPLATE, {**context, "part": "cover"}),
        render_pdf(FOLDER_TEMPLATE, {**context, "part": "contents"}),
    )


# A township's folders in one print, laid out in the background (housing_safety.printing) ----------------------

FOLDERS_PRINT_KIND = "archive_folders"


def _township_cases(job) -> list[RenovationCase]:
    from .selectors import cases_for_user

    cases = cases_for_user(job.user).filter(township_id=job.params["township"])
    return list(cases.order_by("household__village__name", "number"))


def _folders_html(cases: list[RenovationCase]) -> str:
    """One chunk's covers and contents lists: two queries for its documents and the kinds, whatever its size. The ID
    numbers stay masked: a batch is a list of many households."""
    documents: dict[int, list] = {}
    filed = CaseDocument.objects.filter(case__in=cases).select_related("attachment").order_by("kind__order", "pk")
    for document in filed:
        documents.setdefault(document.case_id, []).append(document)
    kinds = list(DocumentKind.objects.all())
    folders = [folder_of(case, documents.get(case.pk, []), kinds=kinds) for case in cases]
    return render_to_string(
        FOLDER_TEMPLATE, {"folders": folders, "part": "", "printed_on": chinese_date(timezone.localdate())}
    )


def _folders_filename(job) -> str:
    return f"archive-folders-{job.params['township']}-{job.pk}.pdf"


FOLDERS_PRINT_REGISTRATION = {"records": _township_cases, "render": _folders_html, "filename": _folders_filename}


# Posting notices (公示) of the steps that need a public posting -------------------------------------------------

POSTED_STEPS = {  # step: (the case's posting dates, the area the notice covers)
    CaseStatus.VILLAGE_ASSESSED: ("village_posting_start", "village_posting_end", "household__village_id"),
    CaseStatus.TOWNSHIP_REVIEWED: ("township_posting_start", "township_posting_end", "township_id"),
}


def posting_cases(cases, case: RenovationCase, step: str):
    """The cases posted with `case` at `step`: those of its village (or township) with the same posting period."""
    start, end, area = POSTED_STEPS[step]
    area_value = case.household.village_id if area == "household__village_id" else case.township_id
    return (
        cases.filter(**{start: getattr(case, start), end: getattr(case, end), area: area_value})
        .select_related("household__village", "township")
        .order_by("household__village__name", "number")
    )


def posting_notice_pdf(case: RenovationCase, step: str, posted: list) -> bytes:
    """The notice of `posted` (posting_cases) at `step`, with the township's phone and the supervision hotline for
    objections."""
    start, end, _area = POSTED_STEPS[step]
    unit = getattr(case.township, "unit", None)
    return render_pdf(
        "rectification/print/posting_notice.html",
        {
            "case": case,
            "village_step": step == CaseStatus.VILLAGE_ASSESSED,
            "step_label": CaseStatus(step).label,
            "posted": posted,
            "start": chinese_date(getattr(case, start)),
            "end": chinese_date(getattr(case, end)),
            "township_phone": unit.phone if unit else "",
            "hotline": settings.SUPERVISION_HOTLINE,
        },
    )

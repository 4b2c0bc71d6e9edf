"""Pinned query counts of the rectification pages: problems and their workbook, renovation cases, dangerous houses
without a case, the archive and subsidy overviews, a case's archive ZIP, complaints and their workbook, leads and
the quarterly lead report, and every rectification admin changelist.

Each page is measured with a few rows and again with more rows than one page holds: the count is pinned exactly
and is the same for both, so a query per row (an N+1) fails the test. (rectification/tests/test_case_views.py and
test_complaint_rules.py pin some of these pages too, with fewer rows than a page holds.)
"""

from __future__ import annotations

import datetime
import io
import itertools
import zipfile
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from households.models import Attachment, Unit
from households.tests.factories import png_file
from households.tests.test_query_counts import (
    bulk_appraisals,
    bulk_households,
    changelist_rows,
    dwellings_of,
    exported_rows,
    measured,
)
from housing_safety.access import Role
from rectification import services
from rectification.models import (
    CaseDocument,
    CaseStatus,
    Complaint,
    ComplaintStatus,
    DocumentKind,
    LeadTransfer,
    Problem,
    RenovationCase,
    RenovationType,
    SubsidyPayment,
    SubsidyStandard,
)
from rectification.tests.factories import dangerous_dwelling, new_case

pytestmark = pytest.mark.django_db

ADMIN = Role.BUREAU_ADMIN
OFFICIAL = Role.BUREAU_OFFICIAL
STAFF = Role.TOWNSHIP_STAFF
CLERK = Role.COMPLAINT_CLERK
LIAISON = Role.DEPARTMENT_LIAISON
_serial = itertools.count(1)


def _both(world, n):
    """n households in the township staff's township and n // 5 in another."""
    return bulk_households(world["home"], n) + bulk_households(world["other"], n // 5)


def _today():
    return timezone.localdate()


# Builders --------------------------------------------------------------------------------------------------------


def problems(world, n):
    """Open (some past their deadline), in progress and resolved problems, half of them of a household."""
    households = _both(world, n)
    dwellings = {d.household_id: d for d in dwellings_of(households)}
    statuses = [Problem.Status.OPEN, Problem.Status.IN_PROGRESS, Problem.Status.RESOLVED]
    Problem.objects.bulk_create(
        [
            Problem(
                township_id=household.village.township_id,
                household=household if index % 2 else None,
                dwelling=dwellings[household.pk] if index % 2 else None,
                source=Problem.Source.SELF_INSPECTION,
                kind=Problem.Kind.LEAKING,
                description="屋面漏雨，需修缮",
                measure="更换瓦片",
                responsible_person="王站长",
                deadline=_today() + datetime.timedelta(days=(-5 if index % 3 == 0 else 20)),
                status=statuses[index % 3],
                resolution="已修缮" if statuses[index % 3] == Problem.Status.RESOLVED else "",
                created_by=world["users"][STAFF],
            )
            for index, household in enumerate(households)
        ]
    )


def dangerous(world, n):
    """Dangerous houses people live in, without a case."""
    bulk_appraisals(dwellings_of(_both(world, n)), "D")


def cases(world, n):
    """Cases at every step: just applied, stalled under construction, accepted, paid (with the payment and some of
    the documents filed), rejected; each with a dangerous house waiting without a case beside it."""
    households = _both(world, n)
    township_of = {h.pk: h.village.township_id for h in households}
    dwellings = dwellings_of(households)
    appraisals = bulk_appraisals(dwellings, "D", appraised_on=_today() - datetime.timedelta(days=300))
    steps = [CaseStatus.APPLIED, CaseStatus.CONSTRUCTION_STARTED, CaseStatus.ACCEPTED, CaseStatus.PAID]
    steps += [CaseStatus.REJECTED]
    made = RenovationCase.objects.bulk_create(
        [
            RenovationCase(
                number=f"QC-{next(_serial):08d}",
                township_id=township_of[dwelling.household_id],
                household_id=dwelling.household_id,
                dwelling=dwelling,
                trigger_appraisal=appraisal,
                programme_year=2025 + index % 2,
                renovation_type=RenovationType.REBUILD if index % 2 else RenovationType.REPAIR,
                build_mode=RenovationCase.BuildMode.SELF,
                funding_source=RenovationCase.Funding.CENTRAL,
                planned_subsidy=Decimal("18000"),
                status=steps[index % 5],
                closed_from=CaseStatus.APPROVED if steps[index % 5] == CaseStatus.REJECTED else "",
                status_on=_today() - datetime.timedelta(days=200),
                last_activity_on=_today() - datetime.timedelta(days=200),
                accepted_on=_today() - datetime.timedelta(days=100) if index % 5 in (2, 3) else None,
                created_by=world["users"][STAFF],
            )
            for index, (dwelling, appraisal) in enumerate(zip(dwellings, appraisals, strict=True))
        ]
    )
    paid = [case for case in made if case.status == CaseStatus.PAID]
    SubsidyPayment.objects.bulk_create(
        [
            SubsidyPayment(
                case=case,
                paid_on=_today() - datetime.timedelta(days=50),
                amount=Decimal("18000"),
                voucher_number=f"PZ-{case.pk}",
                recorded_by=world["users"][ADMIN],
            )
            for case in paid
        ]
    )
    applied_kinds = list(DocumentKind.objects.filter(step=CaseStatus.APPLIED, is_required=True))
    case_type = ContentType.objects.get_for_model(RenovationCase)
    attachments = Attachment.objects.bulk_create(
        [
            Attachment(
                content_type=case_type,
                object_id=case.pk,
                kind=Attachment.Kind.SCANNED_FORM,
                file=f"attachments/qc/{case.pk}-{kind.pk}.png",
                original_name=f"{kind.code}.png",
                mime_type="image/png",
                size=100,
                uploaded_by=world["users"][STAFF],
            )
            for case in paid
            for kind in applied_kinds
        ]
    )
    pairs = [(case, kind) for case in paid for kind in applied_kinds]
    CaseDocument.objects.bulk_create(
        [
            CaseDocument(case=case, kind=kind, attachment=attachment, step=CaseStatus.APPLIED)
            for (case, kind), attachment in zip(pairs, attachments, strict=True)
        ]
    )
    dangerous(world, n // 2)


def complaints(world, n):
    """Complaints as the list shows them: with a household and a handler, anonymous ones, of a village only, without
    a place, repeats; half of them overdue."""
    clerk, staff, official = world["users"][CLERK], world["users"][STAFF], world["users"][OFFICIAL]
    households = bulk_households(world["home"], 2)
    today, now = _today(), timezone.now()
    statuses = [ComplaintStatus.HANDLING, ComplaintStatus.REPLIED, ComplaintStatus.RECEIVED, ComplaintStatus.CLOSED]
    made = []
    for index in range(2 * n):  # half of them in the township staff's scope
        kind = index % 4
        due = today + datetime.timedelta(days=(-3 if index % 2 else 10))
        made.append(
            Complaint(
                ticket=f"TS-2099-{next(_serial):06d}",
                query_code_hash="!",
                received_at=now - datetime.timedelta(hours=index),
                channel=Complaint.Channel.HOTLINE,
                is_anonymous=kind == 1,
                reporter_name="" if kind == 1 else "王举报",
                reporter_phone="" if kind == 1 else "13912345678",
                township=world["shuangyang"] if kind == 1 else (None if kind == 3 else world["xinqiao"]),
                village=world["home"] if kind in (0, 2) else None,
                household=households[index % 2] if kind == 0 else None,
                category=Complaint.Category.SUBSIDY if kind == 2 else Complaint.Category.DANGEROUS_NOT_RENOVATED,
                content="土坯房裂缝严重，仍有人居住",
                status=statuses[kind],
                acceptance_due=due,
                handling_due=due,
                handler=staff if kind == 0 else (official if kind == 1 else None),
                created_by=clerk,
            )
        )
    made = Complaint.objects.bulk_create(made)
    Complaint.objects.filter(pk__in=[c.pk for c in made[1::5]]).update(repeat_of=made[0])
    return made


def leads(world, n):
    """Leads out of and into the liaison's department and the township, to units and to discipline inspection, some
    from a complaint, some without a receipt for long."""
    office, township_unit = world["poverty_office"], world["township_unit"]
    complaint = complaints(world, 1)[0]
    sent = _today() - datetime.timedelta(days=40)
    LeadTransfer.objects.bulk_create(
        [
            LeadTransfer(
                direction=LeadTransfer.Direction.OUTGOING if index % 3 else LeadTransfer.Direction.INCOMING,
                from_unit=office if index % 2 else township_unit,
                to_unit=None if index % 4 == 1 else (township_unit if index % 2 else office),
                to_discipline=index % 4 == 1,
                subject="危房改造补助发放线索",
                complaint=complaint if index % 5 == 0 else None,
                sent_on=sent,
                receipt_on=sent + datetime.timedelta(days=2) if index % 3 == 0 else None,
                receipt_by="李科长" if index % 3 == 0 else "",
                feedback_on=sent + datetime.timedelta(days=9) if index % 6 == 0 else None,
                feedback="已核实" if index % 6 == 0 else "",
                created_by=world["users"][CLERK],
            )
            for index in range(n)
        ]
    )


# 1. The pages ----------------------------------------------------------------------------------------------------


def page_rows(response) -> tuple[int, int]:
    page = response.context["page"]
    return len(page.object_list), page.paginator.count


# url: (builder, pinned queries per persona). Every request: session, user, the user's and the group's permissions,
# the profile and its townships; then the page's own.
PAGES = {
    "/problems/": (problems, {ADMIN: 11, STAFF: 9, OFFICIAL: 11}),  # +1: the 任务/机制 filter (issue 24)
    "/renovation/": (cases, {ADMIN: 11, STAFF: 11}),
    "/renovation/dangerous/": (dangerous, {ADMIN: 8, STAFF: 8}),
    "/renovation/archive/": (cases, {ADMIN: 11, STAFF: 11}),
    "/renovation/subsidies/": (cases, {ADMIN: 9, STAFF: 9}),
    "/complaints/": (complaints, {CLERK: 9, STAFF: 9, ADMIN: 9}),
    "/leads/": (leads, {CLERK: 9, ADMIN: 9, LIAISON: 9}),
}


@pytest.mark.parametrize(("url", "persona"), [(url, persona) for url, (_b, pins) in PAGES.items() for persona in pins])
def test_page_queries_do_not_grow(client, world, django_assert_num_queries, url, persona):
    grow, pins = PAGES[url]
    grow(world, 5)
    client.force_login(world["users"][persona])
    few = measured(client, url, pins[persona], django_assert_num_queries)
    grow(world, 60)
    response = measured(client, url, pins[persona], django_assert_num_queries, warm=False)
    context = response.context
    if url == "/renovation/archive/":  # every case without all its documents, up to 200
        assert len(context["incomplete"]) == context["incomplete_count"] > len(few.context["incomplete"]) > 0
        assert context["incomplete_count"] > 50
    elif url == "/renovation/subsidies/":  # a row per programme year and township
        assert sum(row["cases"] for row in context["rows"]) > 50
    else:
        assert page_rows(few)[0] < 50
        shown, matched = page_rows(response)
        assert shown == 50 < matched


# The workbooks: every row of the list, built in one pass.
DOWNLOADS = {
    "/problems/export.xlsx": (problems, {ADMIN: 7, STAFF: 7}),
    "/complaints/export.xlsx": (complaints, {CLERK: 8, STAFF: 7, ADMIN: 8}),  # +1: the desk's export is logged
}


@pytest.mark.parametrize(
    ("url", "persona"), [(url, persona) for url, (_b, pins) in DOWNLOADS.items() for persona in pins]
)
def test_workbook_queries_do_not_grow(client, world, django_assert_num_queries, url, persona):
    grow, pins = DOWNLOADS[url]
    grow(world, 5)
    client.force_login(world["users"][persona])
    few = exported_rows(measured(client, url, pins[persona], django_assert_num_queries))
    grow(world, 60)
    many = exported_rows(measured(client, url, pins[persona], django_assert_num_queries, warm=False))
    assert many > 50 > few > 0


LEAD_REPORT_QUERIES = {ADMIN: 9, CLERK: 9}  # with the units' filed quarterly returns (one read)


@pytest.mark.parametrize("persona", list(LEAD_REPORT_QUERIES))
def test_quarterly_lead_report_queries_do_not_grow(client, world, django_assert_num_queries, persona):
    """Per participating unit: leads sent, received, receipted and with feedback in the quarter."""
    sent = _today() - datetime.timedelta(days=40)
    url = f"/leads/report.xlsx?year={sent.year}&quarter={(sent.month - 1) // 3 + 1}"
    leads(world, 5)
    client.force_login(world["users"][persona])
    few = exported_rows(measured(client, url, LEAD_REPORT_QUERIES[persona], django_assert_num_queries))
    leads(world, 60)
    Unit.objects.bulk_create([Unit(name=f"新部门{next(_serial)}", kind=Unit.Kind.DEPARTMENT) for _ in range(10)])
    many = exported_rows(measured(client, url, LEAD_REPORT_QUERIES[persona], django_assert_num_queries, warm=False))
    assert many == few + 10


# one PersonalDataAccess row per archive; one more for its cover and contents
ARCHIVE_ZIP_QUERIES = {ADMIN: 11, STAFF: 11}


@pytest.mark.parametrize("persona", list(ARCHIVE_ZIP_QUERIES))
def test_case_archive_zip_queries_do_not_grow_with_documents(client, world, django_assert_num_queries, persona):
    """The household archive: every document of the case, its steps and an index workbook."""
    staff = world["users"][STAFF]
    household = bulk_households(world["home"], 1)[0]
    case = new_case(staff, dangerous_dwelling(household))
    url = f"/renovation/{case.pk}/archive.zip"
    kinds = list(DocumentKind.objects.filter(step=CaseStatus.APPLIED))
    client.force_login(world["users"][persona])
    few = measured(client, url, ARCHIVE_ZIP_QUERIES[persona], django_assert_num_queries)
    services.add_case_documents(
        actor=staff, case=case, documents=[(kinds[i % len(kinds)], png_file(f"照片{i}.png")) for i in range(30)]
    )
    many = measured(client, url, ARCHIVE_ZIP_QUERIES[persona], django_assert_num_queries, warm=False)
    names = [zipfile.ZipFile(io.BytesIO(r.content)).namelist() for r in (few, many)]
    assert len(names[1]) == len(names[0]) + 30


# 2. The admin changelists ----------------------------------------------------------------------------------------


def document_kinds(world, n):
    DocumentKind.objects.bulk_create(
        [
            DocumentKind(code=f"qc-{next(_serial)}", name="补充材料", step=CaseStatus.APPLIED, is_required=False)
            for _ in range(n)
        ]
    )


def subsidy_standards(world, n):
    SubsidyStandard.objects.bulk_create(
        [
            SubsidyStandard(year=3000 + next(_serial), renovation_type=RenovationType.values[k % 2], amount=1)
            for k in range(n)
        ]
    )


def payments(world, n):
    """A paid case in each township, and n supplementary payments to the staff's township's."""
    cases(world, 5)
    case = RenovationCase.objects.filter(status=CaseStatus.PAID, township=world["xinqiao"]).first()
    SubsidyPayment.objects.bulk_create(
        [
            SubsidyPayment(
                case=case,
                paid_on=_today(),
                amount=Decimal("100"),
                voucher_number=f"PZ-B{next(_serial)}",
                is_supplementary=True,
                reason="物价上涨补差",
                recorded_by=world["users"][ADMIN],
            )
            for _ in range(n)
        ]
    )


# model: (builder, rows a page, pinned queries per persona)
CHANGELISTS = {
    "problem": (problems, 100, {ADMIN: 10, STAFF: 10, OFFICIAL: 10}),  # +1: the 任务/机制 filter (issue 24)
    "renovationcase": (cases, 100, {ADMIN: 10, STAFF: 10}),
    "documentkind": (document_kinds, 100, {ADMIN: 7, STAFF: 7}),
    "subsidystandard": (subsidy_standards, 100, {ADMIN: 8, STAFF: 8}),
    "subsidypayment": (payments, 100, {ADMIN: 8, STAFF: 8}),
    "leadtransfer": (leads, 100, {ADMIN: 8, CLERK: 8, LIAISON: 8}),
}


@pytest.mark.parametrize(
    ("model", "persona"), [(model, persona) for model, (_b, _n, pins) in CHANGELISTS.items() for persona in pins]
)
def test_rectification_changelist_queries_do_not_grow(client, world, django_assert_num_queries, model, persona):
    grow, per_page, pins = CHANGELISTS[model]
    url = f"/admin/rectification/{model}/"
    grow(world, 3)
    client.force_login(world["users"][persona])
    few = changelist_rows(measured(client, url, pins[persona], django_assert_num_queries))
    grow(world, per_page + 5)
    shown, matched = changelist_rows(measured(client, url, pins[persona], django_assert_num_queries, warm=False))
    assert few[0] < per_page
    assert shown == per_page < matched


def test_complaint_deadline_changelist_query_count(client, world, django_assert_num_queries):
    """One editable row per complaint category (a fixed list shorter than a page): pinned as it is."""
    client.force_login(world["users"][ADMIN])
    response = measured(client, "/admin/rectification/complaintdeadline/", 7, django_assert_num_queries)
    assert changelist_rows(response) == (len(Complaint.Category.values),) * 2

"""The world of the IDOR sweep (test_idor.py): township A (新桥镇), whose staff is the main persona, and township B
(双洋镇), whose records carry unique marker strings that no persona outside B's scope may ever see.

Built once per test module through the real services (the same paths the pages and the admin take), so every
record has what production would give it: history rows, transitions, documents, numbers.
"""

from __future__ import annotations

import datetime
import html
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import unquote

import openpyxl
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule

from households import services as household_services
from households.department_lists import preview_list
from households.models import Attachment, ChangeProposal, ColumnMapping, Household, Unit
from households.tests.factories import (
    DwellingFactory,
    HouseholdFactory,
    VillageFactory,
    make_user,
    png_file,
    township,
    valid_id_number,
)
from housing_safety.access import PERSONAL_DATA_PERMISSION, Role
from housing_safety.api import keys as api_keys
from housing_safety.models import HolidayYear, Notice, OutgoingEmail, PrintJob, WebhookDelivery, WebhookSubscription
from housing_safety.pdf import html_to_pdf
from housing_safety.tests.kit import table_rows
from inspections import base_villages
from inspections import services as inspection_services
from inspections.models import Campaign, Revisit, SecuredHousing, SpotCheck
from inspections.selectors import with_housing_status
from inspections.tests.factories import AppraisalFactory
from rectification import lead_returns
from rectification import services as rectification_services
from rectification.models import (
    CampaignPhase,
    CaseStatus,
    Complaint,
    ComplaintDeadline,
    DocumentKind,
    LeadTransfer,
    PlanItem,
    Problem,
)
from rectification.models import SubsidyStandard as SubsidyStandardModel
from rectification.models.complaints import LeadQuarterReturn
from rectification.tests.factories import dangerous_dwelling, new_case, safe_appraisal, standards, walk
from reporting import services as reporting_services
from reporting import submissions as submission_services
from reporting.models import ExportFile, ExportTemplate, MonthlyReport, OverdueItem, ReportKind

TODAY = timezone.localdate


# Markers ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Marker:
    """A unique string in one of township B's records, and what a reader needs to be allowed to see it: a scope
    that covers B (only the city-wide roles' does) and every permission in `perms`."""

    text: str
    perms: tuple[str, ...]
    kind: str = "record"  # record | personal | reporter
    #: "everything": only a city-wide scope covers it; "reference": the registry's reference data (village names),
    #: which every role sees except township staff, who see their own townships' only
    reach: str = "everything"


VIEW_HOUSEHOLD = "households.view_household"

# Unique, and never a substring of anything else the pages print (no township names, no digits runs that a count
# or a date could produce). Names are three characters, so the public pages' masked form (白*甲) differs.
M = {
    "village": Marker("泄密测试村", ("households.view_village",), reach="reference"),
    "head_b1": Marker("白泄甲", (VIEW_HOUSEHOLD,)),
    "head_b2": Marker("白泄乙", (VIEW_HOUSEHOLD,)),
    "head_b3": Marker("白泄丙", (VIEW_HOUSEHOLD,)),
    "head_b4": Marker("白泄丁", (VIEW_HOUSEHOLD,)),
    "head_b5": Marker("白泄戊", (VIEW_HOUSEHOLD,)),
    "address": Marker("泄密组七号", (VIEW_HOUSEHOLD,)),
    "address_b3": Marker("泄密组八号", (VIEW_HOUSEHOLD,)),
    "id_b1": Marker(valid_id_number(datetime.date(1951, 3, 7)), (VIEW_HOUSEHOLD, PERSONAL_DATA_PERMISSION), "personal"),
    "id_b2": Marker(valid_id_number(datetime.date(1952, 4, 8)), (VIEW_HOUSEHOLD, PERSONAL_DATA_PERMISSION), "personal"),
    "id_b3": Marker(valid_id_number(datetime.date(1953, 5, 9)), (VIEW_HOUSEHOLD, PERSONAL_DATA_PERMISSION), "personal"),
    "phone_b1": Marker("13977770001", (VIEW_HOUSEHOLD, PERSONAL_DATA_PERMISSION), "personal"),
    "phone_b2": Marker("13977770002", (VIEW_HOUSEHOLD, PERSONAL_DATA_PERMISSION), "personal"),
    "phone_b3": Marker("13977770003", (VIEW_HOUSEHOLD, PERSONAL_DATA_PERMISSION), "personal"),
    "helper_phone": Marker("13977770009", (VIEW_HOUSEHOLD, PERSONAL_DATA_PERMISSION), "personal"),
    "complaint": Marker("投诉内容泄密标记", ("rectification.view_complaint",)),
    "reporter": Marker("举报人泄密", ("rectification.view_reporter",), "reporter"),
    "reporter_phone": Marker("13966660001", ("rectification.view_reporter",), "reporter"),
    "problem": Marker("问题描述泄密标记", ("rectification.view_problem",)),
    "helper_note": Marker("帮扶观察泄密标记", ("inspections.view_helperreport",)),
    "builder": Marker("施工队泄密标记", ("rectification.view_renovationcase",)),
    "lead": Marker("线索泄密标记", ("rectification.view_leadtransfer",)),
    "lead_return": Marker("线索季报泄密标记", ("rectification.view_leadquarterreturn",)),
    "list_file": Marker("民政名单泄密", ("households.view_departmentlist",)),
    "list_new": Marker("名单新户泄密", ("households.view_departmentlist",)),
    "list_new_id": Marker(
        valid_id_number(datetime.date(1954, 6, 10)),
        ("households.view_departmentlist", PERSONAL_DATA_PERMISSION),
        "personal",
    ),
    "progress": Marker("月报进展泄密标记", ("reporting.view_monthlyreport",)),
    "attachment": Marker("附件泄密", (VIEW_HOUSEHOLD,)),
}


def forbidden_markers(user) -> dict[str, Marker]:
    """The markers this user must never see, on any page, in any format."""
    from housing_safety.access import scope_of

    if user is None:
        return dict(M)
    scope = scope_of(user)
    covers = {
        "everything": scope.everything,
        "reference": scope.role is not None and (scope.everything or scope.role != Role.TOWNSHIP_STAFF),
    }
    return {key: m for key, m in M.items() if not (covers[m.reach] and all(user.has_perm(p) for p in m.perms))}


# The world ------------------------------------------------------------------------------------------------------


@dataclass
class World:
    users: dict = field(default_factory=dict)
    objects: dict = field(default_factory=dict)  # key -> model instance (township B's unless said otherwise)
    values: dict = field(default_factory=dict)  # key -> plain values (complaint query code, history ids, ...)

    def __getitem__(self, key):
        return self.objects[key]


PERSONAS = ("staff", "liaison", "clerk", "helper", "official", "admin", "no_role", "anonymous")


def build_world() -> World:
    world = World()
    today = TODAY()
    xinqiao, shuangyang = township("350881100"), township("350881101")
    poverty_office = Unit.objects.get(name="漳平市扶贫开发办公室")
    civil_affairs = Unit.objects.get(name="漳平市民政局")
    bureau = Unit.objects.get(kind=Unit.Kind.BUREAU)
    standards()
    standards(year=today.year)

    admin = make_user(Role.BUREAU_ADMIN, username="idor-admin")
    world.users = {
        "staff": make_user(Role.TOWNSHIP_STAFF, username="idor-staff-a", townships=[xinqiao]),
        "liaison": make_user(Role.DEPARTMENT_LIAISON, username="idor-liaison", unit=poverty_office),
        "clerk": make_user(Role.COMPLAINT_CLERK, username="idor-clerk"),
        "helper": make_user(Role.HELPER, username="idor-helper"),
        "official": make_user(Role.BUREAU_OFFICIAL, username="idor-official"),
        "admin": admin,
        # A staff account whose role was taken away (set_user_role makes accounts staff; nothing unsets it): the
        # admin's staff gate lets it in, so only the permissions and scopes stand between it and the data.
        "no_role": make_user(None, username="idor-no-role"),
        "anonymous": None,
    }
    world.users["no_role"].is_staff = True
    world.users["no_role"].save(update_fields=["is_staff"])
    staff_b = make_user(Role.TOWNSHIP_STAFF, username="idor-staff-b", townships=[shuangyang])
    helper_b = make_user(Role.HELPER, username="idor-helper-b")
    liaison_b = make_user(Role.DEPARTMENT_LIAISON, username="idor-liaison-b", unit=civil_affairs)
    world.objects |= {"staff_b": staff_b, "township_b": shuangyang, "unit_b": Unit.objects.get(township=shuangyang)}

    # Township A: the personas' own records, so that their lists are not empty by accident.
    village_a = VillageFactory(township=xinqiao, name="东坑村")
    household_a = HouseholdFactory(village=village_a, helper_user=world.users["helper"], source=poverty_office)
    AppraisalFactory(dwelling=DwellingFactory(household=household_a))
    world.objects |= {"household_a": household_a}

    # Township B: three households with markers in every field a page could print.
    village_b = VillageFactory(township=shuangyang, name=M["village"].text)
    b1 = HouseholdFactory(
        village=village_b, head_name=M["head_b1"].text, id_number=M["id_b1"].text, phone=M["phone_b1"].text,
        helper_name="帮扶干部", helper_phone=M["helper_phone"].text, helper_user=helper_b, source=civil_affairs,
    )  # fmt: skip
    b2 = HouseholdFactory(
        village=village_b, head_name=M["head_b2"].text, id_number=M["id_b2"].text, phone=M["phone_b2"].text,
        helper_user=helper_b, source=civil_affairs,
    )  # fmt: skip
    b3 = HouseholdFactory(
        village=village_b, head_name=M["head_b3"].text, id_number=M["id_b3"].text, phone=M["phone_b3"].text,
        source=civil_affairs, registered_on=today - datetime.timedelta(days=400),
    )  # fmt: skip
    dwelling_b1 = dangerous_dwelling(b1, address=M["address"].text)
    dwelling_b2 = DwellingFactory(household=b2)
    safe_appraisal(dwelling_b2, on=today - datetime.timedelta(days=30))
    dwelling_b3 = dangerous_dwelling(
        b3, address=M["address_b3"].text
    )  # dangerous, no case: on the "dangerous without a case" list
    unappraised_b = HouseholdFactory(
        village=village_b, head_name=M["head_b4"].text, registered_on=today - datetime.timedelta(days=200)
    )
    DwellingFactory(household=unappraised_b)  # overdue for its first appraisal
    b5 = HouseholdFactory(village=village_b, head_name=M["head_b5"].text)
    safe_appraisal(DwellingFactory(household=b5), on=today - datetime.timedelta(days=20))  # safe, no placard yet
    world.objects |= {
        "village_b": village_b, "household_b": b1, "household_b2": b2, "household_b3": b3, "dwelling_b": dwelling_b1,
        "dwelling_b3": dwelling_b3, "household_b4": unappraised_b, "household_b5": b5, "appraisal_b": dwelling_b1.appraisals.order_by("pk").first(),
    }  # fmt: skip

    world.objects["attachment_b"] = household_services.add_attachment(
        actor=staff_b, record=b1, uploaded_file=png_file(f"{M['attachment'].text}.png"),
        kind=Attachment.Kind.SCANNED_FORM, caption=M["attachment"].text,
    )  # fmt: skip
    world.objects["secured_b"] = inspection_services.save_secured_housing(
        actor=staff_b,
        arrangement=SecuredHousing(
            household=b3, kind=SecuredHousing.Kind.HAPPINESS_COURTYARD, since=today - datetime.timedelta(days=300),
            until=today - datetime.timedelta(days=200),
        ),
    )  # fmt: skip
    placards = inspection_services.issue_placards(
        actor=staff_b, households=list(with_housing_status(Household.objects.filter(pk=b2.pk)))
    )
    world.objects["placard_b"] = placards[0]

    campaign = Campaign.objects.create(
        name="台风后排查", kind=Campaign.Kind.POST_DISASTER, starts_on=today - datetime.timedelta(days=10),
        due_on=today + datetime.timedelta(days=60),
    )  # fmt: skip
    campaign.townships.set([shuangyang])
    world.objects["campaign"] = campaign
    world.objects["revisit_b"] = Revisit.objects.create(
        campaign=campaign, dwelling=dwelling_b3, due_on=today - datetime.timedelta(days=5)
    )
    world.objects["helper_report_b"] = inspection_services.report_observation(
        actor=helper_b, household=b1, findings=["leaking"], note=M["helper_note"].text, dwelling=dwelling_b1
    )
    # The report reached township B's staff inbox (站内消息): theirs alone to read and mark.
    world.objects["notice_b"] = Notice.objects.get(
        recipient=staff_b, key=f"helper-report:{world['helper_report_b'].pk}"
    )
    world.objects["problem_b"] = rectification_services.save_problem(
        actor=staff_b,
        problem=Problem(
            township=shuangyang, household=b3, dwelling=dwelling_b3, source=Problem.Source.SELF_INSPECTION,
            kind=Problem.Kind.OTHER, description=M["problem"].text, responsible_person="村主任",
            deadline=today - datetime.timedelta(days=3),
        ),
    )  # fmt: skip

    case = new_case(staff_b, dwelling_b1, builder=M["builder"].text, programme_year=today.year)
    world.objects["case_b"] = walk(case, CaseStatus.PAID, township_user=staff_b, bureau_user=admin)
    world.objects["payment_b"] = world.objects["case_b"].payments.get()

    complaint, code = rectification_services.log_complaint(
        actor=world.users["clerk"],
        complaint=Complaint(
            channel=Complaint.Channel.HOTLINE, received_at=timezone.now() - datetime.timedelta(days=20),
            reporter_name=M["reporter"].text, reporter_phone=M["reporter_phone"].text, township=shuangyang,
            village=village_b, household=b1, category=Complaint.Category.DANGEROUS_NOT_RENOVATED,
            content=M["complaint"].text,
        ),
        files=[png_file("投诉照片.png")],
    )  # fmt: skip
    clerk, C = world.users["clerk"], Complaint.Status
    rectification_services.move_complaint(actor=clerk, complaint=complaint, to=C.ACCEPTED)
    rectification_services.move_complaint(actor=clerk, complaint=complaint, to=C.ASSIGNED, handler=staff_b)
    rectification_services.move_complaint(actor=staff_b, complaint=complaint, to=C.HANDLING)
    complaint.refresh_from_db()
    world.objects["complaint_b"] = complaint
    world.values["complaint_code"] = code
    world.objects["lead_b"] = rectification_services.record_lead(
        actor=admin,
        lead=LeadTransfer(
            direction=LeadTransfer.Direction.OUTGOING, from_unit=bureau, to_unit=civil_affairs,
            subject=M["lead"].text, sent_on=today - datetime.timedelta(days=40), complaint=complaint,
        ),
    )  # fmt: skip

    # Another department's quarterly lead return (last quarter's): its liaison's and the bureau's only.
    year, quarter = lead_returns.previous_quarter(*lead_returns.quarter_of(today))
    world.objects["lead_return_b"] = LeadQuarterReturn.objects.create(
        unit=civil_affairs, year=year, quarter=quarter, sent_to_units=1,
        situation=M["lead_return"].text, filed_by=liaison_b, filed_at=timezone.now(),
    )  # fmt: skip

    world.objects["department_list_b"] = _department_list(liaison_b, civil_affairs, b1)
    world.objects["proposal_b"] = ChangeProposal.objects.create(
        household=b1, department_list=world.objects["department_list_b"], row_number=2, township=shuangyang,
        changes={"phone": [b1.phone, "13977770099"]}, created_at=timezone.now(),
    )  # fmt: skip
    world.objects["column_mapping"] = ColumnMapping.objects.create(unit=civil_affairs, columns={"户主": "head_name"})

    reporting_services.open_reports(kind=ReportKind.MONTHLY, day=today)
    report_b = MonthlyReport.objects.get(
        unit__township=shuangyang, kind=ReportKind.MONTHLY, period=today.replace(day=1)
    )
    world.objects["report_b"] = reporting_services.save_report(
        actor=staff_b, report=report_b, progress=M["progress"].text, problems_handled="无", submit=False
    )
    world.objects["consolidated"], _built = reporting_services.build_consolidated_report(day=today)
    world.objects["overdue_b"] = OverdueItem.objects.create(
        kind="appraisal", object_id=unappraised_b.pk, township=shuangyang, unit=world.objects["unit_b"],
        label=f"{M['head_b4'].text}（{M['village'].text}）", due_on=today - datetime.timedelta(days=170),
        first_seen_on=today - datetime.timedelta(days=160),
    )  # fmt: skip
    world.objects["export_file_b"] = ExportFile.objects.create(
        user=staff_b, dataset="households", status=ExportFile.Status.READY, rows=1,
        file=ContentFile(_xlsx([["户主", M["head_b1"].text, M["id_b1"].text]]), name="households-b.xlsx"),
        finished_at=timezone.now(),
    )  # fmt: skip
    world.objects["print_job_b"] = PrintJob.objects.create(
        user=staff_b, kind="appraisal_forms", title="鉴定表", status=PrintJob.Status.READY, total=1, done=1,
        file=ContentFile(html_to_pdf(f"<p>{M['head_b1'].text}</p>"), name="forms-b.pdf"), finished_at=timezone.now(),
    )  # fmt: skip
    world.objects["export_template"] = ExportTemplate.objects.create(
        dataset="households", columns=[["户主姓名", "head_name"]], notes="2026"
    )
    world.objects["email_b"] = OutgoingEmail.objects.create(
        key="idor-b", recipients=["shuangyang@example.com"], subject="帮扶责任人报告",
        body=f"{M['head_b1'].text} {M['helper_note'].text}",
    )  # fmt: skip

    # A system told of case moves, and one delivery it was not able to take (the bureau's, every township's).
    subscription = WebhookSubscription.objects.create(
        name="省农房系统", url="http://10.20.1.5/hooks", events=["case.moved"]
    )
    world.objects["webhook_subscription"] = subscription
    world.objects["webhook_delivery"] = WebhookDelivery.objects.create(
        subscription=subscription, event="case.moved", payload={"case_id": 1, "township_code": shuangyang.code},
        status=WebhookDelivery.Status.GAVE_UP, attempts=6, last_status_code=502,
        last_response='{"code":502,"msg":"上游服务不可用"}',  # what the province's platform answers
    )  # fmt: skip

    # An API key of township B's staff account (housing_safety.api): the bureau administrator's to see and revoke.
    world.objects["api_key"] = api_keys.issue_key(
        user=staff_b,
        name="双洋镇外业系统",
        scopes=["read:households"],
        expires_at=timezone.now() + datetime.timedelta(days=30),
    )[0]

    spot_check = SpotCheck.objects.create(name="年度抽查", per_township=5, seed="idor")
    spot_check.townships.set([shuangyang])
    inspection_services.draw_spot_check(actor=admin, spot_check=spot_check)
    world.objects["spot_check"] = spot_check
    # A province's list of base villages, its one row refused (an unknown code): confirming it changes nothing.
    world.objects["base_village_list"] = base_villages.preview_list(
        actor=admin,
        year=2020,
        batch="",
        uploaded_file=SimpleUploadedFile("基点村.csv", "村代码,村名称\n350881999999,无此村\n".encode()),
    )
    # Last year's data sent to Longyan, with a file naming B's head by ID number (the bureau's, by year).
    sent_year = today.year - 1
    submission = submission_services.record_submission(
        actor=admin, year=sent_year, sent_on=datetime.date(sent_year, 5, 20), recipient="龙岩市住建局",
        attach_exports=False, uploads_personal=True,
        uploads=[SimpleUploadedFile("报送.xlsx", _xlsx([["户主", M["head_b1"].text, M["id_b1"].text]]))],
    )  # fmt: skip
    world.objects["submission"] = submission
    world.objects["submission_file"] = submission.files.get()
    # 包片: the official guides township B this year (the bureau's reference data, read by every official)
    world.objects["guidance"] = inspection_services.assign_guidance(
        actor=admin, official=world.users["official"], township=shuangyang, year=today.year, note="第一片区"
    )

    # Configuration rows that exist in every installation (migrations make most of them).
    world.objects |= {
        "document_kind": DocumentKind.objects.order_by("pk").first(),
        "subsidy_standard": SubsidyStandardModel.objects.order_by("pk").first(),
        "complaint_deadline": ComplaintDeadline.objects.order_by("pk").first(),
        "holiday_year": HolidayYear.objects.get(year=2026),  # prefilled from chinese-calendar
        "campaign_phase": CampaignPhase.objects.order_by("pk").first(),  # seeded from the plan's windows
        "plan_item": PlanItem.objects.order_by("pk").first(),  # the plan's tasks and mechanisms, seeded
        "group": Group.objects.get(name=Role.TOWNSHIP_STAFF),
        "periodic_task": PeriodicTask.objects.order_by("pk").first(),
        "crontab": CrontabSchedule.objects.order_by("pk").first(),
        "interval": IntervalSchedule.objects.create(every=10, period=IntervalSchedule.MINUTES),
        "solar": SolarSchedule.objects.create(event="sunrise", latitude=Decimal("25.3"), longitude=Decimal("117.4")),
        "clocked": ClockedSchedule.objects.create(clocked_time=timezone.now()),
    }
    # The log of disclosures of personal data (who opened which record's full numbers).
    from housing_safety.models import PersonalDataAccess

    world.objects["disclosure_b"] = PersonalDataAccess.objects.create(
        user=staff_b, record_type="households.household", record_id=b1.pk, record=str(b1), reason="入户核实"
    )
    # Login bookkeeping (django-axes): the attempts name users of township B.
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    access = {"user_agent": "idor", "ip_address": "10.0.0.2", "username": staff_b.username, "http_accept": "*/*"}
    world.objects |= {
        "access_attempt": AccessAttempt.objects.create(
            **access, path_info="/admin/login/", get_data="", post_data="", failures_since_start=1
        ),
        "access_log": AccessLog.objects.create(**access, path_info="/admin/login/"),
        "access_failure": AccessFailureLog.objects.create(**access, path_info="/admin/login/"),
    }
    for obj in world.objects.values():
        if hasattr(obj, "refresh_from_db") and obj.pk:
            obj.refresh_from_db()
    return world


def _xlsx(rows) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _department_list(liaison, unit, household):
    """民政局's list: a row that matches B's household with a changed phone, a new household, an invalid row."""
    header = ["姓名", "身份证号码", "联系电话", "乡镇", "村", "类别", "家庭人口"]
    rows = [
        header,
        [household.head_name, household.id_number, "13977770099", "双洋镇", M["village"].text, "低保户", 3],
        [M["list_new"].text, M["list_new_id"].text, None, "双洋镇", M["village"].text, "低保户", 2],
        [f"{M['list_new'].text}二", "35088119600101000X", None, "双洋镇", M["village"].text, "低保户", 2],
    ]
    upload = SimpleUploadedFile(f"{M['list_file'].text}.xlsx", _xlsx(rows))
    return preview_list(actor=liaison, unit=unit, listed_on=TODAY() - datetime.timedelta(days=3), uploaded_file=upload)


# Reading a response ----------------------------------------------------------------------------------------------


def response_text(response) -> str:
    """Everything a reader gets: headers (a file name is a leak too) and the body, with Excel workbooks and ZIP
    archives unpacked and JSON unescaped (Chinese in JSON is \\u-escaped)."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    parts = [f"{name}: {unquote(value)}" for name, value in response.items()]  # filename*=utf-8''%E7%99%BD...
    parts.append(_decode(body, response.get("Content-Type", "")))
    return "\n".join(parts)


def _decode(body: bytes, content_type: str) -> str:
    if body[:5] == b"%PDF-":  # a printed document: its text as a reader sees it
        import pypdf

        return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(body)).pages)
    if body[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                return "\n".join(
                    name + "\n" + _decode(archive.read(name), "") for name in archive.namelist()
                )  # xlsx members are XML; a case archive nests an index workbook
        except zipfile.BadZipFile:
            pass
    text = html.unescape(body.decode("utf-8", errors="replace"))  # openpyxl writes &#30333; for 白
    if "json" in content_type:
        try:
            return json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            return text
    return text


def leaked(text: str, markers: dict[str, Marker], allowed: frozenset[str] = frozenset()) -> list[str]:
    return sorted(key for key, marker in markers.items() if key not in allowed and marker.text in text)


# Did a refused write change anything? ------------------------------------------------------------------------------

_WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
# Every request may renew its session; a refused form keeps the files its user chose, for that user only, a day
# (housing_safety.held_files), so that nobody picks them twice.
_BOOKKEEPING = {"django_session", "housing_safety_heldupload"}


def written_tables(queries) -> set[str]:
    """The tables a request's SQL wrote to (a write rolled back inside the request is still listed)."""
    return {match.group(1) for query in queries if (match := _WRITE.match(query["sql"]))} - _BOOKKEEPING


def changed_tables(baseline: dict[str, list[str]], tables: set[str]) -> dict[str, tuple[int, int]]:
    """Tables whose rows differ from the world's: {table: (rows before, rows now)}."""
    now = table_rows(tables)
    return {
        table: (len(baseline.get(table, [])), len(now[table])) for table in now if now[table] != baseline.get(table, [])
    }


# A form as a browser would submit it --------------------------------------------------------------------------------


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form = None
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"method": (a.get("method") or "get").lower(), "data": []}
            self.forms.append(self._form)
        if self._form is None:
            return
        if tag == "input" and a.get("name") and a.get("type", "text") not in ("submit", "button", "file", "image"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self._form["data"].append([a["name"], a.get("value", "on" if a.get("type") == "checkbox" else "")])
        elif tag == "select" and a.get("name"):
            self._select = {"name": a["name"], "first": None, "chosen": [], "multiple": "multiple" in a}
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._select["first"] is None:
                self._select["first"] = value
            if "selected" in a:
                self._select["chosen"].append(value)
        elif tag == "textarea" and a.get("name"):
            self._textarea = [a["name"], ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            chosen = self._select["chosen"] or ([] if self._select["multiple"] else [self._select["first"] or ""])
            self._form["data"] += [[self._select["name"], value] for value in chosen]
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form["data"].append([self._textarea[0], self._textarea[1].lstrip("\n")])
            self._textarea = None


def scraped_form(html: str, tweak: str = "篡改") -> dict[str, list[str]]:
    """The biggest POST form of a page as a browser would submit it, with every empty-or-filled text area and
    'notes'/'note' field set to `tweak`, so that a save that went through would show in the snapshot."""
    parser = _FormParser()
    parser.feed(html)
    posts = [form for form in parser.forms if form["method"] == "post"]
    if not posts:
        return {}
    data: dict[str, list[str]] = {}
    for name, value in max(posts, key=lambda form: len(form["data"]))["data"]:
        if re.search(r"(^|-)(notes?|caption|measure|subject|feedback)$", name):
            value = tweak
        data.setdefault(name, []).append(value)
    data.pop("csrfmiddlewaretoken", None)
    return data

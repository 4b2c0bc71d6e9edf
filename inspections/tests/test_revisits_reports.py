"""Revisits and helpers' reports through the services: scope, permission, files, e-mail, and the problems that
their findings open on the township's list (the handler rectification registers in FINDING_HANDLERS)."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from households.models import Attachment, Unit
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory, make_user
from housing_safety.access import Role
from housing_safety.models import Notice, OutgoingEmail
from inspections import selectors, services
from inspections.models import Campaign, FindingKind, HelperReport, Revisit
from inspections.tasks import notify_township_of_report
from rectification.models import Problem
from rectification.services import open_problems_for_findings, phase_on

from .test_services import BAD_TYPE, NO_PERMISSION, OWN_TOWNSHIP_ONLY, png_file, text_as_jpg

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("chinese")]
D = datetime.date
ALL_KINDS = list(FindingKind.values)


def make_campaign(name: str = "台风后排查") -> Campaign:
    return Campaign.objects.create(
        name=name, kind=Campaign.Kind.POST_DISASTER, starts_on=D(2026, 1, 1), due_on=D(2026, 12, 31)
    )


def make_revisit(dwelling, campaign: Campaign | None = None) -> Revisit:
    return Revisit.objects.create(campaign=campaign or make_campaign(), dwelling=dwelling, due_on=D(2026, 12, 31))


@pytest.fixture
def dwelling(home_household):
    return home_household.dwellings.get()


@pytest.fixture
def revisit(dwelling):
    return make_revisit(dwelling)


@pytest.fixture
def assigned(helper, xinqiao):
    """A household in 新桥镇 assigned to the `helper` persona, with one dwelling."""
    household = HouseholdFactory(village=VillageFactory(township=xinqiao, name="北坑村"), helper_user=helper)
    DwellingFactory(household=household)
    return household


@pytest.fixture
def xinqiao_unit(xinqiao):
    return Unit.objects.get(township=xinqiao)


def attachments_of(record) -> list[Attachment]:
    return list(Attachment.objects.filter(content_type=ContentType.objects.get_for_model(record), object_id=record.pk))


def record(
    actor, revisit, *, findings=(), outcome=Revisit.Outcome.NONE, visited_on=None, still_lived_in=True, **kwargs
) -> Revisit:
    return services.record_revisit(
        actor=actor,
        revisit=revisit,
        visited_on=visited_on or timezone.localdate(),
        findings=findings,
        outcome=outcome,
        still_lived_in=still_lived_in,
        **kwargs,
    )


def assert_untouched(revisit: Revisit) -> None:
    revisit.refresh_from_db()
    assert revisit.status == Revisit.Status.PENDING
    assert revisit.visited_on is None and revisit.visited_by is None
    assert revisit.outcome == "" and revisit.notes == ""
    assert revisit.found_kinds() == []
    assert attachments_of(revisit) == []
    assert not Problem.objects.exists()


# The handler registration -------------------------------------------------------------------------------------


def test_rectification_registers_its_handler_once():
    assert services.FINDING_HANDLERS.count(open_problems_for_findings) == 1


# record_revisit ------------------------------------------------------------------------------------------------


def test_staff_records_a_revisit_with_findings_outcome_notes_and_a_photo(staff, revisit):
    day = timezone.localdate() - datetime.timedelta(days=2)
    recorded = record(
        staff,
        revisit,
        visited_on=day,
        findings=[FindingKind.LEAKING, FindingKind.NEW_DAMAGE],
        outcome=Revisit.Outcome.REPAIR,
        notes="西墙新裂缝，屋面漏雨",
        photos=[png_file()],
    )
    assert recorded.pk == revisit.pk
    revisit.refresh_from_db()
    assert revisit.status == Revisit.Status.DONE
    assert revisit.visited_by == staff
    assert revisit.visited_on == day
    assert revisit.outcome == Revisit.Outcome.REPAIR
    assert revisit.notes == "西墙新裂缝，屋面漏雨"
    assert revisit.found_kinds() == [FindingKind.NEW_DAMAGE, FindingKind.LEAKING]
    assert not revisit.finding_placard_missing
    [photo] = attachments_of(revisit)
    assert photo.kind == Attachment.Kind.PHOTO
    assert photo.mime_type == "image/png"
    assert photo.uploaded_by == staff
    assert revisit.history.first().history_user == staff


def test_bureau_admin_may_record_a_revisit_anywhere(personas, revisit):
    record(personas[Role.BUREAU_ADMIN], revisit)
    revisit.refresh_from_db()
    assert revisit.status == Revisit.Status.DONE
    assert revisit.visited_by == personas[Role.BUREAU_ADMIN]


def test_visit_date_in_the_future_is_rejected(staff, revisit):
    with pytest.raises(ValidationError) as error:
        record(staff, revisit, visited_on=timezone.localdate() + datetime.timedelta(days=1), findings=["leaking"])
    assert error.value.message_dict == {"visited_on": ["日期不能晚于今天。"]}
    assert_untouched(revisit)


def test_visit_today_is_accepted(staff, revisit):
    record(staff, revisit, visited_on=timezone.localdate())
    revisit.refresh_from_db()
    assert revisit.visited_on == timezone.localdate()


def test_recording_twice_is_rejected(staff, revisit):
    record(staff, revisit, findings=["leaking"], notes="第一次")
    with pytest.raises(ValidationError) as error:
        record(staff, revisit, findings=["new_damage"], notes="第二次", outcome=Revisit.Outcome.REPAIR)
    assert error.value.messages == ["该回访已登记。"]
    revisit.refresh_from_db()
    assert revisit.notes == "第一次"
    assert revisit.found_kinds() == ["leaking"]
    assert list(Problem.objects.values_list("kind", flat=True)) == ["leaking"]


def test_recording_twice_is_rejected_even_with_a_stale_object(staff, revisit):
    stale = Revisit.objects.get(pk=revisit.pk)
    record(staff, revisit)
    assert stale.status == Revisit.Status.PENDING
    with pytest.raises(ValidationError):
        record(staff, stale, findings=["leaking"])
    assert not Problem.objects.exists()


def test_out_of_scope_staff_is_refused_and_nothing_changes(other_staff, revisit):
    with pytest.raises(PermissionDenied) as error:
        record(other_staff, revisit, findings=["leaking"], notes="越权", photos=[png_file()])
    assert str(error.value) == OWN_TOWNSHIP_ONLY
    assert_untouched(revisit)


@pytest.mark.parametrize(
    "role", [Role.BUREAU_OFFICIAL, Role.HELPER, Role.DEPARTMENT_LIAISON, Role.COMPLAINT_CLERK, "no_role"]
)
def test_roles_without_change_revisit_are_refused(personas, revisit, role):
    actor = personas[role]
    assert not actor.has_perm("inspections.change_revisit")
    with pytest.raises(PermissionDenied) as error:
        record(actor, revisit, findings=["leaking"])
    assert str(error.value) == NO_PERMISSION
    assert_untouched(revisit)


def test_invalid_photo_is_rejected_and_nothing_is_saved(staff, revisit):
    with pytest.raises(ValidationError) as error:
        record(staff, revisit, findings=["leaking"], notes="有照片", photos=[png_file(), text_as_jpg("屋顶.jpg")])
    assert error.value.message_dict == {"photos": [f"屋顶.jpg: {BAD_TYPE}"]}
    assert_untouched(revisit)
    assert not Attachment.objects.exists()
    assert revisit.history.count() == 1  # only the creation


def test_unknown_finding_is_rejected(staff, revisit):
    with pytest.raises(ValidationError) as error:
        record(staff, revisit, findings=["leaking", "ghosts"])
    assert error.value.messages == ["无法识别的问题类型：ghosts"]
    assert_untouched(revisit)


@pytest.mark.parametrize("outcome", ["", "demolish"])
def test_outcome_must_be_a_known_choice(staff, revisit, outcome):
    with pytest.raises(ValidationError) as error:
        record(staff, revisit, outcome=outcome)
    assert error.value.message_dict == {"outcome": ["请选择处理结果。"]}
    assert_untouched(revisit)


# Findings open problems -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_each_finding_of_a_revisit_opens_one_problem(staff, revisit, dwelling, home_household, xinqiao, kind):
    record(staff, revisit, findings=[kind], notes="回访所见")
    [problem] = Problem.objects.all()
    today = timezone.localdate()
    assert problem.kind == kind
    assert problem.source == Problem.Source.REVISIT
    assert problem.revisit_id == revisit.pk
    assert problem.helper_report_id is None
    assert problem.township == xinqiao
    assert problem.household == home_household
    assert problem.dwelling == dwelling
    assert problem.status == Problem.Status.OPEN
    assert problem.deadline == today + datetime.timedelta(days=settings.PROBLEM_DAYS_BY_KIND[kind])
    assert problem.phase == phase_on(today)
    assert problem.created_by == staff
    assert problem.description == f"{FindingKind(kind).label}：回访所见"


def test_description_without_notes_is_the_finding_label(staff, revisit):
    record(staff, revisit, findings=["placard_missing"])
    assert Problem.objects.get().description == str(FindingKind.PLACARD_MISSING.label)


def test_deadline_follows_the_setting(staff, revisit, settings):
    settings.PROBLEM_DEFAULT_DAYS = 7
    settings.PROBLEM_DAYS_BY_KIND = {"new_damage": 10}
    record(staff, revisit, findings=["leaking", "new_damage"])
    assert Problem.objects.get(kind="leaking").deadline == timezone.localdate() + datetime.timedelta(days=7)
    assert Problem.objects.get(kind="new_damage").deadline == timezone.localdate() + datetime.timedelta(days=10)


def test_phase_and_deadline_follow_the_day_the_problem_opens(staff, revisit, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: D(2026, 11, 20))
    record(staff, revisit, visited_on=D(2026, 11, 19), findings=["leaking"])
    problem = Problem.objects.get()
    assert problem.phase == Problem.Phase.SUMMARY
    assert problem.deadline == D(2026, 12, 20)


def test_several_findings_open_one_problem_each(staff, revisit):
    record(staff, revisit, findings=ALL_KINDS)
    assert sorted(Problem.objects.values_list("kind", flat=True)) == sorted(ALL_KINDS)
    assert set(Problem.objects.values_list("revisit_id", flat=True)) == {revisit.pk}


def test_no_finding_opens_nothing(staff, revisit, helper, assigned):
    record(staff, revisit, outcome=Revisit.Outcome.NONE, notes="一切正常")
    services.report_observation(actor=helper, household=assigned, findings=[], note="一切正常")
    assert not Problem.objects.exists()


@pytest.mark.parametrize("status", [Problem.Status.OPEN, Problem.Status.IN_PROGRESS])
def test_a_repeated_finding_on_the_same_dwelling_opens_no_duplicate(staff, revisit, dwelling, status):
    record(staff, revisit, findings=["leaking"])
    Problem.objects.update(status=status)
    second = make_revisit(dwelling, make_campaign("回头看"))
    record(staff, second, findings=["leaking", "new_damage"])
    assert Problem.objects.filter(kind="leaking").count() == 1
    assert Problem.objects.get(kind="leaking").revisit_id == revisit.pk
    assert Problem.objects.get(kind="new_damage").revisit_id == second.pk


def test_a_helper_report_on_the_same_dwelling_opens_no_duplicate(staff, helper, xinqiao):
    household = HouseholdFactory(village=VillageFactory(township=xinqiao), helper_user=helper)
    home = DwellingFactory(household=household)
    record(staff, make_revisit(home), findings=["leaking"])
    services.report_observation(actor=helper, household=household, dwelling=home, findings=["leaking"], note="又漏")
    assert Problem.objects.count() == 1
    services.report_observation(actor=helper, household=household, dwelling=home, findings=["leaking"], note="还漏")
    assert Problem.objects.count() == 1


@pytest.mark.parametrize("closed", [Problem.Status.RESOLVED, Problem.Status.VERIFIED])
def test_after_the_problem_is_closed_the_same_finding_opens_a_new_one(staff, revisit, dwelling, closed):
    record(staff, revisit, findings=["leaking"])
    first = Problem.objects.get()
    Problem.objects.filter(pk=first.pk).update(status=closed, resolution="已补漏")
    second = make_revisit(dwelling, make_campaign("回头看"))
    record(staff, second, findings=["leaking"])
    assert Problem.objects.count() == 2
    new = Problem.objects.exclude(pk=first.pk).get()
    assert (new.status, new.revisit_id, new.dwelling_id) == (Problem.Status.OPEN, second.pk, dwelling.pk)


def test_same_finding_on_another_dwelling_of_the_household_opens_its_own_problem(staff, home_household, revisit):
    record(staff, revisit, findings=["leaking"])
    barn = DwellingFactory(household=home_household)
    record(staff, make_revisit(barn), findings=["leaking"])
    assert Problem.objects.filter(household=home_household, kind="leaking").count() == 2


def test_report_without_dwelling_dedupes_by_household(helper, assigned, xinqiao):
    first = services.report_observation(actor=helper, household=assigned, findings=["leaking"], note="屋顶漏雨")
    [problem] = Problem.objects.all()
    assert problem.source == Problem.Source.HELPER_REPORT
    assert problem.helper_report_id == first.pk and problem.revisit_id is None
    assert (problem.household, problem.dwelling, problem.township) == (assigned, None, xinqiao)
    assert problem.description == "漏雨透风：屋顶漏雨"
    assert problem.created_by == helper

    services.report_observation(actor=helper, household=assigned, findings=["leaking"], note="还在漏")
    assert Problem.objects.count() == 1

    other = HouseholdFactory(village=assigned.village, helper_user=helper)
    services.report_observation(actor=helper, household=other, findings=["leaking"], note="也漏")
    assert Problem.objects.count() == 2
    assert Problem.objects.filter(household=other, dwelling__isnull=True).count() == 1


# report_observation -----------------------------------------------------------------------------------------


def test_helper_reports_on_an_assigned_household(helper, assigned):
    home = assigned.dwellings.get()
    report = services.report_observation(
        actor=helper, household=assigned, dwelling=home, findings=["placard_missing"], note="  门牌被撕  "
    )
    report.refresh_from_db()
    assert report.household == assigned and report.dwelling == home
    assert report.reported_by == helper
    assert report.note == "门牌被撕"
    assert report.found_kinds() == ["placard_missing"]
    assert report.handled_by is None and report.handled_at is None and report.action_taken == ""
    assert report.history.first().history_user == helper
    problem = Problem.objects.get()
    assert (problem.source, problem.helper_report, problem.dwelling) == (Problem.Source.HELPER_REPORT, report, home)


def test_helper_can_attach_a_photo_to_a_report(helper, assigned):
    report = services.report_observation(
        actor=helper, household=assigned, findings=["leaking"], note="屋顶漏雨", photos=[png_file()]
    )
    [photo] = attachments_of(report)
    assert (photo.kind, photo.mime_type, photo.uploaded_by) == (Attachment.Kind.PHOTO, "image/png", helper)


def test_report_on_a_household_not_assigned_to_the_helper_is_refused(helper, home_household, xinqiao_unit):
    xinqiao_unit.email = "xinqiao@zhangping.example"
    xinqiao_unit.save()
    with pytest.raises(PermissionDenied) as error:
        services.report_observation(actor=helper, household=home_household, findings=["leaking"], note="漏雨")
    assert str(error.value) == "您只能报告自己挂钩帮扶的农户。"
    assert not HelperReport.objects.exists()
    assert not Problem.objects.exists()
    assert mail.outbox == []


def test_report_on_another_helpers_household_is_refused(helper, assigned):
    colleague = make_user(Role.HELPER)
    with pytest.raises(PermissionDenied):
        services.report_observation(actor=colleague, household=assigned, findings=["leaking"], note="漏雨")
    assert not HelperReport.objects.exists()


def test_dwelling_of_another_household_is_rejected(helper, assigned, home_household):
    with pytest.raises(ValidationError) as error:
        services.report_observation(
            actor=helper, household=assigned, dwelling=home_household.dwellings.get(), findings=["leaking"], note="漏"
        )
    assert error.value.message_dict == {"dwelling": ["该房屋不属于此农户。"]}
    assert not HelperReport.objects.exists()
    assert not Problem.objects.exists()


@pytest.mark.parametrize("note", ["", "   \n "])
def test_empty_note_is_rejected(helper, assigned, note):
    with pytest.raises(ValidationError) as error:
        services.report_observation(actor=helper, household=assigned, findings=["leaking"], note=note)
    assert error.value.message_dict == {"note": ["请说明看到的情况。"]}
    assert not HelperReport.objects.exists()
    assert not Problem.objects.exists()


@pytest.mark.parametrize("role", [Role.TOWNSHIP_STAFF, Role.BUREAU_ADMIN, Role.BUREAU_OFFICIAL])
def test_roles_without_add_helperreport_cannot_report(personas, home_household, role):
    with pytest.raises(PermissionDenied) as error:
        services.report_observation(actor=personas[role], household=home_household, findings=["leaking"], note="漏")
    assert str(error.value) == NO_PERMISSION
    assert not HelperReport.objects.exists()


def test_report_emails_the_township_unit(
    helper, assigned, xinqiao_unit, shuangyang, settings, django_capture_on_commit_callbacks
):
    xinqiao_unit.email = "xinqiao@zhangping.example"
    xinqiao_unit.save()
    Unit.objects.filter(township=shuangyang).update(email="shuangyang@zhangping.example")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        report = services.report_observation(
            actor=helper, household=assigned, findings=["leaking", "new_damage"], note="西墙裂缝"
        )
        # In the outbox with the report; delivered only once the report is committed.
        email = OutgoingEmail.objects.get()
        assert (email.key, email.status) == (f"helper-report:{report.pk}", OutgoingEmail.Status.PENDING)
        assert mail.outbox == []
    assert len(callbacks) == 1
    [message] = mail.outbox
    assert message.to == ["xinqiao@zhangping.example"]
    assert message.subject == f"帮扶人报告：北坑村 {assigned.head_name}"
    assert assigned.head_name in message.subject
    url = settings.PUBLIC_BASE_URL.rstrip("/") + reverse("inspections:report", args=[report.pk])
    assert message.body == f"出现新的损坏、漏雨透风\n\n西墙裂缝\n\n请及时处置：{url}"
    email.refresh_from_db()
    assert (email.status, email.recipients) == (OutgoingEmail.Status.SENT, ["xinqiao@zhangping.example"])


def test_no_email_when_the_township_unit_has_no_address(
    helper, assigned, xinqiao_unit, personas, django_capture_on_commit_callbacks
):
    assert xinqiao_unit.email == ""
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        report = services.report_observation(actor=helper, household=assigned, findings=["leaking"], note="漏雨")
    assert callbacks == [] and mail.outbox == [] and not OutgoingEmail.objects.exists()
    # The township's staff still find it in their inbox (housing_safety.notices), once.
    assert services.notify_township_of_report(report) == 1
    [notice] = Notice.objects.all()
    assert (notice.recipient, notice.key) == (personas[Role.TOWNSHIP_STAFF], f"helper-report:{report.pk}")
    assert notice.url == reverse("inspections:report", args=[report.pk])


def test_no_email_when_the_township_has_no_unit(helper, assigned, xinqiao_unit):
    Unit.objects.filter(pk=xinqiao_unit.pk).update(kind=Unit.Kind.DEPARTMENT, township=None, email="x@example.com")
    report = services.report_observation(actor=helper, household=assigned, findings=["leaking"], note="漏雨")
    assert notify_township_of_report(report.pk) is False
    assert not OutgoingEmail.objects.exists()


def test_the_township_is_told_once_per_report(helper, assigned, xinqiao_unit, django_capture_on_commit_callbacks):
    """Queuing the notice again (a task the previous release left on the broker) sends nothing more."""
    xinqiao_unit.email = "xinqiao@zhangping.example"
    xinqiao_unit.save()
    with django_capture_on_commit_callbacks(execute=True):
        report = services.report_observation(actor=helper, household=assigned, findings=[], note="一切正常")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert notify_township_of_report(report.pk) is True
        assert services.notify_township_of_report(report) == 2  # the unit's address and its staff's inbox
        assert OutgoingEmail.objects.count() == 1 and Notice.objects.count() == 1
    assert callbacks == []
    [message] = mail.outbox
    assert message.to == ["xinqiao@zhangping.example"]
    with django_capture_on_commit_callbacks(execute=True):  # a second report is news
        services.report_observation(actor=helper, household=assigned, findings=["leaking"], note="屋顶漏雨")
    assert len(mail.outbox) == 2 and OutgoingEmail.objects.count() == 2


# record_report_action ---------------------------------------------------------------------------------------


@pytest.fixture
def report(helper, assigned):
    return services.report_observation(actor=helper, household=assigned, findings=["leaking"], note="屋顶漏雨")


def test_township_records_its_action(staff, report):
    before = timezone.now()
    services.record_report_action(actor=staff, report=report, action_taken="  已安排维修  ")
    report.refresh_from_db()
    assert report.action_taken == "已安排维修"
    assert report.handled_by == staff
    assert before <= report.handled_at <= timezone.now()
    assert report.history.first().history_user == staff


@pytest.mark.parametrize("text", ["", "  "])
def test_action_needs_text(staff, report, text):
    with pytest.raises(ValidationError) as error:
        services.record_report_action(actor=staff, report=report, action_taken=text)
    assert error.value.message_dict == {"action_taken": ["请填写乡镇处置情况。"]}
    report.refresh_from_db()
    assert (report.action_taken, report.handled_by, report.handled_at) == ("", None, None)


def test_action_out_of_scope_is_refused(other_staff, report):
    with pytest.raises(PermissionDenied) as error:
        services.record_report_action(actor=other_staff, report=report, action_taken="已处理")
    assert str(error.value) == OWN_TOWNSHIP_ONLY
    report.refresh_from_db()
    assert (report.action_taken, report.handled_by, report.handled_at) == ("", None, None)


@pytest.mark.parametrize("role", [Role.HELPER, Role.BUREAU_OFFICIAL, Role.DEPARTMENT_LIAISON])
def test_action_needs_change_helperreport(personas, report, role):
    with pytest.raises(PermissionDenied) as error:
        services.record_report_action(actor=personas[role], report=report, action_taken="已处理")
    assert str(error.value) == NO_PERMISSION
    report.refresh_from_db()
    assert report.handled_by is None


# Selectors --------------------------------------------------------------------------------------------------


def test_revisits_for_user_follow_the_scope(personas, staff, other_staff, revisit, other_household):
    elsewhere = make_revisit(other_household.dwellings.get(), revisit.campaign)
    assert list(selectors.revisits_for_user(staff)) == [revisit]
    assert list(selectors.revisits_for_user(other_staff)) == [elsewhere]
    assert set(selectors.revisits_for_user(personas[Role.BUREAU_OFFICIAL])) == {revisit, elsewhere}
    assert not selectors.revisits_for_user(personas[Role.HELPER]).exists()
    assert not selectors.revisits_for_user(personas["no_role"]).exists()


def test_helper_reports_for_user_follow_the_scope(personas, staff, other_staff, helper, report):
    assert list(selectors.helper_reports_for_user(staff)) == [report]
    assert list(selectors.helper_reports_for_user(helper)) == [report]
    assert not selectors.helper_reports_for_user(other_staff).exists()
    assert not selectors.helper_reports_for_user(make_user(Role.HELPER)).exists()
    assert list(selectors.helper_reports_for_user(personas[Role.BUREAU_ADMIN])) == [report]


@pytest.mark.django_db
def test_a_handled_report_cannot_be_handled_again():
    from households.tests.factories import township

    township_ = township("350881100")
    staff = make_user(Role.TOWNSHIP_STAFF, townships=[township_])
    helper = make_user(Role.HELPER)
    household = HouseholdFactory(village=VillageFactory(township=township_), helper_user=helper)
    report = HelperReport.objects.create(household=household, note="屋顶漏雨", reported_by=helper, finding_leaking=True)
    services.record_report_action(actor=staff, report=report, action_taken="已修缮")
    with pytest.raises(ValidationError):
        services.record_report_action(actor=staff, report=report, action_taken="改写")
    report.refresh_from_db()
    assert report.action_taken == "已修缮"

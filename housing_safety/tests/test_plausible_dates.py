"""Implausible dates are refused with the reason in Chinese and write nothing (issue 23): a complaint received in
1900 or year 1 (the intake form was a 500), a revisit visited in year 1, a problem due in year 1 or 9999, a
household registered in year 1. One range per kind of date (housing_safety.dates), on every date field of every
model (so the admin and every model form check it) and in the services that take a date as an argument."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from households import services as household_services
from households.models import Household
from households.tests.conftest import *  # noqa: F403
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory, make_user
from housing_safety.access import Role
from housing_safety.dates import BIRTH, DUE, EVENT, PlausibleDate, PlausibleYear, check_date, date_error
from housing_safety.tests.kit import today
from inspections import services as inspection_services
from inspections.models import Appraisal, Campaign, Placard, Revisit, SecuredHousing
from inspections.tests.factories import AppraisalFactory
from rectification import services as rectification_services
from rectification.models import CaseStatus, Complaint, LeadTransfer, Problem, SubsidyStandard

pytestmark = pytest.mark.usefixtures("chinese")

D = datetime.date
YEAR_1, YEAR_1900, YEAR_9999 = D(1, 1, 1), D(1900, 1, 1), D(9999, 12, 31)
IMPLAUSIBLE = [
    pytest.param(YEAR_1, id="year-1"),
    pytest.param(YEAR_1900, id="1900"),
    pytest.param(YEAR_9999, id="9999"),
]
FUTURE = "日期不能晚于今天。"


def too_early(day: datetime.date, earliest: str = "2000-01-01") -> str:
    return f"日期 {day.isoformat()} 早于 {earliest}，请填写实际日期。"


def too_far(day: datetime.date) -> str:
    latest = today() + relativedelta(years=5)
    return f"日期 {day.isoformat()} 距今超过 5 年，请填写不晚于 {latest.isoformat()} 的日期。"


def event_message(day: datetime.date) -> str:
    return FUTURE if day > today() else too_early(day)


def due_message(day: datetime.date) -> str:
    return too_far(day) if day > today() else too_early(day)


# Every date field has its range ----------------------------------------------------------------------------------

APPS = ("households", "inspections", "rectification", "reporting", "housing_safety")
DUE_FIELDS = {
    "until", "starts_on", "due_on", "acceptance_due", "handling_due", "deadline", "village_posting_start",
    "village_posting_end", "township_posting_start", "township_posting_end",
    "ends_on", "day",  # a work phase's end, a holiday (both entered ahead of time)
    "expires_at", "next_attempt_at",  # an API key's expiry, a webhook delivery's next try
}  # fmt: skip
YEAR_FIELDS = {
    ("households.household", "poverty_exit_year"),
    ("rectification.renovationcase", "programme_year"),
    ("rectification.subsidystandard", "year"),
    ("rectification.leadquarterreturn", "year"),
    ("reporting.datasubmission", "year"),  # the year's data sent to Longyan
    ("inspections.guidanceassignment", "year"),  # 包片, by year
}


def _set_by_django(model, field) -> bool:
    """auto_now fields, also as their history models copy them, and the history's own timestamp."""
    original = getattr(model, "instance_type", None)  # a simple-history model's tracked model
    if original is not None:
        if field.name == "history_date":
            return True
        field = original._meta.get_field(field.name)
    return field.auto_now or field.auto_now_add


def _date_fields():
    for app in APPS:
        for model in apps.get_app_config(app).get_models():
            for field in model._meta.concrete_fields:
                if isinstance(field, models.DateField) and not _set_by_django(model, field):
                    yield model, field


def test_every_date_field_of_every_model_has_a_plausible_range():
    fields = list(_date_fields())
    assert len(fields) > 50  # history models included
    missing, wrong_kind = [], []
    for model, field in fields:
        kinds = [v.kind for v in field.validators if isinstance(v, PlausibleDate)]
        if not kinds:
            missing.append(f"{model._meta.label}.{field.name}")
        elif kinds != [DUE if field.name in DUE_FIELDS else EVENT]:
            wrong_kind.append(f"{model._meta.label}.{field.name}: {kinds}")
    assert not missing, missing
    assert not wrong_kind, wrong_kind
    for label, name in YEAR_FIELDS:
        field = apps.get_model(label)._meta.get_field(name)
        assert any(isinstance(v, PlausibleYear) for v in field.validators), (label, name)


# The ranges ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("day", IMPLAUSIBLE)
def test_an_event_date_in_year_1_1900_or_9999_is_refused(day):
    assert date_error(day, EVENT) == event_message(day)
    with pytest.raises(ValidationError) as refused:
        PlausibleDate(EVENT)(day)
    assert refused.value.messages == [event_message(day)]


@pytest.mark.parametrize("day", IMPLAUSIBLE)
def test_a_deadline_in_year_1_1900_or_9999_is_refused(day):
    assert date_error(day, DUE) == due_message(day)


def test_the_bounds_of_each_kind():
    now = today()
    assert date_error(D(2000, 1, 1)) is None and date_error(now) is None
    assert date_error(D(1999, 12, 31)) == too_early(D(1999, 12, 31))
    assert date_error(now + datetime.timedelta(days=1)) == FUTURE
    assert date_error(now + datetime.timedelta(days=365 * 5 - 2), DUE) is None
    far = now + datetime.timedelta(days=365 * 5 + 3)  # past five years even with two leap days between
    assert date_error(far, DUE) == too_far(far)
    # Birth dates from 1900: 1900 itself is plausible, 1899 and year 1 are not, nor tomorrow.
    assert date_error(YEAR_1900, BIRTH) is None
    assert date_error(D(1899, 12, 31), BIRTH) == too_early(D(1899, 12, 31), "1900-01-01")
    assert date_error(YEAR_1, BIRTH) == too_early(YEAR_1, "1900-01-01")
    assert date_error(now + datetime.timedelta(days=1), BIRTH) == FUTURE


def test_a_datetime_is_judged_by_its_local_day_even_where_it_cannot_be_converted():
    shanghai = timezone.get_current_timezone()
    assert date_error(datetime.datetime(1, 1, 1, 0, 0, tzinfo=shanghai)) == too_early(YEAR_1)
    assert date_error(datetime.datetime(9999, 12, 31, 23, 59, tzinfo=datetime.UTC)) == FUTURE
    assert date_error(timezone.now()) is None
    # 2000-01-01 00:30 in Shanghai is 1999-12-31 in UTC: the bureau's day counts.
    assert date_error(datetime.datetime(2000, 1, 1, 0, 30, tzinfo=shanghai)) is None


def test_years():
    programme = PlausibleYear(ahead=5)
    for year in (2000, today().year, today().year + 5):
        programme(year)
    for year in (1, 1900, 1999, today().year + 6, 9999):
        with pytest.raises(ValidationError) as refused:
            programme(year)
        assert refused.value.messages == [f"年份 {year} 不合理，请填写 2000 至 {today().year + 5} 之间的年份。"]


def test_check_date_names_the_field_and_lets_none_pass():
    check_date("visited_on", None)
    with pytest.raises(ValidationError) as refused:
        check_date("visited_on", YEAR_1)
    assert refused.value.message_dict == {"visited_on": [too_early(YEAR_1)]}


# Through the services and pages: refused, nothing written; a normal date works -----------------------------------


@pytest.fixture
def clerk(personas):
    return personas[Role.COMPLAINT_CLERK]


def _complaint_body(received_at: str) -> dict:
    return {
        "channel": "hotline", "received_at": received_at, "reporter_name": "李四", "reporter_phone": "13905970001",
        "category": "other", "content": "房屋漏雨",
    }  # fmt: skip


@pytest.mark.parametrize("day", IMPLAUSIBLE)
def test_the_intake_form_refuses_a_complaint_received_in_year_1_1900_or_9999(client, clerk, day):
    client.force_login(clerk)
    response = client.post("/complaints/new/", _complaint_body(f"{day.isoformat()}T09:30"))
    assert response.status_code == 200
    assert response.context["form"].errors == {"received_at": [event_message(day)]}
    assert not Complaint.objects.exists()


def test_the_intake_form_takes_a_complaint_received_this_morning(client, clerk):
    client.force_login(clerk)
    received = timezone.localtime().replace(hour=0, minute=5)
    response = client.post("/complaints/new/", _complaint_body(received.strftime("%Y-%m-%dT%H:%M")))
    assert response.status_code == 302
    assert Complaint.objects.count() == 1


@pytest.mark.parametrize("day", IMPLAUSIBLE)
def test_the_complaint_service_refuses_a_receipt_in_year_1_1900_or_9999(clerk, day):
    received = datetime.datetime.combine(day, datetime.time(9, 30), tzinfo=timezone.get_current_timezone())
    complaint = Complaint(
        channel=Complaint.Channel.HOTLINE, received_at=received, reporter_name="李四", category="other", content="漏雨"
    )
    with pytest.raises(ValidationError) as refused:
        rectification_services.log_complaint(actor=clerk, complaint=complaint)
    expected = "受理时间不能晚于现在。" if day > today() else too_early(day)
    assert refused.value.message_dict == {"received_at": [expected]}
    assert not Complaint.objects.exists()


@pytest.fixture
def revisit(home_household):
    campaign = Campaign.objects.create(
        name="台风后排查", kind=Campaign.Kind.POST_DISASTER, starts_on=today(), due_on=today()
    )
    return Revisit.objects.create(campaign=campaign, dwelling=home_household.dwellings.get(), due_on=today())


@pytest.mark.parametrize("day", IMPLAUSIBLE)
def test_a_revisit_visited_in_year_1_1900_or_9999_is_refused(client, staff, revisit, day):
    with pytest.raises(ValidationError) as refused:
        inspection_services.record_revisit(
            actor=staff,
            revisit=revisit,
            visited_on=day,
            findings=[],
            outcome=Revisit.Outcome.NONE,
            still_lived_in=True,
        )
    assert refused.value.message_dict == {"visited_on": [event_message(day)]}
    client.force_login(staff)
    response = client.post(
        f"/field/revisits/{revisit.pk}/",
        {"visited_on": day.isoformat(), "still_lived_in": "yes", "outcome": "none", "notes": "看过"},
    )
    assert response.status_code == 200 and event_message(day) in response.content.decode()
    revisit.refresh_from_db()
    assert (revisit.status, revisit.visited_on, revisit.history.count()) == (Revisit.Status.PENDING, None, 1)


def test_a_revisit_visited_today_is_recorded(staff, revisit):
    inspection_services.record_revisit(
        actor=staff,
        revisit=revisit,
        visited_on=today(),
        findings=[],
        outcome=Revisit.Outcome.NONE,
        still_lived_in=True,
    )
    revisit.refresh_from_db()
    assert revisit.visited_on == today()


@pytest.mark.parametrize("day", IMPLAUSIBLE)
def test_a_problem_due_in_year_1_1900_or_9999_is_refused(staff, home_household, day):
    problem = Problem(
        household=home_household, source=Problem.Source.OTHER, kind=Problem.Kind.OTHER, phase=3, description="漏雨",
        deadline=day,
    )  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        rectification_services.save_problem(actor=staff, problem=problem)
    assert refused.value.message_dict == {"deadline": [due_message(day)]}
    assert not Problem.objects.exists()


def test_a_problem_due_next_month_is_saved(staff, home_household):
    problem = Problem(
        household=home_household, source=Problem.Source.OTHER, kind=Problem.Kind.OTHER, phase=3, description="漏雨",
        deadline=today() + datetime.timedelta(days=30),
    )  # fmt: skip
    assert rectification_services.save_problem(actor=staff, problem=problem).pk


@pytest.mark.parametrize("day", IMPLAUSIBLE)
def test_a_household_registered_in_year_1_1900_or_9999_is_refused(staff, xinqiao, day):
    household = HouseholdFactory.build(village=VillageFactory(township=xinqiao), registered_on=day)
    before = Household.objects.count()
    with pytest.raises(ValidationError) as refused:
        household_services.save_household(actor=staff, household=household)
    assert refused.value.message_dict == {"registered_on": [event_message(day)]}
    assert Household.objects.count() == before


def test_the_admin_refuses_a_household_registered_in_year_1(client, admin, home_household):
    from households.tests.test_admin_access import household_change_data

    client.force_login(admin)
    body = household_change_data(home_household, registered_on="0001-01-01")
    response = client.post(f"/admin/households/household/{home_household.pk}/change/", body)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["registered_on"] == [too_early(YEAR_1)]
    home_household.refresh_from_db()
    assert home_household.registered_on != YEAR_1


@pytest.mark.parametrize("day", IMPLAUSIBLE)
def test_an_appraisal_dated_year_1_1900_or_9999_is_refused(staff, home_household, day):
    appraisal = AppraisalFactory.build(dwelling=home_household.dwellings.get(), appraised_on=day)
    with pytest.raises(ValidationError) as refused:
        inspection_services.record_appraisal(actor=staff, appraisal=appraisal)
    assert refused.value.message_dict == {"appraised_on": [event_message(day)]}
    assert not Appraisal.objects.exists()


@pytest.mark.parametrize("day", IMPLAUSIBLE)
def test_a_placard_installed_in_year_1_1900_or_9999_is_refused(staff, home_household, day):
    AppraisalFactory(dwelling=home_household.dwellings.get(), grade="A", appraised_on=today())
    [placard] = inspection_services.issue_placards(actor=staff, households=[home_household])
    with pytest.raises(ValidationError) as refused:
        inspection_services.record_placard_installation(actor=staff, placard=placard, installed_on=day)
    assert refused.value.message_dict == {"installed_on": [event_message(day)]}
    assert Placard.objects.get().installed_on is None


@pytest.mark.parametrize(("since", "until"), [(YEAR_1900, None), (today, YEAR_9999), (today, YEAR_1)])
def test_secured_housing_dates(staff, home_household, since, until):
    since = since() if callable(since) else since
    arrangement = SecuredHousing(household=home_household, kind=SecuredHousing.Kind.RELATIVES, since=since, until=until)
    with pytest.raises(ValidationError) as refused:
        inspection_services.save_secured_housing(actor=staff, arrangement=arrangement)
    errors = refused.value.message_dict
    assert (errors.get("since") or errors.get("until"))[0] in (event_message(since), due_message(until or since))
    assert not SecuredHousing.objects.exists()


def test_a_campaign_due_in_9999_is_not_launched(admin):
    campaign = Campaign.objects.create(name="排查", kind=Campaign.Kind.REVIEW, starts_on=today(), due_on=YEAR_9999)
    with pytest.raises(ValidationError) as refused:
        inspection_services.launch_campaign(actor=admin, campaign=campaign)
    assert refused.value.message_dict == {"due_on": [due_message(YEAR_9999)]}
    assert not Revisit.objects.exists()


@pytest.mark.parametrize("year", [1, 1900, 9999])
def test_a_subsidy_standard_or_programme_year_out_of_range_is_refused(db, year):
    standard = SubsidyStandard(year=year, renovation_type="repair", amount=Decimal("8000"))
    with pytest.raises(ValidationError) as refused:
        standard.full_clean()
    latest = today().year + 5
    assert refused.value.message_dict["year"] == [f"年份 {year} 不合理，请填写 2000 至 {latest} 之间的年份。"]


@pytest.mark.parametrize("day", IMPLAUSIBLE)
def test_renovation_step_payment_and_posting_dates_are_bounded(personas, staff, home_household, day):
    from rectification.tests.factories import dangerous_dwelling, new_case, standards, step_data, walk

    standards()
    admin = personas[Role.BUREAU_ADMIN]
    case = new_case(staff, dangerous_dwelling(home_household))
    steps = case.transitions.count()
    with pytest.raises(ValidationError) as refused:  # the step's own date
        rectification_services.move_case(
            actor=staff, case=case, to=CaseStatus.VILLAGE_ASSESSED, **{**step_data(case, CaseStatus.VILLAGE_ASSESSED),
                                                                      "on": day}
        )  # fmt: skip
    assert refused.value.message_dict == {"on": [event_message(day)]}
    if day > today():  # a posting may end in the future, but not in 9999
        data = step_data(case, CaseStatus.VILLAGE_ASSESSED) | {"posting_end": day}
        with pytest.raises(ValidationError) as refused:
            rectification_services.move_case(actor=staff, case=case, to=CaseStatus.VILLAGE_ASSESSED, **data)
        assert refused.value.message_dict == {"posting_end": [due_message(day)]}
    case.refresh_from_db()
    assert (case.status, case.transitions.count()) == (CaseStatus.APPLIED, steps)
    paid = walk(case, CaseStatus.PAID, township_user=staff, bureau_user=admin)
    with pytest.raises(ValidationError) as refused:
        rectification_services.record_supplementary_payment(
            actor=admin, case=paid, paid_on=day, amount=Decimal("100"), voucher_number="PZ-B", reason="补差"
        )
    assert refused.value.message_dict == {"paid_on": [event_message(day)]}
    assert paid.payments.count() == 1


@pytest.mark.parametrize("day", IMPLAUSIBLE)
def test_a_lead_sent_or_receipted_in_year_1_1900_or_9999_is_refused(personas, clerk, poverty_office, day):
    from households.models import Unit

    bureau = Unit.objects.get(kind=Unit.Kind.BUREAU)
    lead = LeadTransfer(
        direction=LeadTransfer.Direction.OUTGOING, from_unit=bureau, to_unit=poverty_office, subject="线索", sent_on=day
    )
    with pytest.raises(ValidationError) as refused:
        rectification_services.record_lead(actor=clerk, lead=lead)
    assert refused.value.message_dict == {"sent_on": [event_message(day)]}
    assert not LeadTransfer.objects.exists()
    lead.sent_on = today()
    lead = rectification_services.record_lead(actor=clerk, lead=lead)
    with pytest.raises(ValidationError) as refused:
        rectification_services.confirm_lead_receipt(actor=clerk, lead=lead, on=day, by="张三")
    assert refused.value.message_dict == {"receipt_on": [event_message(day)]}
    lead.refresh_from_db()
    assert lead.receipt_on is None


def test_a_photo_from_a_camera_whose_clock_was_never_set_keeps_no_day(staff, home_household):
    """The day the camera recorded is kept only when plausible: a photo is not refused for a wrong camera clock."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from households.models import Attachment

    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "1980:01:01 00:00:00"
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "JPEG", exif=exif.tobytes())
    attachment = household_services.add_attachment(
        actor=staff, record=home_household, uploaded_file=SimpleUploadedFile("a.jpg", buffer.getvalue()),
        kind=Attachment.Kind.PHOTO,
    )  # fmt: skip
    assert attachment.taken_on is None


def test_factories_and_demo_dates_are_plausible(db):
    """What the tests and the demo build lies within the ranges (the factories' dates are past and after 2000)."""
    dwelling = DwellingFactory()
    appraisal = AppraisalFactory(dwelling=dwelling)
    for obj in (dwelling.household, dwelling, appraisal):
        obj.full_clean()
    assert make_user(Role.HELPER).pk

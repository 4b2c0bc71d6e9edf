"""The plan's problem list names its timetable and responsible person (三（一）: "建立整治问题“一乡镇（街道）一清单”，
明确时间表和责任人"): a problem a finding opens names the township's person and is due by its kind; the list and the
export show both; a problem without a person is flagged on the township's home."""

from __future__ import annotations

import datetime
import importlib
import io

import pytest
from django.apps import apps as django_apps
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from households.models import Unit
from households.tests.factories import make_user
from housing_safety.access import Role
from inspections import services as inspections_services
from inspections.models import Campaign, Revisit
from rectification import services
from rectification.models import ComplaintStatus as C
from rectification.models import Problem
from rectification.services import save_problem
from rectification.tests.test_complaints import log

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("chinese")]
D = datetime.date


def find(staff, dwelling, *kinds) -> list[Problem]:
    campaign = Campaign.objects.create(
        name="回头看", kind=Campaign.Kind.POST_DISASTER, starts_on=D(2026, 1, 1), due_on=D(2026, 12, 31)
    )
    revisit = Revisit.objects.create(campaign=campaign, dwelling=dwelling, due_on=D(2026, 12, 31))
    inspections_services.record_revisit(
        actor=staff, revisit=revisit, visited_on=timezone.localdate(), findings=list(kinds),
        outcome=Revisit.Outcome.NONE, still_lived_in=True,
    )  # fmt: skip
    return list(Problem.objects.filter(revisit=revisit).order_by("kind"))


def test_a_finding_names_the_townships_person_and_a_deadline_by_kind(staff, home_household, xinqiao, settings):
    """ "明确时间表和责任人": the township's named person, and the deadline its kind sets."""
    settings.PROBLEM_DAYS_BY_KIND = {"lives_in_old_dangerous": 15, "connected_hazard": 90}
    owner = make_user(Role.TOWNSHIP_STAFF, username="zhang", townships=[xinqiao])
    owner.first_name = "张镇长"
    owner.save()
    xinqiao.problem_owner = owner
    xinqiao.save()
    today = timezone.localdate()
    connected, lives = find(staff, home_household.dwellings.get(), "lives_in_old_dangerous", "connected_hazard")
    assert (lives.responsible_person, lives.deadline) == ("张镇长", today + datetime.timedelta(days=15))
    assert (connected.responsible_person, connected.deadline) == ("张镇长", today + datetime.timedelta(days=90))


def test_without_a_named_person_the_township_units_contact_is_named(staff, home_household, xinqiao):
    """ "明确…责任人": the unit's contact (with the phone) stands in for a township that names nobody."""
    Unit.objects.filter(township=xinqiao).update(contact_name="李联络", phone="13905971234")
    [problem] = find(staff, home_household.dwellings.get(), "leaking")
    assert problem.responsible_person == "李联络 13905971234"


def test_a_problem_added_by_hand_or_from_a_complaint_gets_the_person_too(personas, staff, admin_user, xinqiao):
    """ "明确时间表和责任人" holds for every way onto the list; a person typed in is kept."""
    Unit.objects.filter(township=xinqiao).update(contact_name="李联络")
    typed = save_problem(
        actor=admin_user,
        problem=Problem(township=xinqiao, source="other", kind="other", description="档案缺失", deadline=D(2026, 12, 31),
                        responsible_person="王站长"),
    )  # fmt: skip
    blank = save_problem(
        actor=admin_user,
        problem=Problem(
            township=xinqiao, source="other", kind="other", description="数据不符", deadline=D(2026, 12, 31)
        ),
    )
    assert (typed.responsible_person, blank.responsible_person) == ("王站长", "李联络")
    complaint, _code = log(personas[Role.COMPLAINT_CLERK], township=xinqiao)
    services.move_complaint(actor=personas[Role.COMPLAINT_CLERK], complaint=complaint, to=C.ACCEPTED)
    services.move_complaint(actor=personas[Role.COMPLAINT_CLERK], complaint=complaint, to=C.ASSIGNED, handler=staff)
    services.move_complaint(actor=staff, complaint=complaint, to=C.HANDLING)
    problem = services.open_problem_for_complaint(
        actor=staff, complaint=complaint, description="核实属实", deadline=timezone.localdate()
    )
    assert problem.responsible_person == "李联络"


def test_a_problem_with_nobody_is_flagged_on_the_townships_home_and_listed(client, staff, home_household, xinqiao):
    """ "明确时间表和责任人": a problem that names nobody is the township's to-do, linking to those problems."""
    [nobody] = find(staff, home_household.dwellings.get(), "leaking")
    assert nobody.responsible_person == ""  # 新桥镇 names nobody and its unit has no contact
    Unit.objects.filter(township=xinqiao).update(contact_name="李联络")
    [named] = find(staff, home_household.dwellings.get(), "new_damage")
    client.force_login(staff)
    home = client.get(reverse("home")).content.decode()
    url = reverse("rectification:problems") + "?status=unowned"
    assert "缺少责任人或时限的问题" in home and f'href="{url}"' in home
    listed = client.get(url).content.decode()
    assert f'/problems/{nobody.pk}/"' in listed and f'/problems/{named.pk}/"' not in listed
    everything = client.get(reverse("rectification:problems")).content.decode()
    assert "责任人：李联络" in everything and "责任人：未明确" in everything


def test_the_export_has_the_responsible_person_and_deadline_columns(client, staff, home_household, xinqiao):
    """ "明确时间表和责任人": the township's Excel list carries both."""
    Unit.objects.filter(township=xinqiao).update(contact_name="李联络")
    [problem] = find(staff, home_household.dwellings.get(), "leaking")
    client.force_login(staff)
    response = client.get(reverse("rectification:problem-export"))
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header = next(row for row in rows if "责任人" in row)
    data = rows[rows.index(header) + 1]
    assert data[header.index("责任人")] == "李联络"
    assert data[header.index("整改时限")].date() == problem.deadline


def test_the_migration_fills_open_problems_with_the_township_units_contact(staff, home_household, xinqiao):
    """ "明确…责任人" for problems opened before the setting: the township unit's contact, for the open ones only."""
    [open_one, done] = find(staff, home_household.dwellings.get(), "leaking", "new_damage")
    Problem.objects.filter(pk=done.pk).update(status="verified", resolution="已修")
    Unit.objects.filter(township=xinqiao).update(contact_name="李联络", phone="13905971234")
    migration = importlib.import_module("rectification.migrations.0010_fill_problem_responsible_person")
    migration.fill(django_apps, None)
    open_one.refresh_from_db()
    done.refresh_from_db()
    assert (open_one.responsible_person, done.responsible_person) == ("李联络 13905971234", "")

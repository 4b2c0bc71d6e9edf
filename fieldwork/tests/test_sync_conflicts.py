"""What the phone sends back after working offline (docs/field-app.md, "What the phone sends back"): each entry with
the `based_on` of its package; a record that changed since is a 409 with what is there now, nothing written and no
Idempotency-Key kept, and the worker's "keep mine" resend (based_on = current.based_on, a new key) goes through the
services' own rules. Without based_on the writes are what they were (the API's other callers)."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from households.tests.factories import make_user
from housing_safety.access import Role
from housing_safety.models import IdempotentRequest
from inspections import services as inspections
from inspections.models import Appraisal, Campaign, Revisit
from inspections.tests.factories import AppraisalFactory
from rectification import services as rectification
from rectification.models import Problem

from ..package import package_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("chinese")]
D = datetime.date


def phone(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def send(client, url, data, key=None):
    return client.post(url, data, HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4()))


def appraisal(**changes) -> dict:
    components = {"foundation": "a", "load_bearing_walls": "b", "timber_frame": "a", "roof_truss": "a"}
    return {
        "kind": "assessment", "appraised_on": timezone.localdate().isoformat(), "organisation": "漳平市房屋安全鉴定站",
        "appraisers": "王工、陈工", **components, "concrete_frame": "n", "floor_roof_slab": "a", "grade": "B",
        "recommendation": "none",
    } | changes  # fmt: skip


def visit(**changes) -> dict:
    return {"visited_on": timezone.localdate().isoformat(), "still_lived_in": "true", "outcome": "none"} | changes


@pytest.fixture
def colleague(xinqiao):
    user = make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao])
    user.first_name = "李四"
    user.save()
    return user


@pytest.fixture
def dwelling(home_household):
    return home_household.dwellings.get()


@pytest.fixture
def revisit(dwelling):
    campaign = Campaign.objects.create(
        name="台风后排查", kind=Campaign.Kind.POST_DISASTER, starts_on=D(2026, 1, 1), due_on=D(2026, 12, 31)
    )
    return Revisit.objects.create(campaign=campaign, dwelling=dwelling, due_on=D(2026, 12, 31))


def new_problem(household, dwelling=None) -> Problem:
    return Problem.objects.create(
        township_id=household.village.township_id, household=household, dwelling=dwelling, source="other",
        kind=Problem.Kind.LEAKING, description="屋面漏雨", deadline=D(2027, 1, 6),
    )  # fmt: skip


def the_conflict(response) -> dict:
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["errors"] == [{"field": "based_on", "code": "conflict", "message": body["errors"][0]["message"]}]
    assert "未写入" in body["errors"][0]["message"]
    return body["current"]


# Appraisals ------------------------------------------------------------------------------------------------------


def test_an_appraisal_based_on_an_older_version_is_a_409_and_keep_mine_records_it(staff, colleague, dwelling):
    based_on = package_for(staff, dwelling.household.village_id)["households"][0]["dwellings"][0]["based_on"]
    assert based_on == "a:"
    theirs = AppraisalFactory(dwelling=dwelling, appraised_on=D(2026, 12, 1), grade="B", recorded_by=colleague)
    client, url, entry = phone(staff), f"/api/v1/dwellings/{dwelling.pk}/appraisals/", str(uuid.uuid4())

    current = the_conflict(send(client, url, appraisal(based_on=based_on), key=entry))
    assert current == {
        "summary": "2026-12-01 鉴定为B级：基本安全，由李四登记。", "appraised_on": "2026-12-01", "grade": "B",
        "grade_label": "B级：基本安全", "appraisers": "张工、李工", "recorded_by": "李四", "based_on": f"a:{theirs.pk}",
    }  # fmt: skip
    assert list(Appraisal.objects.all()) == [theirs]
    assert not IdempotentRequest.objects.exists()  # the refused entry's key is not kept

    kept = send(client, url, appraisal(based_on=current["based_on"]), key=f"{entry}-2")
    assert kept.status_code == 201, kept.content
    assert Appraisal.objects.count() == 2 and IdempotentRequest.objects.count() == 1
    replay = send(client, url, appraisal(based_on=current["based_on"]), key=f"{entry}-2")
    assert replay["Idempotent-Replayed"] == "true" and Appraisal.objects.count() == 2


def test_an_appraisal_based_on_the_current_version_or_on_none_is_recorded(staff, dwelling):
    client, url = phone(staff), f"/api/v1/dwellings/{dwelling.pk}/appraisals/"
    assert send(client, url, appraisal(based_on="a:")).status_code == 201
    # without based_on (a system's call), nothing is checked: a second appraisal is recorded as before
    assert send(client, url, appraisal()).status_code == 201
    assert Appraisal.objects.count() == 2


# Revisits --------------------------------------------------------------------------------------------------------


def test_a_revisit_recorded_meanwhile_is_a_409_with_what_was_recorded(staff, colleague, revisit):
    inspections.record_revisit(
        actor=colleague, revisit=revisit, visited_on=D(2026, 12, 2), findings=[], outcome="repair",
        still_lived_in=True,
    )  # fmt: skip
    client, url = phone(staff), f"/api/v1/revisits/{revisit.pk}/record/"
    current = the_conflict(send(client, url, visit(based_on="pending", findings=["leaking"])))
    assert current == {
        "summary": "2026-12-02 已回访：需维修，由李四登记。", "visited_on": "2026-12-02", "outcome": "repair",
        "outcome_label": "需维修", "recorded_by": "李四", "based_on": "done",
    }  # fmt: skip
    revisit.refresh_from_db()
    assert (revisit.visited_by, revisit.finding_leaking) == (colleague, False)
    assert not Problem.objects.exists() and not IdempotentRequest.objects.exists()
    # without based_on, the service's own rule: recorded once (a 400)
    assert send(client, url, visit()).status_code == 400


def test_a_revisit_still_pending_is_recorded(staff, revisit):
    response = send(phone(staff), f"/api/v1/revisits/{revisit.pk}/record/", visit(based_on="pending"))
    assert response.status_code == 200, response.content
    revisit.refresh_from_db()
    assert revisit.status == Revisit.Status.DONE


# Problems --------------------------------------------------------------------------------------------------------


def test_a_problem_moved_meanwhile_is_a_409_and_the_resend_meets_the_transition_table(staff, colleague,
                                                                                        home_household):  # fmt: skip
    problem = new_problem(home_household)
    rectification.move_problem(actor=colleague, problem=problem, to="in_progress", note="已安排")
    client, url = phone(staff), f"/api/v1/problems/{problem.pk}/moves/"

    current = the_conflict(send(client, url, {"to": "resolved", "resolution": "已修补", "based_on": "open"}))
    assert current == {
        "summary": "问题状态已变更为“整改中”。", "status": "in_progress", "status_label": "整改中",
        "based_on": "in_progress",
    }  # fmt: skip
    problem.refresh_from_db()
    assert problem.status == "in_progress" and problem.transitions.count() == 1
    assert not IdempotentRequest.objects.exists()

    kept = send(client, url, {"to": "resolved", "resolution": "已修补", "based_on": current["based_on"]})
    assert kept.status_code == 200 and kept.json()["status"] == "resolved"
    # the same move again, now refused by the table (a refusal like any other, not a conflict)
    again = send(client, url, {"to": "in_progress", "based_on": "resolved"})
    assert again.status_code in (400, 403) and "conflict" not in again.content.decode()


def test_a_problem_move_without_based_on_is_unchanged(staff, home_household):
    problem = new_problem(home_household)
    response = send(phone(staff), f"/api/v1/problems/{problem.pk}/moves/", {"to": "in_progress"})
    assert response.status_code == 200 and response.json()["status"] == "in_progress"


# Scope -----------------------------------------------------------------------------------------------------------


def test_another_townships_records_are_a_404_whatever_their_version(staff, other_household):
    other_dwelling = other_household.dwellings.get()
    AppraisalFactory(dwelling=other_dwelling)
    campaign = Campaign.objects.create(
        name="台风后排查", kind=Campaign.Kind.POST_DISASTER, starts_on=D(2026, 1, 1), due_on=D(2026, 12, 31)
    )
    other_revisit = Revisit.objects.create(campaign=campaign, dwelling=other_dwelling, due_on=D(2026, 12, 31))
    other_problem = new_problem(other_household, other_dwelling)
    client = phone(staff)
    for url, data in (
        (f"/api/v1/dwellings/{other_dwelling.pk}/appraisals/", appraisal(based_on="a:")),
        (f"/api/v1/revisits/{other_revisit.pk}/record/", visit(based_on="done")),
        (f"/api/v1/problems/{other_problem.pk}/moves/", {"to": "in_progress", "based_on": "resolved"}),
    ):
        response = send(client, url, data)
        assert response.status_code == 404 and "current" not in response.json(), url
    assert Appraisal.objects.count() == 1 and not IdempotentRequest.objects.exists()
    other_revisit.refresh_from_db()
    other_problem.refresh_from_db()
    assert (other_revisit.status, other_problem.status) == ("pending", "open")


# Two phones at once ----------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_phones_appraising_one_house_at_the_same_moment_record_one_the_other_is_a_409(monkeypatch):
    """The house is read under a row lock before its version is compared: the second phone waits for the first's
    transaction, then finds the appraisal it recorded."""
    import threading
    import time

    from django.db import connection

    from households.tests.factories import household_with_dwelling, township

    xinqiao = township("350881100")
    dwelling = household_with_dwelling(xinqiao, "东坑村").dwellings.get()
    first_user = make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao])
    second_user = make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao])
    inside, real = threading.Event(), inspections.record_appraisal

    def slow_record(**kwargs):
        result = real(**kwargs)
        inside.set()
        time.sleep(0.5)  # the second phone's request arrives while this one's transaction is open
        return result

    monkeypatch.setattr(inspections, "record_appraisal", slow_record)
    url, answers = f"/api/v1/dwellings/{dwelling.pk}/appraisals/", {}

    def call(name, user):
        try:
            answers[name] = send(phone(user), url, appraisal(based_on="a:"))
        finally:
            connection.close()

    first = threading.Thread(target=call, args=("first", first_user))
    first.start()
    assert inside.wait(10)
    call("second", second_user)
    first.join()

    assert answers["first"].status_code == 201, answers["first"].content
    current = the_conflict(answers["second"])
    assert current["based_on"] == f"a:{answers['first'].json()['id']}"
    assert Appraisal.objects.count() == 1 and IdempotentRequest.objects.count() == 1

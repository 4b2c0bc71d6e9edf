"""The events the services emit (housing_safety.webhooks), through the services themselves to a real receiver on
loopback: an appraisal recorded, the household's housing-security state it changes, a renovation case's step, a
complaint's move. Payloads carry ids, codes, dates and statuses, never a name, an ID number or a phone number; an
action refused by its rules emits nothing; an event nobody subscribes to costs one query."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from households.models import HousingStatus
from households.services import refresh_home_state
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory
from housing_safety import webhooks
from housing_safety.models import WebhookDelivery, WebhookSubscription
from housing_safety.tests.test_webhooks import Receiver
from inspections import services as inspection_services
from inspections.models import Appraisal
from inspections.tests.factories import AppraisalFactory
from rectification import services
from rectification.models import CaseStatus, Complaint
from rectification.tests.factories import dangerous_dwelling, new_case, standards, step_data
from rectification.tests.test_complaints import log

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("chinese")]

S = CaseStatus
C = Complaint.Status
DELIVERED = WebhookDelivery.Status.DELIVERED


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def subscribe(receiver: Receiver, *events: str) -> WebhookSubscription:
    subscription = WebhookSubscription.objects.create(name="12345 热线平台", url=receiver.url, events=list(events))
    receiver.secret = subscription.secret
    return subscription


def personal_data_of(household, *texts: str) -> list[str]:
    """The household's head, ID and phone numbers (and other given texts), for checking that a payload has none."""
    return [value for value in (household.head_name, household.id_number, household.phone, *texts) if value]


def assert_no_personal_data(request: dict, forbidden: list[str]) -> None:
    body = json.dumps(request["body"], ensure_ascii=False)
    assert not [value for value in forbidden if value in body], body


@pytest.fixture
def household(xinqiao):
    return HouseholdFactory(village=VillageFactory(township=xinqiao, code="350881100201"))


def test_a_case_moved_through_the_service_is_posted(
    receiver, staff, admin, household, xinqiao, django_capture_on_commit_callbacks
):
    standards()
    subscribe(receiver, "case.moved")
    case = new_case(staff, dangerous_dwelling(household))

    with django_capture_on_commit_callbacks(execute=True):
        services.move_case(actor=staff, case=case, to=S.VILLAGE_ASSESSED, **step_data(case, S.VILLAGE_ASSESSED))

    [request] = receiver.requests
    assert request["signed"] and request["headers"]["X-Webhook-Event"] == "case.moved"
    data = request["body"]["data"]
    assert data == {
        "case_id": case.pk,
        "case_number": case.number,
        "household_id": household.pk,
        "dwelling_id": case.dwelling_id,
        "township_code": xinqiao.code,
        "programme_year": case.programme_year,
        "renovation_type": case.renovation_type,
        "from": S.APPLIED,
        "to": S.VILLAGE_ASSESSED,
        "on": step_data(case, S.VILLAGE_ASSESSED)["on"].isoformat(),
    }
    assert_no_personal_data(request, personal_data_of(household))
    assert WebhookDelivery.objects.get().status == DELIVERED


def test_a_refused_move_emits_nothing(receiver, staff, household, django_capture_on_commit_callbacks):
    standards()
    subscribe(receiver, "case.moved")
    case = new_case(staff, dangerous_dwelling(household))

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        services.move_case(actor=staff, case=case, to=S.APPROVED, on=timezone.localdate())

    assert not WebhookDelivery.objects.exists() and not receiver.requests


def test_complaint_moves_are_posted_without_the_reporter_or_the_reply(
    receiver, personas, staff, xinqiao, django_capture_on_commit_callbacks
):
    from housing_safety.access import Role

    clerk = personas[Role.COMPLAINT_CLERK]
    subscribe(receiver, "complaint.moved")
    complaint, _code = log(clerk, township=xinqiao)
    with django_capture_on_commit_callbacks(execute=True):
        services.move_complaint(actor=clerk, complaint=complaint, to=C.ACCEPTED)
        services.move_complaint(actor=clerk, complaint=complaint, to=C.ASSIGNED, handler=staff)
        services.move_complaint(actor=staff, complaint=complaint, to=C.HANDLING)
        services.move_complaint(
            actor=staff, complaint=complaint, to=C.REPLIED, replied_on=timezone.localdate(),
            reply_method=Complaint.ReplyMethod.PHONE, reply="已安排鉴定并纳入改造计划",
        )  # fmt: skip

    moves = [(r["body"]["data"]["from"], r["body"]["data"]["to"]) for r in receiver.requests]
    assert moves == [
        (C.RECEIVED, C.ACCEPTED),
        (C.ACCEPTED, C.ASSIGNED),
        (C.ASSIGNED, C.HANDLING),
        (C.HANDLING, C.REPLIED),
    ]
    replied = receiver.requests[-1]["body"]["data"]
    assert replied["ticket"] == complaint.ticket and replied["township_code"] == xinqiao.code
    assert replied["replied_on"] == timezone.localdate().isoformat()
    for request in receiver.requests:
        assert request["signed"]
        assert_no_personal_data(request, ["王举报", "13912345678", "东坑村李家土坯房", "已安排鉴定", staff.username])
    assert WebhookDelivery.objects.filter(status=DELIVERED).count() == 4


def test_an_appraisal_recorded_posts_it_and_the_households_new_state(
    receiver, staff, household, xinqiao, django_capture_on_commit_callbacks
):
    subscribe(receiver, "appraisal.recorded", "household.status_changed")
    dwelling = DwellingFactory(household=household)
    refresh_home_state(household_ids=[household.pk])
    appraisal = AppraisalFactory.build(
        dwelling=dwelling, grade="D", load_bearing_walls="d", recommendation=Appraisal.Recommendation.REBUILD
    )

    with django_capture_on_commit_callbacks(execute=True):
        inspection_services.record_appraisal(actor=staff, appraisal=appraisal)

    by_event = {r["headers"]["X-Webhook-Event"]: r["body"]["data"] for r in receiver.requests}
    assert set(by_event) == {"appraisal.recorded", "household.status_changed"}
    assert by_event["appraisal.recorded"] == {
        "appraisal_id": appraisal.pk,
        "dwelling_id": dwelling.pk,
        "household_id": household.pk,
        "village_code": "350881100201",
        "township_code": xinqiao.code,
        "kind": appraisal.kind,
        "appraised_on": appraisal.appraised_on.isoformat(),
        "grade": "D",
        "recommendation": "rebuild",
        "site_hazard": False,
        "is_leaking": False,
    }
    assert by_event["household.status_changed"] == {
        "household_id": household.pk,
        "from": HousingStatus.UNAPPRAISED,
        "to": HousingStatus.DANGEROUS,
        "village_code": "350881100201",
        "township_code": xinqiao.code,
        "changed_on": timezone.localdate().isoformat(),
    }
    for request in receiver.requests:
        assert request["signed"]
        assert_no_personal_data(request, personal_data_of(household, dwelling.address))


def test_a_refresh_that_changes_no_state_emits_nothing(receiver, household, django_capture_on_commit_callbacks):
    subscribe(receiver, "household.status_changed")
    DwellingFactory(household=household)
    with django_capture_on_commit_callbacks(execute=True):
        refresh_home_state(household_ids=[household.pk])  # unappraised, as stored
    assert not WebhookDelivery.objects.exists() and not receiver.requests


def test_an_event_nobody_subscribes_to_costs_one_query(household):
    WebhookSubscription.objects.create(name="关掉的", url="http://10.0.0.1/", events=["case.moved"], is_active=False)
    with CaptureQueriesContext(connection) as queries:
        assert webhooks.emit("case.moved", lambda: pytest.fail("no payload is made for nobody")) is None
    assert len(queries) == 1

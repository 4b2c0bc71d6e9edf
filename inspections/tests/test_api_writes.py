"""Inspections' writes in the API (inspections/api_writes.py): an appraisal with its photos in the same multipart
request, a revisit's record, a helper's report; each through the page's service, so its rules, scope and history are
the page's. Contract test: an appraisal through the page and through the API leaves the same rows and history."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from households.models import Attachment
from households.tests.factories import make_user, png_file
from housing_safety.api import keys
from housing_safety.models import IdempotentRequest
from housing_safety.tests.kit import confirmation
from inspections.models import Appraisal, HelperReport, Revisit
from rectification.models import Problem

from .test_revisits_reports import make_revisit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("chinese")]


def key_for(user, scopes) -> str:
    return keys.issue_key(
        user=user, name="外业 App", scopes=scopes, expires_at=timezone.now() + datetime.timedelta(days=30)
    )[1]


def post(plain, url, data, key=None):
    return Client().post(
        url, data, HTTP_AUTHORIZATION=f"Api-Key {plain}", HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4())
    )


def appraisal_data(**changes) -> dict:
    components = {"foundation": "a", "load_bearing_walls": "b", "timber_frame": "a", "roof_truss": "a"}
    data = {
        "kind": "assessment", "appraised_on": timezone.localdate().isoformat(), "organisation": "漳平市房屋安全鉴定站",
        "appraisers": "王工、陈工", **components, "concrete_frame": "n", "floor_roof_slab": "a", "grade": "B",
        "recommendation": "none", "notes": "外墙轻微裂缝",
    }  # fmt: skip
    return data | changes


@pytest.fixture
def dwelling(home_household):
    return home_household.dwellings.get()


VARYING = {"id", "history_id", "history_date", "recorded_at", "created_at", "object_id", "file", "uploaded_at"}


def _rows(queryset, drop=()) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in VARYING | set(drop)} for row in queryset.values()]


def appraisal_rows(appraisal: Appraisal) -> dict:
    return {
        "appraisal": _rows(Appraisal.objects.filter(pk=appraisal.pk)),
        "history": _rows(appraisal.history.all(), drop={"history_change_reason"}),
        "files": _rows(Attachment.objects.filter(object_id=appraisal.pk, content_type__model="appraisal")),
    }


def test_contract_an_appraisal_through_the_page_and_the_api_leaves_the_same_rows(client, staff, dwelling):
    client.force_login(staff)
    url = reverse("inspections:appraise", args=[dwelling.pk])
    confirm = client.post(url, appraisal_data(photos=[png_file("正面.png")]))  # the page asks to confirm first
    assert confirm.status_code == 200, confirm.content.decode()[:2000]
    confirmed = client.post(url, confirmation(confirm))
    assert confirmed.status_code == 302, confirmed.content.decode()[:2000]
    by_page = Appraisal.objects.get()

    response = post(
        key_for(staff, ["write:appraisals"]),
        f"/api/v1/dwellings/{dwelling.pk}/appraisals/",
        appraisal_data(photos=[png_file("正面.png")]),
    )
    assert response.status_code == 201, response.content
    by_api = Appraisal.objects.get(pk=response.json()["id"])

    assert appraisal_rows(by_api) == appraisal_rows(by_page)
    assert len(appraisal_rows(by_api)["files"]) == 1


def test_an_appraisal_breaking_a_grading_rule_is_refused_in_chinese_and_records_nothing(staff, dwelling):
    response = post(
        key_for(staff, ["write:appraisals"]),
        f"/api/v1/dwellings/{dwelling.pk}/appraisals/",
        appraisal_data(load_bearing_walls="d", grade="A"),
    )
    assert response.status_code == 400
    assert all("\u4e00" <= ch <= "\u9fff" for ch in response.json()["errors"][0]["message"][:1])
    assert not Appraisal.objects.exists() and not IdempotentRequest.objects.exists()


def test_an_appraisal_of_another_townships_dwelling_is_a_404(staff, other_household):
    response = post(
        key_for(staff, ["write:appraisals"]),
        f"/api/v1/dwellings/{other_household.dwellings.get().pk}/appraisals/",
        appraisal_data(),
    )
    assert response.status_code == 404 and not Appraisal.objects.exists()


def test_a_revisit_recorded_through_the_api_opens_the_problems_of_its_findings(staff, dwelling):
    revisit = make_revisit(dwelling)
    plain = key_for(staff, ["write:revisits"])
    url = f"/api/v1/revisits/{revisit.pk}/record/"
    data = {
        "visited_on": timezone.localdate().isoformat(), "still_lived_in": "true", "findings": ["leaking"],
        "outcome": "none", "notes": "屋面漏雨", "photos": [png_file()],
    }  # fmt: skip

    unanswered = post(plain, url, {k: v for k, v in data.items() if k not in ("still_lived_in", "photos")})
    assert unanswered.status_code == 400
    assert unanswered.json()["errors"][0] == {
        "field": "still_lived_in", "code": "invalid", "message": "请选择这栋房屋是否仍有人居住。"
    }  # fmt: skip
    first = post(plain, url, data, key="revisit-1")
    assert first.status_code == 200, first.content
    assert post(plain, url, data | {"photos": [png_file()]}, key="revisit-1")["Idempotent-Replayed"] == "true"

    revisit.refresh_from_db()
    assert (revisit.status, revisit.visited_by, revisit.finding_leaking) == (Revisit.Status.DONE, staff, True)
    assert Problem.objects.filter(dwelling=dwelling).count() == 1
    assert Attachment.objects.filter(object_id=revisit.pk, content_type__model="revisit").count() == 1
    assert post(plain, url, data).status_code == 400  # recorded once: the service's rule


def test_a_helper_reports_on_an_assigned_household_only(helper, xinqiao, home_household):
    from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory

    assigned = HouseholdFactory(village=VillageFactory(township=xinqiao, name="北坑村"), helper_user=helper)
    DwellingFactory(household=assigned)
    plain = key_for(helper, ["write:helper_reports"])

    reported = post(
        plain, f"/api/v1/households/{assigned.pk}/helper-reports/", {"note": "屋顶漏雨", "findings": "leaking"}
    )
    assert reported.status_code == 201, reported.content
    report = HelperReport.objects.get(pk=reported.json()["id"])
    assert (report.household, report.reported_by, report.finding_leaking) == (assigned, helper, True)

    other = post(plain, f"/api/v1/households/{home_household.pk}/helper-reports/", {"note": "看看"})
    assert other.status_code == 404
    foreign_dwelling = home_household.dwellings.get().pk
    wrong = post(
        plain, f"/api/v1/households/{assigned.pk}/helper-reports/", {"note": "看看", "dwelling": foreign_dwelling}
    )
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"] == "dwelling"
    assert HelperReport.objects.count() == 1


def test_a_key_without_the_scope_writes_nothing(staff, dwelling):
    response = post(
        key_for(staff, ["read:appraisals"]), f"/api/v1/dwellings/{dwelling.pk}/appraisals/", appraisal_data()
    )
    assert response.status_code == 403 and not Appraisal.objects.exists()
    no_role = make_user(None, username="no-role")
    response = post(
        key_for(no_role, ["write:appraisals"]), f"/api/v1/dwellings/{dwelling.pk}/appraisals/", appraisal_data()
    )
    assert response.status_code == 403 and not Appraisal.objects.exists()

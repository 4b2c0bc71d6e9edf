"""The household's page is the household's record: its homes with every appraisal (a link, with photo thumbnails
through the scoped download), helpers' reports, the problems they opened, complaints, cases, placards and the
history of changes; each part read through the user's scope, at a cost that does not grow with the record."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from households.models import Attachment
from households.services import add_attachment
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory, make_user, png_bytes
from housing_safety.access import Role
from inspections import services
from inspections.tests.factories import AppraisalFactory
from rectification.tests.test_complaints import log

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("chinese")]


@pytest.fixture
def record(personas, staff, xinqiao):
    helper = make_user(Role.HELPER)
    household = HouseholdFactory(head_name="陈金水", village=VillageFactory(township=xinqiao), helper_user=helper)
    dwelling = DwellingFactory(household=household)

    def appraise():
        appraisal = AppraisalFactory(dwelling=dwelling)
        photo = SimpleUploadedFile("roof.png", png_bytes(), content_type="image/png")
        add_attachment(actor=staff, record=appraisal, uploaded_file=photo, kind=Attachment.Kind.PHOTO)
        return appraisal

    def complain():
        return log(personas[Role.COMPLAINT_CLERK], township=xinqiao, household=household)[0]

    report = services.report_observation(actor=helper, household=household, findings=["leaking"], note="屋顶漏雨")
    return {
        "household": household,
        "appraise": appraise,
        "complain": complain,
        "appraisal": appraise(),
        "complaint": complain(),
        "report": report,
        "helper": helper,
    }


def page_of(client, user, household) -> str:
    client.force_login(user)
    response = client.get(reverse("inspections:household", args=[household.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_holds_the_whole_record(client, staff, record):
    html = page_of(client, staff, record["household"])
    photo = Attachment.objects.get(object_id=record["appraisal"].pk, kind=Attachment.Kind.PHOTO)
    assert f'<img class="thumb" src="{reverse("attachment-download", args=[photo.pk])}"' in html
    assert reverse("admin:inspections_appraisal_change", args=[record["appraisal"].pk]) in html
    assert "屋顶漏雨" in html and reverse("inspections:report", args=[record["report"].pk]) in html
    problem = record["report"].household.problems.get()
    assert reverse("rectification:problem", args=[problem.pk]) in html  # the problem the report opened
    assert record["complaint"].ticket in html
    assert "变更记录" in html


def test_a_thumbnail_is_served_only_within_scope(client, staff, other_staff, record):
    photo = Attachment.objects.get(object_id=record["appraisal"].pk, kind=Attachment.Kind.PHOTO)
    url = reverse("attachment-download", args=[photo.pk])
    client.force_login(staff)
    assert client.get(url).status_code == 200
    client.force_login(other_staff)
    assert client.get(url).status_code == 404
    assert client.get(reverse("inspections:household", args=[record["household"].pk])).status_code == 404


def test_the_helper_sees_the_page_without_the_complaint_desk(client, record):
    html = page_of(client, record["helper"], record["household"])
    assert "屋顶漏雨" in html
    assert record["complaint"].ticket not in html


def test_the_page_costs_the_same_queries_with_more_records(client, staff, record):
    client.force_login(staff)
    url = reverse("inspections:household", args=[record["household"].pk])
    client.get(url)  # content types and permissions warm
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(3):
        record["appraise"]()
        record["complain"]()
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]

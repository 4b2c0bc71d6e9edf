"""A resolution can carry evidence photos, checked by content; a bad file changes nothing."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from households.models import Attachment
from households.tests.factories import HouseholdFactory, VillageFactory, make_user, png_file, township
from housing_safety.access import Role
from rectification.models import Problem, ProblemTransition
from rectification.services import move_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def problem():
    household = HouseholdFactory(village=VillageFactory(township=township("350881100")))
    return Problem.objects.create(
        township=township("350881100"), household=household, source="self_inspection", kind="leaking",
        description="屋顶漏雨", deadline=datetime.date(2026, 12, 31),
    )  # fmt: skip


def test_resolution_with_a_photo_attaches_it_to_the_problem(problem, client):
    staff = make_user(Role.TOWNSHIP_STAFF, townships=[township("350881100")])
    move_problem(
        actor=staff,
        problem=problem,
        to="resolved",
        resolution="已补瓦",
        evidence=[png_file("after.png")],
    )
    evidence = Attachment.objects.get(object_id=problem.pk, content_type__model="problem")
    assert evidence.uploaded_by == staff and evidence.mime_type == "image/png"
    client.force_login(staff)
    assert "after.png" in client.get(f"/problems/{problem.pk}/").content.decode()


def test_a_fake_photo_refuses_the_move_and_changes_nothing(problem):
    staff = make_user(Role.TOWNSHIP_STAFF, townships=[township("350881100")])
    with pytest.raises(ValidationError):
        move_problem(
            actor=staff,
            problem=problem,
            to="resolved",
            resolution="已补瓦",
            evidence=[SimpleUploadedFile("a.jpg", b"not a photo")],
        )
    problem.refresh_from_db()
    assert problem.status == "open" and not ProblemTransition.objects.exists() and not Attachment.objects.exists()

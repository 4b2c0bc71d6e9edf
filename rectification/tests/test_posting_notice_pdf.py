"""Posting notices (issue 18, 公示) of the renovation steps posted publicly (村民评议, 乡镇审核): "the list of the
village's (or township's) cases at that step, the posting period, the place to object (the township's phone and the
supervision hotline), the signing unit and date". Read back from the PDF; no ID number on a public board.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from households.tests.factories import HouseholdFactory, VillageFactory
from housing_safety.tests.kit import (
    ADMIN,
    ANON,
    CLERK,
    HELPER,
    LIAISON,
    NO_ROLE,
    OFFICIAL,
    STAFF,
    embedded_characters,
    keep_page_image,
    login,
    pdf_text,
)
from rectification.models import CaseStatus
from rectification.tests.factories import dangerous_dwelling, new_case, walk

pytestmark = pytest.mark.django_db

URL = "rectification:case-posting"


@pytest.fixture
def cases(world):
    users = world["users"]

    def reviewed(village, head):
        case = new_case(users[ADMIN], dangerous_dwelling(HouseholdFactory(village=village, head_name=head)))
        return walk(case, CaseStatus.TOWNSHIP_REVIEWED, township_user=users[ADMIN], bureau_user=users[ADMIN])

    return {
        "lin": reviewed(world["home"], "林木根"),
        "zheng": reviewed(world["home"], "郑春花"),
        "huang": reviewed(VillageFactory(township=world["xinqiao"], name="西坑村"), "黄大山"),
        "zhang": reviewed(world["other"], "张外乡"),
    }


def test_the_village_notice_lists_the_villages_cases_with_period_and_where_to_object(client, personas, cases):
    login(client, personas, STAFF)
    case = cases["lin"]

    response = client.get(reverse(URL, args=[case.pk]), {"step": "village_assessed"})

    assert response.status_code == 200
    reader, text = pdf_text(response.content)
    for expected in ("东坑村农村危房改造村民评议公示", "林木根", "郑春花", case.number, "公示期：", "至",
                     settings.SUPERVISION_HOTLINE, "东坑村村民委员会", "（盖章）"):  # fmt: skip
        assert expected in text, expected
    assert "黄大山" not in text and "张外乡" not in text
    assert case.household.id_number not in text
    assert set(text) - {"\n", " "} <= embedded_characters(reader)
    keep_page_image(response.content, "posting-notice.png")


def test_the_township_notice_lists_the_townships_cases(client, personas, cases):
    login(client, personas, STAFF)

    _reader, text = pdf_text(client.get(reverse(URL, args=[cases["lin"].pk]), {"step": "township_reviewed"}).content)

    assert "新桥镇农村危房改造乡镇审核公示" in text and "新桥镇人民政府" in text
    assert "林木根" in text and "郑春花" in text and "黄大山" in text and "张外乡" not in text


@pytest.mark.parametrize("step", ["approved", "x", ""])
def test_a_step_without_a_posting_is_not_found(client, personas, cases, step):
    login(client, personas, STAFF)

    assert client.get(reverse(URL, args=[cases["lin"].pk]), {"step": step}).status_code == 404


def test_one_click_from_the_case_page(client, personas, cases):
    login(client, personas, STAFF)

    page = client.get(reverse("rectification:case", args=[cases["lin"].pk])).content.decode()

    assert f"{reverse(URL, args=[cases['lin'].pk])}?step=village_assessed" in page
    assert f"{reverse(URL, args=[cases['lin'].pk])}?step=township_reviewed" in page


@pytest.mark.parametrize(
    ("persona", "status"),
    [(ANON, 302), (NO_ROLE, 403), (HELPER, 403), (CLERK, 403), (LIAISON, 403), (STAFF, 200), (OFFICIAL, 200),
     (ADMIN, 200)],
)  # fmt: skip
def test_who_may_print_a_notice(client, personas, cases, persona, status):
    login(client, personas, persona)

    assert client.get(reverse(URL, args=[cases["lin"].pk]), {"step": "village_assessed"}).status_code == status


def test_another_townships_notice_is_not_found(client, personas, cases):
    login(client, personas, STAFF)

    assert client.get(reverse(URL, args=[cases["zhang"].pk]), {"step": "village_assessed"}).status_code == 404

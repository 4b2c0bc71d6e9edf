"""Paper documents in a browser (issue 18's "every document is one click from the page it belongs to"): the township
staff member, from the login page by clicks only, prints the township's problem list from the problems page, a
household's archive folder (cover and contents) from its renovation case, and the village posting notice from the
case's posting dates. Each PDF is the one the browser opens by the click, read back with the kit's PDF helpers;
a screenshot of the page with the link and a rendered page of the PDF are kept in test-artifacts/ for a person to
look at. Every page fits a 360-pixel phone; nothing fails in the console or against the content security policy."""

from __future__ import annotations

import datetime
import re

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from households.identity import mask_id_number
from households.tests.factories import DwellingFactory, HouseholdFactory
from housing_safety.access import Role
from housing_safety.pdf import PDF_TYPE
from housing_safety.tests.journey import DESKTOP, Journey
from housing_safety.tests.kit import embedded_characters, keep_page_image, pdf_text
from rectification.models import CaseStatus, Problem
from rectification.paper import chinese_date
from rectification.tests.factories import dangerous_dwelling, new_case, walk

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHONE_390 = 390  # a common phone (the journeys' narrowest, 360, is checked on every page anyway)

# Clicks allowed from the login page (its submit is click 1).
CLICKS = {
    # log in; 整改问题清单 in the menu; 打印本乡镇问题清单（PDF）
    "staff-problem-list-pdf": 3,
    # log in; the menu (phone); 危房改造案件; the case; 打印档案封面和目录（PDF）
    "staff-archive-folder-pdf": 5,
    # log in; 危房改造案件 in the menu; the case; 打印村民评议公示（PDF） beside the village posting's dates
    "staff-posting-pdf": 4,
}


def open_pdf(journey: Journey, link, artifact: str) -> bytes:
    """The page holding `link` kept as a screenshot; the link clicked (one click): the PDF opens in the browser's
    own viewer, to print (the server sends it inline). Its bytes are those the browser got for the click (the
    viewer's page replaces the navigation's body, so the response is caught on its way in); the viewer's page is
    kept as a screenshot too."""
    expect(link).to_be_visible()
    journey.screenshot("link")
    got = []

    def catch(route):
        response = route.fetch()
        got.append((response.status, response.headers, response.body()))
        route.fulfill(response=response)

    journey.page.route("**/*.pdf*", catch)
    journey.clicks += 1
    with journey.page.expect_navigation():
        link.click()
    journey.page.unroute("**/*.pdf*")
    journey.visited.append(journey.page.url.removeprefix(journey.base))
    [(status, headers, content)] = got
    assert status == 200 and headers["content-type"] == PDF_TYPE, headers
    assert headers["content-disposition"].startswith("inline") and ".pdf" in headers["content-disposition"], headers
    assert content.startswith(b"%PDF"), content[:40]
    journey.page.wait_for_timeout(1500)  # the viewer draws the first page
    journey.screenshot("pdf")
    for number in range(len(pdf_text(content)[0].pages)):  # every page, as the worker will print it
        keep_page_image(content, artifact.replace(".png", f"-{number + 1}.png"), page=number)
    return content


def problem(township, village, head, description, **fields) -> Problem:
    household = HouseholdFactory(village=village, head_name=head)
    return Problem.objects.create(
        township=township,
        household=household,
        dwelling=DwellingFactory(household=household, address=f"{village.name}{head}家"),
        source=Problem.Source.SELF_INSPECTION,
        kind=Problem.Kind.NEW_DAMAGE,
        description=description,
        deadline=timezone.localdate() + datetime.timedelta(days=fields.pop("days", 30)),
        **fields,
    )


def test_township_staff_prints_the_townships_problem_list(browser, live_server, world):
    staff = world["users"][Role.TOWNSHIP_STAFF]
    problem(world["xinqiao"], world["home"], "林木根", "后墙开裂", measure="拆除后墙重砌", responsible_person="陈志强",
            days=10)  # fmt: skip
    problem(world["xinqiao"], world["home"], "郑春花", "屋面漏雨", measure="更换瓦片", responsible_person="王丽")
    problem(world["shuangyang"], world["other"], "张外乡", "地基下沉", measure="注浆加固", responsible_person="李四")

    journey = Journey(browser, live_server.url, "staff-problem-list-pdf", width=DESKTOP)
    journey.log_in(staff.username)
    journey.click(journey.menu().get_by_role("link", name="整改问题清单"))
    expect(journey.page.locator("main h1")).to_have_text("整改问题清单")
    content = open_pdf(
        journey, journey.page.get_by_role("link", name="打印本乡镇问题清单（PDF）"), "journey-problem-list-pdf.png"
    )
    journey.finish(CLICKS["staff-problem-list-pdf"])

    reader, text = pdf_text(content)
    assert "新桥镇问题清单" in text and "乡镇（街道）：新桥镇" in text
    numbered = re.findall(r"^(\d+) (\w+) ", text, flags=re.MULTILINE)  # a row: its number, the head of household
    assert numbered == [("1", "林木根"), ("2", "郑春花")], text  # numbered, by deadline
    assert "拆除后墙重砌" in text and "陈志强" in text and "更换瓦片" in text and "王丽" in text
    assert "乡镇负责人（签字）" in text and "（盖章）" in text
    assert "张外乡" not in text and "双洋镇" not in text and "注浆加固" not in text  # another township's problem
    assert set(text) - {"\n", " "} <= embedded_characters(reader)


@pytest.fixture
def case(world):
    """A case of 新桥镇 at its application, opened by the township's staff member."""
    household = HouseholdFactory(village=world["home"], head_name="林木根")
    return new_case(world["users"][Role.TOWNSHIP_STAFF], dangerous_dwelling(household, address="东坑村2组15号"))


def test_township_staff_prints_a_households_archive_folder_on_a_phone(browser, live_server, world, case):
    staff = world["users"][Role.TOWNSHIP_STAFF]
    household = case.household

    journey = Journey(browser, live_server.url, "staff-archive-folder-pdf", width=PHONE_390)
    journey.log_in(staff.username)
    journey.click(journey.menu().get_by_role("link", name="危房改造案件"))
    journey.click(journey.page.locator("main ul.list").get_by_role("link", name=case.number))
    expect(journey.page.locator("main h1")).to_contain_text(case.number)
    content = open_pdf(
        journey, journey.page.get_by_role("link", name="打印档案封面和目录（PDF）"), "journey-archive-folder-pdf.png"
    )
    journey.finish(CLICKS["staff-archive-folder-pdf"])

    reader, text = pdf_text(content)
    cover = reader.pages[0].extract_text()
    assert case.number in cover and "林木根" in cover and "东坑村2组15号" in cover
    assert mask_id_number(household.id_number) in cover
    assert household.id_number not in text  # masked on every page
    assert "档案目录" in reader.pages[1].extract_text()
    assert set(text) - {"\n", " "} <= embedded_characters(reader)


def test_township_staff_prints_the_village_posting_notice(browser, live_server, world, case):
    staff, admin = world["users"][Role.TOWNSHIP_STAFF], world["users"][Role.BUREAU_ADMIN]
    case = walk(case, CaseStatus.VILLAGE_ASSESSED, township_user=staff, bureau_user=admin)
    neighbour = new_case(staff, dangerous_dwelling(HouseholdFactory(village=world["home"], head_name="郑春花")))
    walk(neighbour, CaseStatus.VILLAGE_ASSESSED, township_user=staff, bureau_user=admin)  # posted with it
    township_unit = world["township_unit"]
    township_unit.phone = "0597-7551234"  # the place to object, beside the hotline
    township_unit.save(update_fields=["phone"])

    journey = Journey(browser, live_server.url, "staff-posting-pdf", width=DESKTOP)
    journey.log_in(staff.username)
    journey.click(journey.menu().get_by_role("link", name="危房改造案件"))
    journey.click(journey.page.locator("main ul.list").get_by_role("link", name=case.number))
    posting = journey.page.locator("main dl.facts dt", has_text="村级公示").locator("xpath=following-sibling::dd[1]")
    expect(posting).to_contain_text(f"{case.village_posting_start:%Y-%m-%d}")
    content = open_pdf(journey, posting.get_by_role("link", name="打印村民评议公示（PDF）"), "journey-posting-pdf.png")
    journey.finish(CLICKS["staff-posting-pdf"])

    reader, text = pdf_text(content)
    flat = text.replace("\n", "")
    assert "东坑村农村危房改造村民评议公示" in flat
    assert case.number in text and "林木根" in text and neighbour.number in text and "郑春花" in text
    period = f"公示期：{chinese_date(case.village_posting_start)}至{chinese_date(case.village_posting_end)}"
    assert period in flat.replace(" ", ""), flat
    assert settings.SUPERVISION_HOTLINE in flat and "0597-7551234" in flat and "新桥镇" in flat
    assert case.household.id_number not in text
    assert set(text) - {"\n", " "} <= embedded_characters(reader)

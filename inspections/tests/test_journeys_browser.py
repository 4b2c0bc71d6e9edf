"""Daily tasks in the field, on a 360-pixel phone, from the login page by clicks only (issue 17's checks): the
township staff member finds a household with the search box and records its revisit; the helper reports a leaking
roof on one of their households, with a photo. Each journey's clicks are held to the limit below; every page fits
the phone without sideways scrolling; nothing fails in the console or against the content security policy."""

from __future__ import annotations

import datetime
import io

import pypdf
import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from playwright.sync_api import expect

from households.models import Attachment
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory, png_bytes
from housing_safety.access import Role
from housing_safety.pdf import PDF_TYPE
from housing_safety.tests.journey import PHONE, Journey
from inspections.models import Campaign, HelperReport, Revisit
from inspections.tests.factories import AppraisalFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Clicks allowed from the login page (its submit is click 1). The target: a daily page within two clicks of
# the home; then the task's own clicks (a choice ticked, a photo chosen, the form sent).
CLICKS = {
    # log in; the household by the search box (Enter) and its hit; its revisit to record; whether anyone still
    # lives there; the outcome; save
    "staff-revisit": 7,
    # log in; the home's "my households" line; 报告问题 on the household; 漏雨透风; the photo; send
    "helper-leaking-roof": 6,
    # log in; the menu (phone); 工作看板; the village; its households; print the village's forms (issue 18)
    "staff-village-forms": 6,
}


@pytest.fixture
def dongkeng(xinqiao):
    return VillageFactory(township=xinqiao, name="东坑村")


def test_township_staff_finds_a_household_and_records_its_revisit(browser, live_server, personas, dongkeng):
    staff = personas[Role.TOWNSHIP_STAFF]
    household = HouseholdFactory(head_name="林秀英", village=dongkeng)
    dwelling = DwellingFactory(household=household, address="东坑村2组5号")
    HouseholdFactory(head_name="林秀兰", village=dongkeng)  # a near name: the search must tell them apart
    today = timezone.localdate()
    campaign = Campaign.objects.create(
        name="台风后排查", kind=Campaign.Kind.POST_DISASTER, starts_on=today, due_on=today + datetime.timedelta(days=30)
    )
    revisit = Revisit.objects.create(campaign=campaign, dwelling=dwelling, due_on=campaign.due_on)

    journey = Journey(browser, live_server.url, "staff-revisit", width=PHONE)
    journey.log_in(staff.username)
    journey.search("林秀英")
    journey.click(journey.page.locator("main .search-group").get_by_role("link", name="林秀英"))
    expect(journey.page.locator("main h1")).to_contain_text("林秀英")
    journey.click(journey.page.locator("main").get_by_role("link", name="待回访"))
    expect(journey.page.locator("main")).to_contain_text("台风后排查")
    journey.tick(journey.page.get_by_label("是，仍有人居住"))
    journey.tick(journey.page.get_by_label("无需处理"))
    journey.click(journey.page.get_by_role("button", name="保存回访"))
    expect(journey.page.locator(".messages")).to_contain_text("回访已登记")
    journey.finish(CLICKS["staff-revisit"])

    revisit.refresh_from_db()
    assert (revisit.status, revisit.outcome, revisit.visited_on) == (Revisit.Status.DONE, Revisit.Outcome.NONE, today)
    assert revisit.visited_by == staff


def test_helper_reports_a_leaking_roof_with_a_photo(browser, live_server, personas, dongkeng, tmp_path):
    helper = personas[Role.HELPER]
    household = HouseholdFactory(head_name="陈德胜", village=dongkeng, helper_user=helper)
    DwellingFactory(household=household, address="东坑村3组12号")
    photo = tmp_path / "屋顶漏雨.png"
    photo.write_bytes(png_bytes())

    journey = Journey(browser, live_server.url, "helper-leaking-roof", width=PHONE)
    journey.log_in(helper.username)
    journey.click(journey.todo("我帮扶的农户"))
    row = journey.page.locator("main ul.list > li", has_text="陈德胜")
    journey.click(row.get_by_role("link", name="报告问题"))
    journey.tick(journey.page.get_by_label("漏雨透风"))
    journey.page.get_by_label("情况说明").fill("东边屋顶漏雨，雨天屋内积水")
    journey.attach(journey.page.locator('input[type="file"][name="photos"]'), photo)
    journey.click(journey.page.get_by_role("button", name="报送乡镇"))
    expect(journey.page.locator(".messages")).to_contain_text("已报送乡镇")
    journey.finish(CLICKS["helper-leaking-roof"])

    report = HelperReport.objects.get(household=household)
    assert report.reported_by == helper and report.found_kinds() == ["leaking"]
    photos = Attachment.objects.filter(
        content_type=ContentType.objects.get_for_model(HelperReport), object_id=report.pk, kind="photo"
    )
    assert photos.count() == 1


def test_township_staff_prints_a_villages_appraisal_forms(browser, live_server, personas, dongkeng):
    """Issue 18: "A batch print for a village", one click from the page it belongs to: the township's dashboard,
    the village, its households, the print; then the PDF, one page per appraised house."""
    staff = personas[Role.TOWNSHIP_STAFF]
    for name, address in (("林秀英", "东坑村2组5号"), ("黄土生", "东坑村3组8号")):
        AppraisalFactory(dwelling=DwellingFactory(household=HouseholdFactory(head_name=name, village=dongkeng),
                                                  address=address))  # fmt: skip

    journey = Journey(browser, live_server.url, "staff-village-forms", width=PHONE)
    journey.log_in(staff.username)
    journey.click(journey.menu().get_by_role("link", name="工作看板"))
    journey.click(journey.page.locator("main").get_by_role("link", name="东坑村").first)
    journey.click(journey.page.locator("main a[href^='/field/?village=']").first)
    journey.click(journey.page.get_by_role("button", name="打印东坑村全部鉴定表（PDF）"))
    expect(journey.page.locator("main h1")).to_have_text("东坑村鉴定表（2份）")
    link = journey.page.get_by_role("link", name="打开 PDF 打印（共 2 份）")
    response = journey.page.request.get(live_server.url + link.get_attribute("href"))  # the browser's own session
    status, content_type, content = response.status, response.headers["content-type"], response.body()
    journey.finish(CLICKS["staff-village-forms"])

    assert status == 200 and content_type == PDF_TYPE
    reader = pypdf.PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) == 2 and "林秀英" in text and "黄土生" in text

"""The appraisal journey on a 390-pixel phone screen: a D appraisal with a photo makes the household dangerous;
an A after repair makes a placard printable; its QR page says valid, and superseded after a later C."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from households.tests.factories import (
    DwellingFactory,
    HouseholdFactory,
    VillageFactory,
    make_user,
    png_bytes,
    township,
)
from housing_safety.access import Role
from housing_safety.tests.kit import ARTIFACTS, log_in, phone_page
from inspections.models import Appraisal, Placard

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def fill_appraisal(page, *, grade: str, worst: str, recommendation: str, photo: Path | None = None) -> None:
    page.fill("#id_organisation", "漳平市住建局村镇站")
    page.fill("#id_appraisers", "张工、李工")
    for name in ("foundation", "timber_frame", "roof_truss", "floor_roof_slab"):
        page.check(f"input[name={name}][value=b]" if worst != "a" else f"input[name={name}][value=a]")
    page.check(f"input[name=load_bearing_walls][value={worst}]")
    page.check("input[name=concrete_frame][value=n]")
    page.check(f"input[name=grade][value={grade}]")
    page.check(f"input[name=recommendation][value={recommendation}]")
    if photo:
        page.set_input_files("#id_photos", str(photo))


def submit_and_confirm(page) -> None:
    """Save, then confirm on the page that shows what will be recorded (an appraisal cannot be changed afterwards)."""
    page.click("button.primary")
    page.get_by_role("button", name="确认提交（提交后不能修改）").click()


def test_township_staff_appraises_on_a_phone_and_the_placard_follows_the_status(
    browser, live_server, tmp_path, settings
):
    settings.PUBLIC_BASE_URL = live_server.url
    xinqiao = township("350881100")
    household = HouseholdFactory(head_name="陈金水", village=VillageFactory(township=xinqiao, name="东坑村"))
    dwelling = DwellingFactory(household=household, address="东坑村3组12号", year_built=1978)
    make_user(Role.TOWNSHIP_STAFF, username="xinqiao", townships=[xinqiao])
    other = DwellingFactory(household=HouseholdFactory(village=VillageFactory(township=township("350881101"))))
    photo = tmp_path / "roof.png"
    photo.write_bytes(png_bytes())
    page = phone_page(browser)

    log_in(page, live_server.url, "xinqiao")

    # A D appraisal with a photo, entered on the phone without horizontal scrolling.
    page.goto(f"{live_server.url}/field/dwellings/{dwelling.pk}/appraise/")
    fill_appraisal(page, grade="D", worst="d", recommendation="rebuild", photo=photo)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=ARTIFACTS / "appraisal-form-390.png", full_page=True)
    submit_and_confirm(page)
    page.wait_for_url(f"{live_server.url}/field/households/{household.pk}/")
    assert "危房" in page.inner_text("main")
    appraisal = Appraisal.objects.get(dwelling=dwelling)
    assert appraisal.grade == "D" and appraisal.recorded_by.username == "xinqiao"
    assert appraisal_photo_count(appraisal) == 1

    # A grade that the components contradict is refused with a Chinese message, nothing saved.
    page.goto(f"{live_server.url}/field/dwellings/{dwelling.pk}/appraise/")
    fill_appraisal(page, grade="A", worst="d", recommendation="none")
    page.click("button.primary")
    assert "有构件评为d级，房屋等级只能为C级或D级" in page.inner_text("main")
    assert Appraisal.objects.filter(dwelling=dwelling).count() == 1

    # After repair, an A appraisal: the household is safe and a placard can be issued and printed.
    page.goto(f"{live_server.url}/field/dwellings/{dwelling.pk}/appraise/")
    fill_appraisal(page, grade="A", worst="a", recommendation="none")
    submit_and_confirm(page)
    page.wait_for_url(f"{live_server.url}/field/households/{household.pk}/")
    assert "鉴定安全" in page.inner_text("main")
    page.click("text=制牌并打印")
    page.wait_for_url(re.compile(r".*/placards/print/.*"))
    page.screenshot(path=ARTIFACTS / "placard-print.png", full_page=True)
    placard = Placard.objects.get(household=household)
    printed = page.content()
    assert placard.serial in printed and "陈金水" in printed and "0597-7526007" in printed and "<svg" in printed

    # The QR code's public page: no login, current, name masked.
    visitor = page.context.browser.new_context(viewport={"width": 390, "height": 844})
    public = visitor.new_page()
    public.goto(f"{live_server.url}/v/{placard.token}/")
    text = public.inner_text("main")
    assert "此标识牌有效" in text and "陈*水" in text and "陈金水" not in text
    assert household.id_number not in public.content()
    public.screenshot(path=ARTIFACTS / "placard-verify-valid.png", full_page=True)

    # A later C appraisal supersedes the placard on the wall.
    page.goto(f"{live_server.url}/field/dwellings/{dwelling.pk}/appraise/")
    fill_appraisal(page, grade="C", worst="c", recommendation="repair")
    submit_and_confirm(page)
    page.wait_for_url(f"{live_server.url}/field/households/{household.pk}/")
    public.goto(f"{live_server.url}/v/{placard.token}/")
    assert "此标识牌已失效" in public.inner_text("main")
    visitor.close()

    # Another township's dwelling is a 404 for this user.
    response = page.goto(f"{live_server.url}/field/dwellings/{other.pk}/appraise/")
    assert response.status == 404


def appraisal_photo_count(appraisal) -> int:
    from django.contrib.contenttypes.models import ContentType

    from households.models import Attachment

    return Attachment.objects.filter(
        content_type=ContentType.objects.get_for_model(Appraisal), object_id=appraisal.pk, kind="photo"
    ).count()

"""Township staff record an appraisal with a photo, by clicks from the home, on a phone: a missing field opens the
error summary with the focus on it and the photo kept; the fixed form is shown for confirmation with the grading
rules' warning; confirmed, the appraisal is on the household's page with its photo. No console error, no CSP report."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory, make_user, png_bytes, township
from housing_safety.access import Role
from housing_safety.models import HeldUpload
from housing_safety.tests.kit import ARTIFACTS, PASSWORD, no_horizontal_scroll, watch_console
from inspections.models import Appraisal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# log in, 逾期未鉴定 on the home, the household, 录入鉴定, save (refused), save (shown for confirmation), confirm
CLICKS_ALLOWED = 7


def test_township_staff_appraise_with_a_photo_through_the_summary_and_the_confirmation(browser, live_server, tmp_path):
    xinqiao = township("350881100")
    staff = make_user(Role.TOWNSHIP_STAFF, username="xinqiao-forms", townships=[xinqiao])
    household = HouseholdFactory(
        head_name="陈金水",
        village=VillageFactory(township=xinqiao, name="东坑村"),
        registered_on=timezone.localdate() - datetime.timedelta(days=60),  # overdue: a to-do on the home
    )
    dwelling = DwellingFactory(household=household, address="东坑村3组12号", year_built=1978)
    photo = tmp_path / "roof.png"
    photo.write_bytes(png_bytes())
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page = context.new_page()
    errors = watch_console(page)
    base = live_server.url

    page.goto(f"{base}/")
    page.fill("#id_username", staff.username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form [type=submit]")
    clicks = 1
    page.wait_for_url(f"{base}/")
    page.locator("main").get_by_role("link", name="逾期未鉴定").first.click()
    clicks += 1
    page.locator("main").get_by_role("link", name="陈金水").first.click()
    clicks += 1
    page.wait_for_url(f"{base}/field/households/{household.pk}/")
    page.locator("main").get_by_role("link", name="录入鉴定").first.click()
    clicks += 1
    page.wait_for_url(f"{base}/field/dwellings/{dwelling.pk}/appraise/")

    # Every component a, the house D (a slip the grading rules ask about), a photo, and the organisation forgotten.
    page.fill("#id_appraisers", "张工、李工")
    for name, _label in Appraisal.COMPONENTS:
        page.check(f"input[name={name}][value={'n' if name == 'concrete_frame' else 'a'}]")
    page.check("input[name=grade][value=D]")
    page.check("input[name=recommendation][value=rebuild]")
    page.set_input_files("#id_photos", str(photo))
    page.get_by_role("button", name="保存鉴定").click()
    clicks += 1

    summary = page.locator("[data-error-summary]")
    assert "请修改以下 1 处后再提交" in summary.inner_text()
    assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')")  # the focus is on it
    assert "已保留：roof.png（无需重新选择）" in page.inner_text("main")
    no_horizontal_scroll(page)
    page.screenshot(path=ARTIFACTS / "form-error-summary-390.png", full_page=True)
    summary.get_by_role("link").first.click()  # the link takes the focus to the field (not a page: not counted)
    assert page.evaluate("document.activeElement.id") == "id_organisation"
    page.keyboard.type("漳平市住建局村镇站")
    assert not Appraisal.objects.exists()
    page.get_by_role("button", name="保存鉴定").click()
    clicks += 1

    warning = page.locator("[data-grade-warnings]")
    assert "各构件均为 a 级，但房屋综合评定为 D 级：请确认。" in warning.inner_text()
    assert "roof.png" in page.locator("[data-photos]").inner_text()
    assert not Appraisal.objects.exists()
    no_horizontal_scroll(page)
    page.screenshot(path=ARTIFACTS / "appraisal-confirm-390.png", full_page=True)
    page.get_by_role("button", name="确认提交（提交后不能修改）").click()
    clicks += 1

    page.wait_for_url(f"{base}/field/households/{household.pk}/")
    appraisal = Appraisal.objects.get()
    assert (appraisal.grade, appraisal.organisation) == ("D", "漳平市住建局村镇站")
    thumbnail = page.locator("main img.thumb")
    assert thumbnail.count() == 1
    thumbnail.scroll_into_view_if_needed()  # loaded lazily
    page.wait_for_function("() => document.querySelector('main img.thumb').naturalWidth > 0", timeout=5000)
    assert not HeldUpload.objects.exists()
    page.screenshot(path=ARTIFACTS / "appraisal-recorded-390.png", full_page=True)
    assert clicks <= CLICKS_ALLOWED
    assert errors == []
    context.close()

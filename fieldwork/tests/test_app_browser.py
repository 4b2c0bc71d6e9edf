"""The field app in headless Chromium, the smoke journey: a helper takes the package, the service worker serves the
shell with no signal, a report with a photo shrunk on the phone is saved offline and sent when the signal comes back
(through the API's real write, with its Idempotency-Key), and the worker's cache holds nothing but the shell and its
files. The issue's big offline journeys live elsewhere; this one proves the app's own parts hold together.

Until the server's field endpoints are routed (/api/v1/field/me|villages|package), their answers are taken from the
contract's fixture (docs/field-app.md), built on this test's own household; once they are, the real ones answer."""

from __future__ import annotations

import io
import json
import time

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from PIL import Image

from households.models import Attachment
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory, make_user
from housing_safety.access import Role
from housing_safety.tests.kit import ARTIFACTS, PASSWORD, log_in, no_horizontal_scroll, watch_console
from inspections.models import HelperReport

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures"


def _served(name: str) -> bool:
    try:
        reverse(name)
    except NoReverseMatch:
        return False
    return True


def _contract_answers(context, helper, household, dwelling) -> None:
    """The contract's answers for the field reads, when the server does not route them yet."""
    if _served("api:field-me"):
        return
    package = json.loads((FIXTURES / "package-helper.json").read_text())
    now = timezone.now()
    package["owner"] = {"id": helper.pk, "name": helper.get_full_name() or helper.username}
    package["taken_at"] = now.isoformat()
    package["expires_at"] = (now + timezone.timedelta(days=7)).isoformat()
    template = package["households"][0]
    template["dwellings"][0].update(id=dwelling.pk, address=dwelling.address or "演示地址")
    package["households"] = [{**template, "id": household.pk, "head_name": household.head_name}]

    def answer(route):
        url = route.request.url
        if "/field/me/" in url:
            csrf = next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")
            body = {"user": {"id": helper.pk, "name": "帮扶人", "role": "helper", "role_label": "挂钩帮扶责任人"},
                    "csrf_token": csrf, "package_days": 7, "photo": {"max_side": 1600, "quality": 0.8}}  # fmt: skip
        elif "/field/villages/" in url:
            body = {"villages": [{"id": None, "name": "我帮扶的农户", "township": "", "households": 1, "items": 1,
                                  "estimated_bytes": 2048}]}  # fmt: skip
        else:
            body = package
        route.fulfill(json=body)

    context.route("**/api/v1/field/**", answer)


def _jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "#7a9a5a").save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def _wait_for(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_a_helper_reports_without_a_signal_and_the_report_is_sent_when_it_returns(browser, live_server):
    helper = make_user(Role.HELPER, username="field-helper")
    village = VillageFactory(name="东坑村（演示）")
    household = HouseholdFactory(village=village, head_name="王德福", helper_user=helper)
    dwelling = DwellingFactory(household=household)
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page = context.new_page()
    errors = watch_console(page)
    _contract_answers(context, helper, household, dwelling)
    log_in(page, live_server.url, helper.username, PASSWORD)
    page.evaluate("caches.open('field-shell-0ld0ld0ld0ld')")  # a former release's cache: the new worker removes it
    page.goto(f"{live_server.url}/field/app/")

    # the package: no package yet, the villages' list with the size, then the download
    page.get_by_role("button", name="下载工作包").first.wait_for()
    page.get_by_text("约", exact=False).first.wait_for()  # the size before downloading: 约 N KB
    assert "KB" in page.inner_text("main")
    page.screenshot(path=ARTIFACTS / "field-app-package.png")
    page.get_by_role("button", name="下载工作包").first.click()
    page.get_by_text("王德福").wait_for()
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    no_horizontal_scroll(page)

    # no signal: the worker serves the shell, the package comes from IndexedDB
    _wait_for(lambda: page.evaluate("caches.keys().then(k => k.some(n => n.startsWith('field-shell-')))"))
    _wait_for(
        lambda: page.evaluate(
            "caches.keys().then(async k => (await caches.open(k[0])).match('/field/app/')).then(Boolean)"
        )
    )
    context.set_offline(True)
    page.reload()
    page.get_by_text("离线（无信号）").wait_for()
    page.get_by_text("王德福").click()
    page.get_by_role("link", name="报告问题").click()
    page.locator('input[name="findings"][value="new_damage"]').check()
    page.fill("#f-note", "厨房墙体新出现裂缝。")
    page.set_input_files("#f-photos", files=[{"name": "p.jpg", "mimeType": "image/jpeg", "buffer": _jpeg(4000, 3000)}])
    page.get_by_text("1 张照片").wait_for()
    page.screenshot(path=ARTIFACTS / "field-app-report-offline.png", full_page=True)
    page.get_by_role("button", name="保存到本机").click()
    page.get_by_text("已保存到本机，有信号时将自动上传。").wait_for()
    assert "1 条待上传" in page.inner_text("#fa-pending")
    assert not HelperReport.objects.exists()
    # signing out with an entry queued asks first; saying no keeps the person here, the entry with them
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="退出登录").click()
    assert asked == ["还有 1 条记录未上传，退出登录会将它们从本机删除。仍要退出吗？"]
    assert page.url.startswith(f"{live_server.url}/field/app/")

    # the signal returns: the entry is sent once, through the API's write, then leaves the phone
    context.set_offline(False)
    page.get_by_text("已上传 1 条记录。").wait_for(timeout=20_000)
    assert "0 条待上传" in page.inner_text("#fa-pending")
    report = HelperReport.objects.get()
    assert (report.household_id, report.note) == (household.pk, "厨房墙体新出现裂缝。")
    photo = Attachment.objects.get(content_type=ContentType.objects.get_for_model(HelperReport), object_id=report.pk)
    with photo.file.open("rb") as handle:
        assert max(Image.open(handle).size) == 1600  # shrunk on the phone (FIELD_PHOTO_MAX_SIDE)
    page.goto(f"{live_server.url}/field/app/#/queue")
    page.screenshot(path=ARTIFACTS / "field-app-sent.png")

    # the worker's cache: the shell and static files only, never an API answer
    cached = page.evaluate(
        "caches.keys().then(names => Promise.all(names.map(n => caches.open(n).then(c => c.keys()))))"
        ".then(lists => lists.flat().map(r => new URL(r.url).pathname))"
    )
    assert "/field/app/" in cached
    version = page.evaluate("JSON.parse(document.getElementById('field-config').textContent).version")
    assert page.evaluate("caches.keys()") == [f"field-shell-{version}"]
    assert all(path == "/field/app/" or path.startswith("/static/") for path in cached), cached
    assert not errors, errors
    context.close()


def test_an_expired_package_and_another_persons_data_are_wiped_on_opening(browser, live_server):
    staff = make_user(Role.TOWNSHIP_STAFF, username="field-staff", townships=[VillageFactory().township])
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, service_workers="block")
    page = context.new_page()
    errors = watch_console(page)
    log_in(page, live_server.url, staff.username, PASSWORD)
    page.goto(f"{live_server.url}/field/app/")
    page.get_by_text("本机还没有工作包", exact=False).wait_for()
    # a package that expired yesterday with an unsent entry, and a database left by somebody else on this phone
    page.evaluate(
        """async (userId) => {
          const { openDB } = await import("/static/vendor/idb/index.js");
          const mine = await openDB(`field-${userId}`);
          const yesterday = new Date(Date.now() - 86400000).toISOString();
          await mine.put("package", { households: [], expires_at: yesterday, taken_at: yesterday, forms: {} }, "current");
          await mine.put("queue", { id: "e1", kind: "revisit", target: 1, fields: {}, photos: [], saved_at: yesterday,
                                    state: "queued", answer: null });
          mine.close();
          const other = await openDB("field-424242", 1, { upgrade(db) { db.createObjectStore("queue"); } });
          other.close();
        }""",
        staff.pk,
    )
    page.reload()
    page.get_by_text("工作包已过期，已连同未上传的记录从本机删除。").wait_for()
    page.get_by_text("本机已由其他人登录，之前的工作包已删除。").wait_for()
    assert "0 条待上传" in page.inner_text("#fa-pending")
    names = page.evaluate("indexedDB.databases().then(list => list.map(d => d.name))")
    assert "field-424242" not in names
    page.screenshot(path=ARTIFACTS / "field-app-wiped.png")
    assert not errors, errors
    context.close()


def test_a_day_before_the_package_expires_a_banner_warns_of_unsent_entries(browser, live_server):
    staff = make_user(Role.TOWNSHIP_STAFF, username="field-staff-2", townships=[VillageFactory().township])
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, service_workers="block")
    page = context.new_page()
    errors = watch_console(page)
    log_in(page, live_server.url, staff.username, PASSWORD)
    page.goto(f"{live_server.url}/field/app/")
    page.get_by_text("本机还没有工作包", exact=False).wait_for()
    page.evaluate(
        """async (userId) => {
          const { openDB } = await import("/static/vendor/idb/index.js");
          const mine = await openDB(`field-${userId}`);
          const soon = new Date(Date.now() + 12 * 3600000).toISOString();
          await mine.put("package", { households: [], revisits: [], problems: [], expires_at: soon,
                                      taken_at: new Date().toISOString(), forms: {} }, "current");
          await mine.put("queue", { id: "e1", kind: "revisit", target: 1, fields: {}, photos: [], title: "回访",
                                    saved_at: new Date().toISOString(), state: "refused", answer: {errors: []} });
          mine.close();
        }""",
        staff.pk,
    )
    page.reload()
    banner = page.get_by_text("还有 1 条记录未上传：请在此之前上传，否则将随工作包一并删除。", exact=False)
    banner.wait_for()
    assert "1 条待上传" in page.inner_text("#fa-pending")
    page.screenshot(path=ARTIFACTS / "field-app-expiry-banner.png")
    assert not errors, errors
    context.close()

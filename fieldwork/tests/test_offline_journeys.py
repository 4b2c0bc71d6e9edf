"""The field app's offline journeys (issue 20's checks), end to end in headless Chromium on a 390 px phone in Chinese:
people start at the login page and click their way to the app from the menu; the connection is cut with Playwright's
offline mode (which also cuts the service worker's own fetches); what the phone sends goes through the API's real
writes and the services behind them, and the rows, history and photos are read back from the database.

1. A day offline: a township worker takes a village's package, reloads without a signal, records an appraisal with
   a large photo, a revisit that finds a leak and a problem's progress; a helper reports offline on another phone;
   the signal returns and everything is on the server once, the queues empty.
2. An interrupted sync: the first upload reaches the server but its answer is lost and the page is closed; reopened,
   every entry is on the server exactly once (the replayed answer was used).
3. Conflicts: a colleague records the same revisit, and appraises the same house, while the worker is offline; the
   app shows both records and writes nothing until the worker chooses (drop the revisit, keep the appraisal).
4. Logout wipes: signing out through the app leaves no field-* database and no field-shell-* cache."""

from __future__ import annotations

import datetime
import io
import re

import numpy
import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from households.models import Attachment
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory, make_user, township
from housing_safety.access import Role
from housing_safety.models import IdempotentRequest
from housing_safety.tests.kit import ARTIFACTS, PASSWORD, log_in, menu, no_horizontal_scroll, phone_page, watch_console
from inspections import services as inspections
from inspections.models import Appraisal, Campaign, FindingKind, HelperReport, Revisit
from inspections.tests.factories import AppraisalFactory
from rectification.models import Problem, ProblemTransition

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

VILLAGE = "东坑村（外业）"
COMPONENTS = {  # a grade-B house: the load-bearing walls have dangerous points, no concrete frame
    "foundation": "a", "load_bearing_walls": "b", "timber_frame": "a", "roof_truss": "a", "concrete_frame": "n",
    "floor_roof_slab": "a",
}  # fmt: skip

# The app's queue as IndexedDB holds it (docs/field-app.md: database field-<user id>, store queue), oldest first.
QUEUE = """async (name) => {
  const db = await new Promise((ok, ko) => { const r = indexedDB.open(name); r.onsuccess = () => ok(r.result);
                                              r.onerror = () => ko(r.error); });
  try {
    return await new Promise((ok, ko) => {
      const q = db.transaction("queue").objectStore("queue").getAll();
      q.onsuccess = () => ok(q.result.sort((a, b) => (a.saved_at < b.saved_at ? -1 : 1)).map(e => ({ kind: e.kind, state: e.state, key: e.key || e.id,
                                                  photos: e.photos.length })));
      q.onerror = () => ko(q.error);
    });
  } finally { db.close(); }
}"""
SHELL_CACHED = """async () => {
  await navigator.serviceWorker.ready;
  for (const name of await caches.keys()) {
    if (name.startsWith("field-shell-") && await (await caches.open(name)).match("/field/app/")) return true;
  }
  return false;
}"""


# The world ----------------------------------------------------------------------------------------------------------


@pytest.fixture
def world(db):
    """新桥镇's 东坑村（外业）: 王德福's house, never appraised, with a quarterly revisit due and an open problem (new
    damage); 李秀英's house, whose helper is 陈帮扶. The township worker 张三 and the colleague 李四 work in 新桥镇."""
    xinqiao = township("350881100")
    village = VillageFactory(township=xinqiao, name=VILLAGE)
    household = HouseholdFactory(village=village, head_name="王德福")
    dwelling = DwellingFactory(household=household, address="3组12号")
    campaign = Campaign.objects.create(
        name="2026年第四季度回访", kind=Campaign.Kind.QUARTERLY, starts_on=datetime.date(2026, 10, 1),
        due_on=datetime.date(2026, 12, 31),
    )  # fmt: skip
    revisit = Revisit.objects.create(campaign=campaign, dwelling=dwelling, due_on=datetime.date(2026, 12, 31))
    problem = Problem.objects.create(
        township=xinqiao, household=household, dwelling=dwelling, source="other", kind=Problem.Kind.NEW_DAMAGE,
        description="东墙新裂缝", deadline=timezone.localdate() + datetime.timedelta(days=30),
    )  # fmt: skip
    helper = make_user(Role.HELPER, username="field-helper")
    helper.first_name = "陈帮扶"
    helper.save()
    helped = HouseholdFactory(village=village, head_name="李秀英", helper_user=helper)
    helped_dwelling = DwellingFactory(household=helped, address="5组3号")
    worker = make_user(Role.TOWNSHIP_STAFF, username="field-worker", townships=[xinqiao])
    worker.first_name = "张三"
    worker.save()
    colleague = make_user(Role.TOWNSHIP_STAFF, username="field-colleague", townships=[xinqiao])
    colleague.first_name = "李四"
    colleague.save()
    return type("World", (), locals())


# The phone ----------------------------------------------------------------------------------------------------------


def camera_jpeg(width: int = 4000, height: int = 3000) -> bytes:
    """A camera's photo: 12 megapixels of detail (noise compresses badly: a few MB) with EXIF naming the camera, the
    day and a GPS position, which must not reach the server."""
    rng = numpy.random.default_rng(20)
    pixels = rng.integers(0, 256, size=(height, width, 3), dtype=numpy.uint8)
    image = Image.fromarray(pixels, "RGB")
    exif = Image.Exif()
    exif[0x010F] = "FieldCam"  # Make
    exif[0x0132] = "2026:12:07 09:30:00"  # DateTime
    exif.get_ifd(0x8825).update({1: "N", 2: (25.0, 17.0, 30.0), 3: "E", 4: (117.0, 25.0, 10.0)})  # GPS
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85, exif=exif)
    return buffer.getvalue()


def shot(page, name: str, *, full_page: bool = True) -> None:
    page.screenshot(path=ARTIFACTS / f"field-offline-{name}.png", full_page=full_page)


def open_field_app(page, base: str) -> None:
    """From the home (工作台), the role's menu (the drawer on a phone) to the field app: its entry 离线外业."""
    expect(page.locator("main h1")).to_have_text("工作台")
    menu(page).get_by_role("link", name="离线外业", exact=True).click()
    page.wait_for_url(f"{base}/field/app/**")
    expect(page.locator("#fa-online")).to_have_text(re.compile("在线|离线"))


def take_package(page, village: str) -> None:
    """The village's card shows the package's size before the download; the households come after it."""
    card = page.locator("article.fa-village", has_text=village)
    expect(card).to_contain_text(re.compile(r"约 \d+ KB"))
    shot(page, f"package-{'helper' if village == '我的帮扶户' else 'worker'}")
    card.get_by_role("button", name="下载工作包").click()
    expect(page.get_by_text(re.compile(r"工作包已下载到本机：共 \d+ 户。"))).to_be_visible()
    page.wait_for_function(SHELL_CACHED, timeout=20_000)  # the worker holds the shell before the signal goes


def go_offline_and_reload(page) -> None:
    page.context.set_offline(True)
    page.reload()
    expect(page.locator("#fa-online")).to_have_text("离线（无信号）")


def open_household(page, name: str) -> None:
    page.locator("#fa-main .fa-list").get_by_role("link", name=re.compile(name)).click()
    expect(page.locator("#fa-main h1")).to_have_text(name)


def attach_photo(page, field: str, photo: bytes, n: int = 1) -> None:
    page.set_input_files(f"#f-{field}", files=[{"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": photo}])
    expect(page.get_by_text(f"{n} 张照片", exact=True)).to_be_visible(timeout=20_000)


def record_appraisal(page, *, appraisers: str, grade: str = "B", photo: bytes | None = None) -> None:
    """The house's card, the form (today's date pre-filled), the check, saved on the phone."""
    page.locator("#fa-main a", has_text=re.compile("鉴定这栋房屋|重新鉴定")).click()
    expect(page.locator("#fa-main h1")).to_have_text("房屋鉴定")
    page.locator('input[name="kind"][value="assessment"]').check()
    if not page.input_value("#f-organisation"):  # pre-filled where the bureau set its appraising unit
        page.fill("#f-organisation", "漳平市房屋安全鉴定站")
    page.fill("#f-appraisers", appraisers)
    for name, value in COMPONENTS.items():
        page.locator(f'input[name="{name}"][value="{value}"]').check()
    page.locator(f'input[name="grade"][value="{grade}"]').check()
    page.locator('input[name="recommendation"][value="none"]').check()
    page.fill("#f-notes", "西墙有细裂缝，其余完好。")
    if photo:
        attach_photo(page, "photos", photo)
        expect(page.locator(".fa-photo img")).to_have_count(1)
        page.locator(".fa-photo").scroll_into_view_if_needed()
        shot(page, "worker-appraisal-photo", full_page=False)  # the long form's sticky header stays on top
    page.get_by_role("button", name="保存到本机").click()
    expect(page.get_by_role("heading", name="保存前请核对")).to_be_visible()
    page.get_by_role("button", name=re.compile("^(确认保存|已核对，仍然保存)$")).click()
    expect(page.get_by_text("已保存到本机，有信号时将自动上传。")).to_be_visible()


def record_revisit(page, *, leaking: bool) -> None:
    page.get_by_role("link", name="填写回访记录").click()
    expect(page.locator("#fa-main h1")).to_have_text("回访")
    page.locator('input[name="still_lived_in"][value="true"]').check()
    if leaking:
        page.locator('input[name="findings"][value="leaking"]').check()
    page.locator(f'input[name="outcome"][value="{"repair" if leaking else "none"}"]').check()
    page.fill("#f-notes", "屋面漏雨，已告知户主。" if leaking else "")
    page.get_by_role("button", name="保存到本机").click()
    expect(page.get_by_text("已保存到本机，有信号时将自动上传。")).to_be_visible()


def move_problem(page) -> None:
    page.get_by_role("link", name="登记整改进展").click()
    expect(page.locator("#fa-main h1")).to_have_text("问题整改进展")
    page.locator('input[name="to"][value="in_progress"]').check()
    page.fill("#f-note", "户主已请工匠，下周修补。")
    page.get_by_role("button", name="保存到本机").click()
    expect(page.get_by_text("已保存到本机，有信号时将自动上传。")).to_be_visible()


def pending(page, n: int) -> None:
    expect(page.locator("#fa-pending")).to_have_text(f"{n} 条待上传")


def queue_of(page, user) -> list[dict]:
    return page.evaluate(QUEUE, f"field-{user.pk}")


def photo_of(record) -> Image.Image:
    [attachment] = Attachment.objects.filter(
        content_type=ContentType.objects.get_for_model(type(record)), object_id=record.pk
    )
    assert attachment.kind == Attachment.Kind.PHOTO and attachment.mime_type == "image/jpeg"
    with attachment.file.open("rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
    image.load()
    return image


# 1. A day offline ---------------------------------------------------------------------------------------------------


def test_a_day_offline_reaches_the_server_through_the_services_and_the_queues_empty(browser, live_server, world):
    base = live_server.url
    photo = camera_jpeg()
    assert len(photo) > 3_000_000  # a camera's few MB, 4000 × 3000 px

    # the township worker takes 东坑村's package and leaves the signal behind
    page = phone_page(browser)
    errors = watch_console(page)
    log_in(page, base, world.worker.username, PASSWORD)
    open_field_app(page, base)
    take_package(page, VILLAGE)
    go_offline_and_reload(page)  # the app opens from the worker's cache
    shot(page, "worker-offline-households")
    open_household(page, "王德福")
    record_appraisal(page, appraisers="张三、王工", photo=photo)
    record_revisit(page, leaking=True)
    move_problem(page)
    pending(page, 3)
    expect(page.locator("#fa-main")).to_contain_text("已保存在本机，等待上传")
    no_horizontal_scroll(page)
    page.locator("#fa-pending").click()
    expect(page.locator("#fa-main .fa-entry")).to_have_count(3)
    shot(page, "worker-queue-offline")
    assert [(e["kind"], e["state"], e["photos"]) for e in queue_of(page, world.worker)] == [
        ("appraisal", "queued", 1), ("revisit", "queued", 0), ("problem", "queued", 0),
    ]  # fmt: skip
    assert not Appraisal.objects.exists() and not ProblemTransition.objects.exists()

    # the helper, on their own phone, reports on 李秀英's house without a signal
    helper_page = phone_page(browser)
    helper_errors = watch_console(helper_page)
    log_in(helper_page, base, world.helper.username, PASSWORD)
    open_field_app(helper_page, base)
    take_package(helper_page, "我的帮扶户")
    go_offline_and_reload(helper_page)
    open_household(helper_page, "李秀英")
    helper_page.get_by_role("link", name="报告问题").click()
    helper_page.locator('input[name="findings"][value="new_damage"]').check()
    helper_page.fill("#f-note", "灶房后墙开裂，雨天渗水。")
    attach_photo(helper_page, "photos", photo)
    helper_page.get_by_role("button", name="保存到本机").click()
    expect(helper_page.get_by_text("已保存到本机，有信号时将自动上传。")).to_be_visible()
    pending(helper_page, 1)
    shot(helper_page, "helper-report-offline")
    assert not HelperReport.objects.exists()

    # back at the township office: the signal returns on both phones
    page.context.set_offline(False)
    expect(page.get_by_text("已上传 3 条记录。")).to_be_visible(timeout=30_000)
    pending(page, 0)
    expect(page.locator("#fa-main")).to_contain_text("没有待上传的记录。")
    expect(page.locator("#fa-main .fa-sent li")).to_have_count(3)
    shot(page, "worker-sent")
    assert queue_of(page, world.worker) == []
    helper_page.context.set_offline(False)
    expect(helper_page.get_by_text("已上传 1 条记录。")).to_be_visible(timeout=30_000)
    pending(helper_page, 0)
    assert queue_of(helper_page, world.helper) == []

    # the appraisal, recorded by the worker with its history, its photo shrunk and re-encoded without EXIF
    worker, dwelling = world.worker, world.dwelling
    [appraisal] = Appraisal.objects.filter(dwelling=dwelling)
    assert (appraisal.grade, appraisal.appraisers, appraisal.recorded_by) == ("B", "张三、王工", worker)
    assert (appraisal.kind, appraisal.appraised_on) == ("assessment", timezone.localdate())
    assert [(h.history_type, h.history_user) for h in appraisal.history.all()] == [("+", worker)]
    dwelling.refresh_from_db()
    assert dwelling.current_grade == "B"
    image = photo_of(appraisal)
    assert image.format == "JPEG" and max(image.size) == settings.FIELD_PHOTO_MAX_SIDE  # 4000 px shrunk on the phone
    assert image.size == (1600, 1200)
    assert not image.getexif() and "exif" not in image.info
    # the revisit, done with its leak, and the problem its finding opened
    revisit = Revisit.objects.get(pk=world.revisit.pk)
    assert (revisit.status, revisit.visited_by, revisit.outcome) == (Revisit.Status.DONE, worker, "repair")
    assert revisit.found_kinds() == [FindingKind.LEAKING] and revisit.notes == "屋面漏雨，已告知户主。"
    assert revisit.history.first().history_user == worker and revisit.history.count() == 2  # created, recorded
    opened = Problem.objects.get(revisit=revisit)
    assert (opened.kind, opened.source, opened.status) == (Problem.Kind.LEAKING, Problem.Source.REVISIT, "open")
    assert (opened.dwelling, opened.created_by) == (dwelling, worker)
    assert opened.history.get().history_user == worker
    # the problem's move, with its transition row and history
    problem = Problem.objects.get(pk=world.problem.pk)
    assert problem.status == Problem.Status.IN_PROGRESS
    [step] = ProblemTransition.objects.filter(problem=problem)
    assert (step.from_status, step.to_status, step.actor, step.note) == (
        "open",
        "in_progress",
        worker,
        "户主已请工匠，下周修补。",
    )
    assert problem.history.first().history_user == worker
    # the helper's report, its photo, the problem it opened
    report = HelperReport.objects.get()
    assert (report.household, report.dwelling, report.reported_by) == (
        world.helped,
        world.helped_dwelling,
        world.helper,
    )
    assert report.note == "灶房后墙开裂，雨天渗水。" and report.found_kinds() == [FindingKind.NEW_DAMAGE]
    assert report.history.get().history_user == world.helper
    image = photo_of(report)
    assert image.size == (1600, 1200) and not image.getexif()
    assert Problem.objects.get(helper_report=report).kind == Problem.Kind.NEW_DAMAGE
    # each entry through the API's write with its own Idempotency-Key
    assert IdempotentRequest.objects.filter(user=worker).count() == 3
    assert IdempotentRequest.objects.filter(user=world.helper).count() == 1
    assert not errors and not helper_errors, errors + helper_errors
    page.context.close()
    helper_page.context.close()


# 2. An interrupted sync ---------------------------------------------------------------------------------------------


def test_a_sync_cut_after_the_server_wrote_and_the_page_closed_sends_nothing_twice(browser, live_server, world):
    base = live_server.url
    page = phone_page(browser)
    context = page.context
    log_in(page, base, world.worker.username, PASSWORD)
    open_field_app(page, base)
    take_package(page, VILLAGE)
    go_offline_and_reload(page)
    open_household(page, "王德福")
    record_appraisal(page, appraisers="张三、王工")
    record_revisit(page, leaking=True)
    pending(page, 2)

    # the first upload reaches the server, which writes it; its answer is lost on the way back
    reached = []

    def lose_the_answer(route):
        if route.request.method != "POST" or reached:
            return route.continue_()
        answer = route.fetch()
        reached.append((route.request.url, answer.status, route.request.headers["idempotency-key"]))
        route.abort("connectionreset")

    context.route("**/api/v1/**", lose_the_answer)
    context.set_offline(False)
    expect(page.get_by_text("上传已暂停：无法连接系统。记录仍保存在本机。")).to_be_visible(timeout=30_000)
    [(url, status, key)] = reached
    assert "/appraisals/" in url and status == 201
    assert Appraisal.objects.filter(dwelling=world.dwelling).count() == 1  # written once on the server
    queued = queue_of(page, world.worker)
    assert [(e["kind"], e["state"]) for e in queued] == [("appraisal", "queued"), ("revisit", "queued")]
    assert queued[0]["key"] == key  # still on the phone: the server's answer never came
    shot(page, "interrupted-stopped")
    page.close()  # the tab is closed before anything else happens
    context.unroute("**/api/v1/**")

    # the next time the app is opened: everything goes, the first entry's answer replayed
    answers = []
    page = context.new_page()
    errors = watch_console(page)
    page.on(
        "response",
        lambda r: (
            answers.append((r.url, r.status, r.headers.get("idempotent-replayed")))
            if r.request.method == "POST"
            else None
        ),
    )
    page.goto(f"{base}/")  # the system's address, the worker still signed in: their home
    open_field_app(page, base)
    expect(page.get_by_text("已上传 2 条记录。")).to_be_visible(timeout=30_000)
    pending(page, 0)
    assert queue_of(page, world.worker) == []
    shot(page, "interrupted-reopened")
    assert [(u.rsplit("/api/v1/", 1)[1].split("/")[0], s, r) for u, s, r in answers] == [
        ("dwellings", 201, "true"), ("revisits", 200, None),
    ]  # fmt: skip
    assert Appraisal.objects.filter(dwelling=world.dwelling).count() == 1
    assert Attachment.objects.count() == 0
    revisit = Revisit.objects.get(pk=world.revisit.pk)
    assert revisit.status == Revisit.Status.DONE and revisit.history.count() == 2
    assert Problem.objects.filter(revisit=revisit).count() == 1
    assert IdempotentRequest.objects.filter(user=world.worker).count() == 2
    assert not errors, errors
    context.close()


# 3. Conflicts -------------------------------------------------------------------------------------------------------


def test_a_colleagues_revisit_and_appraisal_meanwhile_are_shown_and_nothing_is_written_until_the_worker_chooses(
    browser, live_server, world
):
    base = live_server.url
    page = phone_page(browser)
    errors = watch_console(page)
    context = page.context
    log_in(page, base, world.worker.username, PASSWORD)
    open_field_app(page, base)
    take_package(page, VILLAGE)
    go_offline_and_reload(page)
    open_household(page, "王德福")
    record_appraisal(page, appraisers="张三、王工", grade="B")
    record_revisit(page, leaking=False)
    pending(page, 2)

    # meanwhile, online in the township office, the colleague records the same revisit and appraises the house
    today = timezone.localdate()
    inspections.record_revisit(
        actor=world.colleague, revisit=world.revisit, visited_on=today, findings=[], outcome="none",
        still_lived_in=True, notes="李四已回访",
    )  # fmt: skip
    components = dict.fromkeys(
        ("foundation", "load_bearing_walls", "timber_frame", "roof_truss", "floor_roof_slab"), "a"
    )
    theirs = inspections.record_appraisal(
        actor=world.colleague,
        appraisal=AppraisalFactory.build(dwelling=world.dwelling, appraised_on=today, grade="A", **components),
    )
    revisit_rows = Revisit.history.filter(id=world.revisit.pk).count()

    # the worker's sync meets both: shown side by side, nothing written
    context.set_offline(False)
    attention = page.get_by_text("有 2 条记录系统未接收，需要您处理：请查看原因并选择。")
    expect(attention).to_be_visible(timeout=30_000)
    assert [(e["kind"], e["state"]) for e in queue_of(page, world.worker)] == [
        ("appraisal", "conflict"), ("revisit", "conflict"),
    ]  # fmt: skip
    assert list(Appraisal.objects.filter(dwelling=world.dwelling)) == [theirs]
    assert Revisit.history.filter(id=world.revisit.pk).count() == revisit_rows
    page.get_by_role("link", name="去处理").click()
    entries = page.locator("#fa-main .fa-entry")
    expect(entries).to_have_count(2)
    appraisal_card, revisit_card = entries.nth(0), entries.nth(1)
    for card in (appraisal_card, revisit_card):
        expect(card.locator(".fa-pill")).to_have_text("记录已变化")
        expect(card.get_by_role("heading", name="系统中的记录")).to_be_visible()
        expect(card.get_by_role("heading", name="我的记录")).to_be_visible()
        expect(card.locator(".fa-side").first).to_contain_text("李四")  # recorded by the colleague
    expect(revisit_card.locator(".fa-side").nth(1)).to_contain_text("无需处理")
    expect(appraisal_card.locator(".fa-side").first).to_contain_text("A级")
    expect(appraisal_card.locator(".fa-side").nth(1)).to_contain_text("B级")
    expect(appraisal_card.locator(".fa-side").nth(1)).to_contain_text("张三、王工")
    expect(revisit_card.get_by_role("button", name="保留我的，作为新记录")).to_have_count(0)  # a revisit is once
    shot(page, "conflicts")
    no_horizontal_scroll(page)

    # the revisit: dropped; the colleague's record stays the only one
    page.once("dialog", lambda dialog: dialog.accept())
    revisit_card.get_by_role("button", name="放弃").click()
    expect(entries).to_have_count(1)
    pending(page, 1)
    revisit = Revisit.objects.get(pk=world.revisit.pk)
    assert (revisit.visited_by, revisit.notes) == (world.colleague, "李四已回访")
    assert Revisit.history.filter(id=revisit.pk).count() == revisit_rows

    # the appraisal: kept as a newer record
    appraisal_card = entries.nth(0)
    appraisal_card.get_by_role("button", name="保留我的，作为新记录").click()
    expect(page.locator("#fa-main")).to_contain_text("没有待上传的记录。", timeout=30_000)
    pending(page, 0)
    assert queue_of(page, world.worker) == []
    shot(page, "conflicts-resolved")
    first, mine = Appraisal.objects.filter(dwelling=world.dwelling).order_by("pk")
    assert (first, first.recorded_by, first.grade) == (theirs, world.colleague, "A")
    assert (mine.recorded_by, mine.grade, mine.appraisers) == (world.worker, "B", "张三、王工")
    world.dwelling.refresh_from_db()
    assert world.dwelling.current_grade == "B"  # the worker's is the newer one
    assert Revisit.objects.filter(pk=revisit.pk, status=Revisit.Status.DONE).count() == 1
    assert IdempotentRequest.objects.filter(user=world.worker).count() == 1  # the kept appraisal, <id>-2
    assert IdempotentRequest.objects.get(user=world.worker).key.endswith("-2")
    unexpected = [error for error in errors if "status of 409 (Conflict)" not in error]  # Chromium logs the 409s
    assert len(errors) - len(unexpected) == 2 and not unexpected, errors
    context.close()


# 4. Logout wipes ----------------------------------------------------------------------------------------------------


def test_signing_out_of_the_app_wipes_the_package_the_queue_and_the_cache(browser, live_server, world):
    base = live_server.url
    page = phone_page(browser)
    context = page.context
    log_in(page, base, world.worker.username, PASSWORD)
    open_field_app(page, base)
    take_package(page, VILLAGE)
    go_offline_and_reload(page)
    open_household(page, "王德福")
    record_revisit(page, leaking=False)
    pending(page, 1)
    # a signal too weak to send: the entry stays queued
    context.route("**/api/v1/revisits/**", lambda route: route.abort("timedout"))
    context.set_offline(False)
    expect(page.get_by_text("上传已暂停：无法连接系统。记录仍保存在本机。")).to_be_visible(timeout=30_000)
    pending(page, 1)
    names = page.evaluate("indexedDB.databases().then(list => list.map(d => d.name))")
    assert f"field-{world.worker.pk}" in names
    assert any(name.startswith("field-shell-") for name in page.evaluate("caches.keys()"))

    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    with page.expect_navigation():
        page.get_by_role("button", name="退出登录").click()
    assert asked == ["还有 1 条记录未上传，退出登录会将它们从本机删除。仍要退出吗？"]
    assert not Revisit.objects.filter(status=Revisit.Status.DONE).exists()

    page.goto(f"{base}/admin/login/")
    expect(page.locator("#id_username")).to_be_visible()
    shot(page, "signed-out")
    names = page.evaluate("indexedDB.databases().then(list => list.map(d => d.name))")
    assert not [name for name in names if name.startswith("field-")], names
    assert not [name for name in page.evaluate("caches.keys()") if name.startswith("field-shell-")]
    assert page.evaluate("navigator.serviceWorker.getRegistrations().then(r => r.length)") == 0
    context.close()

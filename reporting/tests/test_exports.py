"""Exports for the provincial system: scope, masking, the configurable columns, labels, and a constant query count."""

from __future__ import annotations

import datetime
import io
import re
import time

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory
from housing_safety.access import Role
from reporting.models import ExportTemplate

pytestmark = pytest.mark.django_db


def download(client, user, dataset: str) -> list[tuple]:
    client.force_login(user)
    response = client.get(reverse("reporting:export", args=[dataset]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return list(workbook.active.iter_rows(values_only=True))


@pytest.fixture
def two_townships(xinqiao, shuangyang):
    home = HouseholdFactory(
        village=VillageFactory(township=xinqiao, name="东坑村"),
        head_name="林秀英",
        registered_on=datetime.date(2026, 3, 1),
    )
    DwellingFactory(household=home, structure_type="brick_timber", is_occupied=True)
    away = HouseholdFactory(village=VillageFactory(township=shuangyang, name="西山村"), head_name="何远")
    DwellingFactory(household=away)
    return home, away


def test_township_staff_export_only_their_township_with_full_numbers(client, staff, two_townships):
    home, _away = two_townships
    rows = download(client, staff, "households")
    assert rows[0] == (
        "乡镇（街道）",
        "行政村",
        "户主姓名",
        "户主身份证号码",
        "联系电话",
        "家庭人口",
        "纳入日期",
        "状态",
    )
    assert [row[2] for row in rows[1:]] == ["林秀英"]
    assert rows[1][3] == home.id_number and rows[1][4] == home.phone
    assert rows[1][6] == datetime.datetime(2026, 3, 1) and rows[1][7] == "在册"


def test_an_official_gets_every_township_with_numbers_masked(client, official, two_townships):
    home, away = two_townships
    rows = download(client, official, "households")
    assert sorted(row[2] for row in rows[1:]) == ["何远", "林秀英"]
    numbers = {row[2]: row[3] for row in rows[1:]}
    assert numbers["林秀英"] == home.id_number[:6] + "********" + home.id_number[-4:]
    assert all(home.id_number not in str(row) and away.id_number not in str(row) for row in rows)


def test_choices_and_booleans_read_as_words(client, staff, two_townships):
    rows = download(client, staff, "dwellings")
    header = rows[0]
    row = dict(zip(header, rows[1], strict=True))
    assert row["结构类型"] == "砖木" and row["是否居住"] == "是"


def test_the_bureau_template_chooses_and_renames_columns(client, admin, two_townships):
    template = ExportTemplate(dataset="households", columns=[["姓名", "head_name"], ["", "village__township__code"]])
    template.full_clean()
    template.save()
    rows = download(client, admin, "households")
    assert rows[0] == ("姓名", "乡镇代码")
    assert sorted(rows[1:]) == sorted([("林秀英", "350881100"), ("何远", "350881101")])


@pytest.mark.parametrize(
    "columns",
    [
        [["电话", "helper_user__password"]], [["x"]], [], [["来源", "reporter_phone"]],
        # anything JSON the admin's text box takes (found by the fuzz test: a 500 in clean)
        -1, None, "head_name", {"姓名": "head_name"}, [["姓名", ["head_name"]]], [[1, "head_name"]],
    ],
    ids=["related-secret", "no-field", "empty", "unknown", "number", "null", "text", "object", "list-field", "number-header"],
)  # fmt: skip
def test_a_template_cannot_reach_fields_outside_the_list(columns):
    with pytest.raises(ValidationError) as refused:
        ExportTemplate(dataset="households", columns=columns).full_clean()
    assert "columns" in refused.value.message_dict


@pytest.mark.parametrize("role", [Role.COMPLAINT_CLERK, Role.HELPER, Role.DEPARTMENT_LIAISON])
def test_other_roles_export_only_their_own_scope(client, personas, role, two_townships):
    rows = download(client, personas[role], "cases")
    assert len(rows) == 1  # the header: none of them sees renovation cases


def test_roles_without_the_registry_and_anonymous_users_are_refused(client, personas):
    client.force_login(personas["no_role"])
    assert client.get(reverse("reporting:export", args=["households"])).status_code == 403
    client.logout()
    assert client.get(reverse("reporting:export", args=["households"])).status_code == 302
    client.force_login(personas[Role.BUREAU_OFFICIAL])
    assert client.get("/exports/secrets.xlsx").status_code == 404


def test_export_queries_do_not_grow_with_rows(client, official, xinqiao, django_assert_num_queries):
    village = VillageFactory(township=xinqiao)
    HouseholdFactory.create_batch(5, village=village)
    client.force_login(official)
    url = reverse("reporting:export", args=["households"])
    with django_assert_num_queries(9) as first:
        b"".join(client.get(url).streaming_content)
    HouseholdFactory.create_batch(60, village=village)
    with django_assert_num_queries(len(first.captured_queries)):
        rows = b"".join(client.get(url).streaming_content)
    assert len(list(load_workbook(io.BytesIO(rows), read_only=True).active.iter_rows())) == 66


def test_a_large_export_is_built_in_the_background_for_its_requester_only(
    client, settings, staff, official, xinqiao, django_capture_on_commit_callbacks
):
    from reporting.exports import build_export_file
    from reporting.models import ExportFile

    settings.EXPORT_INLINE_MAX_ROWS = 2
    HouseholdFactory.create_batch(3, village=VillageFactory(township=xinqiao))
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("reporting:export", args=["households"]))
    assert response.status_code == 302 and response.url == reverse("reporting:exports")
    export = ExportFile.objects.get()
    assert (export.user, export.status, export.rows) == (staff, ExportFile.Status.READY, 3)
    page = client.get(reverse("reporting:exports"))
    assert reverse("reporting:export-file", args=[export.pk]) in page.content.decode()
    file = client.get(reverse("reporting:export-file", args=[export.pk]))
    rows = list(load_workbook(io.BytesIO(b"".join(file.streaming_content)), read_only=True).active.iter_rows())
    assert len(rows) == 4
    assert build_export_file(export.pk) == ExportFile.Status.READY  # a second run rebuilds nothing
    client.force_login(official)
    assert client.get(reverse("reporting:export-file", args=[export.pk])).status_code == 404


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # on_commit runs as in production, at once
def test_a_large_export_asked_for_while_the_broker_is_down_waits_and_the_ten_minute_job_builds_it(
    client, settings, staff, xinqiao, broker_down
):
    from housing_safety.background import BROKER_DOWN_MESSAGE
    from housing_safety.models import DeferredTask
    from reporting.jobs import run_job
    from reporting.models import ExportFile

    settings.EXPORT_INLINE_MAX_ROWS = 2
    HouseholdFactory.create_batch(3, village=VillageFactory(township=xinqiao))
    client.force_login(staff)
    started = time.monotonic()
    response = client.get(reverse("reporting:export", args=["households"]), follow=True)
    elapsed = time.monotonic() - started

    assert response.status_code == 200 and elapsed < 5, elapsed
    page = response.content.decode()
    assert str(BROKER_DOWN_MESSAGE) in page  # the message, and the note on the waiting file
    assert re.search(r'<li data-status="pending">[^<]*<span class="muted" data-waiting>', page)
    assert "<progress" not in page
    export = ExportFile.objects.get()
    assert export.status == ExportFile.Status.PENDING
    deferred = DeferredTask.objects.get()
    assert (deferred.task, deferred.args, deferred.attempts) == ("reporting.tasks.build_export", [export.pk], 1)

    # The broker is still down at the next round: the task waits on, one attempt more.
    assert run_job("send_pending_mail", datetime.date(2026, 12, 1)).endswith("tasks resent 0, still refused 1")
    deferred = DeferredTask.objects.get()
    assert deferred.attempts == 2 and "Connection refused" in deferred.last_error
    assert client.get(reverse("reporting:exports")).content.decode().count("data-waiting") == 1

    broker_down.conf.task_always_eager = True  # the broker is back: the job's resent task runs
    assert run_job("send_pending_mail", datetime.date(2026, 12, 1)).endswith("tasks resent 1, still refused 0")
    export.refresh_from_db()
    assert (export.status, export.rows) == (ExportFile.Status.READY, 3)
    assert not DeferredTask.objects.exists()
    page = client.get(reverse("reporting:exports")).content.decode()
    assert "data-waiting" not in page and reverse("reporting:export-file", args=[export.pk]) in page

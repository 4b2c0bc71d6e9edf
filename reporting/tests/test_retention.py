"""Retention: files that carry personal data are deleted once they have served their purpose (the nightly
purge_old_files job); the records about them stay."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from households.models import DepartmentList, Unit
from households.tests.factories import make_user
from housing_safety.access import Role
from reporting.jobs import run_job
from reporting.models import ExportFile

pytestmark = pytest.mark.django_db

DAY = datetime.date(2027, 3, 10)
NOTHING = "export files removed 0, list files removed 0, held files removed 0, print files removed 0, idempotency keys removed 0"


def days_before(days: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(DAY, datetime.time(12))) - datetime.timedelta(days=days)


@pytest.fixture
def staff(db):
    return make_user(Role.BUREAU_ADMIN)


def export(user, *, age_days: int, status=ExportFile.Status.READY) -> ExportFile:
    made = ExportFile.objects.create(user=user, dataset="households", status=status, rows=3)
    made.file.save("households.xlsx", ContentFile(b"PK personal data"), save=True)
    ExportFile.objects.filter(pk=made.pk).update(created_at=days_before(age_days))
    return ExportFile.objects.get(pk=made.pk)


def department_list(user, *, age_days: int, status=DepartmentList.Status.PREVIEWED) -> DepartmentList:
    unit = Unit.objects.get(name="漳平市扶贫开发办公室")
    made = DepartmentList(unit=unit, listed_on=DAY, original_name="名单.xlsx", sha256="0" * 64, status=status)
    made.uploaded_by = user
    made.file.save("名单.xlsx", ContentFile(b"PK personal data"), save=True)
    DepartmentList.objects.filter(pk=made.pk).update(uploaded_at=days_before(age_days))
    return DepartmentList.objects.get(pk=made.pk)


def test_exports_past_their_retention_are_deleted_and_marked(staff, settings):
    settings.EXPORT_FILE_RETENTION_DAYS = 7
    old, recent = export(staff, age_days=8), export(staff, age_days=6)
    pending = export(staff, age_days=30, status=ExportFile.Status.PENDING)
    old_path = old.file.name

    assert run_job("purge_old_files", DAY) == NOTHING.replace("export files removed 0", "export files removed 1")

    assert not default_storage.exists(old_path)
    old.refresh_from_db()
    assert (old.status, old.file.name) == (ExportFile.Status.EXPIRED, "")
    assert default_storage.exists(recent.file.name) and default_storage.exists(pending.file.name)
    assert run_job("purge_old_files", DAY) == NOTHING


def test_read_lists_lose_their_file_after_retention_but_keep_their_record(staff, settings):
    settings.LIST_FILE_RETENTION_DAYS = 30
    read = department_list(staff, age_days=31)
    confirmed = department_list(staff, age_days=40, status=DepartmentList.Status.CONFIRMED)
    reading = department_list(staff, age_days=40, status=DepartmentList.Status.READING)
    recent = department_list(staff, age_days=29)
    paths = {item.pk: item.file.name for item in (read, confirmed, reading, recent)}

    assert run_job("purge_old_files", DAY) == NOTHING.replace("list files removed 0", "list files removed 2")

    for item in (read, confirmed):
        assert not default_storage.exists(paths[item.pk])
        item.refresh_from_db()
        assert item.file.name == "" and item.original_name == "名单.xlsx"
    assert default_storage.exists(paths[reading.pk]) and default_storage.exists(paths[recent.pk])


def test_the_export_page_says_a_file_was_removed(client, staff, settings):
    settings.EXPORT_FILE_RETENTION_DAYS = 7
    old = export(staff, age_days=8)
    run_job("purge_old_files", DAY)
    client.force_login(staff)

    page = client.get("/exports/").content.decode()

    assert "超过保存期限，已删除" in page
    assert client.get(f"/exports/files/{old.pk}/").status_code == 404


def test_large_prints_past_their_retention_are_deleted_and_marked(staff, settings):
    """A village's printed forms carry names and addresses: kept as long as an export file, then removed."""
    from housing_safety.models import PrintJob

    settings.EXPORT_FILE_RETENTION_DAYS = 7
    made = []
    for age in (8, 6):
        job = PrintJob.objects.create(user=staff, kind="appraisal_forms", title="鉴定表", status=PrintJob.Status.READY)
        job.file.save("forms.pdf", ContentFile(b"%PDF- personal data"), save=True)
        PrintJob.objects.filter(pk=job.pk).update(created_at=days_before(age))
        made.append(PrintJob.objects.get(pk=job.pk))
    old, recent = made

    assert run_job("purge_old_files", DAY).endswith("print files removed 1, idempotency keys removed 0")

    assert not default_storage.exists(old.file.name) and default_storage.exists(recent.file.name)
    old.refresh_from_db()
    assert (old.status, old.file.name) == (PrintJob.Status.EXPIRED, "")


def test_idempotency_keys_are_forgotten_after_their_days(staff, settings):
    """The API's remembered answers (housing_safety.api.idempotency) go after API_IDEMPOTENCY_DAYS."""
    from housing_safety.models import IdempotentRequest

    settings.API_IDEMPOTENCY_DAYS = 7
    rows = {
        age: IdempotentRequest.objects.create(
            user=staff, key=f"key-{age}", method="POST", path="/api/v1/complaints/", body_hash="0" * 64
        )
        for age in (8, 6)
    }
    for age, row in rows.items():
        IdempotentRequest.objects.filter(pk=row.pk).update(created_at=days_before(age))

    assert run_job("purge_old_files", DAY).endswith("idempotency keys removed 1")

    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["key-6"]

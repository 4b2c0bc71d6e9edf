"""A large export built in the background tells the person who asked for it (站内消息, and e-mail over SMTP where they
have an address): 「导出已完成：…」 with the download link, or 「导出失败：…」; once per export."""

from __future__ import annotations

import pytest
from django.urls import reverse

from households.tests.factories import HouseholdFactory, VillageFactory
from housing_safety.models import Notice, OutgoingEmail
from reporting.exports import build_export_file
from reporting.models import ExportFile

pytestmark = pytest.mark.django_db


def test_the_requester_finds_the_finished_export_in_the_inbox_and_mail_with_the_download_link(
    smtp_server, client, settings, staff, official, xinqiao, django_capture_on_commit_callbacks
):
    settings.EXPORT_INLINE_MAX_ROWS = 2
    staff.email = "chen@xinqiao.example"
    staff.save()
    HouseholdFactory.create_batch(3, village=VillageFactory(township=xinqiao))
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("reporting:export", args=["households"]))
    export = ExportFile.objects.get()
    assert export.status == ExportFile.Status.READY

    [notice] = Notice.objects.all()
    link = reverse("reporting:export-file", args=[export.pk])
    assert (notice.recipient, notice.url) == (staff, link)
    assert notice.title.startswith("导出已完成：") and "共 3 行" in notice.body
    [(_sender, recipients, message)] = smtp_server.messages
    assert recipients == ["chen@xinqiao.example"] and message["Subject"].strip() == notice.title
    assert link in message.get_content()
    assert OutgoingEmail.objects.get().key == f"export:{export.pk}"
    assert not Notice.objects.filter(recipient=official).exists()

    # The link in the notice downloads the file; a second run of the task tells nobody again.
    response = client.post(reverse("notice-open", args=[notice.pk]))
    assert response.url == link and client.get(link).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        build_export_file(export.pk)
    assert Notice.objects.count() == 1 and len(smtp_server.messages) == 1


def test_a_failed_export_is_reported_in_chinese_and_links_to_the_exports_page(
    monkeypatch, settings, staff, xinqiao, django_capture_on_commit_callbacks
):
    from reporting import exports

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(exports, "write_export", broken)
    export = ExportFile.objects.create(user=staff, dataset="households")
    with pytest.raises(OSError):
        build_export_file(export.pk)
    export.refresh_from_db()
    assert export.status == ExportFile.Status.FAILED
    [notice] = Notice.objects.all()
    assert notice.recipient == staff and notice.title.startswith("导出失败：")
    assert notice.url == reverse("reporting:exports") and "重新导出" in notice.body
    assert not OutgoingEmail.objects.exists()  # no address: the inbox only


def test_a_requester_no_longer_active_is_reached_by_nobody(staff):
    from reporting.exports import tell_requester

    staff.is_active = False
    staff.save()
    export = ExportFile.objects.create(user=staff, dataset="households", status=ExportFile.Status.READY)
    assert tell_requester(export) == 0 and not Notice.objects.exists()

"""A department's list read in the background tells the liaison who uploaded it (站内消息, and e-mail over SMTP where
they have an address): 「名单已处理：新增 x、匹配 y、待确认 z」 with a link to the list, or why it could not be read;
once per list, however often the task runs."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from households import department_lists
from households.department_lists.services import tell_uploader
from housing_safety.access import Role
from housing_safety.models import Notice, OutgoingEmail

from .factories import HouseholdFactory, VillageFactory, valid_id_number
from .test_department_lists import HEADER, xlsx

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("chinese")]
LISTED_ON = datetime.date(2024, 5, 1)


@pytest.fixture
def liaison(personas):
    return personas[Role.DEPARTMENT_LIAISON]


def upload(liaison, unit, content: bytes, name: str = "五月名单.xlsx"):
    return department_lists.start_preview(
        actor=liaison, unit=unit, listed_on=LISTED_ON, uploaded_file=SimpleUploadedFile(name, content)
    )


def test_the_liaison_is_told_over_smtp_and_in_the_inbox_when_the_list_is_read(
    smtp_server, liaison, poverty_office, xinqiao, client, django_capture_on_commit_callbacks
):
    liaison.email = "fupin.lianluo@zhangping.example"
    liaison.save()
    colleague = type(liaison).objects.create(username="another-liaison")  # another person: not told
    village = VillageFactory(township=xinqiao, name="东坑村")
    known = HouseholdFactory(head_name="李四", village=village, source=poverty_office)
    rows = [
        HEADER,
        ["李四", known.id_number, None, "新桥镇", "东坑村", None, None],  # matched
        ["周九", valid_id_number(born=datetime.date(1971, 2, 2)), None, "新桥镇", "东坑村", None, "3"],  # new
        ["郑十", valid_id_number(born=datetime.date(1972, 3, 3)), None, "新桥镇", "东坑村", None, "2"],  # new
    ]
    with django_capture_on_commit_callbacks(execute=True):
        department_list = upload(liaison, poverty_office, xlsx(rows))
    department_list.refresh_from_db()
    assert department_list.status == "previewed"

    [notice] = Notice.objects.all()
    assert notice.recipient == liaison and notice.read_at is None
    assert notice.title == "名单已处理：新增 2、匹配 1、待确认 0"
    assert "五月名单.xlsx" in notice.body and notice.url == reverse("households:list", args=[department_list.pk])
    [(_sender, recipients, message)] = smtp_server.messages
    assert recipients == ["fupin.lianluo@zhangping.example"] and message["Subject"].strip() == notice.title
    assert "/lists/" in message.get_content()
    assert not Notice.objects.filter(recipient=colleague).exists()

    # The task again (a retried delivery): nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        department_lists.read_in_background(department_list.pk)
    assert Notice.objects.count() == 1 and len(smtp_server.messages) == 1

    # Opening the notice leads to the list, which the liaison may see.
    client.force_login(liaison)
    response = client.post(reverse("notice-open", args=[notice.pk]))
    assert response.url == notice.url and client.get(response.url).status_code == 200


def test_a_list_that_cannot_be_read_is_explained_in_chinese(
    smtp_server, liaison, poverty_office, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        department_list = upload(liaison, poverty_office, xlsx([["随便", "什么"], ["一", "二"]]), name="错表.xlsx")
    department_list.refresh_from_db()
    assert department_list.status == "failed" and department_list.error
    [notice] = Notice.objects.all()
    assert notice.recipient == liaison and notice.title == "名单无法读取：错表.xlsx"
    assert notice.body == department_list.error and any("\u4e00" <= char <= "\u9fff" for char in notice.body)
    assert notice.url == reverse("households:list", args=[department_list.pk])
    assert smtp_server.messages == [] and not OutgoingEmail.objects.exists()  # no address: the inbox only


def test_an_uploader_no_longer_active_is_reached_by_nobody(liaison, poverty_office, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        department_list = upload(liaison, poverty_office, xlsx([HEADER]))
    liaison.is_active = False
    liaison.save()
    assert department_lists.read_in_background(department_list.pk) in ("previewed", "failed")
    assert not Notice.objects.exists()
    assert tell_uploader(department_list) == 0

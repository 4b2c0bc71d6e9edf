"""The township's problem list on paper (issue 18): "一乡镇一清单 printable in the layout townships file it: numbered,
with timetable and responsible person, signature of the township's responsible leader".

The PDF is read back: its rows are the list page's rows as filtered (one township), with their values; the header
names the township and the date; the footer holds the signature, the date and the stamp; the page is landscape A4;
the embedded fonts cover the text. A rendered page is kept in test-artifacts/.
"""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory
from housing_safety.tests.kit import (
    ADMIN,
    ANON,
    CLERK,
    HELPER,
    LIAISON,
    NO_ROLE,
    OFFICIAL,
    STAFF,
    assert_login_redirect,
    count_queries,
    embedded_characters,
    keep_page_image,
    list_items,
    login,
    pdf_text,
)
from rectification.models import PlanItem, Problem

pytestmark = pytest.mark.django_db

URL = "rectification:problem-print"
A4_LANDSCAPE = (841.89, 595.28)


def problem(township, head, description, *, status=Problem.Status.OPEN, days=30, **fields):
    household = HouseholdFactory(village=VillageFactory(township=township, name=f"{head}村"), head_name=head)
    return Problem.objects.create(
        township=township,
        household=household,
        dwelling=DwellingFactory(household=household, address=f"东坑村{head}家"),
        source=Problem.Source.SELF_INSPECTION,
        kind=Problem.Kind.NEW_DAMAGE,
        description=description,
        status=status,
        deadline=timezone.localdate() + datetime.timedelta(days=days),
        resolution="已完成加固" if status in (Problem.Status.RESOLVED, Problem.Status.VERIFIED) else "",
        **fields,
    )


@pytest.fixture
def problems(xinqiao, shuangyang):
    task = PlanItem.objects.filter(kind=PlanItem.Kind.TASK).order_by("number").first()
    return {
        "cracked": problem(
            xinqiao, "林木根", "后墙开裂", measure="拆除后墙重砌", responsible_person="陈志强", plan_item=task, days=10
        ),
        "leaking": problem(xinqiao, "郑春花", "屋面漏雨", measure="更换瓦片", responsible_person="王丽", days=20),
        "done": problem(xinqiao, "黄大山", "墙体裂缝", status=Problem.Status.RESOLVED, responsible_person="陈志强"),
        "elsewhere": problem(shuangyang, "张外乡", "地基下沉", responsible_person="李四"),
    }


def rows_of(text: str) -> list[str]:
    """The heads of household in the PDF's rows, in order."""
    return [name for name in ("林木根", "郑春花", "黄大山", "张外乡") if name in text]


def test_the_township_list_prints_numbered_with_timetable_responsible_person_and_signature(client, personas, problems):
    login(client, personas, STAFF)

    response = client.get(reverse(URL))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader, text = pdf_text(response.content)
    assert tuple(round(float(v), 2) for v in reader.pages[0].mediabox[2:]) == A4_LANDSCAPE
    cracked = problems["cracked"]
    for expected in (
        "新桥镇问题清单",
        "乡镇（街道）：新桥镇",
        f"制表日期：{timezone.localdate():%Y}年",
        "序号", "户主/地点", "问题类型", "任务/机制", "发现来源", "发现日期", "整改时限", "责任人", "整改措施/进展", "状态",
        "林木根", "拆除后墙重砌", "陈志强", f"{cracked.deadline:%Y-%m-%d}",
        f"{timezone.localdate():%Y-%m-%d}", cracked.plan_item.label, cracked.get_source_display(),
        "乡镇负责人（签字）", "日期", "（盖章）",
        "已完成加固",
    ):  # fmt: skip
        assert str(expected) in text, expected
    assert "张外乡" not in text  # another township's problem
    assert set(text) - {"\n", " "} <= embedded_characters(reader)
    keep_page_image(response.content, "problem-list.png")


@pytest.mark.parametrize("status", ["", "unresolved", "resolved"])
def test_the_rows_are_the_lists_rows(client, personas, problems, status):
    """The PDF prints what the list shows with the same filters, in the same order."""
    login(client, personas, STAFF)
    page = client.get(reverse("rectification:problems"), {"status": status}).content.decode()
    listed = [name for item in list_items(page) for name in ("林木根", "郑春花", "黄大山", "张外乡") if name in item]

    _reader, text = pdf_text(client.get(reverse(URL), {"status": status}).content)

    assert rows_of(text) == listed
    assert text.index("林木根") < text.index("郑春花") if "郑春花" in listed and "林木根" in listed else True


def test_the_bureau_picks_a_township(client, personas, problems, shuangyang):
    login(client, personas, OFFICIAL)

    unpicked = client.get(reverse(URL), follow=True)
    picked = client.get(reverse(URL), {"township": shuangyang.pk})

    assert "请选择乡镇" in unpicked.content.decode()
    assert rows_of(pdf_text(picked.content)[1]) == ["张外乡"]
    page = client.get(reverse("rectification:problems"), {"township": shuangyang.pk}).content.decode()
    assert f"{reverse(URL)}?township={shuangyang.pk}" in page
    assert reverse(URL) not in client.get(reverse("rectification:problems")).content.decode()


def test_one_click_from_the_list(client, personas, problems, xinqiao):
    login(client, personas, STAFF)

    page = client.get(reverse("rectification:problems"), {"status": "unresolved"}).content.decode()

    assert f"{reverse(URL)}?status=unresolved&amp;township={xinqiao.pk}" in page
    assert "打印本乡镇问题清单（PDF）" in page


@pytest.mark.parametrize(
    ("persona", "status"),
    [(ANON, 302), (NO_ROLE, 403), (HELPER, 403), (CLERK, 403), (LIAISON, 403), (STAFF, 200), (OFFICIAL, 200),
     (ADMIN, 200)],
)  # fmt: skip
def test_who_may_print_the_list(client, personas, problems, xinqiao, persona, status):
    login(client, personas, persona)
    url = f"{reverse(URL)}?township={xinqiao.pk}"

    response = client.get(url)

    if persona == ANON:
        assert_login_redirect(response, url)
    assert response.status_code == status


def test_another_townships_list_is_not_found(client, personas, problems, shuangyang):
    login(client, personas, STAFF)

    assert client.get(reverse(URL), {"township": shuangyang.pk}).status_code == 404


def test_query_count_does_not_grow_with_the_rows(client, personas, problems, xinqiao):
    login(client, personas, STAFF)
    url = reverse(URL)
    client.get(url)  # warm

    few = count_queries(client, url)
    for index in range(10):
        problem(xinqiao, f"户主{index}", "新问题", plan_item=PlanItem.objects.first())

    assert count_queries(client, url) == few == 8

"""Data submission to Longyan (issue 24): the plan's "（三）全面完成住房安全有保障信息审核录入……4月份完成，五月提交龙岩市
审核" as one record per year, with the files sent, who sent them and when, and Longyan's answer; the dashboard and the
bureau's home say whether this year's was sent."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory
from housing_safety.models import PersonalDataAccess
from housing_safety.tests.kit import ADMIN, ANON, CLERK, HELPER, LIAISON, NO_ROLE, OFFICIAL, STAFF, body, login, rows_of
from reporting import submissions
from reporting.models import DataSubmission, SubmissionFile

pytestmark = pytest.mark.django_db
D = datetime.date
LIST = reverse("reporting:submissions")


def xlsx(name: str = "报送函.xlsx") -> SimpleUploadedFile:
    book = Workbook()
    book.active.append(["报送函"])
    data = io.BytesIO()
    book.save(data)
    return SimpleUploadedFile(name, data.getvalue())


def snapshot():
    return rows_of(DataSubmission, DataSubmission.history.model, SubmissionFile, PersonalDataAccess)


@pytest.fixture
def household(xinqiao):
    household = HouseholdFactory(village=VillageFactory(township=xinqiao), id_number="350881199001011234")
    DwellingFactory(household=household)
    return household


@pytest.fixture
def sent(personas, household):
    """Last year's sending, by the administrator, with the exports (full numbers) attached."""
    year = timezone.localdate().year - 1
    return submissions.record_submission(
        actor=personas[ADMIN],
        year=year,
        sent_on=D(year, 5, 20),
        recipient="龙岩市住房和城乡建设局",
        method="省级系统报送",
    )


def test_a_sending_attaches_the_provincial_exports_as_they_stand(personas, household):
    """ "五月提交龙岩市审核": the record keeps what was sent: the four provincial-system exports built through the
    export machinery when it is recorded, with who sent them, when, to whom and how."""
    admin = personas[ADMIN]
    made = submissions.record_submission(
        actor=admin, year=2026, sent_on=D(2026, 5, 18), recipient="龙岩市住房和城乡建设局", method="公文交换"
    )
    assert (made.year, made.sent_on, made.sent_by, made.recipient, made.method) == (
        2026, D(2026, 5, 18), admin, "龙岩市住房和城乡建设局", "公文交换",
    )  # fmt: skip
    files = {item.dataset: item for item in made.files.all()}
    assert set(files) == {"households", "dwellings", "appraisals", "cases"}
    assert (files["households"].rows, files["dwellings"].rows, files["households"].personal) == (1, 1, True)
    sheet = load_workbook(files["households"].file.open("rb")).active
    assert "350881199001011234" in [cell for row in sheet.iter_rows(values_only=True) for cell in row]
    assert made.history.get().history_user == admin


def test_an_officials_sending_carries_the_masked_exports_they_see(personas, household):
    """The exports are built as the sender sees the data: an official (no full ID numbers) sends masked ones, which
    anyone of the bureau may download."""
    made = submissions.record_submission(
        actor=personas[OFFICIAL], year=2026, sent_on=D(2026, 5, 18), recipient="龙岩市住建局"
    )
    households = made.files.get(dataset="households")
    assert households.personal is False
    cells = [c for row in load_workbook(households.file.open("rb")).active.iter_rows(values_only=True) for c in row]
    assert "350881199001011234" not in cells


def test_uploaded_files_alone_are_a_sending(personas):
    made = submissions.record_submission(
        actor=personas[ADMIN],
        year=2026,
        sent_on=D(2026, 5, 30),
        recipient="龙岩市住建局",
        attach_exports=False,
        uploads=[xlsx()],
    )
    assert [(item.name, item.dataset, item.personal) for item in made.files.all()] == [("报送函.xlsx", "", False)]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"attach_exports": False}, "uploads", "请附上报送的内容：省级系统导出文件，或在此上传实际报送的文件。"),
        ({"sent_on": D(2025, 12, 31)}, "sent_on", "2026年的数据不可能早于2026年报送。"),
        ({"sent_on": D(9999, 1, 1)}, "sent_on", "日期不能晚于今天。"),
        ({"year": 1926}, "year", "年份 1926 不合理"),
        ({"recipient": "  "}, "recipient", "请填写报送对象。"),
    ],
)
def test_a_sending_is_refused_in_chinese_and_nothing_is_written(personas, chinese, fields, field, message):
    before = snapshot()
    data = {"year": 2026, "sent_on": D(2026, 5, 18), "recipient": "龙岩市住建局", "attach_exports": True, **fields}
    with pytest.raises(Exception) as refused:
        submissions.record_submission(actor=personas[ADMIN], **data)
    assert any(message in text for text in refused.value.message_dict[field])
    assert snapshot() == before


def test_one_sending_per_year(personas, sent, chinese):
    before = snapshot()
    with pytest.raises(Exception) as refused:
        submissions.record_submission(
            actor=personas[ADMIN], year=sent.year, sent_on=D(sent.year, 6, 1), recipient="龙岩市住建局"
        )
    assert refused.value.message_dict["year"] == [f"{sent.year}年的数据提交已登记。"]
    assert snapshot() == before


def test_the_state_says_sent_not_yet_or_late_after_31_may(personas, sent):
    """ "五月提交龙岩市审核": due by 31 May; not sent by then is late, and so is a sending after it."""
    official = personas[OFFICIAL]
    year = sent.year + 1
    assert submissions.state_for_year(official, year, D(year, 5, 31)).late is False
    assert submissions.state_for_year(official, year, D(year, 6, 1)).late is True
    state = submissions.state_for_year(official, sent.year, D(sent.year + 1, 1, 1))
    assert (state.sent, state.late, state.submission) == (True, False, sent)
    DataSubmission.objects.filter(pk=sent.pk).update(sent_on=D(sent.year, 6, 3))
    assert submissions.state_for_year(official, sent.year, D(sent.year + 1, 1, 1)).late is True


def test_longyans_review_passed_or_returned_with_remarks(personas, sent, chinese):
    """Longyan's answer: 通过, or 退回 with its remarks (a return without a reason is refused)."""
    official = personas[OFFICIAL]
    before = snapshot()
    with pytest.raises(Exception) as refused:
        submissions.record_review(
            actor=official, submission=sent, review="returned", remarks=" ", reviewed_on=D(sent.year, 6, 5)
        )
    assert refused.value.message_dict["remarks"] == ["请填写龙岩退回的原因。"]
    with pytest.raises(Exception) as refused:
        submissions.record_review(actor=official, submission=sent, review="passed", reviewed_on=D(sent.year, 5, 1))
    assert refused.value.message_dict["reviewed_on"] == ["审核日期不能早于报送日期。"]
    assert snapshot() == before
    submissions.record_review(
        actor=official, submission=sent, review="returned", remarks="缺少鉴定表", reviewed_on=D(sent.year, 6, 5)
    )
    sent.refresh_from_db()
    assert (sent.review, sent.review_remarks, sent.review_recorded_by) == ("returned", "缺少鉴定表", official)


def returned(sent, actor, on=None):
    return submissions.record_review(
        actor=actor, submission=sent, review="returned", remarks="缺少鉴定表", reviewed_on=on or D(sent.year, 6, 5)
    )


def test_a_returned_year_is_sent_again_on_the_same_record(personas, sent, chinese):
    """The plan expects a returned submission to be corrected and sent again: the same year's record takes the new
    sending (date, sender, files numbered 2, review back to 待审核); the earlier sending and its 退回 stay."""
    official = personas[OFFICIAL]
    returned(sent, official)
    with pytest.raises(Exception) as refused:  # not before Longyan returned it
        submissions.record_submission(actor=official, year=sent.year, sent_on=D(sent.year, 6, 1), recipient="龙岩")
    assert refused.value.message_dict["sent_on"] == ["重新报送的日期不能早于龙岩退回的日期。"]
    again = submissions.record_submission(
        actor=official, year=sent.year, sent_on=D(sent.year, 6, 20), recipient="龙岩市住建局", attach_exports=False,
        uploads=[xlsx("更正后报送函.xlsx")],
    )  # fmt: skip
    again.refresh_from_db()
    assert again.pk == sent.pk and DataSubmission.objects.count() == 1
    assert (again.sent_on, again.sent_by, again.review, again.reviewed_on, again.review_remarks) == (
        D(sent.year, 6, 20), official, "pending", None, "",
    )  # fmt: skip
    assert sorted(again.files.values_list("sending", flat=True)) == [1, 1, 1, 1, 2]
    (earlier,) = submissions.earlier_sendings(again)
    assert (earlier.number, earlier.sent_on, earlier.sent_by, earlier.reviewed_on, earlier.remarks) == (
        1, D(sent.year, 5, 20), personas[ADMIN], D(sent.year, 6, 5), "缺少鉴定表",
    )  # fmt: skip
    with pytest.raises(Exception) as refused:  # pending again: one sending at a time
        submissions.record_submission(actor=official, year=sent.year, sent_on=D(sent.year, 6, 21), recipient="龙岩")
    assert refused.value.message_dict["year"] == [f"{sent.year}年的数据提交已登记。"]
    submissions.record_review(actor=official, submission=again, review="passed", reviewed_on=D(sent.year, 6, 30))
    assert len(submissions.earlier_sendings(again)) == 1


def test_a_returned_year_is_resent_from_the_list_page(client, personas, sent, chinese):
    client.force_login(personas[OFFICIAL])
    returned(sent, personas[OFFICIAL])
    page = body(client.get(LIST))
    assert "已退回，待重新报送" in page and f'href="?year={sent.year}#send"' in page
    assert f'value="{sent.year}"' in body(client.get(LIST, {"year": sent.year}))
    detail_url = reverse("reporting:submission", args=[sent.year])
    detail = body(client.get(detail_url))
    assert "已退回，待修改后重新报送。" in detail and 'name="review"' not in detail
    response = client.post(
        LIST,
        {
            "year": sent.year,
            "sent_on": timezone.localdate(),
            "recipient": "龙岩市住房和城乡建设局",
            "uploads": [xlsx("更正后报送函.xlsx")],
        },
    )
    assert response.status_code == 302 and response.url == detail_url
    detail = body(client.get(detail_url))
    assert "此前的报送（已被龙岩退回）" in detail and "缺少鉴定表" in detail and "更正后报送函.xlsx" in detail
    assert 'name="review"' in detail


def test_the_home_says_this_years_data_was_returned_and_late_after_31_may(client, personas, chinese):
    """After a 退回 the year is not done: the home says it was returned and must be sent again (late after 31 May)."""
    official = personas[OFFICIAL]
    today = timezone.localdate()
    made = submissions.record_submission(
        actor=official, year=today.year, sent_on=D(today.year, 1, 1), recipient="龙岩", attach_exports=False,
        uploads=[xlsx()],
    )  # fmt: skip
    returned(made, official, on=D(today.year, 1, 1))
    client.force_login(official)
    home = body(client.get("/"))
    assert "今年数据被龙岩退回，待重新报送" in home and "今年数据已提交龙岩" not in home
    state = submissions.state_for_year(official, today.year, D(today.year, 5, 31))
    assert (state.sent, state.returned, state.done, state.late) == (True, True, False, False)
    assert submissions.state_for_year(official, today.year, D(today.year, 6, 1)).late is True
    assert "龙岩已于" in body(client.get(reverse("reporting:dashboard")))


def test_an_official_downloads_the_letter_they_uploaded(client, personas):
    """An uploaded file is personal only when its uploader says it carries full ID or phone numbers (default off)."""
    official = personas[OFFICIAL]
    made = submissions.record_submission(
        actor=official, year=2026, sent_on=D(2026, 5, 30), recipient="龙岩", attach_exports=False, uploads=[xlsx()]
    )
    client.force_login(official)
    item = made.files.get()
    assert item.personal is False
    assert client.get(reverse("reporting:submission-file", args=[item.pk])).status_code == 200
    flagged = submissions.record_submission(
        actor=official, year=2025, sent_on=D(2025, 5, 30), recipient="龙岩", attach_exports=False,
        uploads=[xlsx("名单.xlsx")], uploads_personal=True,
    )  # fmt: skip
    assert flagged.files.get().personal is True
    assert client.get(reverse("reporting:submission-file", args=[flagged.files.get().pk])).status_code == 404


def test_a_passed_review_is_final(client, personas, sent, chinese):
    official = personas[OFFICIAL]
    submissions.record_review(actor=official, submission=sent, review="passed", reviewed_on=D(sent.year, 6, 1))
    url = reverse("reporting:submission", args=[sent.year])
    client.force_login(official)
    page = body(client.get(url))
    assert 'name="review"' not in page and "审核结果为最终结果" in page
    before = snapshot()
    refused = client.post(url, {"review": "returned", "reviewed_on": D(sent.year, 6, 5), "remarks": "改"})
    assert "龙岩已审核通过，审核结果为最终结果，不能更改。" in body(refused)
    assert snapshot() == before


# The pages, for every role --------------------------------------------------------------------------------------

SEES = {ADMIN: 200, OFFICIAL: 200, STAFF: 403, LIAISON: 403, CLERK: 403, HELPER: 403, NO_ROLE: 403}


@pytest.mark.parametrize("persona", [ANON, *SEES])
def test_who_sees_the_submission_pages(client, personas, sent, persona):
    login(client, personas, persona)
    for url in (LIST, reverse("reporting:submission", args=[sent.year])):
        response = client.get(url)
        if persona == ANON:
            assert response.status_code == 302
        else:
            assert response.status_code == SEES[persona], (url, persona)


@pytest.mark.parametrize("persona", [ANON, STAFF, LIAISON, CLERK, HELPER, NO_ROLE])
def test_who_may_not_record_changes_nothing(client, personas, sent, persona):
    login(client, personas, persona)
    before = snapshot()
    year = sent.year + 1
    data = {"year": year, "sent_on": D(year, 5, 1), "recipient": "龙岩", "attach_exports": "on"}
    assert client.post(LIST, data).status_code in (302, 403)
    review = {"review": "passed", "reviewed_on": D(sent.year, 6, 1)}
    assert client.post(reverse("reporting:submission", args=[sent.year]), review).status_code in (302, 403)
    assert snapshot() == before


def test_the_bureau_records_the_sending_on_its_page(client, personas, household, chinese):
    client.force_login(personas[OFFICIAL])
    year = timezone.localdate().year
    page = client.get(LIST)
    assert "尚未报送" in body(page) and 'name="uploads"' in body(page)
    response = client.post(
        LIST,
        {
            "year": year,
            "sent_on": timezone.localdate(),
            "recipient": "龙岩市住房和城乡建设局",
            "method": "省级系统报送",
            "attach_exports": "on",
            "uploads": [xlsx()],
        },
    )
    made = DataSubmission.objects.get(year=year)
    assert response.status_code == 302 and response.url == reverse("reporting:submission", args=[year])
    assert made.files.count() == 5
    page = body(client.get(response.url))
    assert "报送函.xlsx" in page and "省级系统报送" in page


def test_a_refused_form_says_why_in_chinese(client, personas, chinese):
    client.force_login(personas[ADMIN])
    year = timezone.localdate().year
    response = client.post(LIST, {"year": year, "sent_on": timezone.localdate(), "recipient": "龙岩"})
    assert response.status_code == 200
    assert "请附上报送的内容" in body(response)
    assert not DataSubmission.objects.exists()


def test_the_review_is_recorded_on_the_years_page(client, personas, sent, chinese):
    client.force_login(personas[OFFICIAL])
    url = reverse("reporting:submission", args=[sent.year])
    refused = client.post(url, {"review": "returned", "reviewed_on": D(sent.year, 6, 5), "remarks": ""})
    assert "请填写龙岩退回的原因。" in body(refused)
    client.post(url, {"review": "passed", "reviewed_on": D(sent.year, 6, 5)})
    sent.refresh_from_db()
    assert sent.review == "passed"


def test_full_numbers_are_downloaded_only_by_who_may_see_them(client, personas, sent):
    """The administrator's exports carry full ID numbers: an official sees the file listed, not a link, and is
    refused the download; the administrator's download is logged as a disclosure."""
    item = sent.files.get(dataset="households")
    url = reverse("reporting:submission-file", args=[item.pk])
    client.force_login(personas[OFFICIAL])
    assert url not in body(client.get(reverse("reporting:submission", args=[sent.year])))
    assert client.get(url).status_code == 404
    client.force_login(personas[ADMIN])
    logged = PersonalDataAccess.objects.count()
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content)[:2] == b"PK"
    assert PersonalDataAccess.objects.count() == logged + 1
    client.force_login(personas[STAFF])
    assert client.get(url).status_code == 403


def test_the_dashboard_and_the_home_say_whether_this_years_was_sent(client, personas, sent, chinese):
    """ "今年数据是否已提交龙岩": not yet (late after 31 May), then sent on X by Y."""
    client.force_login(personas[OFFICIAL])
    today = timezone.localdate()
    not_yet = "已逾期" if today > submissions.due_on(today.year) else "尚未报送"
    assert not_yet in body(client.get(reverse("reporting:dashboard")))
    assert "今年数据尚未提交龙岩" in body(client.get("/"))
    submissions.record_submission(
        actor=personas[OFFICIAL], year=today.year, sent_on=today, recipient="龙岩市住建局", attach_exports=False,
        uploads=[xlsx()],
    )  # fmt: skip
    dashboard = body(client.get(reverse("reporting:dashboard")))
    assert f"已于 {today:%Y-%m-%d} 由 {personas[OFFICIAL].username} 报送" in dashboard
    assert "今年数据已提交龙岩" in body(client.get("/"))
    client.force_login(personas[STAFF])  # a township's dashboard does not carry the city's sending
    assert "data-submission-state" not in body(client.get(reverse("reporting:dashboard")))


def test_the_exports_page_leads_to_the_submission(client, personas):
    client.force_login(personas[OFFICIAL])
    assert f'href="{LIST}"' in body(client.get(reverse("reporting:exports")))
    client.force_login(personas[STAFF])
    assert f'href="{LIST}"' not in body(client.get(reverse("reporting:exports")))


@pytest.mark.parametrize("persona", [ADMIN, OFFICIAL])
def test_the_list_queries_do_not_grow_with_years(client, personas, django_assert_num_queries, persona):
    client.force_login(personas[persona])
    admin = personas[ADMIN]
    for year in (2021, 2022):
        submissions.record_submission(
            actor=admin, year=year, sent_on=D(year, 5, 1), recipient="龙岩", attach_exports=False, uploads=[xlsx()]
        )
    client.get(LIST)  # warm
    with django_assert_num_queries(QUERIES) as first:
        client.get(LIST)
    for year in (2023, 2024, 2025):
        submissions.record_submission(
            actor=admin, year=year, sent_on=D(year, 5, 1), recipient="龙岩", attach_exports=False, uploads=[xlsx()]
        )
    with django_assert_num_queries(QUERIES):
        response = client.get(LIST)
    assert body(response).count('href="/reports/longyan/20') == 5 and first


QUERIES = 7

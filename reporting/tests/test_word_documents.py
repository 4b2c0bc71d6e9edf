"""The reporting app's Word documents, read back with python-docx: a unit's report (headings, the figures table equal
to the selectors' figures, 附件, 落款 with the date), the consolidated report (headline figures, late units, late items
per township, the chart), the city's year-end summary; who may download each; the stamped copy's upload (refused in
Chinese with nothing changed, shown as received on the report page and in the consolidated report); query counts."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override
from docx import Document
from docx.shared import Pt
from openpyxl import load_workbook

from households.models import Household
from housing_safety.access import SYSTEM, Role
from housing_safety.models import HeldUpload
from housing_safety.tests.kit import rows_of
from housing_safety.word import DOCX_TYPE
from reporting import documents, selectors, services, word_documents
from reporting.models import LATE_BY_TOWNSHIP, ConsolidatedReport, MonthlyReport, ReportKind, ReportStatus

from .test_unit_reports import households, report_of

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), "white").save(buffer, "PNG")
    return buffer.getvalue()


def read(content: bytes) -> Document:
    return Document(io.BytesIO(content))


def texts(document) -> list[str]:
    return [paragraph.text for paragraph in document.paragraphs if paragraph.text.strip()]


def table_rows(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


@pytest.fixture
def submitted(xinqiao, shuangyang, staff, other_staff, poverty_office):
    """This month's reports: 新桥镇's submitted on time (with two households), 双洋镇's submitted late, the poverty
    office's late and not submitted."""
    households(xinqiao, 2)
    late = households(shuangyang, 1)
    today = timezone.localdate()
    # 双洋镇's household was registered two months ago and is not appraised: late on the lists
    Household.objects.filter(pk=late[0].pk).update(registered_on=today - datetime.timedelta(days=60))
    services.open_reports(kind=ReportKind.MONTHLY, day=today)
    period = today.replace(day=1)
    on_time, late = report_of(xinqiao, period), report_of(shuangyang, period)
    services.save_report(
        actor=staff, report=on_time, progress="完成入户排查\n督促补鉴定", problems_handled="无", submit=True
    )
    services.save_report(actor=other_staff, report=late, progress="迟报", problems_handled="无", submit=True)
    MonthlyReport.objects.filter(pk=late.pk).update(on_time=False)
    MonthlyReport.objects.filter(unit=poverty_office, period=period).update(status=ReportStatus.LATE)
    on_time.refresh_from_db()
    return {"xinqiao": on_time, "shuangyang": MonthlyReport.objects.get(pk=late.pk), "period": period}


# The unit's report ---------------------------------------------------------------------------------------------


def test_a_units_report_reads_back_with_its_headings_figures_attachment_and_signature(submitted, chinese):
    report = submitted["xinqiao"]
    document = read(word_documents.unit_report_docx(report, timezone.localdate()))
    lines = texts(document)
    month = f"{report.period.year}年{report.period.month}月"
    assert lines[0] == f"新桥镇人民政府关于{month}贫困人口住房安全有保障专项整治工作进展情况的报告"
    assert lines[1] == "漳平市住房和城乡建设局："  # 主送
    assert "（草稿，未报送）" not in lines  # submitted: no draft mark
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["一、本月整治工作进展情况", "二、突出问题处理情况", "三、主要数据"]
    assert "完成入户排查" in lines and "督促补鉴定" in lines  # the narrative, line by line
    assert any(line.startswith("附件：新桥镇人民政府") for line in lines)
    submitted_on = timezone.localdate(report.submitted_at)
    date = f"{submitted_on.year}年{submitted_on.month}月{submitted_on.day}日"
    signature = lines.index(date)
    assert lines[signature - 1] == "新桥镇人民政府"  # the 落款: the unit, then the date
    assert document.paragraphs[[p.text for p in document.paragraphs].index(date)].alignment == 2  # right
    # the figures table: every figure the selectors give the report (frozen as submitted), as the page shows them
    (table,) = document.tables
    rows = table_rows(table)
    assert rows[0] == ["类别", "事项", "数值"]
    figures = selectors.report_figures(report, timezone.localdate())
    assert figures == report.figures and figures["covered"] == 2
    shown = {(group, label): value for group, label, value in rows[1:]}
    assert len(shown) == len(selectors.COLUMNS)
    for column in selectors.COLUMNS:
        assert shown[(str(column.group), str(column.label))] == word_documents._figure(figures[column.key], column.kind)
    assert shown[(str(selectors.COLUMNS[0].group), str(selectors.COLUMNS[0].label))] == "2"  # covered


def test_the_document_has_the_official_layout(submitted, chinese):
    document = read(word_documents.unit_report_docx(submitted["xinqiao"], timezone.localdate()))
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)  # A4, in twips
    margins = (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    assert [round(margin.mm, 1) for margin in margins] == [37, 35, 28, 26]
    title = document.paragraphs[0]
    assert title.alignment == 1 and title.runs[0].font.size == Pt(22)
    fonts = title.runs[0]._element.rPr.rFonts
    assert fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") == "方正小标宋简体"
    body = next(p for p in document.paragraphs if p.text == "完成入户排查")
    assert body.paragraph_format.first_line_indent == Pt(32) and body.runs[0].font.size == Pt(16)
    heading = next(p for p in document.paragraphs if p.text.startswith("一、"))
    assert (
        heading.runs[0]._element.rPr.rFonts.get(
            "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia"
        )
        == "黑体"
    )
    # the fallbacks Word takes on a computer without the official fonts
    font_table = next(r.target_part for r in document.part.rels.values() if r.reltype.endswith("/fontTable"))
    assert "方正小标宋简体" in font_table.blob.decode() and 'w:altName w:val="宋体"' in font_table.blob.decode()


def test_a_draft_prints_live_figures_dated_today(submitted, xinqiao, staff, chinese):
    today = timezone.localdate()
    services.open_reports(kind=ReportKind.YEAR_END, day=today.replace(month=11, day=1))
    draft = MonthlyReport.objects.get(unit__township=xinqiao, kind=ReportKind.YEAR_END)
    households(xinqiao, 1)  # a household registered since: a draft's figures are live
    lines = texts(read(word_documents.unit_report_docx(draft, today)))
    assert "一、专项整治工作开展情况" in lines and "（尚未填写。）" in lines
    assert lines[1] == "（草稿，未报送）"  # under the title: a draft is marked so on its face
    assert f"{today.year}年{today.month}月{today.day}日" in lines  # the 落款 of a draft: today
    table = read(word_documents.unit_report_docx(draft, today)).tables[0]
    covered = next(row for row in table_rows(table) if row[1] == str(selectors.COLUMNS[0].label))
    assert covered[2] == str(selectors.report_figures(draft, today)["covered"]) == "3"


# The consolidated report ---------------------------------------------------------------------------------------


def test_the_consolidated_report_reads_back_with_figures_late_units_late_items_and_chart(submitted, chinese):
    today = timezone.localdate()
    document = read(word_documents.current_consolidated_docx(today))
    lines = texts(document)
    assert lines[0].startswith("农村低收入群体等重点对象住房安全工作汇总月报") and lines[1] == "局领导："
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings[:3] == ["一、主要数据", "二、各单位报送情况", "三、各乡镇逾期事项"]
    figures, units, late = document.tables
    _rows, totals = selectors.township_table(SYSTEM, today)
    assert table_rows(figures)[1:] == [[str(label), str(value)] for label, value in documents.key_figures(totals)]
    assert "在住危房（栋）" in [row[0] for row in table_rows(figures)]  # houses, not the dashboard's households
    # the late units: 双洋镇 submitted late, the poverty office not at all; stamped copies counted
    late_line = next(line for line in lines if line.startswith("逾期："))
    assert "双洋镇人民政府" in late_line and "漳平市扶贫开发办公室" in late_line and "新桥镇" not in late_line
    by_unit = {row[0]: row for row in table_rows(units)[1:]}
    assert by_unit["新桥镇人民政府"][1] == "按时报送" and by_unit["新桥镇人民政府"][3] == "未收到"
    # late items per township equal the late lists' counts (the households are not appraised past their month)
    counts = selectors.late_counts_by_township(SYSTEM, today)
    header, *township_rows = table_rows(late)
    assert header[0] == "乡镇（街道）" and township_rows[-1][0] == "合计"
    assert document.inline_shapes and len(document.inline_shapes) == 1  # the chart
    assert lines[-1] == f"{today.year}年{today.month}月{today.day}日" and lines[-2] == "漳平市住房和城乡建设局"
    shown = sum(int(cell) for row in township_rows[:-1] for cell in row[1:])
    expected = sum(n for township, kinds in counts.items() if township for kind, n in kinds.items() if kind != "lead")
    assert shown == expected > 0
    assert [int(cell) for cell in township_rows[-1][1:]] == [
        sum(int(row[index]) for row in township_rows[:-1]) for index in range(1, len(header))
    ]


def test_a_stored_consolidated_report_reads_its_figures_and_chart_as_built(submitted, chinese):
    report, _built = services.build_consolidated_report(day=timezone.localdate())
    report.key_figures = {**report.key_figures, "covered": 1234}  # what was e-mailed, not today's count
    report.save(update_fields=["key_figures"])
    document = read(word_documents.stored_consolidated_docx(report))
    assert table_rows(document.tables[0])[1][1] == "1,234"  # the first headline figure: covered households
    assert len(document.inline_shapes) == 1
    received = {row[0]: row[3] for row in table_rows(document.tables[1])[1:]}
    assert received["新桥镇人民政府"] == "未收到"
    # the late items as counted when it was built, the same day as its figures (not the sweep's records, empty here)
    late_rows = table_rows(document.tables[2])[1:]
    counted = selectors.late_counts_by_township(SYSTEM, timezone.localdate())
    assert sum(int(cell) for row in late_rows[:-1] for cell in row[1:]) == sum(
        n for township, kinds in counted.items() if township for kind, n in kinds.items() if kind != "lead"
    )
    assert any(int(cell) for cell in late_rows[-1][1:])
    chart_heading = texts(document).index("四、各乡镇住房安全保障状况")
    assert texts(document)[chart_heading + 1].startswith("各乡镇帮扶对象")  # the chart's line, not an empty heading


def test_the_late_items_stored_with_the_report_are_the_late_lists_counts(submitted):
    """Counted as the workbook writes its overdue sheet, not by reading the late lists again: the same numbers."""
    report, _built = services.build_consolidated_report(day=timezone.localdate())
    counted = selectors.late_counts_by_township(SYSTEM, timezone.localdate())
    stored = ConsolidatedReport.objects.get(pk=report.pk).key_figures[LATE_BY_TOWNSHIP]
    assert stored == {str(township or ""): kinds for township, kinds in counted.items()}
    assert sum(n for kinds in counted.values() for n in kinds.values()) > 0


def test_a_past_months_report_says_its_figures_are_as_of_its_own_day(submitted, chinese):
    report, _built = services.build_consolidated_report(day=timezone.localdate())
    last_month = (report.period - datetime.timedelta(days=1)).replace(day=1)
    report.period = last_month  # built after its month ended (today)
    report.save(update_fields=["period"])
    month_end = report.period.replace(day=28) + datetime.timedelta(days=4)
    month_end -= datetime.timedelta(days=month_end.day)
    lines = texts(read(word_documents.stored_consolidated_docx(report)))
    assert any(line.startswith(f"数据截至{month_end:%Y-%m-%d}，") for line in lines)
    assert lines[-1] == f"{month_end.year}年{month_end.month}月{month_end.day}日"  # dated the same day


# The city's year-end summary -----------------------------------------------------------------------------------


def test_the_year_end_summary_reads_back_with_the_plans_sections_and_their_figures(submitted, chinese):
    today = timezone.localdate()
    summary = selectors.year_end_summary(today.year, today)
    document = read(word_documents.year_end_docx(summary))
    lines = texts(document)
    assert lines[0] == f"贫困人口住房安全专项整治工作总结（{today.year}年）"
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == [
        "一、主要任务完成情况",
        "二、工作机制运行情况",
        "三、问题排查与整改",
        "四、分乡镇：尚未解决的问题",
    ]
    for (heading, figures), table in zip(summary["sections"], document.tables, strict=False):
        assert any(line.endswith(str(heading)) for line in lines)  # its own line, or the heading it shares a name with
        assert table_rows(table)[1:] == [[str(label), word_documents._figure(v, kind)] for label, v, kind in figures]
    township_rows = {row[0]: row for row in table_rows(document.tables[-1])[1:]}
    for row in summary["townships"]:
        assert township_rows[row["township"].name][5] == str(row["figures"]["dangerous_houses"])
    assert lines[-2:] == ["漳平市住房和城乡建设局", f"{today.year}年{today.month}月{today.day}日"]


# Downloads: who may, from which page ---------------------------------------------------------------------------


def test_a_units_people_and_the_bureau_download_the_units_report_others_get_404_or_403(
    client, submitted, staff, other_staff, official, personas
):
    url = reverse("reporting:report-docx", args=[submitted["xinqiao"].pk])
    for user, status in [
        (staff, 200), (official, 200), (personas[Role.BUREAU_ADMIN], 200), (other_staff, 404),
        (personas[Role.DEPARTMENT_LIAISON], 404), (personas[Role.COMPLAINT_CLERK], 403), (personas[Role.HELPER], 403),
    ]:  # fmt: skip
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == status, user
        if status == 200:
            assert response["Content-Type"] == DOCX_TYPE and "attachment" in response["Content-Disposition"]
            assert read(response.content).paragraphs[0].text
    client.logout()
    assert client.get(url).status_code == 302


def test_the_report_page_links_its_word_document(client, submitted, staff):
    client.force_login(staff)
    page = client.get(submitted["xinqiao"].get_absolute_url()).content.decode()
    assert reverse("reporting:report-docx", args=[submitted["xinqiao"].pk]) in page
    assert 'data-stamped="missing"' in page and 'name="stamped"' in page  # submitted: the upload is offered


@pytest.mark.parametrize("name", ["consolidated-now-docx", "year-end-docx"])
def test_only_the_bureau_downloads_the_citys_documents(client, submitted, staff, official, personas, name):
    url = reverse(f"reporting:{name}", args=[timezone.localdate().year] if name == "year-end-docx" else [])
    for user, status in [(official, 200), (personas[Role.BUREAU_ADMIN], 200), (staff, 403)]:
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == status
        if status == 200:
            assert read(response.content).tables


def test_the_consolidated_and_year_end_pages_link_their_word_documents(client, submitted, official):
    report, _built = services.build_consolidated_report(day=timezone.localdate())
    client.force_login(official)
    reports_page = client.get(reverse("reporting:reports")).content.decode()
    assert reverse("reporting:consolidated-docx", args=[report.pk]) in reports_page
    assert reverse("reporting:consolidated-now-docx") in reports_page
    year = timezone.localdate().year
    year_page = client.get(reverse("reporting:year-end", args=[year])).content.decode()
    assert reverse("reporting:year-end-docx", args=[year]) in year_page
    response = client.get(reverse("reporting:consolidated-docx", args=[report.pk]))
    assert response.status_code == 200 and read(response.content).inline_shapes


# The stamped copy ----------------------------------------------------------------------------------------------


def upload(client, report, content: bytes, name: str):
    file = SimpleUploadedFile(name, content)
    return client.post(report.get_absolute_url(), {"stamped": "1", "stamped_copy": file})


def test_the_unit_uploads_its_stamped_copy_and_the_bureau_sees_it_received(client, submitted, staff, official):
    report = submitted["xinqiao"]
    client.force_login(staff)
    response = upload(client, report, PDF, "盖章件.pdf")
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.stamped_received_by == staff and report.stamped_copy_type == "application/pdf"
    assert report.stamped_copy_name == "盖章件.pdf" and report.stamped_copy.name.startswith("reports/stamped/")
    client.force_login(official)
    page = client.get(report.get_absolute_url()).content.decode()
    assert 'data-stamped="received"' in page and "已收到盖章件" in page and 'name="stamped"' not in page
    scan = client.get(reverse("reporting:report-stamped-copy", args=[report.pk]))
    assert scan.status_code == 200 and scan["Content-Type"] == "application/pdf"
    assert b"".join(scan.streaming_content) == PDF
    # the consolidated report, the workbook and the document, show it received
    with override("zh-hans"):
        document = read(word_documents.current_consolidated_docx(timezone.localdate()))
        workbook = load_workbook(io.BytesIO(documents.consolidated_workbook(timezone.localdate())))
    assert {row[0]: row[3] for row in table_rows(document.tables[1])[1:]}["新桥镇人民政府"] == "已收到盖章件"
    sheet = workbook.worksheets[1]
    values = {row[0]: row[-1] for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert values["新桥镇人民政府"] == "已收到盖章件" and values["双洋镇人民政府"] == "未收到"


def test_the_grid_marks_the_reports_whose_stamped_copy_came_in(client, submitted, staff, official):
    client.force_login(staff)
    upload(client, submitted["xinqiao"], PDF, "scan.pdf")
    client.force_login(official)
    page = client.get(reverse("reporting:reports")).content.decode()
    marked = page.split('data-stamped="received"')
    assert len(marked) == 2 and submitted["xinqiao"].get_absolute_url() in marked[0].rsplit("<a", 1)[-1]


def test_a_picture_scan_is_kept_re_encoded(client, submitted, staff):
    client.force_login(staff)
    assert upload(client, submitted["xinqiao"], png(), "scan.png").status_code == 302
    report = MonthlyReport.objects.get(pk=submitted["xinqiao"].pk)
    assert report.stamped_copy_type == "image/png" and report.stamped_copy.read().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("content", "name", "reason"),
    [
        (b"MZ\x90\x00 not a scan", "scan.pdf", "盖章件须为 PDF、JPEG 或 PNG 格式的扫描件"),  # a renamed program
        (b"PK\x03\x04", "scan.docx", "盖章件须为 PDF、JPEG 或 PNG 格式的扫描件"),  # not even a Word file
    ],
)
def test_a_bad_upload_is_refused_in_chinese_and_changes_nothing(client, submitted, staff, content, name, reason):
    report = submitted["xinqiao"]
    client.force_login(staff)
    before = rows_of(MonthlyReport)
    response = upload(client, report, content, name)
    assert response.status_code == 200
    text = response.content.decode()
    assert reason in text and "Excel" not in text  # what a stamped copy may be, not what attachments may
    assert rows_of(MonthlyReport) == before


def test_a_word_file_is_refused_as_a_stamped_copy(client, submitted, staff):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    client.force_login(staff)
    before = rows_of(MonthlyReport)
    response = upload(client, submitted["xinqiao"], buffer.getvalue(), "report.docx")
    assert "盖章件须为 PDF、JPEG 或 PNG 格式的扫描件" in response.content.decode()
    assert rows_of(MonthlyReport) == before


@pytest.mark.parametrize(("content", "name"), [(b"just notes", "notes.txt"), (b"just notes", "fake.pdf")])
def test_a_refused_file_is_not_held_and_the_message_says_what_is_taken(client, submitted, staff, content, name):
    report = submitted["xinqiao"]
    client.force_login(staff)
    text = upload(client, report, content, name).content.decode()
    assert "盖章件须为 PDF、JPEG 或 PNG 格式的扫描件" in text and "Excel" not in text
    assert "已保留" not in text and name not in text  # not held: the next submit is not refused with it again
    assert HeldUpload.objects.count() == 0
    assert upload(client, report, PDF, "scan.pdf").status_code == 302  # choosing a good file is all it takes


def test_an_unsubmitted_report_takes_no_stamped_copy(client, poverty_office, submitted, personas):
    report = MonthlyReport.objects.get(unit=poverty_office, period=submitted["period"])
    client.force_login(personas[Role.DEPARTMENT_LIAISON])
    before = rows_of(MonthlyReport)
    response = upload(client, report, PDF, "scan.pdf")
    assert "请先报送报告" in response.content.decode()
    assert rows_of(MonthlyReport) == before


def test_others_cannot_upload_or_see_a_units_stamped_copy(client, submitted, staff, other_staff, official):
    report = submitted["xinqiao"]
    scan = reverse("reporting:report-stamped-copy", args=[report.pk])
    client.force_login(staff)
    assert client.get(scan).status_code == 404  # nothing received yet
    before = rows_of(MonthlyReport)
    client.force_login(other_staff)
    assert upload(client, report, PDF, "scan.pdf").status_code == 404
    client.force_login(official)  # the bureau receives it; it does not file the unit's copy
    assert upload(client, report, PDF, "scan.pdf").status_code == 403
    assert rows_of(MonthlyReport) == before
    client.force_login(staff)
    upload(client, report, PDF, "scan.pdf")
    client.force_login(other_staff)
    assert client.get(scan).status_code == 404


# Query counts --------------------------------------------------------------------------------------------------


def test_the_download_views_queries_are_pinned(client, submitted, staff, official, django_assert_num_queries):
    """Session, user, permissions and scope as the pages have them, then the records each document reads; a fixed
    number whatever the rows (the figures and late lists are grouped in the database)."""
    report = submitted["xinqiao"]
    consolidated, _built = services.build_consolidated_report(day=timezone.localdate())
    client.force_login(staff)
    upload(client, report, PDF, "scan.pdf")
    year = timezone.localdate().year
    cases = [
        (staff, reverse("reporting:report-docx", args=[report.pk]), 8),
        (staff, reverse("reporting:report-stamped-copy", args=[report.pk]), 7),
        (official, reverse("reporting:consolidated-docx", args=[consolidated.pk]), 8),  # its late items stored
        (official, reverse("reporting:consolidated-now-docx"), 32),
        (official, reverse("reporting:year-end-docx", args=[year]), 34),
    ]

    def check() -> None:
        for user, url, expected in cases:
            client.force_login(user)
            client.get(url)  # warm
            with django_assert_num_queries(expected):
                assert client.get(url).status_code == 200

    check()
    households(submitted["xinqiao"].unit.township, 3)  # more rows, the same queries
    check()

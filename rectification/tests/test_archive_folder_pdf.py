"""The household archive's paper folder (issue 18, 一户一档): "a printable cover (household, house, case number,
programme year, township) and a contents list (each required document by step, present or missing, with page
counts) for the paper folder; the archive ZIP includes them as PDF."

Read back: the cover's text holds the case's values with the ID number masked; the contents list marks each document
present or missing as the archive holds it, a PDF's pages counted (an image is one page); the fonts cover the text.
"""

from __future__ import annotations

import io
import re
import zipfile

import pypdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from households.identity import mask_id_number
from households.tests.factories import HouseholdFactory
from housing_safety import disclosure, printing
from housing_safety.models import PrintJob
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
    embedded_characters,
    keep_page_image,
    login,
    pdf_text,
)
from rectification import paper, services
from rectification.models import CaseDocument, DocumentKind, RenovationCase
from rectification.tests.factories import dangerous_dwelling, new_case

pytestmark = pytest.mark.django_db

URL = "rectification:case-folder"


def pdf_file(name: str, pages: int) -> SimpleUploadedFile:
    writer = pypdf.PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/pdf")


@pytest.fixture
def case(world):
    """A case at its application: the application and the category proof filed (images), the identity proof
    missing, the village certificate (optional) filed as a three-page PDF."""
    staff = world["users"][STAFF]
    household = HouseholdFactory(village=world["home"], head_name="林木根")
    case = new_case(staff, dangerous_dwelling(household, address="东坑村2组15号"))
    CaseDocument.objects.filter(case=case, kind__code="identity_proof").delete()
    certificate = DocumentKind.objects.get(code="village_certificate")
    services.add_case_documents(actor=staff, case=case, documents=[(certificate, pdf_file("村级证明.pdf", 3))])
    case.refresh_from_db()
    return case


def marks(text: str) -> dict[str, str]:
    """Each document's mark in the contents list's text: 有 or 缺."""
    found = {}
    for name in ("农户申请书", "身份证明", "帮扶对象类别证明", "村级证明", "村民评议记录"):
        match = re.search(rf"{name}\s*(?:（选填）)?\s+(有|缺)", text)
        if match:
            found[name] = match.group(1)
    return found


def test_the_cover_and_contents_read_back(client, personas, case):
    login(client, personas, STAFF)

    response = client.get(reverse(URL, args=[case.pk]))

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader, text = pdf_text(response.content)
    assert len(reader.pages) == 2
    cover = reader.pages[0].extract_text().replace("一 户 一 档", "一户一档")  # the title's letter spacing
    household = case.household
    for expected in ("一户一档", case.number, str(case.programme_year), "新桥镇", "东坑村", "林木根", "东坑村2组15号",
                     case.get_renovation_type_display(), mask_id_number(household.id_number)):  # fmt: skip
        assert expected in cover, expected
    assert household.id_number not in text
    contents = reader.pages[1].extract_text()
    assert "档案目录" in contents and "共5页" in contents and "缺1份" in contents
    assert marks(contents) == {"农户申请书": "有", "身份证明": "缺", "帮扶对象类别证明": "有", "村级证明": "有"}
    assert set(text) - {"\n", " "} <= embedded_characters(reader)
    keep_page_image(response.content, "archive-cover.png", page=0)
    keep_page_image(response.content, "archive-contents.png", page=1)


def test_the_contents_follow_the_archive(case):
    """Present or missing as the case page's completeness says; a PDF's pages counted, an image one page."""
    documents = list(case.documents.select_related("kind", "attachment"))
    rows = {row.kind: row for row in paper.contents_of(case, documents)}

    assert {kind: row.present for kind, row in rows.items()} == {
        "农户申请书": True, "身份证明": False, "帮扶对象类别证明": True, "村级证明": True,
    }  # fmt: skip
    assert rows["村级证明"].pages == 3 and rows["农户申请书"].pages == 1 and rows["身份证明"].pages == 0
    assert [row.number for row in rows.values()] == [1, "", 2, 3]


def test_the_id_number_in_full_only_after_the_logged_unmask(client, personas, case):
    household = case.household
    login(client, personas, STAFF)
    url = reverse(URL, args=[case.pk])
    client.post(
        reverse("unmask", args=[disclosure.record_type(household), household.pk]),
        {"reason": "打印档案封面存档", "next": url},
    )

    assert household.id_number in pdf_text(client.get(url).content)[1]


def test_the_archive_zip_holds_the_cover_and_contents(client, personas, case):
    login(client, personas, STAFF)

    response = client.get(reverse("rectification:case-archive", args=[case.pk]))

    archive = zipfile.ZipFile(io.BytesIO(response.content))
    cover = archive.read("000-档案封面.pdf")
    contents = archive.read("000-档案目录.pdf")
    assert case.number in pdf_text(cover)[1] and mask_id_number(case.household.id_number) in pdf_text(cover)[1]
    assert case.household.id_number not in pdf_text(cover)[1]
    assert marks(pdf_text(contents)[1])["身份证明"] == "缺"


def test_one_click_from_the_case_page(client, personas, case):
    login(client, personas, STAFF)

    page = client.get(reverse("rectification:case", args=[case.pk])).content.decode()

    assert reverse(URL, args=[case.pk]) in page and "打印档案封面和目录（PDF）" in page


@pytest.mark.parametrize(
    ("persona", "status"),
    [(ANON, 302), (NO_ROLE, 403), (HELPER, 403), (CLERK, 403), (LIAISON, 403), (STAFF, 200), (OFFICIAL, 200),
     (ADMIN, 200)],
)  # fmt: skip
def test_who_may_print_the_folder(client, personas, case, persona, status):
    login(client, personas, persona)
    url = reverse(URL, args=[case.pk])

    response = client.get(url)

    if persona == ANON:
        assert_login_redirect(response, url)
    assert response.status_code == status


def test_another_townships_folder_is_not_found(client, personas, world):
    household = HouseholdFactory(village=world["other"])
    elsewhere = new_case(world["users"][ADMIN], dangerous_dwelling(household))
    login(client, personas, STAFF)

    assert client.get(reverse(URL, args=[elsewhere.pk])).status_code == 404


# A township's folders in one print, laid out in the background ---------------------------------------------------

BATCH = "rectification:township-folders"


def test_a_townships_covers_print_in_the_background_for_the_one_who_asked(
    client, personas, world, case, django_capture_on_commit_callbacks, monkeypatch
):
    """Every case of the township, a cover and a contents list each, ID numbers masked; chunked (one case a chunk
    here) so that the chunks are joined; the other township's case is not in it."""
    monkeypatch.setattr(printing, "CHUNK", 1)
    second = new_case(
        world["users"][STAFF], dangerous_dwelling(HouseholdFactory(village=world["home"], head_name="郑春花"))
    )
    new_case(world["users"][ADMIN], dangerous_dwelling(HouseholdFactory(village=world["other"], head_name="张外乡")))
    login(client, personas, STAFF)
    archive = client.get(reverse("rectification:archive")).content.decode()
    assert reverse(BATCH, args=[world["xinqiao"].pk]) in archive and "打印（PDF）" in archive

    with django_capture_on_commit_callbacks(execute=True):  # the worker's turn (inline: no broker in tests)
        response = client.post(reverse(BATCH, args=[world["xinqiao"].pk]))

    job = PrintJob.objects.get()
    assert response["Location"] == reverse("print-job", args=[job.pk])
    assert (job.status, job.total, job.done, job.title) == (PrintJob.Status.READY, 2, 2, "新桥镇档案封面和目录（2户）")
    assert f'href="{reverse("rectification:archive")}"' in client.get(response["Location"]).content.decode()
    reader, text = pdf_text(client.get(reverse("print-job-file", args=[job.pk])).content)
    assert len(reader.pages) == 4
    assert "林木根" in reader.pages[0].extract_text() and "档案目录" in reader.pages[1].extract_text()
    assert second.number in reader.pages[2].extract_text() and "郑春花" in reader.pages[3].extract_text()
    assert "张外乡" not in text
    assert case.household.id_number not in text and second.household.id_number not in text
    assert mask_id_number(case.household.id_number) in text
    assert marks(reader.pages[1].extract_text())["身份证明"] == "缺"  # the same contents as the case's own folder


def test_the_batch_reads_each_chunks_documents_at_once(world, case, django_assert_num_queries):
    more = [
        new_case(world["users"][STAFF], dangerous_dwelling(HouseholdFactory(village=world["home"]))) for _ in range(3)
    ]
    cases = list(RenovationCase.objects.filter(pk__in=[case.pk, *[c.pk for c in more]]).select_related(
        "household__village", "township", "dwelling"))  # fmt: skip

    with django_assert_num_queries(2):  # the chunk's documents with their files, the kinds
        paper.FOLDERS_PRINT_REGISTRATION["render"](cases)


def test_another_townships_covers_are_not_printed(client, personas, world):
    new_case(world["users"][ADMIN], dangerous_dwelling(HouseholdFactory(village=world["other"])))
    login(client, personas, STAFF)

    assert client.post(reverse(BATCH, args=[world["shuangyang"].pk])).status_code == 404
    assert not PrintJob.objects.exists()


def test_a_township_without_cases_says_so_and_prints_nothing(client, personas, world):
    login(client, personas, STAFF)

    response = client.post(reverse(BATCH, args=[world["xinqiao"].pk]), follow=True)

    assert "新桥镇没有可打印的危房改造案件。" in response.content.decode()
    assert not PrintJob.objects.exists()


@pytest.mark.parametrize(("persona", "status"), [(ANON, 302), (HELPER, 403), (CLERK, 403), (LIAISON, 403)])
def test_who_may_print_a_townships_covers(client, personas, case, world, persona, status):
    login(client, personas, persona)

    assert client.post(reverse(BATCH, args=[world["xinqiao"].pk])).status_code == status
    assert not PrintJob.objects.exists()

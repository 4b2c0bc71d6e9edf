"""Word and Excel attachments are zips: held to an uploaded list's bounds (housing_safety.spreadsheets.check_archive)
before they are stored, so a document that unpacks to gigabytes never reaches a case's archive ZIP."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from households import services
from households.models import Attachment, Household

from .test_uploads import _admin_change_body

pytestmark = pytest.mark.usefixtures("chinese")

CONTENT_TYPES = (
    b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    b'wordprocessingml.document.main+xml"/></Types>'
)
BOMB_UNPACKED = 100 * 1024 * 1024
BOMB_MESSAGE = "该文件的压缩比为 {ratio} 比 1，远超真实的文档或表格（最多 100 比 1）：疑为“压缩炸弹”，拒绝接收。"


def docx(body: bytes | None = None, *, bomb: bool = False) -> bytes:
    """A Word document: its body `body`, or (bomb) 100 MB of one repeated character, deflated to about 100 KB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        if bomb:
            with archive.open("word/document.xml", "w") as part:
                chunk = b"0" * (1024 * 1024)
                for _megabyte in range(BOMB_UNPACKED // len(chunk)):
                    part.write(chunk)
        else:
            archive.writestr("word/document.xml", body or "<w:document>危房改造协议</w:document>".encode())
    return buffer.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    content = docx(bomb=True)
    return content


def bomb_message(content: bytes) -> str:
    part = zipfile.ZipFile(io.BytesIO(content)).getinfo("word/document.xml")
    return BOMB_MESSAGE.format(ratio=f"{part.file_size / part.compress_size:,.0f}")


def test_the_bomb_is_what_it_claims(bomb):
    assert 50 * 1024 < len(bomb) < 200 * 1024
    part = zipfile.ZipFile(io.BytesIO(bomb)).getinfo("word/document.xml")
    assert part.file_size == BOMB_UNPACKED


def test_a_zip_bomb_docx_is_refused_by_the_service_and_nothing_is_stored(staff, home_household, bomb, settings):
    with pytest.raises(ValidationError) as refused:
        services.add_attachment(
            actor=staff,
            record=home_household,
            uploaded_file=SimpleUploadedFile("协议.docx", bomb),
            kind=Attachment.Kind.DOCUMENT,
        )
    assert refused.value.messages == [bomb_message(bomb)]
    assert refused.value.code == "zip_bomb"
    assert Attachment.objects.count() == 0
    assert not [path for path in settings.MEDIA_ROOT.rglob("*") if path.is_file()]


def test_a_zip_bomb_docx_in_an_admin_inline_is_a_form_error_and_nothing_is_saved(
    client, staff, home_household, bomb, settings
):
    body, prefix = _admin_change_body(home_household)
    body[f"{prefix}-0-file"] = SimpleUploadedFile("协议.docx", bomb)
    histories = Household.history.count()
    client.force_login(staff)

    response = client.post(f"/admin/households/household/{home_household.pk}/change/", body)

    assert response.status_code == 200
    errors = [error for formset in response.context["inline_admin_formsets"] for error in formset.formset.errors]
    assert {"file": [bomb_message(bomb)]} in errors
    assert Attachment.objects.count() == 0
    assert Household.history.count() == histories
    assert not [path for path in settings.MEDIA_ROOT.rglob("*") if path.is_file()]


def test_a_docx_unpacking_beyond_the_total_limit_is_refused(staff, home_household, settings):
    """Compressed like a real document (no ratio alarm), but more in all than the limit: refused too."""
    settings.SPREADSHEET_MAX_UNPACKED_BYTES = 1024
    content = docx(b"<w:document>" + bytes(range(256)) * 8 + b"</w:document>")
    with pytest.raises(ValidationError) as refused:
        services.add_attachment(
            actor=staff, record=home_household, uploaded_file=SimpleUploadedFile("a.docx", content), kind="document"
        )
    assert refused.value.code == "too_large"
    assert "解压后为" in refused.value.messages[0]
    assert Attachment.objects.count() == 0


def test_an_ordinary_docx_is_accepted_by_the_service_and_the_admin_inline(client, staff, home_household):
    """Control for the refusals above."""
    attachment = services.add_attachment(
        actor=staff,
        record=home_household,
        uploaded_file=SimpleUploadedFile("协议.docx", docx()),
        kind=Attachment.Kind.DOCUMENT,
    )
    assert attachment.mime_type == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

    body, prefix = _admin_change_body(home_household)
    body[f"{prefix}-0-file"] = SimpleUploadedFile("协议二.docx", docx())
    client.force_login(staff)
    response = client.post(f"/admin/households/household/{home_household.pk}/change/", body)
    assert response.status_code == 302
    assert Attachment.objects.filter(original_name="协议二.docx").exists()

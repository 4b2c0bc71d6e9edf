"""Photos are stored re-encoded without their metadata: the GPS position a phone writes into a photo of a home is
the home's address. Files too large to decode safely, or damaged, are refused in Chinese and store nothing."""

from __future__ import annotations

import datetime
import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, PngImagePlugin

from households import services
from households.models import Attachment, Dwelling, Household
from housing_safety.admin_base import record_version

from .factories import jpeg_bytes

pytestmark = pytest.mark.usefixtures("chinese")

GPS_IFD, EXIF_IFD, ORIENTATION, MAKE = 0x8825, 0x8769, 0x0112, 0x010F


@pytest.fixture
def staff(personas):
    return personas["township_staff"]


def exif_with_gps(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[MAKE] = "HUAWEI"
    exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (25.0, 17.0, 30.0), 3: "E", 4: (117.0, 24.0, 12.0)})
    exif.get_ifd(EXIF_IFD)[0x9003] = "2026:11:02 09:41:07"
    return exif.tobytes()


def phone_photo(size=(40, 20), orientation: int = 1) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (120, 90, 60)).save(buffer, "JPEG", exif=exif_with_gps(orientation), comment=b"secret")
    return buffer.getvalue()


def attach(staff, household, name: str, content: bytes, **kwargs) -> Attachment:
    return services.add_attachment(
        actor=staff,
        record=household,
        uploaded_file=SimpleUploadedFile(name, content),
        kind=Attachment.Kind.PHOTO,
        **kwargs,
    )


def stored_image(attachment: Attachment) -> Image.Image:
    with attachment.file.open("rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
        return image


def test_the_test_photo_really_carries_gps_and_a_comment():
    """Control for the next test: the metadata it expects to be gone is there before the upload."""
    image = Image.open(io.BytesIO(phone_photo()))
    assert image.getexif().get_ifd(GPS_IFD)[1] == "N"
    assert image.info.get("comment") == b"secret"


def test_a_phone_photo_is_stored_without_gps_or_any_metadata(staff, home_household):
    attachment = attach(staff, home_household, "门口.jpg", phone_photo())

    image = stored_image(attachment)
    assert image.format == "JPEG"
    assert dict(image.getexif()) == {}
    assert "exif" not in image.info and "comment" not in image.info and "xmp" not in image.info
    with attachment.file.open("rb") as handle:
        raw = handle.read()
    assert b"HUAWEI" not in raw and b"secret" not in raw
    assert attachment.mime_type == "image/jpeg" and attachment.size == len(raw)
    assert attachment.original_name == "门口.jpg"


def test_the_day_the_photo_was_taken_is_kept_as_a_field_unless_the_clerk_gave_one(staff, home_household):
    assert attach(staff, home_household, "a.jpg", phone_photo()).taken_on == datetime.date(2026, 11, 2)
    given = attach(staff, home_household, "b.jpg", phone_photo(), taken_on=datetime.date(2026, 10, 1))
    assert given.taken_on == datetime.date(2026, 10, 1)
    assert attach(staff, home_household, "c.jpg", jpeg_bytes()).taken_on is None


def test_a_photo_taken_sideways_is_stored_upright(staff, home_household):
    # Orientation 6: the camera held the phone rotated; viewers turn it 90° using the EXIF tag that is now removed.
    attachment = attach(staff, home_household, "side.jpg", phone_photo(size=(40, 20), orientation=6))
    assert stored_image(attachment).size == (20, 40)


def test_png_text_chunks_are_dropped(staff, home_household):
    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "25.29N 117.40E")
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (1, 2, 3)).save(buffer, "PNG", pnginfo=info)
    assert b"25.29N" in buffer.getvalue()

    attachment = attach(staff, home_household, "map.png", buffer.getvalue())

    with attachment.file.open("rb") as handle:
        assert b"25.29N" not in handle.read()
    assert attachment.mime_type == "image/png"


def test_a_heic_photo_becomes_a_jpeg_without_metadata(staff, home_household):
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 200, 10)).save(buffer, "HEIF", exif=exif_with_gps())
    assert buffer.getvalue()[4:12] in (b"ftypheic", b"ftypmif1")

    attachment = attach(staff, home_household, "IMG_0001.HEIC", buffer.getvalue())

    image = stored_image(attachment)
    assert (image.format, attachment.mime_type) == ("JPEG", "image/jpeg")
    assert dict(image.getexif()) == {}


def _png_claiming(width: int, height: int) -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_a_pixel_flood_is_refused_before_it_is_decoded(staff, home_household, settings):
    settings.ATTACHMENT_MAX_PIXELS = 60_000_000
    flood = _png_claiming(100_000, 100_000)  # 10 billion pixels in 100 bytes: 30 GB if decoded
    with pytest.raises(ValidationError) as refused:
        attach(staff, home_household, "flood.png", flood)
    assert refused.value.messages == ["图片像素数超过上限 60,000,000。"]
    assert Attachment.objects.count() == 0


def test_a_picture_just_over_the_limit_is_refused_too(staff, home_household, settings):
    settings.ATTACHMENT_MAX_PIXELS = 100  # Pillow only warns between 1× and 2× its limit; we refuse from 1×
    with pytest.raises(ValidationError) as refused:
        attach(staff, home_household, "big.jpg", phone_photo(size=(11, 10)))
    assert refused.value.code == "too_many_pixels"
    assert Attachment.objects.count() == 0


def test_a_damaged_photo_is_refused(staff, home_household):
    with pytest.raises(ValidationError) as refused:
        attach(staff, home_household, "broken.jpg", phone_photo()[:300])
    assert refused.value.messages == ["照片已损坏，无法打开。"]
    assert Attachment.objects.count() == 0


# The admin's attachment inlines (household, dwelling, appraisal, placard, revisit, helper report): a bad picture is
# an error on the upload row, in Chinese, like on the custom pages; the record's own changes are not saved either.

BAD_PICTURES = {
    "pixel flood": ("flood.png", _png_claiming(100_000, 100_000), "图片像素数超过上限 60,000,000。"),
    "damaged": ("broken.jpg", phone_photo()[:300], "照片已损坏，无法打开。"),
}


def _admin_change_body(record) -> dict:
    from .test_admin_access import ATTACHMENT_ADD_PREFIX, attachment_inlines_data, household_change_data

    if isinstance(record, Dwelling):
        body = {
            "household": str(record.household_id),
            "address": "改过的地址",
            "structure_type": record.structure_type,
            "storeys": str(record.storeys),
            "is_occupied": "on",
            "neighbour_cooperates": "unknown",
            "_version": record_version(Dwelling, record.pk),
            **attachment_inlines_data(),
        }
    else:
        body = household_change_data(record, head_name="改过的户主")
    return body, ATTACHMENT_ADD_PREFIX


@pytest.mark.parametrize("bad", BAD_PICTURES)
@pytest.mark.parametrize("model", ["household", "dwelling"])
def test_a_bad_picture_in_an_admin_inline_is_a_form_error_and_nothing_is_saved(
    client, staff, home_household, settings, model, bad
):
    settings.ATTACHMENT_MAX_PIXELS = 60_000_000
    record = home_household if model == "household" else home_household.dwellings.get()
    name, content, message = BAD_PICTURES[bad]
    body, prefix = _admin_change_body(record)
    body[f"{prefix}-0-file"] = SimpleUploadedFile(name, content)
    histories = (Household.history.count(), Dwelling.history.count())
    client.force_login(staff)

    response = client.post(f"/admin/households/{model}/{record.pk}/change/", body)

    assert response.status_code == 200  # the form again, not a 500 (the test client raises on one)
    errors = [error for formset in response.context["inline_admin_formsets"] for error in formset.formset.errors]
    assert {"file": [message]} in errors
    assert Attachment.objects.count() == 0
    assert (Household.history.count(), Dwelling.history.count()) == histories
    record.refresh_from_db()
    assert "改过的" not in str(record.head_name if model == "household" else record.address)
    assert not [path for path in settings.MEDIA_ROOT.rglob("*") if path.is_file()]  # no file stored either


@pytest.mark.parametrize("model", ["household", "dwelling"])
def test_a_good_photo_in_an_admin_inline_is_stored_re_encoded(client, staff, home_household, model):
    """Control for the refusals above: the same form with a real photo saves it, without its metadata."""
    record = home_household if model == "household" else home_household.dwellings.get()
    body, prefix = _admin_change_body(record)
    body[f"{prefix}-0-file"] = SimpleUploadedFile("门口.jpg", phone_photo())
    client.force_login(staff)

    response = client.post(f"/admin/households/{model}/{record.pk}/change/", body)

    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert (attachment.record, attachment.mime_type) == (record, "image/jpeg")
    assert dict(stored_image(attachment).getexif()) == {}

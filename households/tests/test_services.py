"""Writes through the services: scope, permission, validation and the history's "who"."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from households import services
from households.models import Attachment, Dwelling, Household, HouseholdCategory, UserProfile
from housing_safety.access import Role, scope_of

from .factories import HouseholdFactory, jpeg_bytes, make_user, png_bytes, valid_id_number

pytestmark = pytest.mark.usefixtures("chinese")

OWN_TOWNSHIP_ONLY = "您只能修改本乡镇（街道）的记录。"
NO_PERMISSION = "您没有执行此操作的权限。"

PNG = png_bytes()
JPEG = jpeg_bytes()
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture
def home_village(home_household):
    return home_household.village


@pytest.fixture
def other_village(other_household):
    return other_household.village


def categories(*codes):
    return list(HouseholdCategory.objects.filter(code__in=codes))


def snapshot():
    """Counts of every table a household write touches."""
    return {
        "households": Household.objects.count(),
        "household_history": Household.history.count(),
        "dwellings": Dwelling.objects.count(),
        "dwelling_history": Dwelling.history.count(),
        "attachments": Attachment.objects.count(),
    }


def new_household(village, **kwargs):
    return Household(
        head_name=kwargs.pop("head_name", "张三"),
        id_number=kwargs.pop("id_number", valid_id_number()),
        village=village,
        members_count=kwargs.pop("members_count", 3),
        **kwargs,
    )


# --- save_household: scope and permission ---------------------------------------------------------------


def test_staff_creates_a_household_in_own_township(staff, home_village):
    before = snapshot()
    household = new_household(home_village, phone="+86 139 1234 5678", id_number=" 35088119900101108x ")
    services.save_household(actor=staff, household=household, categories=categories("minimum_living", "disabled"))

    stored = Household.objects.get(pk=household.pk)
    assert stored.id_number == "35088119900101108X"  # normalised on clean
    assert stored.phone == "13912345678"
    assert stored.village == home_village
    assert sorted(stored.categories.values_list("code", flat=True)) == ["disabled", "minimum_living"]
    assert Household.objects.count() == before["households"] + 1
    # one row for the insert and one for the categories (m2m history); both record the actor
    rows = list(stored.history.order_by("history_id"))
    assert [row.history_type for row in rows] == ["+", "~"]
    assert {row.history_user for row in rows} == {staff}
    assert sorted(c.householdcategory.code for c in rows[-1].categories.all()) == ["disabled", "minimum_living"]


def test_staff_changes_a_household_in_own_township(staff, home_household):
    home_household.head_name = "李四"
    services.save_household(actor=staff, household=home_household)
    home_household.refresh_from_db()
    assert home_household.head_name == "李四"
    latest = home_household.history.latest()
    assert latest.history_type == "~"
    assert latest.history_user == staff
    assert latest.head_name == "李四"


def test_staff_cannot_create_outside_own_township(staff, other_village):
    before = snapshot()
    household = new_household(other_village)
    with pytest.raises(PermissionDenied) as caught:
        services.save_household(actor=staff, household=household, categories=categories("minimum_living"))
    assert str(caught.value) == OWN_TOWNSHIP_ONLY
    assert snapshot() == before
    assert not Household.objects.filter(head_name="张三").exists()


def test_staff_cannot_change_a_household_of_another_township(staff, other_household):
    before = snapshot()
    original_name = other_household.head_name
    other_household.head_name = "篡改"
    with pytest.raises(PermissionDenied) as caught:
        services.save_household(actor=staff, household=other_household)
    assert str(caught.value) == OWN_TOWNSHIP_ONLY
    assert snapshot() == before
    assert Household.objects.get(pk=other_household.pk).head_name == original_name


def test_staff_cannot_move_own_household_to_another_township(staff, home_household, other_village):
    before = snapshot()
    home_village_id = home_household.village_id
    home_household.village = other_village
    with pytest.raises(PermissionDenied) as caught:
        services.save_household(actor=staff, household=home_household)
    assert str(caught.value) == OWN_TOWNSHIP_ONLY
    assert snapshot() == before
    assert Household.objects.get(pk=home_household.pk).village_id == home_village_id


def test_staff_cannot_pull_a_household_of_another_township_into_own(staff, other_household, home_village):
    before = snapshot()
    other_village_id = other_household.village_id
    other_household.village = home_village
    with pytest.raises(PermissionDenied) as caught:
        services.save_household(actor=staff, household=other_household)
    assert str(caught.value) == OWN_TOWNSHIP_ONLY
    assert snapshot() == before
    assert Household.objects.get(pk=other_household.pk).village_id == other_village_id


def test_bureau_admin_may_move_a_household_between_townships(admin_user, home_household, other_village):
    home_household.village = other_village
    services.save_household(actor=admin_user, household=home_household)
    assert Household.objects.get(pk=home_household.pk).village == other_village
    assert home_household.history.latest().history_user == admin_user


@pytest.mark.parametrize(
    "role", [Role.BUREAU_OFFICIAL, Role.DEPARTMENT_LIAISON, Role.COMPLAINT_CLERK, Role.HELPER, "no_role"]
)
def test_roles_without_add_permission_cannot_create(personas, home_village, role):
    before = snapshot()
    with pytest.raises(PermissionDenied) as caught:
        services.save_household(actor=personas[role], household=new_household(home_village))
    assert str(caught.value) == NO_PERMISSION
    assert snapshot() == before


def test_bureau_official_cannot_change(personas, home_household):
    before = snapshot()
    home_household.head_name = "改"
    with pytest.raises(PermissionDenied) as caught:
        services.save_household(actor=personas[Role.BUREAU_OFFICIAL], household=home_household)
    assert str(caught.value) == NO_PERMISSION
    assert snapshot() == before


# --- save_household: validation -------------------------------------------------------------------------


def test_invalid_id_number_is_refused_with_the_reason(staff, home_village):
    before = snapshot()
    household = new_household(home_village, id_number="350881199001011001")  # right check digit is 4
    with pytest.raises(ValidationError) as caught:
        services.save_household(actor=staff, household=household)
    assert caught.value.message_dict["id_number"] == ["第18位校验码应为4，而不是1。"]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("id_number", "message"),
    [
        ("35088119900101100", "身份证号码应为18位，当前为17位。"),
        ("350881199002301004", "第7-14位（19900230）不是真实的出生日期。"),
        ("990881199001011004", "前两位（99）不是有效的省级行政区划代码。"),
    ],
)
def test_other_id_number_reasons_reach_the_caller(staff, home_village, id_number, message):
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        services.save_household(actor=staff, household=new_household(home_village, id_number=id_number))
    assert caught.value.message_dict["id_number"] == [message]
    assert snapshot() == before


def test_household_without_id_number_is_allowed_and_stored_as_null(staff, home_village):
    household = new_household(home_village, id_number="  ")
    services.save_household(actor=staff, household=household)
    assert Household.objects.get(pk=household.pk).id_number is None
    second = new_household(home_village, id_number=None, head_name="无证二号")
    services.save_household(actor=staff, household=second)  # two NULLs do not collide
    assert Household.objects.filter(id_number__isnull=True).count() == 2


def test_empty_string_id_number_does_not_collide_with_other_households_without_one(staff, home_village):
    services.save_household(actor=staff, household=new_household(home_village, id_number=None))
    second = new_household(home_village, id_number="", head_name="无证二号")
    services.save_household(actor=staff, household=second)  # raises "具有 身份证号码 的 农户 已存在。"
    assert Household.objects.filter(id_number__isnull=True).count() == 2


def test_invalid_phone_is_refused(staff, home_village):
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        services.save_household(actor=staff, household=new_household(home_village, phone="12345"))
    assert caught.value.message_dict["phone"] == ["请填写11位手机号码或带区号的固定电话（如 0597-7526007）。"]
    assert snapshot() == before


def test_future_registration_date_is_refused(staff, home_village):
    before = snapshot()
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        services.save_household(actor=staff, household=new_household(home_village, registered_on=tomorrow))
    assert caught.value.message_dict["registered_on"] == ["日期不能晚于今天。"]
    assert snapshot() == before


@pytest.mark.parametrize(
    "spelling",
    [
        lambda n: n,
        lambda n: n.lower(),
        lambda n: n.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")),
        lambda n: f" {n[:6]}-{n[6:14]}-{n[14:].lower()} ",
    ],
    ids=["same", "lower-case x", "full-width", "dashes and spaces"],
)
def test_duplicate_id_number_is_refused_in_any_spelling(staff, home_village, spelling):
    existing = HouseholdFactory(village=home_village, id_number="35088119900101108X")
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        services.save_household(
            actor=staff, household=new_household(home_village, id_number=spelling(existing.id_number))
        )
    assert list(caught.value.message_dict) == ["id_number"]
    assert caught.value.message_dict["id_number"] == ["具有 身份证号码 的 农户 已存在。"]
    assert snapshot() == before


def test_duplicate_of_a_household_in_another_township_is_refused_too(staff, home_village, other_household):
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        services.save_household(
            actor=staff, household=new_household(home_village, id_number=other_household.id_number.lower())
        )
    assert caught.value.message_dict["id_number"] == ["具有 身份证号码 的 农户 已存在。"]
    assert snapshot() == before


# --- remove / restore -----------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   ", "\n"])
def test_remove_requires_a_reason(staff, home_household, reason):
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        services.remove_household(actor=staff, household=home_household, reason=reason)
    assert caught.value.message_dict == {"removal_reason": ["请填写移出原因。"]}
    assert snapshot() == before
    stored = Household.objects.get(pk=home_household.pk)
    assert stored.status == Household.Status.ACTIVE
    assert stored.removed_on is None
    assert stored.removal_reason == ""


def test_remove_sets_status_date_and_reason_and_keeps_the_row(staff, home_household):
    before = snapshot()
    services.remove_household(actor=staff, household=home_household, reason="  已迁出本县  ")
    stored = Household.objects.get(pk=home_household.pk)  # not deleted
    assert stored.status == Household.Status.REMOVED
    assert stored.removal_reason == "已迁出本县"
    assert stored.removed_on == timezone.localdate()
    assert Household.objects.count() == before["households"]
    assert Dwelling.objects.filter(household=stored).count() == 1  # dwellings stay as well
    latest = stored.history.latest()
    assert latest.history_type == "~"
    assert latest.history_user == staff
    assert latest.status == "removed"


def test_remove_with_an_explicit_date(staff, home_household):
    services.remove_household(
        actor=staff, household=home_household, reason="户主去世", removed_on=datetime.date(2024, 3, 1)
    )
    assert Household.objects.get(pk=home_household.pk).removed_on == datetime.date(2024, 3, 1)


def test_remove_with_a_future_date_is_refused(staff, home_household):
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        services.remove_household(
            actor=staff,
            household=home_household,
            reason="户主去世",
            removed_on=timezone.localdate() + datetime.timedelta(days=3),
        )
    assert caught.value.message_dict == {"removed_on": ["日期不能晚于今天。"]}
    assert snapshot() == before
    assert Household.objects.get(pk=home_household.pk).status == "active"


def test_remove_outside_own_township_is_refused(staff, other_household):
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.remove_household(actor=staff, household=other_household, reason="迁出")
    assert snapshot() == before
    assert Household.objects.get(pk=other_household.pk).status == "active"


def test_restore_household(staff, home_household):
    services.remove_household(actor=staff, household=home_household, reason="迁出")
    services.restore_household(actor=staff, household=Household.objects.get(pk=home_household.pk))
    stored = Household.objects.get(pk=home_household.pk)
    assert stored.status == Household.Status.ACTIVE
    assert stored.removal_reason == ""
    assert stored.removed_on is None
    assert [h.status for h in stored.history.order_by("history_id")][-2:] == ["removed", "active"]
    assert stored.history.latest().history_user == staff


def test_restore_outside_own_township_is_refused(staff, admin_user, other_household):
    services.remove_household(actor=admin_user, household=other_household, reason="迁出")
    with pytest.raises(PermissionDenied):
        services.restore_household(actor=staff, household=Household.objects.get(pk=other_household.pk))
    assert Household.objects.get(pk=other_household.pk).status == "removed"


def test_removal_fields_cannot_be_left_half_filled_through_the_model(staff, home_household):
    home_household.status = Household.Status.REMOVED
    with pytest.raises(ValidationError) as caught:
        services.save_household(actor=staff, household=home_household)
    assert caught.value.message_dict == {"removed_on": ["请填写移出日期。"], "removal_reason": ["请填写移出原因。"]}


# --- database constraints -------------------------------------------------------------------------------


def test_db_refuses_removal_without_reason(home_household):
    with pytest.raises(IntegrityError), transaction.atomic():
        Household.objects.filter(pk=home_household.pk).update(status="removed")
    assert Household.objects.get(pk=home_household.pk).status == "active"


def test_db_refuses_removal_without_date(home_household):
    with pytest.raises(IntegrityError), transaction.atomic():
        Household.objects.filter(pk=home_household.pk).update(status="removed", removal_reason="迁出")


def test_db_accepts_a_complete_removal(home_household):
    Household.objects.filter(pk=home_household.pk).update(
        status="removed", removal_reason="迁出", removed_on=datetime.date(2024, 1, 1)
    )
    assert Household.objects.get(pk=home_household.pk).status == "removed"


def test_db_refuses_zero_members(home_household):
    with pytest.raises(IntegrityError), transaction.atomic():
        Household.objects.filter(pk=home_household.pk).update(members_count=0)


def test_db_refuses_exit_without_year(home_household):
    with pytest.raises(IntegrityError), transaction.atomic():
        Household.objects.filter(pk=home_household.pk).update(poverty_status="exited")


def test_db_refuses_newly_poor_without_date(home_household):
    with pytest.raises(IntegrityError), transaction.atomic():
        Household.objects.filter(pk=home_household.pk).update(poverty_status="newly_poor")


def test_db_refuses_neighbour_cooperation_for_a_detached_house(home_household):
    dwelling = home_household.dwellings.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Dwelling.objects.filter(pk=dwelling.pk).update(is_connected=False, neighbour_cooperates=True)
    Dwelling.objects.filter(pk=dwelling.pk).update(is_connected=True, neighbour_cooperates=True)


def test_db_refuses_zero_storeys(home_household):
    dwelling = home_household.dwellings.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Dwelling.objects.filter(pk=dwelling.pk).update(storeys=0)


def test_db_refuses_duplicate_id_numbers(home_household, other_village):
    with pytest.raises(IntegrityError), transaction.atomic():
        Household.objects.create(
            head_name="重复", id_number=home_household.id_number, village=other_village, members_count=1
        )


# --- save_dwelling --------------------------------------------------------------------------------------


def new_dwelling(household, **kwargs):
    fields = {"address": "3组12号", "structure_type": Dwelling.StructureType.EARTH_TIMBER, "storeys": 1}
    fields.update(kwargs)
    return Dwelling(household=household, **fields)


def test_staff_adds_a_dwelling_in_own_township(staff, home_household):
    dwelling = services.save_dwelling(actor=staff, dwelling=new_dwelling(home_household, year_built=1985))
    stored = Dwelling.objects.get(pk=dwelling.pk)
    assert stored.household == home_household
    assert stored.structure_type == "earth_timber"
    assert stored.history.get().history_user == staff


def test_staff_cannot_add_a_dwelling_outside_own_township(staff, other_household):
    before = snapshot()
    with pytest.raises(PermissionDenied) as caught:
        services.save_dwelling(actor=staff, dwelling=new_dwelling(other_household))
    assert str(caught.value) == OWN_TOWNSHIP_ONLY
    assert snapshot() == before


def test_staff_cannot_change_a_dwelling_outside_own_township(staff, other_household):
    dwelling = other_household.dwellings.get()
    before = snapshot()
    dwelling.address = "改"
    with pytest.raises(PermissionDenied):
        services.save_dwelling(actor=staff, dwelling=dwelling)
    assert snapshot() == before
    assert Dwelling.objects.get(pk=dwelling.pk).address != "改"


def test_staff_cannot_move_a_dwelling_to_another_township(staff, home_household, other_household):
    dwelling = home_household.dwellings.get()
    before = snapshot()
    dwelling.household = other_household
    with pytest.raises(PermissionDenied):
        services.save_dwelling(actor=staff, dwelling=dwelling)
    assert snapshot() == before
    assert Dwelling.objects.get(pk=dwelling.pk).household_id == home_household.pk


def test_staff_cannot_take_over_a_dwelling_of_another_township(staff, home_household, other_household):
    dwelling = other_household.dwellings.get()
    dwelling.household = home_household
    with pytest.raises(PermissionDenied):
        services.save_dwelling(actor=staff, dwelling=dwelling)
    assert Dwelling.objects.get(pk=dwelling.pk).household_id == other_household.pk


def test_bureau_official_cannot_add_a_dwelling(personas, home_household):
    with pytest.raises(PermissionDenied) as caught:
        services.save_dwelling(actor=personas[Role.BUREAU_OFFICIAL], dwelling=new_dwelling(home_household))
    assert str(caught.value) == NO_PERMISSION


@pytest.mark.parametrize("cooperates", [True, False])
def test_neighbour_cooperation_only_for_connected_houses(staff, home_household, cooperates):
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        services.save_dwelling(
            actor=staff, dwelling=new_dwelling(home_household, is_connected=False, neighbour_cooperates=cooperates)
        )
    assert caught.value.message_dict == {"neighbour_cooperates": ["“相邻户是否配合”仅适用于联体房。"]}
    assert snapshot() == before


@pytest.mark.parametrize("cooperates", [True, False, None])
def test_connected_house_may_record_neighbour_cooperation(staff, home_household, cooperates):
    dwelling = services.save_dwelling(
        actor=staff, dwelling=new_dwelling(home_household, is_connected=True, neighbour_cooperates=cooperates)
    )
    assert Dwelling.objects.get(pk=dwelling.pk).neighbour_cooperates is cooperates


def test_year_built_cannot_be_in_the_future(staff, home_household):
    before = snapshot()
    next_year = datetime.date.today().year + 1
    with pytest.raises(ValidationError) as caught:
        services.save_dwelling(actor=staff, dwelling=new_dwelling(home_household, year_built=next_year))
    assert caught.value.message_dict == {"year_built": ["建成年份不能晚于今年。"]}
    assert snapshot() == before


def test_year_built_this_year_is_fine(staff, home_household):
    this_year = datetime.date.today().year
    dwelling = services.save_dwelling(actor=staff, dwelling=new_dwelling(home_household, year_built=this_year))
    assert Dwelling.objects.get(pk=dwelling.pk).year_built == this_year


def test_latitude_without_longitude_is_refused(staff, home_household):
    with pytest.raises(ValidationError) as caught:
        services.save_dwelling(actor=staff, dwelling=new_dwelling(home_household, latitude="25.300000"))
    assert caught.value.message_dict == {"longitude": ["经度和纬度须同时填写或同时留空。"]}


# --- attachments ----------------------------------------------------------------------------------------


def upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.mark.parametrize(
    ("name", "content", "mime"),
    [("photo.png", PNG, "image/png"), ("photo.jpg", JPEG, "image/jpeg"), ("scan.pdf", PDF, "application/pdf")],
)
def test_attach_a_real_file(staff, home_household, settings, name, content, mime):
    attachment = services.add_attachment(
        actor=staff,
        record=home_household,
        uploaded_file=upload(name, content),
        kind=Attachment.Kind.PHOTO,
        caption="危房外观",
        taken_on=datetime.date(2024, 5, 1),
    )
    stored = Attachment.objects.get(pk=attachment.pk)
    assert stored.record == home_household
    assert stored.mime_type == mime
    assert stored.size == len(content)
    assert stored.original_name == name
    assert stored.uploaded_by == staff
    assert stored.caption == "危房外观"
    assert stored.history.get().history_user == staff
    assert stored.file.name.startswith("attachments/")
    assert name.split(".")[0] not in stored.file.name  # stored under a random name
    assert (settings.MEDIA_ROOT / stored.file.name).read_bytes() == content


def test_type_is_judged_by_content_not_by_name(staff, home_household):
    attachment = services.add_attachment(
        actor=staff, record=home_household, uploaded_file=upload("scan.jpg", PDF), kind=Attachment.Kind.SCANNED_FORM
    )
    assert attachment.mime_type == "application/pdf"


def test_attach_to_a_dwelling_in_scope(staff, home_household):
    dwelling = home_household.dwellings.get()
    attachment = services.add_attachment(
        actor=staff, record=dwelling, uploaded_file=upload("a.png", PNG), kind=Attachment.Kind.PHOTO
    )
    assert Attachment.objects.get(pk=attachment.pk).record == dwelling


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.jpg", "这不是照片，只是改了扩展名的文本文件。".encode()),
        ("photo.png", b"PNG but not really"),
        ("report.pdf", b"<html>%PDF-1.4</html>"),
        ("archive.docx", b"PK\x03\x04 this is not a zip at all"),
        ("empty.jpg", b""),
    ],
)
def test_renamed_or_unknown_files_are_refused(staff, home_household, name, content):
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        services.add_attachment(
            actor=staff,
            record=home_household,
            uploaded_file=upload(name, content, "image/jpeg"),
            kind=Attachment.Kind.PHOTO,
        )
    assert caught.value.code == "bad_type"
    assert caught.value.messages == ["只能上传照片（JPEG、PNG、WebP、HEIC）、PDF、Word 和 Excel 文件。"]
    assert snapshot() == before


def test_too_large_files_are_refused(staff, home_household, settings):
    settings.ATTACHMENT_MAX_BYTES = 100
    content = PNG + b"\x00" * (150 - len(PNG))
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        services.add_attachment(
            actor=staff, record=home_household, uploaded_file=upload("big.png", content), kind=Attachment.Kind.PHOTO
        )
    assert caught.value.code == "too_large"
    (message,) = caught.value.messages
    assert message.startswith("文件大小为150")
    assert "超过上限100" in message
    assert snapshot() == before


def test_file_exactly_at_the_limit_is_accepted(staff, home_household, settings):
    settings.ATTACHMENT_MAX_BYTES = len(PNG)
    attachment = services.add_attachment(
        actor=staff, record=home_household, uploaded_file=upload("ok.png", PNG), kind=Attachment.Kind.PHOTO
    )
    assert attachment.size == len(PNG)


def test_cannot_attach_to_a_household_out_of_scope(staff, other_household):
    before = snapshot()
    with pytest.raises(PermissionDenied) as caught:
        services.add_attachment(
            actor=staff, record=other_household, uploaded_file=upload("a.png", PNG), kind=Attachment.Kind.PHOTO
        )
    assert str(caught.value) == "您只能为本人权限范围内的记录上传附件。"
    assert snapshot() == before


def test_cannot_attach_to_a_dwelling_out_of_scope(staff, other_household):
    with pytest.raises(PermissionDenied):
        services.add_attachment(
            actor=staff,
            record=other_household.dwellings.get(),
            uploaded_file=upload("a.png", PNG),
            kind=Attachment.Kind.PHOTO,
        )
    assert Attachment.objects.count() == 0


def test_cannot_attach_to_a_record_type_that_is_not_attachable(admin_user, home_household):
    with pytest.raises(PermissionDenied):
        services.add_attachment(
            actor=admin_user,
            record=home_household.village,
            uploaded_file=upload("a.png", PNG),
            kind=Attachment.Kind.PHOTO,
        )
    assert Attachment.objects.count() == 0


def test_roles_without_add_attachment_cannot_attach(personas, home_household):
    with pytest.raises(PermissionDenied) as caught:
        services.add_attachment(
            actor=personas[Role.BUREAU_OFFICIAL],
            record=home_household,
            uploaded_file=upload("a.png", PNG),
            kind=Attachment.Kind.PHOTO,
        )
    assert str(caught.value) == NO_PERMISSION
    assert Attachment.objects.count() == 0


# --- roles and profiles ---------------------------------------------------------------------------------


def role_groups(user):
    return set(User.objects.get(pk=user.pk).groups.filter(name__in=Role.values).values_list("name", flat=True))


def test_township_staff_without_townships_is_refused(db):
    user = User.objects.create_user(username="new-staff", password="pw-123456789")
    with pytest.raises(ValidationError) as caught:
        services.set_user_role(user=user, role=Role.TOWNSHIP_STAFF, townships=[])
    assert caught.value.message_dict == {"townships": ["乡镇工作人员至少要关联一个乡镇（街道）。"]}
    assert not UserProfile.objects.filter(user=user).exists()
    assert role_groups(user) == set()
    assert User.objects.get(pk=user.pk).is_staff is False


def test_department_liaison_without_unit_is_refused(db):
    user = User.objects.create_user(username="new-liaison", password="pw-123456789")
    with pytest.raises(ValidationError) as caught:
        services.set_user_role(user=user, role=Role.DEPARTMENT_LIAISON)
    assert caught.value.message_dict == {"unit": ["部门联络员必须关联所属单位。"]}
    assert not UserProfile.objects.filter(user=user).exists()


@pytest.mark.parametrize("role", [Role.BUREAU_ADMIN, Role.BUREAU_OFFICIAL, Role.COMPLAINT_CLERK, Role.HELPER])
def test_check_profile_needs_nothing_for_other_roles(db, role):
    services.check_profile(role=role, townships=[], unit=None)  # does not raise


def test_check_profile_accepts_a_generator_of_townships(xinqiao):
    services.check_profile(role=Role.TOWNSHIP_STAFF, townships=(t for t in [xinqiao]), unit=None)


def test_set_user_role_gives_exactly_one_role_group(xinqiao, shuangyang):
    user = make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao, shuangyang])
    assert role_groups(user) == {Role.TOWNSHIP_STAFF}
    assert user.is_staff
    assert set(user.profile.townships.all()) == {xinqiao, shuangyang}


def test_changing_the_role_moves_the_user_between_groups_and_keeps_other_groups(xinqiao):
    user = make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao])
    extra = Group.objects.create(name="培训班学员")
    user.groups.add(extra)
    assert user.has_perm("households.add_household")
    assert not scope_of(user).everything

    services.set_user_role(user=user, role=Role.BUREAU_OFFICIAL)

    assert role_groups(user) == {Role.BUREAU_OFFICIAL}
    assert set(User.objects.get(pk=user.pk).groups.values_list("name", flat=True)) == {"bureau_official", "培训班学员"}
    profile = UserProfile.objects.get(user=user)
    assert profile.role == Role.BUREAU_OFFICIAL
    assert list(profile.townships.all()) == []
    # the same user object forgets its cached permissions and scope
    assert not user.has_perm("households.add_household")
    assert user.has_perm("households.view_household")
    assert scope_of(user).everything


def test_role_change_back_and_forth_never_leaves_two_role_groups(xinqiao, poverty_office):
    user = make_user(Role.HELPER)
    for role, kwargs in [
        (Role.DEPARTMENT_LIAISON, {"unit": poverty_office}),
        (Role.TOWNSHIP_STAFF, {"townships": [xinqiao]}),
        (Role.BUREAU_ADMIN, {}),
    ]:
        services.set_user_role(user=user, role=role, **kwargs)
        assert role_groups(user) == {role}
    assert UserProfile.objects.filter(user=user).count() == 1


def test_sync_user_role_repairs_hand_edited_groups(xinqiao):
    user = make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao])
    user.groups.add(Group.objects.get(name=Role.BUREAU_ADMIN), Group.objects.get(name=Role.HELPER))
    services.sync_user_role(user=user)
    assert role_groups(user) == {Role.TOWNSHIP_STAFF}


def test_user_without_profile_loses_all_role_groups(db):
    user = User.objects.create_user(username="bare", password="pw-123456789")
    user.groups.add(Group.objects.get(name=Role.BUREAU_ADMIN))
    services.sync_user_role(user=user)
    assert role_groups(user) == set()


def test_failed_role_change_leaves_the_old_role(xinqiao):
    user = make_user(Role.BUREAU_OFFICIAL)
    with pytest.raises(ValidationError):
        services.set_user_role(user=user, role=Role.TOWNSHIP_STAFF, townships=[])
    assert UserProfile.objects.get(user=user).role == Role.BUREAU_OFFICIAL
    assert role_groups(user) == {Role.BUREAU_OFFICIAL}


# --- attachment download view ---------------------------------------------------------------------------


@pytest.fixture
def home_photo(staff, home_household):
    return services.add_attachment(
        actor=staff, record=home_household, uploaded_file=upload("外观.png", PNG), kind=Attachment.Kind.PHOTO
    )


@pytest.fixture
def other_photo(admin_user, other_household):
    return services.add_attachment(
        actor=admin_user, record=other_household, uploaded_file=upload("other.png", PNG), kind=Attachment.Kind.PHOTO
    )


def test_download_in_scope(client, staff, home_photo):
    client.force_login(staff)
    response = client.get(f"/attachments/{home_photo.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    assert b"".join(response.streaming_content) == PNG


def test_download_of_a_document_is_an_attachment(client, staff, home_household):
    from io import BytesIO
    from zipfile import ZipFile

    buffer = BytesIO()
    with ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    attachment = services.add_attachment(
        actor=staff,
        record=home_household,
        uploaded_file=upload("说明.docx", buffer.getvalue()),
        kind=Attachment.Kind.DOCUMENT,
    )
    assert attachment.mime_type == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    client.force_login(staff)
    response = client.get(f"/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == buffer.getvalue()


def test_download_out_of_scope_is_404(client, staff, other_photo):
    client.force_login(staff)
    response = client.get(f"/attachments/{other_photo.pk}/")
    assert response.status_code == 404


def test_download_of_a_dwelling_photo_out_of_scope_is_404(client, staff, admin_user, other_household):
    attachment = services.add_attachment(
        actor=admin_user,
        record=other_household.dwellings.get(),
        uploaded_file=upload("d.png", PNG),
        kind=Attachment.Kind.PHOTO,
    )
    client.force_login(staff)
    assert client.get(f"/attachments/{attachment.pk}/").status_code == 404


@pytest.mark.parametrize("role", [Role.BUREAU_ADMIN, Role.BUREAU_OFFICIAL])
def test_bureau_users_download_everything(client, personas, other_photo, role):
    client.force_login(personas[role])
    response = client.get(f"/attachments/{other_photo.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG


def test_user_without_role_gets_404(client, personas, home_photo):
    client.force_login(personas["no_role"])
    assert client.get(f"/attachments/{home_photo.pk}/").status_code == 404


def test_download_of_a_missing_attachment_is_404(client, staff):
    client.force_login(staff)
    assert client.get("/attachments/999999/").status_code == 404


def test_anonymous_download_redirects_to_login(client, home_photo):
    response = client.get(f"/attachments/{home_photo.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next=/attachments/{home_photo.pk}/"


def test_download_only_by_get(client, staff, home_photo):
    client.force_login(staff)
    assert client.post(f"/attachments/{home_photo.pk}/").status_code == 405


def test_staff_persona_has_no_scope_beyond_own_township(staff, home_household, other_household):
    """Guard for the fixtures the scope tests above rely on."""
    assert home_household.township_id != other_household.township_id
    assert scope_of(staff).township_ids == frozenset({home_household.township_id})
    assert Dwelling.objects.filter(household=other_household).count() == 1

"""Writes about housing safety through the services: grading rules, scope, permission, history, files, placards."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.translation import override

from households import services as household_services
from households.models import Attachment, Household
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory, png_bytes, png_file
from housing_safety.access import Role
from inspections import selectors, services
from inspections.models import Appraisal, Placard, SecuredHousing

from .factories import AppraisalFactory, SecuredHousingFactory

pytestmark = pytest.mark.usefixtures("chinese")

OWN_TOWNSHIP_ONLY = "您只能修改本乡镇（街道）的记录。"
NO_PERMISSION = "您没有执行此操作的权限。"
BAD_TYPE = "只能上传照片（JPEG、PNG、WebP、HEIC）、PDF、Word 和 Excel 文件。"

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def pdf_file(name: str = "鉴定表.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def text_as_jpg(name: str = "photo.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"this is not a photo, just some text\n", content_type="image/jpeg")


@pytest.fixture
def dwelling(home_household):
    return home_household.dwellings.get()


@pytest.fixture
def today():
    return timezone.localdate()


def snapshot() -> dict[str, int]:
    """Row counts of every table these services write."""
    return {
        "appraisals": Appraisal.objects.count(),
        "appraisal_history": Appraisal.history.count(),
        "attachments": Attachment.objects.count(),
        "attachment_history": Attachment.history.count(),
        "secured": SecuredHousing.objects.count(),
        "secured_history": SecuredHousing.history.count(),
        "placards": Placard.objects.count(),
        "placard_history": Placard.history.count(),
    }


def stored_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def attachments_of(record) -> list[Attachment]:
    content_type = ContentType.objects.get_for_model(type(record))
    return list(Attachment.objects.filter(content_type=content_type, object_id=record.pk).order_by("pk"))


def appraise(dwelling, grade: str, on: datetime.date, **kwargs) -> Appraisal:
    """A stored appraisal, consistent with the grading rules (a d component for D, c for C)."""
    if grade in "CD":
        kwargs.setdefault("load_bearing_walls", grade.lower())
        kwargs.setdefault("recommendation", Appraisal.Recommendation.REPAIR)
    if grade == "A":
        kwargs = {"foundation": "a", "load_bearing_walls": "a", "timber_frame": "a", **kwargs}
    return AppraisalFactory(dwelling=dwelling, grade=grade, appraised_on=on, **kwargs)


# --- record_appraisal: the grading rules -------------------------------------------------------------------


INVALID_APPRAISALS = [
    pytest.param(
        {"foundation": "d", "grade": "B"},
        {"grade": ["有构件评为d级，房屋等级只能为C级或D级。"]},
        id="component-d-grade-B",
    ),
    pytest.param(
        {"roof_truss": "d", "grade": "A"},
        {"grade": ["有构件评为d级，房屋等级只能为C级或D级。"]},
        id="component-d-grade-A",
    ),
    pytest.param(
        {"timber_frame": "c", "grade": "A"},
        {"grade": ["有构件评为c级，房屋等级最高为B级。"]},
        id="component-c-grade-A",
    ),
    pytest.param(
        {"load_bearing_walls": "c", "grade": "C", "recommendation": "none"},
        {"recommendation": ["C级、D级房屋必须填写处理建议。"]},
        id="grade-C-without-recommendation",
    ),
    pytest.param(
        {"load_bearing_walls": "d", "grade": "D", "recommendation": "none"},
        {"recommendation": ["C级、D级房屋必须填写处理建议。"]},
        id="grade-D-without-recommendation",
    ),
    pytest.param(
        {"appraised_on": "tomorrow"},
        {"appraised_on": ["日期不能晚于今天。"]},
        id="date-in-future",
    ),
    pytest.param(
        {"appraised_on": datetime.date(2009, 12, 31)},
        {"appraised_on": ["鉴定日期不能早于房屋建成年份（2010年）。"]},
        id="date-before-year-built",
    ),
    pytest.param(
        {"appraised_on": datetime.date(1999, 12, 31)},
        {"appraised_on": ["日期 1999-12-31 早于 2000-01-01，请填写实际日期。"]},
        id="date-before-2000",
    ),
    pytest.param({"appraisers": "张工"}, {"appraisers": ["鉴定人员不得少于两人。"]}, id="one-appraiser"),
    pytest.param(
        {"appraisers": "张工，"}, {"appraisers": ["鉴定人员不得少于两人。"]}, id="one-appraiser-trailing-separator"
    ),
    pytest.param({"appraisers": "  、 "}, {"appraisers": ["鉴定人员不得少于两人。"]}, id="only-separators"),
    pytest.param(
        {
            "foundation": "n",
            "load_bearing_walls": "n",
            "timber_frame": "n",
            "roof_truss": "n",
            "concrete_frame": "n",
            "floor_roof_slab": "n",
        },
        {"foundation": ["请至少评定一个构件。"]},
        id="all-components-absent",
    ),
]


@pytest.fixture
def built_2010(dwelling):
    """A house built after 2000, so that an appraisal before it was built is otherwise a plausible date."""
    dwelling.year_built = 2010
    dwelling.save(update_fields=["year_built"])
    return dwelling


@pytest.mark.parametrize(("fields", "errors"), INVALID_APPRAISALS)
def test_record_appraisal_rejects_rule_violations_and_writes_nothing(staff, built_2010, today, fields, errors):
    dwelling = built_2010
    if fields.get("appraised_on") == "tomorrow":
        fields = {**fields, "appraised_on": today + datetime.timedelta(days=1)}
    before = snapshot()
    appraisal = AppraisalFactory.build(dwelling=dwelling, **fields)

    with pytest.raises(ValidationError) as excinfo:
        services.record_appraisal(actor=staff, appraisal=appraisal, photos=[png_file()], scanned_form=pdf_file())

    assert excinfo.value.message_dict == errors
    assert snapshot() == before
    assert before["appraisals"] == 0
    assert appraisal.pk is None


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"timber_frame": "c", "grade": "B"}, id="component-c-grade-B"),
        pytest.param({"load_bearing_walls": "d", "grade": "C", "recommendation": "repair"}, id="component-d-grade-C"),
        pytest.param({"foundation": "d", "grade": "D", "recommendation": "rebuild"}, id="component-d-grade-D"),
        pytest.param({"grade": "C", "recommendation": "relocate"}, id="grade-C-with-recommendation"),
        pytest.param({"appraised_on": datetime.date(2010, 1, 1)}, id="appraised-in-year-built"),
        pytest.param({"appraised_on": "today"}, id="appraised-today"),
        pytest.param({"appraisers": "张工,李工"}, id="ascii-comma"),
        pytest.param({"appraisers": "张工 李工"}, id="space"),
        pytest.param({"appraisers": "张工；李工；王工"}, id="three-appraisers"),
        pytest.param(
            {"foundation": "n", "load_bearing_walls": "n", "timber_frame": "n", "roof_truss": "n"},
            id="one-component-graded",
        ),
    ],
)
def test_record_appraisal_accepts_what_the_rules_allow(staff, built_2010, today, fields):
    dwelling = built_2010
    if fields.get("appraised_on") == "today":
        fields = {**fields, "appraised_on": today}
    appraisal = AppraisalFactory.build(dwelling=dwelling, **fields)

    saved = services.record_appraisal(actor=staff, appraisal=appraisal)

    stored = Appraisal.objects.get()
    assert stored.pk == saved.pk
    assert stored.grade == fields.get("grade", "B")
    assert stored.recorded_by == staff


def test_year_built_message_is_english_outside_the_chinese_override(staff, built_2010):
    appraisal = AppraisalFactory.build(dwelling=built_2010, appraised_on=datetime.date(2009, 5, 1))
    with override("en"), pytest.raises(ValidationError) as excinfo:
        services.record_appraisal(actor=staff, appraisal=appraisal)
    assert excinfo.value.message_dict == {
        "appraised_on": ["The appraisal date cannot be before the house was built (2010)."]
    }


# --- record_appraisal: permission and scope -------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", [Role.BUREAU_OFFICIAL, Role.HELPER, Role.DEPARTMENT_LIAISON, Role.COMPLAINT_CLERK, "no_role"]
)
def test_roles_without_add_appraisal_are_refused(personas, dwelling, role):
    before = snapshot()
    with pytest.raises(PermissionDenied) as excinfo:
        services.record_appraisal(actor=personas[role], appraisal=AppraisalFactory.build(dwelling=dwelling))
    assert str(excinfo.value) == NO_PERMISSION
    assert snapshot() == before


def test_staff_of_another_township_is_refused_and_nothing_is_written(other_staff, dwelling):
    before = snapshot()
    with pytest.raises(PermissionDenied) as excinfo:
        services.record_appraisal(
            actor=other_staff,
            appraisal=AppraisalFactory.build(dwelling=dwelling),
            photos=[png_file()],
            scanned_form=pdf_file(),
        )
    assert str(excinfo.value) == OWN_TOWNSHIP_ONLY
    assert snapshot() == before
    assert Appraisal.objects.count() == 0


@pytest.mark.parametrize("role", [Role.TOWNSHIP_STAFF, Role.BUREAU_ADMIN])
def test_staff_of_the_township_and_bureau_admin_record_an_appraisal(personas, dwelling, role):
    actor = personas[role]
    appraisal = AppraisalFactory.build(dwelling=dwelling, grade="B", appraised_on=datetime.date(2025, 6, 1))

    saved = services.record_appraisal(actor=actor, appraisal=appraisal)

    stored = Appraisal.objects.get()
    assert stored.pk == saved.pk
    assert stored.dwelling == dwelling
    assert stored.grade == "B"
    assert stored.appraised_on == datetime.date(2025, 6, 1)
    assert stored.recorded_by == actor
    assert stored.recorded_at is not None
    record = stored.history.get()
    assert record.history_type == "+"
    assert record.history_user == actor
    assert attachments_of(stored) == []


def test_an_existing_appraisal_cannot_be_recorded_again(staff, dwelling):
    existing = AppraisalFactory(dwelling=dwelling, grade="B")
    before = snapshot()
    existing.grade = "A"
    existing.foundation = "a"

    with pytest.raises(ValidationError) as excinfo:
        services.record_appraisal(actor=staff, appraisal=existing)

    assert excinfo.value.messages == ["鉴定记录不可修改，如需更正请录入新的鉴定。"]
    assert snapshot() == before
    assert Appraisal.objects.get(pk=existing.pk).grade == "B"


# --- record_appraisal: photos and the scanned form --------------------------------------------------------


def test_photo_and_scanned_form_are_attached_to_the_appraisal(staff, dwelling, settings):
    saved = services.record_appraisal(
        actor=staff,
        appraisal=AppraisalFactory.build(dwelling=dwelling),
        photos=[png_file("房屋正面.png")],
        scanned_form=pdf_file("鉴定表.pdf"),
    )

    scan, photo = attachments_of(saved)
    assert (scan.kind, scan.mime_type, scan.original_name, scan.size) == (
        Attachment.Kind.SCANNED_FORM,
        "application/pdf",
        "鉴定表.pdf",
        len(PDF),
    )
    assert (photo.kind, photo.mime_type, photo.original_name, photo.size) == (
        Attachment.Kind.PHOTO,
        "image/png",
        "房屋正面.png",
        len(png_bytes()),
    )
    for attachment in (scan, photo):
        assert attachment.record == saved
        assert attachment.uploaded_by == staff
        assert attachment.history.get().history_user == staff
    photo.file.open("rb")
    with photo.file:
        assert photo.file.read() == png_bytes()
    assert len(stored_files(settings)) == 2
    assert Attachment.objects.count() == 2


def test_several_photos_are_all_attached(staff, dwelling):
    saved = services.record_appraisal(
        actor=staff,
        appraisal=AppraisalFactory.build(dwelling=dwelling),
        photos=[png_file("1.png"), png_file("2.png"), None],
    )
    assert [(a.kind, a.original_name) for a in attachments_of(saved)] == [("photo", "1.png"), ("photo", "2.png")]


def test_text_file_named_like_a_photo_is_rejected_and_nothing_is_saved(staff, dwelling, settings):
    before = snapshot()
    with pytest.raises(ValidationError) as excinfo:
        services.record_appraisal(
            actor=staff,
            appraisal=AppraisalFactory.build(dwelling=dwelling),
            photos=[text_as_jpg("photo.jpg")],
            scanned_form=pdf_file(),
        )
    assert excinfo.value.message_dict == {"photos": [f"photo.jpg: {BAD_TYPE}"]}
    assert snapshot() == before
    assert Appraisal.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert stored_files(settings) == []


@pytest.mark.parametrize(
    "photos",
    [
        pytest.param(lambda: [text_as_jpg("photo.jpg"), png_file("good.png")], id="invalid-then-valid"),
        pytest.param(lambda: [png_file("good.png"), text_as_jpg("photo.jpg")], id="valid-then-invalid"),
    ],
)
def test_one_bad_photo_among_good_ones_saves_nothing(staff, dwelling, settings, photos):
    before = snapshot()
    with pytest.raises(ValidationError) as excinfo:
        services.record_appraisal(actor=staff, appraisal=AppraisalFactory.build(dwelling=dwelling), photos=photos())
    assert excinfo.value.message_dict == {"photos": [f"photo.jpg: {BAD_TYPE}"]}
    assert snapshot() == before
    assert stored_files(settings) == []


def test_every_bad_photo_is_named(staff, dwelling):
    with pytest.raises(ValidationError) as excinfo:
        services.record_appraisal(
            actor=staff,
            appraisal=AppraisalFactory.build(dwelling=dwelling),
            photos=[text_as_jpg("a.jpg"), png_file(), text_as_jpg("b.jpg")],
        )
    assert excinfo.value.message_dict == {"photos": [f"a.jpg: {BAD_TYPE}", f"b.jpg: {BAD_TYPE}"]}


def test_bad_scanned_form_is_rejected_and_nothing_is_saved(staff, dwelling, settings):
    before = snapshot()
    with pytest.raises(ValidationError) as excinfo:
        services.record_appraisal(
            actor=staff,
            appraisal=AppraisalFactory.build(dwelling=dwelling),
            photos=[png_file()],
            scanned_form=SimpleUploadedFile("scan.pdf", b"MZ\x90\x00 not a pdf"),
        )
    assert excinfo.value.message_dict == {"scanned_form": [f"scan.pdf: {BAD_TYPE}"]}
    assert snapshot() == before
    assert stored_files(settings) == []


def test_too_large_photo_is_rejected(staff, dwelling, settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    before = snapshot()
    with pytest.raises(ValidationError) as excinfo:
        services.record_appraisal(
            actor=staff, appraisal=AppraisalFactory.build(dwelling=dwelling), photos=[png_file("big.png")]
        )
    assert list(excinfo.value.message_dict) == ["photos"]
    assert excinfo.value.message_dict["photos"][0].startswith("big.png: ")
    assert snapshot() == before


def test_failure_while_attaching_rolls_back_the_appraisal(staff, dwelling, monkeypatch):
    """All or nothing even when the failure comes after the appraisal row was written."""
    real_add_attachment = services.add_attachment
    calls = []

    def failing_second_time(**kwargs):
        calls.append(kwargs["kind"])
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_add_attachment(**kwargs)

    monkeypatch.setattr(services, "add_attachment", failing_second_time)
    before = snapshot()
    with pytest.raises(RuntimeError):
        services.record_appraisal(
            actor=staff,
            appraisal=AppraisalFactory.build(dwelling=dwelling),
            photos=[png_file()],
            scanned_form=pdf_file(),
        )
    assert calls == ["scanned_form", "photo"]
    assert snapshot() == before


# --- save_secured_housing ------------------------------------------------------------------------------------


def test_staff_records_secured_housing_in_own_township(staff, home_household):
    arrangement = SecuredHousingFactory.build(household=home_household, since=datetime.date(2025, 3, 1))
    saved = services.save_secured_housing(actor=staff, arrangement=arrangement)
    stored = SecuredHousing.objects.get()
    assert stored.pk == saved.pk
    assert (stored.household, stored.since, stored.until) == (home_household, datetime.date(2025, 3, 1), None)
    assert stored.history.get().history_user == staff


def test_ending_an_arrangement_is_a_change_recorded_in_history(staff, home_household):
    arrangement = SecuredHousingFactory(household=home_household, since=datetime.date(2025, 3, 1))
    arrangement.until = datetime.date(2025, 9, 30)
    services.save_secured_housing(actor=staff, arrangement=arrangement)
    assert SecuredHousing.objects.get().until == datetime.date(2025, 9, 30)
    latest = SecuredHousing.history.order_by("-history_id").first()
    assert (latest.history_type, latest.history_user, latest.until) == ("~", staff, datetime.date(2025, 9, 30))


def test_secured_housing_outside_scope_is_refused(other_staff, home_household):
    before = snapshot()
    with pytest.raises(PermissionDenied) as excinfo:
        services.save_secured_housing(
            actor=other_staff, arrangement=SecuredHousingFactory.build(household=home_household)
        )
    assert str(excinfo.value) == OWN_TOWNSHIP_ONLY
    assert snapshot() == before


@pytest.mark.parametrize("role", [Role.BUREAU_OFFICIAL, Role.HELPER, Role.DEPARTMENT_LIAISON, Role.COMPLAINT_CLERK])
def test_secured_housing_needs_the_permission(personas, home_household, role):
    before = snapshot()
    with pytest.raises(PermissionDenied) as excinfo:
        services.save_secured_housing(
            actor=personas[role], arrangement=SecuredHousingFactory.build(household=home_household)
        )
    assert str(excinfo.value) == NO_PERMISSION
    assert snapshot() == before


def test_secured_housing_until_before_since_is_rejected(staff, home_household):
    before = snapshot()
    arrangement = SecuredHousingFactory.build(
        household=home_household, since=datetime.date(2025, 3, 1), until=datetime.date(2025, 2, 28)
    )
    with pytest.raises(ValidationError) as excinfo:
        services.save_secured_housing(actor=staff, arrangement=arrangement)
    assert excinfo.value.messages == ["结束日期不能早于起始日期。"]
    assert snapshot() == before


def test_secured_housing_may_end_on_the_day_it_starts(staff, home_household):
    arrangement = SecuredHousingFactory.build(
        household=home_household, since=datetime.date(2025, 3, 1), until=datetime.date(2025, 3, 1)
    )
    services.save_secured_housing(actor=staff, arrangement=arrangement)
    assert SecuredHousing.objects.get().until == datetime.date(2025, 3, 1)


def test_staff_cannot_move_another_townships_arrangement_into_their_own(staff, home_household, other_household):
    arrangement = SecuredHousingFactory(household=other_household)
    arrangement.household = home_household
    with pytest.raises(PermissionDenied):
        services.save_secured_housing(actor=staff, arrangement=arrangement)
    assert SecuredHousing.objects.get().household == other_household


# --- issue_placards ------------------------------------------------------------------------------------------


@pytest.fixture
def xinqiao_village(xinqiao):
    return VillageFactory(township=xinqiao, name="东坑村")


def household_in(village, grade: str | None = None, on=datetime.date(2025, 6, 1)) -> Household:
    household = HouseholdFactory(village=village)
    dwelling = DwellingFactory(household=household)
    if grade:
        appraise(dwelling, grade, on)
    return household


def test_placards_are_issued_for_every_household_whatever_its_status(staff, xinqiao_village, today):
    """ "贫困户房屋安全状况制牌上墙" (issue 24): the house's safety status for every poor household, not only the safe
    ones; a dangerous house's placard certifies its appraisal (C/D), an unappraised one's no appraisal (待鉴定)."""
    safe_a = household_in(xinqiao_village, "A")
    safe_b = household_in(xinqiao_village, "B")
    dangerous = household_in(xinqiao_village, "D")
    partly = household_in(xinqiao_village, "C")
    unappraised = household_in(xinqiao_village)
    secured = household_in(xinqiao_village, "D")
    arrangement = SecuredHousingFactory(household=secured, since=datetime.date(2025, 1, 1))

    created = services.issue_placards(
        actor=staff, households=[safe_a, dangerous, safe_b, partly, unappraised, secured], today=today
    )

    assert [(p.household, p.status) for p in created] == [
        (safe_a, "appraised_safe"),
        (dangerous, "dangerous"),
        (safe_b, "appraised_safe"),
        (partly, "dangerous"),
        (unappraised, "unappraised"),
        (secured, "secured"),
    ]
    by_household = {p.household_id: p for p in Placard.objects.all()}
    assert set(by_household) == {safe_a.pk, dangerous.pk, safe_b.pk, partly.pk, unappraised.pk, secured.pk}
    assert by_household[dangerous.pk].appraisal.grade == "D" and by_household[partly.pk].appraisal.grade == "C"
    assert by_household[unappraised.pk].appraisal is None and by_household[unappraised.pk].secured_housing is None
    assert by_household[safe_a.pk].appraisal == Appraisal.objects.get(dwelling__household=safe_a)
    assert by_household[safe_a.pk].secured_housing is None
    assert by_household[secured.pk].secured_housing == arrangement
    assert by_household[secured.pk].appraisal is None
    for placard in by_household.values():
        assert placard.issued_by == staff
        assert placard.history.get().history_user == staff
        assert len(placard.token) >= 20
    assert len({p.token for p in by_household.values()}) == 6


def test_issuing_is_idempotent(staff, xinqiao_village, today):
    households = [household_in(xinqiao_village, "A"), household_in(xinqiao_village, "B")]
    first = services.issue_placards(actor=staff, households=households, today=today)
    before = snapshot()

    second = services.issue_placards(actor=staff, households=households, today=today)

    assert len(first) == 2
    assert second == []
    assert snapshot() == before


def test_the_same_household_twice_in_one_call_gets_one_placard(staff, xinqiao_village, today):
    household = household_in(xinqiao_village, "A")
    created = services.issue_placards(actor=staff, households=[household, household], today=today)
    assert len(created) == 1
    assert Placard.objects.count() == 1


def test_newer_appraisal_gets_a_new_placard_and_the_old_one_is_superseded(staff, xinqiao_village, today):
    household = household_in(xinqiao_village, "B", on=datetime.date(2025, 3, 1))
    (old,) = services.issue_placards(actor=staff, households=[household], today=today)
    newer = appraise(household.dwellings.get(), "A", datetime.date(2025, 9, 1))

    created = services.issue_placards(actor=staff, households=[household], today=today)

    assert len(created) == 1
    assert created[0].appraisal == newer
    assert created[0].status == "appraised_safe"
    assert selectors.placard_is_current(created[0], today) is True
    assert selectors.placard_is_current(old, today) is False
    assert Placard.objects.count() == 2


def test_serials_are_per_township_sequential_and_zero_padded(staff, xinqiao, shuangyang, admin_user, today):
    xinqiao_households = [household_in(VillageFactory(township=xinqiao), "A") for _ in range(3)]
    shuangyang_households = [household_in(VillageFactory(township=shuangyang), "B") for _ in range(2)]
    assert (xinqiao.code, shuangyang.code) == ("350881100", "350881101")

    created = services.issue_placards(
        actor=admin_user,
        households=[xinqiao_households[0], shuangyang_households[0], *xinqiao_households[1:], shuangyang_households[1]],
        today=today,
    )

    serials = {p.household_id: p.serial for p in created}
    assert [serials[h.pk] for h in xinqiao_households] == ["100-000001", "100-000002", "100-000003"]
    assert [serials[h.pk] for h in shuangyang_households] == ["101-000001", "101-000002"]


def test_serials_continue_after_existing_ones(staff, xinqiao_village, today):
    old = household_in(xinqiao_village, "A")
    Placard.objects.create(household=old, serial="100-000041", status="appraised_safe")
    Placard.objects.create(household=old, serial="100-000007", status="appraised_safe")
    Placard.objects.create(household=old, serial="101-000900", status="appraised_safe")
    households = [household_in(xinqiao_village, "A"), household_in(xinqiao_village, "B")]

    created = services.issue_placards(actor=staff, households=households, today=today)

    assert [p.serial for p in created] == ["100-000042", "100-000043"]
    later = services.issue_placards(actor=staff, households=[household_in(xinqiao_village, "A")], today=today)
    assert [p.serial for p in later] == ["100-000044"]


def test_out_of_scope_household_refuses_the_whole_batch(staff, xinqiao_village, shuangyang, today):
    own = household_in(xinqiao_village, "A")
    foreign = household_in(VillageFactory(township=shuangyang), "A")
    before = snapshot()
    with pytest.raises(PermissionDenied) as excinfo:
        services.issue_placards(actor=staff, households=[own, foreign], today=today)
    assert str(excinfo.value) == OWN_TOWNSHIP_ONLY
    assert snapshot() == before


@pytest.mark.parametrize(
    "role", [Role.BUREAU_OFFICIAL, Role.HELPER, Role.DEPARTMENT_LIAISON, Role.COMPLAINT_CLERK, "no_role"]
)
def test_roles_without_add_placard_are_refused(personas, xinqiao_village, today, role):
    household = household_in(xinqiao_village, "A")
    with pytest.raises(PermissionDenied) as excinfo:
        services.issue_placards(actor=personas[role], households=[household], today=today)
    assert str(excinfo.value) == NO_PERMISSION
    assert Placard.objects.count() == 0


def test_secured_placard_uses_the_newest_active_arrangement(staff, xinqiao_village, today):
    household = household_in(xinqiao_village)
    SecuredHousingFactory(household=household, since=datetime.date(2024, 1, 1), until=datetime.date(2024, 12, 31))
    current = SecuredHousingFactory(household=household, since=datetime.date(2025, 2, 1))
    SecuredHousingFactory(household=household, since=today + datetime.timedelta(days=10))
    (placard,) = services.issue_placards(actor=staff, households=[household], today=today)
    assert (placard.status, placard.secured_housing, placard.appraisal) == ("secured", current, None)


def test_secured_placard_certifies_the_newest_of_two_active_arrangements(staff, xinqiao_village, today):
    household = household_in(xinqiao_village, "D")
    SecuredHousingFactory(household=household, since=datetime.date(2025, 1, 1))
    newest = SecuredHousingFactory(household=household, since=datetime.date(2025, 8, 1))
    SecuredHousingFactory(household=household, since=datetime.date(2025, 4, 1))
    (placard,) = services.issue_placards(actor=staff, households=[household], today=today)
    assert placard.secured_housing == newest


def test_no_placard_for_a_removed_household(admin_user, xinqiao_village, today):
    household = household_in(xinqiao_village, "A")
    household_services.remove_household(actor=admin_user, household=household, reason="迁出本市")
    created = services.issue_placards(actor=admin_user, households=[household], today=today)
    assert created == []
    assert Placard.objects.count() == 0


# --- record_placard_installation -------------------------------------------------------------------------------


@pytest.fixture
def placard(staff, home_household, today):
    appraise(home_household.dwellings.get(), "A", datetime.date(2025, 6, 1))
    (issued,) = services.issue_placards(actor=staff, households=[home_household], today=today)
    return issued


def test_installation_is_recorded_with_a_photo(staff, placard, today):
    services.record_placard_installation(actor=staff, placard=placard, installed_on=today, photo=png_file("挂牌.png"))
    stored = Placard.objects.get(pk=placard.pk)
    assert stored.installed_on == today
    (photo,) = attachments_of(stored)
    assert (photo.kind, photo.mime_type, photo.original_name, photo.uploaded_by) == (
        "photo",
        "image/png",
        "挂牌.png",
        staff,
    )
    assert photo.record == stored
    latest = Placard.history.order_by("-history_id").first()
    assert (latest.history_type, latest.history_user, latest.installed_on) == ("~", staff, today)


def test_installation_without_photo(staff, placard, today):
    services.record_placard_installation(actor=staff, placard=placard, installed_on=today)
    assert Placard.objects.get(pk=placard.pk).installed_on == today
    assert attachments_of(placard) == []


def test_installation_in_the_future_is_rejected(staff, placard, today):
    before = snapshot()
    with pytest.raises(ValidationError) as excinfo:
        services.record_placard_installation(
            actor=staff, placard=placard, installed_on=today + datetime.timedelta(days=1), photo=png_file()
        )
    assert excinfo.value.message_dict == {"installed_on": ["日期不能晚于今天。"]}
    assert snapshot() == before
    assert Placard.objects.get(pk=placard.pk).installed_on is None


def test_installation_before_issue_is_rejected(staff, placard):
    # Issued at 2026-03-09 20:30 UTC, i.e. 2026-03-10 04:30 in Zhangping (Asia/Shanghai).
    issued_at = datetime.datetime(2026, 3, 9, 20, 30, tzinfo=datetime.UTC)
    Placard.objects.filter(pk=placard.pk).update(issued_at=issued_at)
    placard.refresh_from_db()
    before = snapshot()

    with pytest.raises(ValidationError) as excinfo:
        services.record_placard_installation(actor=staff, placard=placard, installed_on=datetime.date(2026, 3, 9))

    assert excinfo.value.message_dict == {"installed_on": ["挂牌日期不能早于制牌日期。"]}
    assert snapshot() == before
    services.record_placard_installation(actor=staff, placard=placard, installed_on=datetime.date(2026, 3, 10))
    assert Placard.objects.get(pk=placard.pk).installed_on == datetime.date(2026, 3, 10)


def test_installation_with_a_bad_photo_saves_nothing(staff, placard, today, settings):
    before = snapshot()
    with pytest.raises(ValidationError) as excinfo:
        services.record_placard_installation(actor=staff, placard=placard, installed_on=today, photo=text_as_jpg())
    assert excinfo.value.message_dict == {"photo": [f"photo.jpg: {BAD_TYPE}"]}
    assert snapshot() == before
    assert Placard.objects.get(pk=placard.pk).installed_on is None
    assert stored_files(settings) == []


def test_installation_outside_scope_is_refused(other_staff, placard, today):
    before = snapshot()
    with pytest.raises(PermissionDenied) as excinfo:
        services.record_placard_installation(actor=other_staff, placard=placard, installed_on=today, photo=png_file())
    assert str(excinfo.value) == OWN_TOWNSHIP_ONLY
    assert snapshot() == before
    assert Placard.objects.get(pk=placard.pk).installed_on is None


@pytest.mark.parametrize("role", [Role.BUREAU_OFFICIAL, Role.HELPER, Role.COMPLAINT_CLERK])
def test_installation_needs_change_placard(personas, placard, today, role):
    with pytest.raises(PermissionDenied) as excinfo:
        services.record_placard_installation(actor=personas[role], placard=placard, installed_on=today)
    assert str(excinfo.value) == NO_PERMISSION
    assert Placard.objects.get(pk=placard.pk).installed_on is None

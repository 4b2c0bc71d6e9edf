"""Forms (issue 17): the error summary at the top of a refused form, files kept after a refusal (this person's, for a
day, checked again when used), and the appraisal shown for confirmation before it is recorded, once."""

from __future__ import annotations

import datetime
import re

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from households.models import Attachment
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory, make_user, png_bytes, township
from housing_safety import held_files
from housing_safety.access import Role
from housing_safety.models import HeldUpload
from housing_safety.tests.kit import body, confirmation
from housing_safety.web import run_form
from inspections.forms import MultipleFileField
from inspections.models import Appraisal
from inspections.selectors import grade_warnings

pytestmark = pytest.mark.django_db

KEPT = "已保留：{name}（无需重新选择）"
CONFIRM = "确认提交（提交后不能修改）"
ALL_A_BUT_D = "各构件均为 a 级，但房屋综合评定为 D 级：请确认。"
GONE = "为此表单保留的文件已不可用"
BAD_FILE = "只能上传照片（JPEG、PNG、WebP、HEIC）、PDF、Word 和 Excel 文件。"


def png(name: str = "roof.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def appraisal_data(**overrides) -> dict:
    data = {
        "kind": Appraisal.Kind.FORMAL,
        "appraised_on": timezone.localdate().isoformat(),
        "organisation": "漳平市房屋安全鉴定站",
        "appraisers": "张工、李工",
        "foundation": "d",
        "load_bearing_walls": "c",
        "timber_frame": "n",
        "roof_truss": "n",
        "concrete_frame": "n",
        "floor_roof_slab": "c",
        "grade": "D",
        "recommendation": Appraisal.Recommendation.REBUILD,
        "notes": "墙体开裂",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def dwelling(db):
    household = HouseholdFactory(head_name="陈金水", village=VillageFactory(township=township("350881100")))
    return DwellingFactory(household=household, address="东坑村3组12号", year_built=1978)


@pytest.fixture
def staff(db):
    return make_user(Role.TOWNSHIP_STAFF, townships=[township("350881100")])


@pytest.fixture
def client_staff(client, staff):
    client.force_login(staff)
    return client


def url(dwelling) -> str:
    return reverse("inspections:appraise", args=[dwelling.pk])


def batch_of(response) -> str:
    return re.search(r'name="held" value="([0-9a-f-]{36})"', body(response)).group(1)


def photos_of(appraisal) -> list[str]:
    return list(
        Attachment.objects.filter(content_type__model="appraisal", object_id=appraisal.pk, kind="photo").values_list(
            "original_name", flat=True
        )
    )


# ------------------------------------------------------------------------------------------ the summary


class TwoFieldForm(forms.Form):
    organisation = forms.CharField(label="鉴定单位")
    appraisers = forms.CharField(label="鉴定人")

    def clean(self):
        raise forms.ValidationError("整张表有误")


def test_summary_lists_the_forms_errors_first_then_each_field_as_a_link_with_the_count():
    form = TwoFieldForm(data={"organisation": "", "appraisers": ""})

    html = render_to_string("_form_fields.html", {"form": form})

    summary = html.split("data-error-summary>", 1)[1].split("</div>", 1)[0]
    assert 'role="alert"' in html and 'tabindex="-1"' in html and "alert alert-danger" in html
    assert "请修改以下 3 处后再提交" in summary
    items = re.findall(r"<li>(.*?)</li>", summary, re.S)
    assert items[0].strip() == "整张表有误"  # the form's own error first, no link
    assert '<a href="#id_organisation">鉴定单位：这个字段是必填项。</a>' in items[1]
    assert '<a href="#id_appraisers">鉴定人：这个字段是必填项。</a>' in items[2]
    assert 'id="id_organisation"' in html and 'id="id_appraisers"' in html  # each link has its target


def test_no_summary_on_an_empty_or_a_valid_form():
    class Plain(forms.Form):
        organisation = forms.CharField()

    assert "data-error-summary" not in render_to_string("_form_fields.html", {"form": Plain()})
    assert "data-error-summary" not in render_to_string(
        "_form_fields.html", {"form": Plain(data={"organisation": "x"})}
    )


def test_the_appraisal_page_shows_the_summary_linking_to_the_missing_field(client_staff, dwelling):
    response = client_staff.post(url(dwelling), appraisal_data(organisation=""))

    text = body(response)
    assert response.status_code == 200
    assert "请修改以下 1 处后再提交" in text
    assert '<a href="#id_organisation">鉴定单位：这个字段是必填项。</a>' in text
    assert "static/js/forms.js" in text or "/js/forms.js" in text  # what moves the focus to it (no inline script)


def test_the_summary_links_a_group_of_radio_buttons_to_its_group(client_staff, dwelling):
    response = client_staff.post(url(dwelling), appraisal_data(grade=None))

    text = body(response)
    assert '<a href="#id_grade">' in text and 'id="id_grade"' in text


# ----------------------------------------------------------------------------------- files kept


def test_a_photo_chosen_before_an_error_is_kept_and_used_without_choosing_it_again(client_staff, dwelling):
    refused = client_staff.post(url(dwelling), {**appraisal_data(organisation=""), "photos": [png("roof.png")]})

    assert KEPT.format(name="roof.png") in body(refused)
    assert not Appraisal.objects.exists() and not Attachment.objects.exists()
    batch = batch_of(refused)
    shown = client_staff.post(url(dwelling), {**appraisal_data(), "held": batch})  # no file chosen this time
    assert "roof.png" in body(shown).split("data-photos>", 1)[1].split("</dd>", 1)[0]
    assert not Appraisal.objects.exists()

    done = client_staff.post(url(dwelling), confirmation(shown))

    assert done.status_code == 302
    appraisal = Appraisal.objects.get()
    assert photos_of(appraisal) == ["roof.png"]
    assert not HeldUpload.objects.exists()  # what was held is gone once recorded


def test_photos_chosen_again_replace_the_kept_ones_so_none_is_recorded_twice(client_staff, dwelling):
    refused = client_staff.post(url(dwelling), {**appraisal_data(organisation=""), "photos": [png("roof.png")]})
    again = {**appraisal_data(), "held": batch_of(refused), "photos": [png("roof.png"), png("wall.png")]}
    shown = client_staff.post(url(dwelling), again)

    client_staff.post(url(dwelling), confirmation(shown))

    assert sorted(photos_of(Appraisal.objects.get())) == ["roof.png", "wall.png"]


def test_a_kept_photo_ticked_for_removal_is_not_recorded(client_staff, dwelling):
    refused = client_staff.post(url(dwelling), {**appraisal_data(organisation=""), "photos": [png("roof.png")]})
    row = HeldUpload.objects.get(field="photos")

    shown = client_staff.post(url(dwelling), {**appraisal_data(), "held": batch_of(refused), "held-remove": [row.pk]})
    client_staff.post(url(dwelling), confirmation(shown))

    assert photos_of(Appraisal.objects.get()) == []
    assert not HeldUpload.objects.filter(pk=row.pk).exists()


def test_another_persons_kept_files_are_refused_and_nothing_is_written(client, dwelling, staff):
    client.force_login(staff)
    refused = client.post(url(dwelling), {**appraisal_data(organisation=""), "photos": [png("roof.png")]})
    batch = batch_of(refused)
    colleague = make_user(Role.TOWNSHIP_STAFF, townships=[township("350881100")])
    client.force_login(colleague)

    response = client.post(url(dwelling), {**appraisal_data(), "held": batch})

    assert response.status_code == 200
    assert GONE in body(response) and "roof.png" not in body(response)
    assert not Appraisal.objects.exists()
    assert HeldUpload.objects.filter(user=staff, batch=batch).count() == 1  # the owner's files are untouched


def test_kept_files_older_than_a_day_are_refused(client_staff, dwelling):
    refused = client_staff.post(url(dwelling), {**appraisal_data(organisation=""), "photos": [png("roof.png")]})
    HeldUpload.objects.update(created_at=timezone.now() - datetime.timedelta(hours=25))

    response = client_staff.post(url(dwelling), {**appraisal_data(), "held": batch_of(refused)})

    assert GONE in body(response)
    assert not Appraisal.objects.exists()


def test_a_bad_file_is_not_kept_and_a_kept_file_is_checked_again(client_staff, dwelling, staff):
    fake = SimpleUploadedFile("fake.jpg", b"not a photo at all", content_type="image/jpeg")

    refused = client_staff.post(url(dwelling), {**appraisal_data(organisation=""), "photos": [png("roof.png"), fake]})

    text = body(refused)
    assert f"fake.jpg: {BAD_FILE}" in text
    assert KEPT.format(name="roof.png") in text and KEPT.format(name="fake.jpg") not in text
    # A held file goes through every check again when it is used (here: one that was stored bad).
    row = HeldUpload.objects.get(name="roof.png")
    row.file.save("x", SimpleUploadedFile("x", b"still not a photo"), save=False)
    row.name = "bad.png"
    row.save()
    again = client_staff.post(url(dwelling), {**appraisal_data(), "held": batch_of(refused)})
    assert f"bad.png: {BAD_FILE}" in body(again)
    assert CONFIRM not in body(again)
    assert not Appraisal.objects.exists() and not Attachment.objects.exists()


def test_run_form_keeps_files_for_any_form_with_file_inputs(staff):
    class Report(forms.Form):
        note = forms.CharField()
        photos = MultipleFileField(required=False)

    request = RequestFactory().post("/", {"note": "", "photos": [png("leak.png")]})
    request.user = staff
    recorded = []
    form = Report(request.POST, request.FILES)

    assert run_form(form, recorded.append, request=request) is None
    assert [row.name for row in form.fields["photos"].held] == ["leak.png"]
    again = RequestFactory().post("/", {"note": "漏雨", "held": str(form.held.batch)})
    again.user = staff
    fixed = Report(again.POST, again.FILES)
    run_form(fixed, lambda f: recorded.append([p.name for p in f.cleaned_data["photos"]]) or True, request=again)
    assert recorded == [["leak.png"]]
    assert not HeldUpload.objects.exists()


def test_the_nightly_retention_forgets_what_was_held_before_the_cut_off(staff):
    kept = HeldUpload.objects.create(batch="00000000-0000-4000-8000-000000000001", user=staff, field="photos")
    HeldUpload.objects.filter(pk=kept.pk).update(created_at=timezone.now() - datetime.timedelta(days=2))
    fresh = HeldUpload.objects.create(batch="00000000-0000-4000-8000-000000000002", user=staff, field="photos")

    assert held_files.remove_expired(before=timezone.now() - datetime.timedelta(days=1)) == 1

    assert list(HeldUpload.objects.all()) == [fresh]


# ---------------------------------------------------------------------------------- the confirmation


def test_a_valid_appraisal_is_shown_for_confirmation_and_nothing_is_written(client_staff, dwelling):
    response = client_staff.post(url(dwelling), {**appraisal_data(), "photos": [png("roof.png")]})

    text = body(response)
    assert response.status_code == 200
    assert CONFIRM in text and "返回修改" in text
    for shown in (
        "陈金水",
        "东坑村3组12号",
        timezone.localdate().isoformat(),
        "D级：整栋危险",
        "roof.png",
        "张工、李工",
    ):
        assert shown in text, shown
    assert len(re.findall(r"<dd data-component>", text)) == len(Appraisal.COMPONENTS)
    assert ALL_A_BUT_D not in text
    assert not Appraisal.objects.exists() and not Attachment.objects.exists()


def test_all_components_a_but_grade_d_is_shown_with_the_grading_rules_warning(client_staff, dwelling):
    all_a = {name: "a" for name, _label in Appraisal.COMPONENTS} | {"concrete_frame": "n"}

    response = client_staff.post(url(dwelling), appraisal_data(**all_a))

    assert ALL_A_BUT_D in body(response)
    assert "data-grade-warnings" in body(response)
    assert not Appraisal.objects.exists()


def test_confirming_twice_records_once(client_staff, dwelling):
    shown = client_staff.post(url(dwelling), {**appraisal_data(), "photos": [png("roof.png")]})
    sent = confirmation(shown)

    first = client_staff.post(url(dwelling), sent)
    second = client_staff.post(url(dwelling), sent)

    assert first.status_code == second.status_code == 302
    appraisal = Appraisal.objects.get()
    assert photos_of(appraisal) == ["roof.png"]
    page = client_staff.get(second.url)
    assert "这份鉴定已经提交过" in body(page)


def test_going_back_keeps_every_value_and_the_photo(client_staff, dwelling):
    data = appraisal_data(notes="东墙开裂，屋面漏雨")
    shown = client_staff.post(url(dwelling), {**data, "photos": [png("roof.png")]})

    back = client_staff.post(url(dwelling), confirmation(shown, button="back"))

    text = body(back)
    assert CONFIRM not in text and "data-error-summary" not in text
    assert 'value="漳平市房屋安全鉴定站"' in text and "东墙开裂，屋面漏雨" in text
    assert re.search(r'name="grade" value="D"[^>]*checked', text)
    assert KEPT.format(name="roof.png") in text
    assert not Appraisal.objects.exists()
    # and from there, on to the record with the photo it kept
    shown_again = client_staff.post(url(dwelling), {**data, "held": batch_of(back)})
    client_staff.post(url(dwelling), confirmation(shown_again))
    assert photos_of(Appraisal.objects.get()) == ["roof.png"]


def test_grade_warnings_follow_the_worst_component():
    def appraisal(grade, **components):
        grades = {name: "a" for name, _label in Appraisal.COMPONENTS} | components
        return Appraisal(grade=grade, **grades)

    assert grade_warnings(appraisal("D")) == [ALL_A_BUT_D]
    assert grade_warnings(appraisal("C")) == ["各构件均为 a 级，但房屋综合评定为 C 级：请确认。"]
    assert grade_warnings(appraisal("B")) == []  # one step: the appraiser's judgement
    assert grade_warnings(appraisal("D", foundation="b")) == ["构件最低为 b 级，但房屋综合评定为 D 级：请确认。"]
    assert grade_warnings(appraisal("D", foundation="c")) == []
    assert grade_warnings(appraisal("A", foundation="n")) == []


def test_a_complaint_intake_keeps_its_photo_when_a_field_is_missing(client):
    from rectification.models import Complaint

    clerk = make_user(Role.COMPLAINT_CLERK)
    client.force_login(clerk)
    new = reverse("rectification:complaint-new")
    data = {
        "channel": "hotline", "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "reporter_name": "王举报", "reporter_phone": "13912345678", "township": township("350881100").pk,
        "category": "construction_quality", "content": "",
    }  # fmt: skip

    refused = client.post(new, {**data, "files": [png("屋面.png")]})

    assert "请修改以下 1 处后再提交" in body(refused) and KEPT.format(name="屋面.png") in body(refused)
    assert not Complaint.objects.exists()
    logged = client.post(new, {**data, "content": "新房屋面漏水", "held": batch_of(refused)})
    assert logged.status_code == 302
    complaint = Complaint.objects.get()
    files = Attachment.objects.filter(content_type__model="complaint", object_id=complaint.pk)
    assert list(files.values_list("original_name", flat=True)) == ["屋面.png"]
    assert not HeldUpload.objects.exists()


def test_a_form_written_by_hand_has_the_summary_too(client_staff, dwelling):
    from housing_safety import disclosure

    household = dwelling.household
    unmask = reverse("unmask", args=[disclosure.record_type(household), household.pk])

    response = client_staff.post(unmask, {"reason": ""})

    text = body(response)
    assert response.status_code == 400
    assert "请修改以下 1 处后再提交" in text and '<a href="#id_reason">理由：' in text and 'id="id_reason"' in text

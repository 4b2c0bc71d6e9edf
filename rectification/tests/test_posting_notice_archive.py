"""The posting notice (公示) is "printed when the step is recorded, kept in the case's archive as a generated
document" (issue 18): recording 村民评议 or 乡镇审核 files the notice in the archive of every case posted with it, as
it hangs once this case has joined; the generated kinds cannot be uploaded by hand.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from households.tests.factories import HouseholdFactory, png_file
from housing_safety.tests.kit import ADMIN, STAFF, login, pdf_text
from rectification import services
from rectification.forms import CaseDocumentsForm, CaseMoveForm
from rectification.models import CaseDocument, CaseStatus, DocumentKind
from rectification.tests.factories import dangerous_dwelling, new_case, step_data, walk

pytestmark = pytest.mark.django_db

S = CaseStatus
VILLAGE_NOTICE = "village_posting_notice"


def _case(world, head, village=None):
    users = world["users"]
    return new_case(
        users[ADMIN], dangerous_dwelling(HouseholdFactory(village=village or world["home"], head_name=head))
    )


def _assess(world, case, django_capture_on_commit_callbacks, persona=STAFF):
    with django_capture_on_commit_callbacks(execute=True):
        return services.move_case(actor=world["users"][persona], case=case, to=S.VILLAGE_ASSESSED,
                                  **step_data(case, S.VILLAGE_ASSESSED))  # fmt: skip


def _notices(case, code=VILLAGE_NOTICE):
    return list(CaseDocument.objects.filter(case=case, kind__code=code).select_related("attachment"))


def _text(document) -> str:
    with document.attachment.file.open("rb") as handle:
        return pdf_text(handle.read())[1]


def test_recording_the_village_assessment_files_the_notice(world, django_capture_on_commit_callbacks):
    case = _assess(world, _case(world, "林木根"), django_capture_on_commit_callbacks)

    [notice] = _notices(case)
    assert notice.step == S.VILLAGE_ASSESSED
    assert notice.attachment.mime_type == "application/pdf"
    assert notice.attachment.uploaded_by == world["users"][STAFF]
    text = _text(notice)
    assert "东坑村农村危房改造村民评议公示" in text and "林木根" in text and case.number in text
    assert case.household.id_number not in text


def test_a_case_joining_the_posting_replaces_every_copy_with_the_whole_list(world, django_capture_on_commit_callbacks):
    first = _assess(world, _case(world, "林木根"), django_capture_on_commit_callbacks)
    [old] = _notices(first)
    old_file = old.attachment.file.name
    second = _assess(world, _case(world, "郑春花"), django_capture_on_commit_callbacks)

    [first_notice], [second_notice] = _notices(first), _notices(second)
    for notice in (first_notice, second_notice):
        text = _text(notice)
        assert "林木根" in text and "郑春花" in text
    assert not CaseDocument.objects.filter(pk=old.pk).exists()
    assert not old.attachment.file.storage.exists(old_file)


def test_another_village_or_period_is_another_notice(world, django_capture_on_commit_callbacks):
    home = _assess(world, _case(world, "林木根"), django_capture_on_commit_callbacks)
    other = _assess(world, _case(world, "张外乡", village=world["other"]), django_capture_on_commit_callbacks, ADMIN)

    assert "张外乡" not in _text(_notices(home)[0])
    assert "林木根" not in _text(_notices(other)[0])


def test_the_township_review_files_the_township_notice(world, django_capture_on_commit_callbacks):
    users = world["users"]
    case = _assess(world, _case(world, "林木根"), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        case = services.move_case(actor=users[STAFF], case=case, to=S.TOWNSHIP_REVIEWED,
                                  **step_data(case, S.TOWNSHIP_REVIEWED))  # fmt: skip

    [notice] = _notices(case, "township_posting_notice")
    assert "新桥镇农村危房改造乡镇审核公示" in _text(notice)
    assert len(_notices(case)) == 1  # the village's notice stays


def test_an_archived_folder_keeps_its_own_copy(world, django_capture_on_commit_callbacks):
    users = world["users"]
    first = _assess(world, _case(world, "林木根"), django_capture_on_commit_callbacks)
    first = walk(first, S.ARCHIVED, township_user=users[STAFF], bureau_user=users[ADMIN])
    [sealed] = _notices(first)
    late = _case(world, "郑春花")
    late_step = step_data(late, S.VILLAGE_ASSESSED) | {
        "on": first.village_posting_start, "posting_start": first.village_posting_start,
        "posting_end": first.village_posting_end,
    }  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        late = services.move_case(actor=users[STAFF], case=late, to=S.VILLAGE_ASSESSED, **late_step)

    assert _notices(first) == [sealed] and "郑春花" not in _text(sealed)
    assert "林木根" in _text(_notices(late)[0]) and "郑春花" in _text(_notices(late)[0])


def test_nothing_is_filed_when_the_step_is_refused(world, django_capture_on_commit_callbacks):
    case = _case(world, "林木根")
    data = step_data(case, S.VILLAGE_ASSESSED) | {"posting_end": None}

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        services.move_case(actor=world["users"][STAFF], case=case, to=S.VILLAGE_ASSESSED, **data)

    assert _notices(case) == []


def test_a_generated_kind_cannot_be_uploaded(world):
    case = _case(world, "林木根")
    kind = DocumentKind.objects.get(code=VILLAGE_NOTICE)

    with pytest.raises(ValidationError) as refused:
        services.add_case_documents(actor=world["users"][STAFF], case=case, documents=[(kind, png_file("x.png"))])

    assert "村级公示通知（系统生成）”由系统自动存档，不能上传" in str(refused.value)
    assert _notices(case) == []
    assert kind not in CaseDocumentsForm().fields["kind"].queryset
    form = CaseMoveForm(case=case, to=S.VILLAGE_ASSESSED, user=world["users"][STAFF])
    assert f"doc_{VILLAGE_NOTICE}" not in form.fields and "doc_village_posting_photo" in form.fields


def test_the_case_page_lists_the_filed_notice_and_says_so_after_the_step(
    client, world, personas, django_capture_on_commit_callbacks
):
    case = _case(world, "林木根")
    login(client, personas, STAFF)
    step = step_data(case, S.VILLAGE_ASSESSED)
    data = {
        "to": S.VILLAGE_ASSESSED,
        **{f"village_assessed-{k}": v.isoformat() for k, v in step.items() if k != "documents"},
    }
    data |= {f"village_assessed-doc_{kind.code}": upload for kind, upload in step["documents"]}

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("rectification:case-move", args=[case.pk]), data)
    page = client.get(response.url).content.decode()

    assert "公示通知已存入档案" in page
    assert "村级公示通知（系统生成）" in page
    [notice] = _notices(case)
    assert reverse("attachment-download", args=[notice.attachment_id]) in page

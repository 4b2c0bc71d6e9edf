"""Rectification's writes in the API (rectification/api_writes.py) and the Idempotency-Key they all take
(housing_safety/api/idempotency.py): a complaint from the hotline platform with its external ticket, a problem's
move, a case's step with its documents as multipart. Contract tests: the same action through the page and through
the API leaves the same rows and history. The hotline intake end to end, with a real webhook receiver on loopback."""

from __future__ import annotations

import datetime
import threading
import time
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from households.models import Attachment
from households.tests.factories import make_user, png_bytes, png_file
from housing_safety.access import Role
from housing_safety.api import keys
from housing_safety.models import IdempotentRequest, WebhookDelivery, WebhookSubscription
from housing_safety.tests.test_webhooks import Receiver
from rectification import services
from rectification.models import CaseDocument, CaseStatus, CaseTransition, Complaint, ComplaintTransition, Problem
from rectification.tests.factories import dangerous_dwelling, days_ago, new_case, standards

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("chinese")]

S = CaseStatus
C = Complaint.Status
INTAKE = "/api/v1/complaints/intake/"
COMPLAINT_SCOPES = ["read:complaints", "write:complaints"]


def key_for(user, scopes=COMPLAINT_SCOPES) -> str:
    return keys.issue_key(
        user=user, name="12345 热线平台", scopes=scopes, expires_at=timezone.now() + datetime.timedelta(days=30)
    )[1]


def api_post(plain, url, data, *, key: str | None = "auto", multipart=False):
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {plain}"}
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = str(uuid.uuid4()) if key == "auto" else key
    if multipart:
        return Client().post(url, data, **headers)
    return Client().post(url, data, content_type="application/json", **headers)


def intake(township, **changes) -> dict:
    data = {
        "channel": "12345",
        "external_ticket": "ZP12345-20261207-0001",
        "received_at": (timezone.localtime() - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "reporter_name": "王举报",
        "reporter_phone": "13912345678",
        "township": township.pk,
        "category": Complaint.Category.DANGEROUS_NOT_RENOVATED,
        "content": "东坑村李家土坯房裂缝严重，仍有人居住",
    }
    return data | changes


@pytest.fixture
def clerk(personas):
    return personas[Role.COMPLAINT_CLERK]


# The Idempotency-Key ---------------------------------------------------------------------------------------------


def test_a_complaint_posted_twice_with_one_key_is_logged_once_and_answered_the_same(clerk, xinqiao):
    plain = key_for(clerk)
    first = api_post(plain, INTAKE, intake(xinqiao), key="hotline-0001")
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["ticket"].startswith("TS-") and body["external_ticket"] == "ZP12345-20261207-0001"
    assert len(body["query_code"]) == 6 and body["status"] == C.RECEIVED

    again = api_post(plain, INTAKE, intake(xinqiao), key="hotline-0001")

    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == body | {"query_code": None}  # the code is kept only as a hash: not in the stored answer
    assert Complaint.objects.count() == 1 and ComplaintTransition.objects.count() == 1
    row = IdempotentRequest.objects.get()
    assert (row.key, row.method, row.path, row.status_code) == ("hotline-0001", "POST", INTAKE, 201)
    assert row.api_key.user == clerk and "query_code" not in str(row.response_body).replace("'query_code': None", "")


def test_the_same_key_with_another_body_is_a_422_in_chinese_and_writes_nothing(clerk, xinqiao):
    plain = key_for(clerk)
    assert api_post(plain, INTAKE, intake(xinqiao), key="k-1").status_code == 201

    response = api_post(plain, INTAKE, intake(xinqiao, content="另一件事"), key="k-1")

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["code"] == "idempotency_key_reused" and "已用于另一个请求" in error["message"]
    assert Complaint.objects.count() == 1


def test_a_key_caller_must_send_an_idempotency_key_a_session_may_not(client, clerk, xinqiao):
    response = api_post(key_for(clerk), INTAKE, intake(xinqiao), key=None)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "idempotency_key_required"
    assert "Idempotency-Key" in response.json()["errors"][0]["message"]
    assert api_post(key_for(clerk), INTAKE, intake(xinqiao), key="含中文").status_code == 400
    assert not Complaint.objects.exists() and not IdempotentRequest.objects.exists()

    client.force_login(clerk)  # the field app in the browser: the header is optional
    assert client.post(INTAKE, intake(xinqiao), content_type="application/json").status_code == 201
    assert Complaint.objects.count() == 1 and not IdempotentRequest.objects.exists()


def test_a_session_with_an_idempotency_key_is_remembered_for_the_person(client, clerk, xinqiao):
    client.force_login(clerk)
    sent = [
        client.post(INTAKE, intake(xinqiao), content_type="application/json", HTTP_IDEMPOTENCY_KEY="app-1")
        for _attempt in range(2)
    ]
    assert [r.status_code for r in sent] == [201, 201] and sent[1]["Idempotent-Replayed"] == "true"
    row = IdempotentRequest.objects.get()
    assert (row.user, row.api_key) == (clerk, None) and Complaint.objects.count() == 1


def test_a_refused_write_keeps_no_key_so_the_corrected_request_goes_through(clerk, xinqiao):
    plain = key_for(clerk)
    refused = api_post(plain, INTAKE, intake(xinqiao, content="  "), key="k-2")
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "content"
    assert not IdempotentRequest.objects.exists() and not Complaint.objects.exists()

    assert api_post(plain, INTAKE, intake(xinqiao), key="k-2").status_code == 201
    assert Complaint.objects.count() == 1


def test_keys_are_per_caller(clerk, xinqiao):
    other = make_user(Role.COMPLAINT_CLERK, username="clerk-2")
    assert api_post(key_for(clerk), INTAKE, intake(xinqiao), key="same").status_code == 201
    response = api_post(key_for(other), INTAKE, intake(xinqiao, external_ticket="ZP-2"), key="same")
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert Complaint.objects.count() == 2


def test_a_multipart_retry_with_the_same_files_is_the_same_request(clerk, xinqiao):
    plain = key_for(clerk)

    def send(content: bytes):
        from django.core.files.uploadedfile import SimpleUploadedFile

        data = intake(xinqiao) | {"files": [SimpleUploadedFile("现场.png", content, content_type="image/png")]}
        return api_post(plain, INTAKE, data, key="with-files", multipart=True)

    first = send(png_bytes())
    assert first.status_code == 201, first.content
    assert send(png_bytes())["Idempotent-Replayed"] == "true"
    assert send(png_bytes() + b"\0").status_code == 422  # other file content: another request
    assert Attachment.objects.count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_requests_with_one_key_at_the_same_moment_write_once(monkeypatch):
    """The second request's insert of the key waits for the first's transaction (PostgreSQL's unique index) and then
    answers with the first's committed answer."""
    from households.tests.factories import township

    xinqiao = township("350881100")
    clerk = make_user(Role.COMPLAINT_CLERK)
    plain = key_for(clerk)
    inside, real = threading.Event(), services.log_complaint

    def slow_log(**kwargs):
        result = real(**kwargs)
        inside.set()
        time.sleep(0.5)  # the second request arrives while this one's transaction is open
        return result

    monkeypatch.setattr(services, "log_complaint", slow_log)
    answers = {}

    def call(name):
        try:
            answers[name] = api_post(plain, INTAKE, intake(xinqiao), key="at-once")
        finally:
            connection.close()

    first = threading.Thread(target=call, args=("first",))
    first.start()
    assert inside.wait(10)
    started = time.monotonic()
    call("second")
    waited = time.monotonic() - started
    first.join()

    assert answers["first"].status_code == answers["second"].status_code == 201
    assert answers["second"]["Idempotent-Replayed"] == "true" and waited > 0.2  # it waited for the first
    assert answers["second"].json()["ticket"] == answers["first"].json()["ticket"]
    assert Complaint.objects.count() == 1 and IdempotentRequest.objects.count() == 1


# The hotline's complaint: its external ticket ---------------------------------------------------------------------


def test_an_external_ticket_is_logged_once_per_channel(clerk, xinqiao):
    plain = key_for(clerk)
    assert api_post(plain, INTAKE, intake(xinqiao)).status_code == 201

    again = api_post(plain, INTAKE, intake(xinqiao))  # the platform re-sends its ticket under a new key

    assert again.status_code == 400
    [error] = again.json()["errors"]
    assert error["code"] == "external_ticket_taken" and error["message"] == "这个外部工单号的投诉已经登记过。"
    other_channel = api_post(plain, INTAKE, intake(xinqiao, channel="letter"))
    assert other_channel.status_code == 201  # another platform's numbering
    assert Complaint.objects.count() == 2


def test_a_key_without_the_write_scope_or_a_role_without_the_permission_writes_nothing(personas, xinqiao):
    read_only = api_post(key_for(personas[Role.COMPLAINT_CLERK], ["read:complaints"]), INTAKE, intake(xinqiao))
    assert read_only.status_code == 403 and read_only.json()["errors"][0]["code"] == "scope"
    helper = api_post(key_for(personas[Role.HELPER]), INTAKE, intake(xinqiao))
    assert helper.status_code == 403
    assert not Complaint.objects.exists() and not IdempotentRequest.objects.exists()


def test_the_clerk_finds_the_complaint_by_its_external_ticket(client, clerk, xinqiao):
    plain = key_for(clerk)
    api_post(plain, INTAKE, intake(xinqiao))
    api_post(plain, INTAKE, intake(xinqiao, external_ticket="ZP12345-20261207-0002", content="补助资金被截留"))
    client.force_login(clerk)

    page = client.get(reverse("rectification:complaints"), {"q": "ZP12345-20261207-0002"}).content.decode()

    assert "ZP12345-20261207-0002" in page and "补助资金被截留" in page and "李家土坯房" not in page
    complaint = Complaint.objects.get(external_ticket="ZP12345-20261207-0002")
    detail = client.get(reverse("rectification:complaint", args=[complaint.pk])).content.decode()
    assert "外部工单号" in detail and "ZP12345-20261207-0002" in detail
    exported = client.get(reverse("rectification:complaint-export"), {"q": "ZP12345-20261207-0002"})
    assert "ZP12345-20261207-0002" in workbook_cells(exported.content)  # and in the clerk's Excel export


def workbook_cells(content: bytes) -> str:
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(content), read_only=True).active
    return "\n".join(str(cell) for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None)


# Contract: the page and the API leave the same rows -------------------------------------------------------------

VARYING = {
    "id",
    "ticket",
    "query_code_hash",
    "created_at",
    "updated_at",
    "external_ticket",
    "history_id",
    "history_date",
}


def _rows(queryset, drop=()) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in VARYING | set(drop)} for row in queryset.values()]


def complaint_rows(complaint: Complaint) -> dict:
    return {
        "complaint": _rows(Complaint.objects.filter(pk=complaint.pk)),
        "history": _rows(complaint.history.all(), drop={"history_change_reason"}),
        "transitions": _rows(complaint.transitions.all(), drop={"complaint_id", "at"}),
        "files": _rows(
            Attachment.objects.filter(object_id=complaint.pk, content_type__model="complaint"),
            drop={"object_id", "file", "uploaded_at"},
        ),
    }


def test_contract_the_complaint_intake_through_the_page_and_the_api_leaves_the_same_rows(client, clerk, xinqiao):
    received = (timezone.localtime() - datetime.timedelta(hours=2)).replace(second=0, microsecond=0)
    common = intake(xinqiao, received_at=received.strftime("%Y-%m-%dT%H:%M"))
    client.force_login(clerk)
    page = client.post(
        reverse("rectification:complaint-new"), common | {"external_ticket": "PAGE-1", "files": [png_file("现场.png")]}
    )
    assert page.status_code == 302, page.content.decode()[:2000]
    api = api_post(
        key_for(clerk), INTAKE, common | {"external_ticket": "API-1", "files": [png_file("现场.png")]}, multipart=True
    )
    assert api.status_code == 201, api.content

    by_page, by_api = Complaint.objects.get(external_ticket="PAGE-1"), Complaint.objects.get(external_ticket="API-1")
    assert complaint_rows(by_api) == complaint_rows(by_page)
    assert len(complaint_rows(by_api)["files"]) == 1 and by_api.history.count() == 1


def _case_rows(case) -> dict:
    case_drop = {"number", "dwelling_id", "household_id", "trigger_appraisal_id", "updated_at"}
    return {
        "case": _rows(type(case).objects.filter(pk=case.pk), drop=case_drop),
        "history": _rows(case.history.all(), drop=case_drop | {"history_change_reason"}),
        "transitions": _rows(CaseTransition.objects.filter(case=case), drop={"case_id", "at"}),
        "documents": _rows(CaseDocument.objects.filter(case=case), drop={"case_id", "attachment_id", "filed_at"}),
        "files": _rows(
            Attachment.objects.filter(object_id=case.pk, content_type__model="renovationcase"),
            drop={"object_id", "file", "uploaded_at"},
        ),
    }


def test_contract_a_case_step_through_the_page_and_the_api_leaves_the_same_rows(client, staff, xinqiao):
    standards()
    by_page, by_api = (new_case(staff, dangerous_dwelling()) for _case in range(2))
    on = days_ago(100)
    fields = {
        "on": on.isoformat(),
        "note": "村民代表大会评议通过",
        "posting_start": on.isoformat(),
        "posting_end": (on + datetime.timedelta(days=6)).isoformat(),
    }
    files = lambda: {  # noqa: E731
        "doc_assessment_record": png_file("评议记录.png"),
        "doc_village_posting_photo": png_file("村级公示.png"),
    }
    client.force_login(staff)
    page = client.post(
        reverse("rectification:case-move", args=[by_page.pk]),
        {"to": S.VILLAGE_ASSESSED, **{f"{S.VILLAGE_ASSESSED}-{k}": v for k, v in (fields | files()).items()}},
    )
    assert page.status_code == 302, page.content.decode()[:3000]
    plain = key_for(staff, ["read:cases", "write:cases"])
    api = api_post(
        plain, f"/api/v1/cases/{by_api.pk}/moves/", {"to": S.VILLAGE_ASSESSED, **fields, **files()}, multipart=True
    )
    assert api.status_code == 200, api.content
    assert api.json() == {"id": by_api.pk, "status": S.VILLAGE_ASSESSED, "status_on": on.isoformat()}

    assert _case_rows(by_api) == _case_rows(by_page)
    rows = _case_rows(by_api)
    assert (
        len(rows["transitions"]) == 2
        and len(rows["documents"]) >= 2
        and rows["case"][0]["status"] == S.VILLAGE_ASSESSED
    )


def test_a_case_step_refused_by_the_service_or_with_an_unknown_document_changes_nothing(staff, xinqiao):
    standards()
    case = new_case(staff, dangerous_dwelling())
    plain = key_for(staff, ["write:cases"])
    url = f"/api/v1/cases/{case.pk}/moves/"
    on = days_ago(100).isoformat()
    short = api_post(plain, url, {"to": S.VILLAGE_ASSESSED, "on": on, "posting_start": on, "posting_end": on})
    assert short.status_code == 400 and short.json()["errors"][0]["field"] == "posting_end"
    unknown = api_post(plain, url, {"to": S.VILLAGE_ASSESSED, "on": on, "doc_nothing": png_file()}, multipart=True)
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "doc_nothing"
    case.refresh_from_db()
    assert case.status == S.APPLIED and CaseTransition.objects.filter(case=case).count() == 1


def test_a_case_of_another_township_is_a_404(personas, shuangyang):
    standards()
    outsider = make_user(Role.TOWNSHIP_STAFF, username="outsider", townships=[shuangyang])
    case = new_case(personas[Role.TOWNSHIP_STAFF], dangerous_dwelling())
    response = api_post(
        key_for(outsider, ["write:cases"]),
        f"/api/v1/cases/{case.pk}/moves/",
        {"to": S.VILLAGE_ASSESSED, "on": days_ago(1).isoformat()},
    )
    assert response.status_code == 404


# A problem's move -------------------------------------------------------------------------------------------------


def test_a_problem_moves_through_the_api_as_through_its_page(staff, xinqiao):
    problem = services.save_problem(
        actor=staff,
        problem=Problem(
            township=xinqiao, source=Problem.Source.SELF_INSPECTION, kind=Problem.Kind.MISSING_DOCUMENTS,
            description="鉴定报告缺少签字", deadline=timezone.localdate() + datetime.timedelta(days=30),
        ),
    )  # fmt: skip
    plain = key_for(staff, ["write:problems"])
    url = f"/api/v1/problems/{problem.pk}/moves/"

    moved = api_post(plain, url, {"to": "in_progress", "note": "已安排施工队"})
    assert moved.status_code == 200, moved.content
    assert moved.json() == {"id": problem.pk, "status": "in_progress"}
    unresolved = api_post(plain, url, {"to": "resolved", "resolution": " "})
    assert unresolved.status_code == 400 and unresolved.json()["errors"][0]["field"] == "resolution"
    resolved = api_post(
        plain, url, {"to": "resolved", "resolution": "已加固", "evidence": [png_file()]}, multipart=True
    )
    assert resolved.status_code == 200, resolved.content
    assert [(t.from_status, t.to_status, t.actor) for t in problem.transitions.order_by("pk")] == [
        ("open", "in_progress", staff),
        ("in_progress", "resolved", staff),
    ]
    assert Attachment.objects.filter(object_id=problem.pk, content_type__model="problem").count() == 1


# The hotline intake end to end ----------------------------------------------------------------------------------


def test_the_hotline_intake_end_to_end(client, personas, staff, xinqiao, django_capture_on_commit_callbacks):
    """The 12345 platform's system account (the complaint clerk's role) posts a complaint with its ticket; the clerk
    sees it on the list with that ticket and has it replied; the platform's receiver gets the signed 'replied'."""
    clerk = personas[Role.COMPLAINT_CLERK]
    platform = make_user(Role.COMPLAINT_CLERK, username="hotline-12345")  # the system account the key acts as
    plain = key_for(platform, ["write:complaints", "read:complaints"])
    with Receiver() as receiver:
        subscription = WebhookSubscription.objects.create(
            name="12345 热线平台", url=receiver.url, events=["complaint.moved"]
        )
        receiver.secret = subscription.secret

        posted = api_post(plain, INTAKE, intake(xinqiao), key="12345-ZP12345-20261207-0001")
        assert posted.status_code == 201, posted.content
        complaint = Complaint.objects.get(pk=posted.json()["id"])
        assert (complaint.created_by, complaint.external_ticket) == (platform, "ZP12345-20261207-0001")

        client.force_login(clerk)
        listed = client.get(reverse("rectification:complaints")).content.decode()
        assert complaint.ticket in listed and "ZP12345-20261207-0001" in listed

        def move(user, to, **data):
            client.force_login(user)
            response = client.post(
                reverse("rectification:complaint-move", args=[complaint.pk]),
                {"to": to, **{f"{to}-{k}": v for k, v in data.items()}},
            )
            assert response.status_code == 302, response.content.decode()[:2000]

        with django_capture_on_commit_callbacks(execute=True):
            move(clerk, C.ACCEPTED)
            move(clerk, C.ASSIGNED, handler=staff.pk)
            move(staff, C.HANDLING)
            move(
                staff, C.REPLIED, replied_on=timezone.localdate().isoformat(), reply_method="phone", reply="已安排鉴定"
            )

    # the platform reads its complaint back by its own ticket (read:complaints)
    found = Client().get(
        "/api/v1/complaints/", {"external_ticket": "ZP12345-20261207-0001"}, HTTP_AUTHORIZATION=f"Api-Key {plain}"
    )
    assert [(row["id"], row["status"]) for row in found.json()["results"]] == [(complaint.pk, C.REPLIED)]
    replied = [r for r in receiver.requests if r["body"]["data"]["to"] == C.REPLIED]
    assert len(replied) == 1 and replied[0]["signed"]
    data = replied[0]["body"]["data"]
    assert (data["ticket"], data["external_ticket"], data["from"]) == (
        complaint.ticket, "ZP12345-20261207-0001", C.HANDLING,
    )  # fmt: skip
    assert replied[0]["headers"]["X-Webhook-Event"] == "complaint.moved"
    assert WebhookDelivery.objects.filter(status=WebhookDelivery.Status.DELIVERED).count() == len(receiver.requests)

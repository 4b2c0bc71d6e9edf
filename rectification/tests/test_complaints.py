"""Complaints: working-day deadlines, the whole procedure, reporter protection and the public lookup."""

from __future__ import annotations

import datetime
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from housing_safety.access import Role
from housing_safety.models import Notice, OutgoingEmail
from housing_safety.workdays import add_working_days
from rectification import services
from rectification.models import Complaint, LeadTransfer, Problem
from rectification.tasks import notify_handler_of_complaint
from reporting.jobs import run_job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("chinese")]
D = datetime.date
C = Complaint.Status


@pytest.mark.parametrize(
    ("start", "days", "due", "estimated"),
    [
        (D(2026, 9, 30), 3, D(2026, 10, 10), False),  # National Day week off; Saturday 10 October is worked
        (D(2026, 9, 24), 1, D(2026, 9, 28), False),  # Mid-Autumn Friday to Sunday off
        (D(2026, 2, 13), 1, D(2026, 2, 14), False),  # Saturday 14 February is a make-up working day
        (D(2026, 2, 13), 3, D(2026, 2, 25), False),  # then the Spring Festival runs to 23 February
        (D(2026, 12, 28), 3, D(2026, 12, 31), False),
        (D(2026, 12, 28), 5, D(2027, 1, 4), True),  # 2027 is not in the calendar yet: Monday to Friday
    ],
)
def test_working_days_follow_the_holiday_calendar(start, days, due, estimated):
    result = add_working_days(start, days)
    assert (result.day, result.estimated) == (due, estimated)


def log(clerk, **fields) -> tuple[Complaint, str]:
    complaint = Complaint(
        channel=fields.pop("channel", Complaint.Channel.HOTLINE),
        received_at=fields.pop("received_at", timezone.now() - datetime.timedelta(hours=1)),
        reporter_name=fields.pop("reporter_name", "王举报"),
        reporter_phone=fields.pop("reporter_phone", "13912345678"),
        category=fields.pop("category", Complaint.Category.DANGEROUS_NOT_RENOVATED),
        content=fields.pop("content", "东坑村李家土坯房裂缝严重，仍有人居住"),
        **fields,
    )
    return services.log_complaint(actor=clerk, complaint=complaint)


@pytest.fixture
def clerk(personas):
    return personas[Role.COMPLAINT_CLERK]


def test_a_complaint_goes_from_the_hotline_to_a_closed_reply(clerk, staff, xinqiao):
    complaint, code = log(clerk, township=xinqiao)
    assert complaint.ticket == f"TS-{timezone.localdate().year}-000001" and len(code) == 6
    services.move_complaint(actor=clerk, complaint=complaint, to=C.ACCEPTED)
    services.move_complaint(actor=clerk, complaint=complaint, to=C.ASSIGNED, handler=staff)
    services.move_complaint(actor=staff, complaint=complaint, to=C.HANDLING)
    problem = services.open_problem_for_complaint(
        actor=staff, complaint=complaint, description="土坯房需立即排查", deadline=timezone.localdate()
    )
    assert (problem.source, problem.complaint_id) == (Problem.Source.COMPLAINT, complaint.pk)
    services.move_complaint(
        actor=staff, complaint=complaint, to=C.REPLIED, replied_on=timezone.localdate(),
        reply_method=Complaint.ReplyMethod.PHONE, reply="已安排鉴定并纳入改造计划",
    )  # fmt: skip
    complaint = services.move_complaint(actor=clerk, complaint=complaint, to=C.CLOSED, satisfaction="satisfied")
    assert complaint.status == C.CLOSED and complaint.transitions.count() == 6
    assert services.lookup(complaint.ticket, code) == complaint
    assert services.lookup(complaint.ticket, "000000" if code != "000000" else "111111") is None


def test_transfer_and_escalation_record_outgoing_leads(clerk, xinqiao, poverty_office):
    first, _code = log(clerk, township=xinqiao)
    services.move_complaint(actor=clerk, complaint=first, to=C.ACCEPTED)
    services.move_complaint(actor=clerk, complaint=first, to=C.TRANSFERRED, to_unit=poverty_office, note="属扶贫办职责")
    second, _code = log(clerk, township=xinqiao, category=Complaint.Category.STAFF_CONDUCT)
    services.move_complaint(actor=clerk, complaint=second, to=C.ACCEPTED)
    services.move_complaint(actor=clerk, complaint=second, to=C.ESCALATED, note="反映村干部优亲厚友")
    leads = list(LeadTransfer.objects.order_by("pk").values_list("to_unit_id", "to_discipline", "complaint_id"))
    assert leads == [(poverty_office.pk, False, first.pk), (None, True, second.pk)]


def test_reporter_is_masked_for_the_handler_and_shown_to_the_clerk_who_asks(client, clerk, staff, xinqiao):
    complaint, _code = log(clerk, township=xinqiao)
    services.move_complaint(actor=clerk, complaint=complaint, to=C.ACCEPTED)
    services.move_complaint(actor=clerk, complaint=complaint, to=C.ASSIGNED, handler=staff)
    url = reverse("rectification:complaint", args=[complaint.pk])
    client.force_login(staff)
    html = client.get(url).content.decode()
    assert "王举报" not in html and "13912345678" not in html and "139****5678" in html
    assert reverse("unmask", args=["rectification.complaint", complaint.pk]) not in html  # the handler may not ask
    client.force_login(clerk)
    html = client.get(url).content.decode()
    assert "王举报" not in html and "13912345678" not in html  # masked until the desk asks, with a reason
    unmask = reverse("unmask", args=["rectification.complaint", complaint.pk])
    assert unmask in html
    client.post(unmask, {"reason": "回访举报人核实情况"})
    html = client.get(url).content.decode()
    assert "王举报" in html and "13912345678" in html


def test_anonymous_complaints_store_no_reporter(clerk):
    complaint, _code = log(clerk, is_anonymous=True)
    complaint.refresh_from_db()
    assert (complaint.reporter_name, complaint.reporter_phone) == ("", "")


def test_the_handler_is_emailed_on_assignment_without_the_reporter(clerk, staff, xinqiao, mailoutbox):
    staff.email = "chen@xinqiao.example"
    staff.save()
    complaint, _code = log(clerk, township=xinqiao)
    services.move_complaint(actor=clerk, complaint=complaint, to=C.ACCEPTED)
    with pytest.MonkeyPatch.context() as patch:  # on_commit never fires inside the test's transaction
        patch.setattr("django.db.transaction.on_commit", lambda callback, *args, **kwargs: callback())
        services.move_complaint(actor=clerk, complaint=complaint, to=C.ASSIGNED, handler=staff)
    [message] = mailoutbox
    assert message.to == ["chen@xinqiao.example"] and complaint.ticket in message.subject
    assert "土坯房裂缝严重" in message.body and f"{complaint.handling_due:%Y-%m-%d}" in message.body
    assert "王举报" not in message.body + message.subject and "13912345678" not in message.body


def test_files_logged_with_a_complaint_reach_its_handler_and_nobody_outside(client, clerk, staff, xinqiao, other_staff):
    from households.tests.factories import png_file

    client.force_login(clerk)
    response = client.post(
        reverse("rectification:complaint-new"),
        {
            "channel": "hotline", "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "reporter_name": "王举报", "reporter_phone": "13912345678", "township": xinqiao.pk,
            "category": "construction_quality", "content": "新房屋面漏水", "files": [png_file("屋面.png")],
        },
    )  # fmt: skip
    complaint = Complaint.objects.get()
    assert response.status_code == 302
    services.move_complaint(actor=clerk, complaint=complaint, to=C.ACCEPTED)
    services.move_complaint(actor=clerk, complaint=complaint, to=C.ASSIGNED, handler=staff)
    client.force_login(staff)
    page = client.get(reverse("rectification:complaint", args=[complaint.pk])).content.decode()
    assert "屋面.png" in page
    from households.models import Attachment

    attachment = Attachment.objects.get()
    assert client.get(reverse("attachment-download", args=[attachment.pk])).status_code == 200
    client.force_login(other_staff)
    assert client.get(reverse("attachment-download", args=[attachment.pk])).status_code == 404


def test_a_bad_file_refuses_the_whole_intake(clerk, xinqiao):
    from django.core.exceptions import ValidationError
    from django.core.files.uploadedfile import SimpleUploadedFile

    complaint = Complaint(
        channel="hotline", received_at=timezone.now(), reporter_name="王举报", township=xinqiao,
        category="other", content="内容",
    )  # fmt: skip
    with pytest.raises(ValidationError):
        services.log_complaint(actor=clerk, complaint=complaint, files=[SimpleUploadedFile("x.png", b"MZ\x90\x00")])
    assert not Complaint.objects.exists()


def test_the_problem_page_links_back_to_its_complaint(client, clerk, staff, xinqiao):
    complaint, _code = log(clerk, township=xinqiao)
    services.move_complaint(actor=clerk, complaint=complaint, to=C.ACCEPTED)
    services.move_complaint(actor=clerk, complaint=complaint, to=C.ASSIGNED, handler=staff)
    services.move_complaint(actor=staff, complaint=complaint, to=C.HANDLING)
    problem = services.open_problem_for_complaint(
        actor=staff, complaint=complaint, description="核实属实", deadline=timezone.localdate()
    )
    client.force_login(staff)
    page = client.get(reverse("rectification:problem", args=[problem.pk])).content.decode()
    assert reverse("rectification:complaint", args=[complaint.pk]) in page and complaint.ticket in page


def test_the_assignment_mail_goes_through_a_real_smtp_server_without_the_reporter(
    smtp_server, clerk, staff, xinqiao, django_capture_on_commit_callbacks
):
    staff.email = "chen@xinqiao.example"
    staff.save()
    complaint, _code = log(clerk, township=xinqiao)
    services.move_complaint(actor=clerk, complaint=complaint, to=C.ACCEPTED)
    with django_capture_on_commit_callbacks(execute=True):
        services.move_complaint(actor=clerk, complaint=complaint, to=C.ASSIGNED, handler=staff)
    [(_sender, recipients, message)] = smtp_server.messages
    body = message.get_content()
    assert recipients == ["chen@xinqiao.example"] and complaint.ticket in message["Subject"]
    assert "已交办给您" in message["Subject"] and "土坯房裂缝严重" in body
    assert "王举报" not in body and "13912345678" not in body and "139****5678" not in body
    email = OutgoingEmail.objects.get()
    assert (email.key, email.status) == (f"complaint-assigned:{complaint.pk}:{staff.pk}:1", OutgoingEmail.Status.SENT)

    # The same assignment notified again (a task the previous release left on the broker) sends nothing more.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert notify_handler_of_complaint(complaint.pk) is True
    assert callbacks == [] and len(smtp_server.messages) == 1 and OutgoingEmail.objects.count() == 1


def test_a_handler_without_an_address_finds_the_assignment_in_their_inbox(
    client, clerk, staff, xinqiao, django_capture_on_commit_callbacks
):
    assert staff.email == ""
    complaint, _code = log(clerk, township=xinqiao)
    services.move_complaint(actor=clerk, complaint=complaint, to=C.ACCEPTED)
    with django_capture_on_commit_callbacks(execute=True):
        services.move_complaint(actor=clerk, complaint=complaint, to=C.ASSIGNED, handler=staff)
    assert not OutgoingEmail.objects.exists()
    [notice] = Notice.objects.all()
    assert (notice.recipient, notice.key) == (staff, f"complaint-assigned:{complaint.pk}:{staff.pk}:1")
    assert complaint.ticket in notice.title and "王举报" not in notice.body + notice.title
    assert notify_handler_of_complaint(complaint.pk) is True and Notice.objects.count() == 1  # once
    client.force_login(staff)
    response = client.post(reverse("notice-open", args=[notice.pk]))
    assert response.url == reverse("rectification:complaint", args=[complaint.pk])
    assert client.get(response.url).status_code == 200


def test_with_the_broker_down_the_assignment_holds_and_the_retry_job_mails_the_handler_once(
    broker_down, caplog, smtp_server, client, clerk, staff, xinqiao, django_capture_on_commit_callbacks
):
    staff.email = "chen@xinqiao.example"
    staff.save()
    complaint, _code = log(clerk, township=xinqiao)
    services.move_complaint(actor=clerk, complaint=complaint, to=C.ACCEPTED)
    client.force_login(clerk)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            reverse("rectification:complaint-move", args=[complaint.pk]),
            {"to": C.ASSIGNED, "assigned-handler": staff.pk},
        )
    elapsed = time.monotonic() - started

    assert response.status_code == 302, response.content.decode()[:2000]
    assert elapsed < 5, f"the page waited {elapsed:.1f} s for the broker"
    assert len(callbacks) == 1  # deliver_email was handed to the broker after commit, and refused
    [warning] = [r.getMessage() for r in caplog.records if r.name == "housing_safety.background"]
    assert warning.startswith("Broker unreachable, housing_safety.tasks.deliver_email")
    complaint.refresh_from_db()
    assert (complaint.status, complaint.handler) == (C.ASSIGNED, staff)
    email = OutgoingEmail.objects.get()
    assert (email.key, email.status) == (
        f"complaint-assigned:{complaint.pk}:{staff.pk}:1",
        OutgoingEmail.Status.PENDING,
    )
    assert smtp_server.messages == []

    # The ten-minute job (run by the worker once the broker is back) delivers it; running again sends nothing more.
    assert run_job("send_pending_mail", datetime.date(2026, 12, 1)) == "sent 1, still failing 0"
    assert run_job("send_pending_mail", datetime.date(2026, 12, 1)) == "sent 0, still failing 0"
    [(_sender, recipients, message)] = smtp_server.messages
    assert recipients == ["chen@xinqiao.example"] and complaint.ticket in message["Subject"]
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.SENT, 1)

"""The data submission to Longyan (数据提交龙岩): the bureau's page of the years sent, the form to record this year's,
each year's page with its files and Longyan's review, and the files' download."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from housing_safety import disclosure
from housing_safety.access import can_view_personal_data
from housing_safety.web import GET_POST, page, run_form

from . import submissions
from .forms import ReviewForm, SubmissionForm
from .models import SubmissionFile, SubmissionReview


@page(methods=GET_POST, permission="reporting.view_datasubmission")
def submission_list(request):
    """Every year's sending, this year's state, and (for who may record it) the form to record this year's."""
    today = timezone.localdate()
    state = submissions.state_for_year(request.user, today.year, today)
    years = list(submissions.submissions_for_user(request.user).prefetch_related("files"))
    returned = [item.year for item in years if item.review == SubmissionReview.RETURNED]
    may_record = request.user.has_perm("reporting.add_datasubmission")
    form = None
    if may_record and (not state.done or returned or request.method == "POST"):
        year = request.GET.get("year", "")
        year = int(year) if year.isdigit() and int(year) in returned else today.year
        initial = {"year": year, "sent_on": today, "recipient": submissions.DEFAULT_RECIPIENT}
        form = SubmissionForm(request.POST or None, request.FILES or None, initial=initial)
    elif request.method == "POST":
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    if request.method == "POST":

        def record(form):
            data = form.cleaned_data
            return submissions.record_submission(
                actor=request.user,
                year=data["year"],
                sent_on=data["sent_on"],
                recipient=data["recipient"],
                method=data["method"],
                attach_exports=data["attach_exports"],
                uploads=data["uploads"],
                uploads_personal=data["uploads_personal"],
                ip_address=disclosure.client_ip(request),
            )

        saved = run_form(form, record, request=request)
        if saved is not None:
            messages.success(request, _("The submission of %(year)s is recorded.") % {"year": saved.year})
            return redirect(saved)
    context = {
        "state": state,
        "years": years,
        "returned": returned,
        "form": form,
    }
    return render(request, "reporting/submission_list.html", context)


@page(methods=GET_POST, permission="reporting.view_datasubmission")
def submission_detail(request, year: int):
    """One year's sending: what was sent, to whom, by whom and when, and Longyan's review (recorded here)."""
    submission = get_object_or_404(submissions.submissions_for_user(request.user), year=year)
    may_review = request.user.has_perm("reporting.change_datasubmission")
    pending = submission.review == SubmissionReview.PENDING
    if request.method == "POST" and not may_review:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    form = None
    if may_review and (pending or request.method == "POST"):
        form = ReviewForm(request.POST or None, initial={"reviewed_on": timezone.localdate()})
    if request.method == "POST":

        def review(form):
            data = form.cleaned_data
            return submissions.record_review(
                actor=request.user,
                submission=submission,
                review=data["review"],
                remarks=data["remarks"],
                reviewed_on=data["reviewed_on"],
            )

        saved = run_form(form, review)
        if saved is not None:
            messages.success(request, _("Longyan's review is recorded."))
            return redirect(saved)
    files = list(submission.files.all())
    last = max((item.sending for item in files), default=1)
    earlier = submissions.earlier_sendings(submission)
    for sending in earlier:
        sending.files = [item for item in files if item.sending == sending.number]
    context = {
        "submission": submission,
        "files": [item for item in files if item.sending == last],
        "earlier": earlier,
        "may_resend": request.user.has_perm("reporting.add_datasubmission"),
        "form": form if (pending or request.method == "POST") else None,
        "due_on": submissions.due_on(submission.year),
        "personal": can_view_personal_data(request.user),
    }
    return render(request, "reporting/submission_detail.html", context)


@page(permission="reporting.view_datasubmission")
def submission_file(request, pk: int):
    """A file sent to Longyan; one with full ID and phone numbers only for who may see them (logged as a
    disclosure, like an export)."""
    item = get_object_or_404(
        SubmissionFile.objects.filter(submission__in=submissions.submissions_for_user(request.user)), pk=pk
    )
    if item.personal:
        if not can_view_personal_data(request.user):
            raise Http404
        disclosure.log_export(
            user=request.user, name=item.name, rows=item.rows or 0, ip_address=disclosure.client_ip(request)
        )
    return FileResponse(item.file.open("rb"), as_attachment=True, filename=item.name)

"""The year's data submission to Longyan (数据提交龙岩): its writes (record the sending, record Longyan's review) and
its reads (this year's state for the dashboard and the home).

The plan: "（三）全面完成住房安全有保障信息审核录入……4月份完成，五月提交龙岩市审核". The files sent are the
provincial-system exports (reporting.exports) as they stand when the sending is recorded, built through the same
machinery as the exports page (the sender's scope and masking), and/or the files the bureau actually sent, uploaded.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.utils.translation import gettext as _

from households.uploads import check_uploads
from housing_safety.access import can_view_personal_data, require_perm
from housing_safety.dates import PlausibleYear, check_date

from .models import DataSubmission, SubmissionFile, SubmissionReview

DUE_MONTH_DAY = (5, 31)  # 五月提交龙岩市审核: the sending is late from 1 June
DEFAULT_RECIPIENT = "龙岩市住房和城乡建设局"


def due_on(year: int) -> datetime.date:
    return datetime.date(year, *DUE_MONTH_DAY)


def submissions_for_user(user: AbstractBaseUser) -> QuerySet[DataSubmission]:
    """The bureau's submissions: every year for who may view them, nothing for anyone else."""
    if not user.has_perm("reporting.view_datasubmission"):
        return DataSubmission.objects.none()
    return DataSubmission.objects.select_related("sent_by", "review_recorded_by")


@dataclass(frozen=True)
class SubmissionState:
    """Whether the year's data was sent to Longyan: the record when it was, and whether it is (or was) late."""

    year: int
    due_on: datetime.date
    submission: DataSubmission | None
    late: bool  # not sent by 31 May, or sent after it

    @property
    def sent(self) -> bool:
        return self.submission is not None

    @property
    def returned(self) -> bool:
        """Longyan returned it: to be corrected and sent again (not done)."""
        return self.submission is not None and self.submission.review == SubmissionReview.RETURNED

    @property
    def done(self) -> bool:
        return self.sent and not self.returned


def state_for_year(user: AbstractBaseUser, year: int, today: datetime.date) -> SubmissionState:
    """One query."""
    submission = submissions_for_user(user).filter(year=year).first()
    due = due_on(year)
    if submission is None or submission.review == SubmissionReview.RETURNED:
        late = today > due  # a returned year is not done until it is sent again
    else:
        late = submission.sent_on > due
    return SubmissionState(year, due, submission, late)


def check_submission(
    *, year: int, sent_on: datetime.date | None, recipient: str, attach_exports: bool, uploads
) -> None:
    """The rules of a sending, for a form to show before anything is written."""
    errors: dict[str, list[str]] = {}
    try:
        PlausibleYear()(year)
    except ValidationError as error:
        errors["year"] = error.messages
    if sent_on is None:
        errors["sent_on"] = [_("Enter the day the data was sent.")]
    else:
        try:
            check_date("sent_on", sent_on)
        except ValidationError as error:
            errors["sent_on"] = error.message_dict["sent_on"]
        else:
            if "year" not in errors and sent_on.year < year:
                errors["sent_on"] = [_("The data of %(year)s cannot have been sent before %(year)s.") % {"year": year}]
    if not recipient.strip():
        errors["recipient"] = [_("Say to whom the data was sent.")]
    if not attach_exports and not [f for f in uploads if f]:
        errors["uploads"] = [
            _("Attach what was sent: the provincial-system exports, or the files sent, uploaded here.")
        ]
    if "year" not in errors:
        existing = DataSubmission.objects.filter(year=year).first()
        if existing is not None and existing.review != SubmissionReview.RETURNED:
            errors["year"] = [_("The submission of %(year)s is already recorded.") % {"year": year}]
        elif (
            existing is not None
            and existing.reviewed_on
            and sent_on is not None
            and "sent_on" not in errors
            and sent_on < existing.reviewed_on
        ):
            errors["sent_on"] = [_("A returned year is sent again after Longyan returned it.")]
    if errors:
        raise ValidationError(errors)


def record_submission(
    *,
    actor: AbstractBaseUser,
    year: int,
    sent_on: datetime.date,
    recipient: str,
    method: str = "",
    attach_exports: bool = True,
    uploads: Iterable = (),
    uploads_personal: bool = False,
    ip_address: str | None = None,
) -> DataSubmission:
    """Record that the year's data was sent to Longyan (one record per year), with the files sent: the four
    provincial-system exports built now as the sender sees them (masked where the sender may not see full numbers),
    and any files uploaded (held to the attachment rules; personal only when the uploader says they carry full ID or
    phone numbers).

    A year Longyan returned is sent again on the same record: the new date, sender, recipient and files (numbered as
    the next sending), the review back to 待审核; the earlier sending, its files and its 退回 stay (the files on the
    page, the return in the record's history)."""
    from . import exports

    require_perm(actor, "reporting.add_datasubmission")
    uploads = list(uploads)
    check_submission(year=year, sent_on=sent_on, recipient=recipient, attach_exports=attach_exports, uploads=uploads)
    uploads = check_uploads(uploads, "uploads")
    personal = can_view_personal_data(actor)
    try:
        with transaction.atomic():
            submission = DataSubmission.objects.select_for_update().filter(year=year).first()
            if submission is None:
                submission, sending = DataSubmission(year=year), 1
            elif submission.review != SubmissionReview.RETURNED:  # passed or pending meanwhile
                raise IntegrityError
            else:
                sending = (submission.files.aggregate(last=Max("sending"))["last"] or 0) + 1
            submission.sent_on, submission.sent_by = sent_on, actor
            submission.recipient, submission.method = recipient.strip(), method.strip()
            submission.review, submission.review_remarks = SubmissionReview.PENDING, ""
            submission.reviewed_on = submission.review_recorded_by = None
            submission._history_user = actor
            submission.save()
            files = []
            if attach_exports:
                for name, spec in exports.DATASETS.items():
                    handle = exports.write_export(actor, name, ip_address=ip_address)
                    file = SubmissionFile(submission=submission, dataset=name, personal=personal, sending=sending)
                    file.name = f"{year}-{name}.xlsx"
                    file.rows = spec.rows(actor).count()
                    file.file.save(f"{year}-{name}.xlsx", File(handle), save=False)
                    handle.close()
                    files.append(file)
            for uploaded in uploads:
                file = SubmissionFile(
                    submission=submission, name=uploaded.name[:200], personal=uploads_personal, sending=sending
                )
                file.file.save(uploaded.name, uploaded, save=False)
                files.append(file)
            SubmissionFile.objects.bulk_create(files)
    except IntegrityError:  # the same year recorded at the same moment by someone else
        raise ValidationError({"year": _("The submission of %(year)s is already recorded.") % {"year": year}}) from None
    return submission


def check_review(*, submission: DataSubmission, review: str, remarks: str, reviewed_on: datetime.date | None) -> None:
    errors: dict[str, list[str]] = {}
    if submission.review == SubmissionReview.PASSED:
        raise ValidationError({"review": [_("Longyan passed this submission: its review is final.")]})
    if submission.review == SubmissionReview.RETURNED:
        raise ValidationError(
            {"review": [_("Longyan returned this sending: send the year again, then record the answer.")]}
        )
    if review not in (SubmissionReview.PASSED, SubmissionReview.RETURNED):
        errors["review"] = [_("Choose Longyan's answer: passed or returned.")]
    if review == SubmissionReview.RETURNED and not remarks.strip():
        errors["remarks"] = [_("Say why Longyan returned the data.")]
    if reviewed_on is None:
        errors["reviewed_on"] = [_("Enter the day of Longyan's answer.")]
    else:
        try:
            check_date("reviewed_on", reviewed_on)
        except ValidationError as error:
            errors["reviewed_on"] = error.message_dict["reviewed_on"]
        else:
            if reviewed_on < submission.sent_on:
                errors["reviewed_on"] = [_("Longyan cannot have answered before the data was sent.")]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def record_review(
    *, actor: AbstractBaseUser, submission: DataSubmission, review: str, remarks: str = "", reviewed_on: datetime.date
) -> DataSubmission:
    """Longyan's answer to the pending sending (通过, or 退回 with its remarks). It is final for that sending: a passed
    year stays passed; a returned one is sent again (record_submission) and its new sending gets its own answer."""
    require_perm(actor, "reporting.change_datasubmission")
    submission = DataSubmission.objects.select_for_update().get(pk=submission.pk)
    check_review(submission=submission, review=review, remarks=remarks, reviewed_on=reviewed_on)
    submission.review, submission.review_remarks, submission.reviewed_on = review, remarks.strip(), reviewed_on
    submission.review_recorded_by = actor
    submission._history_user = actor
    submission.save(update_fields=["review", "review_remarks", "reviewed_on", "review_recorded_by"])
    return submission


@dataclass
class EarlierSending:
    """A sending Longyan returned, as the record's history keeps it."""

    number: int
    sent_on: datetime.date
    sent_by: AbstractBaseUser | None
    recipient: str
    reviewed_on: datetime.date
    remarks: str
    files: list = field(default_factory=list)  # the view fills them in


def earlier_sendings(submission: DataSubmission) -> list[EarlierSending]:
    """The year's returned sendings, oldest first, read from the record's history: each change to 退回 closes a
    sending (the current one's own return, if it is returned now, is the record's review, not an earlier one)."""
    returns = []
    previous = None
    for row in submission.history.select_related("sent_by").order_by("history_date", "history_id"):
        if row.review == SubmissionReview.RETURNED and previous != SubmissionReview.RETURNED:
            returns.append(row)
        previous = row.review
    if submission.review == SubmissionReview.RETURNED and returns:
        returns.pop()
    return [
        EarlierSending(number, row.sent_on, row.sent_by, row.recipient, row.reviewed_on, row.review_remarks)
        for number, row in enumerate(returns, start=1)
    ]

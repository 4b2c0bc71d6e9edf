from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from inspections.forms import MultipleFileField

from .models import MonthlyReport, SubmissionReview


class ReportForm(forms.ModelForm):
    """The unit's narrative; the service decides what submitting requires."""

    class Meta:
        model = MonthlyReport
        fields = ["progress", "problems_handled"]
        widgets = {
            "progress": forms.Textarea(attrs={"rows": 6}),
            "problems_handled": forms.Textarea(attrs={"rows": 6}),
        }


DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class SubmissionForm(forms.Form):
    """Recording the year's sending to Longyan; the service holds the rules (one per year, something attached)."""

    year = forms.IntegerField(label=_("year of the data"), min_value=0, max_value=9999)
    sent_on = forms.DateField(label=pgettext_lazy("data submission", "sent on"), widget=DATE)
    recipient = forms.CharField(label=_("sent to"), max_length=100)
    method = forms.CharField(
        label=_("how it was sent"), max_length=200, required=False, help_text=_("For example: 省级系统报送, 公文交换.")
    )
    attach_exports = forms.BooleanField(
        label=_("Attach the provincial-system exports as they stand now (households, dwellings, appraisals, cases)"),
        required=False,
        initial=True,
    )
    uploads = MultipleFileField(
        label=_("files sent (uploaded)"),
        required=False,
        help_text=_("PDF, Word or Excel: the letter and the files as they were sent."),
    )
    uploads_personal = forms.BooleanField(
        label=_("The uploaded files carry full ID or phone numbers"),
        required=False,
        initial=False,
        help_text=_("Then only who may see full numbers downloads them; otherwise everyone who sees the submission."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["uploads"].widget.attrs = {"accept": ".pdf,.doc,.docx,.xls,.xlsx"}


class ReviewForm(forms.Form):
    review = forms.ChoiceField(
        label=_("Longyan's review"),
        choices=[
            (SubmissionReview.PASSED, SubmissionReview.PASSED.label),
            (SubmissionReview.RETURNED, SubmissionReview.RETURNED.label),
        ],
        widget=forms.RadioSelect,
    )
    reviewed_on = forms.DateField(label=_("reviewed on"), widget=DATE)
    remarks = forms.CharField(label=_("review remarks"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


def _check_stamped_copy(uploaded) -> None:
    from .services import check_stamped_copy

    check_stamped_copy(uploaded)


class StampedCopyForm(forms.Form):
    """The scan of the unit's report, signed and stamped; refused here as the service would refuse it."""

    stamped_copy = forms.FileField(
        label=_("scan of the signed and stamped report"),
        help_text=_("PDF, JPEG or PNG."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
        # the field itself refuses a file that is not a scan, so a refused file is not held for the next submit
        validators=[_check_stamped_copy],
    )

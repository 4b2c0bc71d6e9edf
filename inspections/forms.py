from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from households.uploads import validate_attachment_file

from .models import Appraisal


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


def _check_attachment(uploaded) -> None:
    try:
        validate_attachment_file(uploaded)
    except ValidationError as error:
        raise ValidationError([f"{uploaded.name}: {message}" for message in error.messages]) from None


class AttachmentFileField(forms.FileField):
    """A file to attach to a record, refused here (with its name) when the attachment rules would refuse it: too
    large, or not a photo, PDF, Word or Excel file by its content. The service checks again; checking while the
    form is validated means a form never holds (housing_safety.held_files) or shows for confirmation a file that
    its record would refuse."""

    def clean(self, data, initial=None):
        uploaded = super().clean(data, initial)
        if uploaded:
            _check_attachment(uploaded)
        return uploaded


class MultipleFileField(AttachmentFileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*", "capture": "environment"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        cleaned, errors = [], []
        for uploaded in files:  # every file's refusal, not only the first
            try:
                cleaned.append(super().clean(uploaded, initial))
            except ValidationError as error:
                errors.extend(error.messages)
        if errors:
            raise ValidationError(errors)
        return cleaned


class AppraisalForm(forms.ModelForm):
    """The field form: component grades as large radio buttons, photos straight from the phone camera."""

    photos = MultipleFileField(label=_("photos"), required=False)
    scanned_form = AttachmentFileField(
        label=_("scanned appraisal form"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*,application/pdf"}),
    )

    class Meta:
        model = Appraisal
        fields = (
            "kind",
            "appraised_on",
            "organisation",
            "appraisers",
            *[name for name, _label in Appraisal.COMPONENTS],
            "site_hazard",
            "is_leaking",
            "grade",
            "recommendation",
            "notes",
        )
        widgets = {
            "appraised_on": forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
            "kind": forms.RadioSelect,
            "grade": forms.RadioSelect(attrs={"class": "grade"}),
            "recommendation": forms.RadioSelect,
            "notes": forms.Textarea(attrs={"rows": 3}),
            **{name: forms.RadioSelect(attrs={"class": "component"}) for name, _label in Appraisal.COMPONENTS},
        }

    def __init__(self, *args, dwelling, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.dwelling = dwelling
        self.fields["appraised_on"].initial = timezone.localdate()
        for name in (*[name for name, _label in Appraisal.COMPONENTS], "grade", "kind", "recommendation"):
            self.fields[name].choices = [c for c in self.fields[name].choices if c[0]]  # radios need no blank


class PlacardInstallationForm(forms.Form):
    installed_on = forms.DateField(
        label=_("installed on"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    photo = forms.FileField(
        label=_("photo of the placard on the wall"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )


class FindingsField(forms.MultipleChoiceField):
    def __init__(self, **kwargs):
        from .models import FindingKind

        super().__init__(choices=FindingKind.choices, widget=forms.CheckboxSelectMultiple, required=False, **kwargs)


class RevisitForm(forms.Form):
    visited_on = forms.DateField(
        label=_("visited on"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    # The plan's "已有安全住房却仍住在老旧危房": asked at every revisit, the answer sets the house's "lives here".
    still_lived_in = forms.TypedChoiceField(
        label=_("Does anyone still live in this house?"),
        choices=[("yes", _("Yes, someone still lives here")), ("no", _("No, nobody lives here"))],
        coerce=lambda answer: answer == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("Say whether anyone still lives in this house.")},
    )
    findings = FindingsField(label=_("findings (leave all unticked if there is no problem)"))
    outcome = forms.ChoiceField(label=_("outcome"), widget=forms.RadioSelect)
    notes = forms.CharField(label=_("notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    photos = MultipleFileField(label=_("photos"), required=False)

    # The base-village survey (基点村排查) judges each house: C/D of a household not yet registered registers it.
    assessed_grade = forms.ChoiceField(
        label=_("Grade found by the survey (排查认定)"),
        widget=forms.RadioSelect,
        help_text=_("C or D: a dangerous house; a household not yet registered is registered (建档立卡)."),
        error_messages={"required": _("Judge the house's grade: the base-village survey asks for it.")},
    )

    def __init__(self, *args, revisit=None, **kwargs):
        from .models import Campaign, Grade, Revisit

        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = Revisit.Outcome.choices
        self.fields["visited_on"].initial = timezone.localdate()
        if revisit is not None and revisit.campaign.kind == Campaign.Kind.BASE_VILLAGE:
            self.fields["assessed_grade"].choices = Grade.choices
        else:
            del self.fields["assessed_grade"]
        self.order_fields(["visited_on", "still_lived_in", "assessed_grade"])


class HelperReportForm(forms.Form):
    dwelling = forms.ModelChoiceField(label=_("dwelling"), queryset=None, required=False)
    findings = FindingsField(label=_("what did you find?"))
    note = forms.CharField(label=_("what the helper saw"), widget=forms.Textarea(attrs={"rows": 3}))
    photos = MultipleFileField(label=_("photos"), required=False)

    def __init__(self, *args, household, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dwelling"].queryset = household.dwellings.all()


class ReportActionForm(forms.Form):
    action_taken = forms.CharField(label=_("action taken by the township"), widget=forms.Textarea(attrs={"rows": 3}))

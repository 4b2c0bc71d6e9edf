from decimal import Decimal

from django import forms
from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from households.models import Dwelling, Unit, Village
from inspections.forms import MultipleFileField, MultipleFileInput

from .models import (
    CASE_STEPS,
    CaseStatus,
    Complaint,
    ComplaintStatus,
    DocumentKind,
    LeadTransfer,
    RenovationCase,
    RenovationType,
)
from .models.complaints import LEAD_RETURN_FIGURES, LeadQuarterReturn
from .selectors import complaint_handlers


class ProblemMoveForm(forms.Form):
    to = forms.CharField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    resolution = forms.CharField(label=_("resolution"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


# Renovation cases -------------------------------------------------------------------------------------------

DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class DocumentFieldsMixin:
    """One file field per archive document kind of a step (several files each); required kinds are marked."""

    def add_document_fields(self, step: str) -> None:
        self.document_kinds = list(DocumentKind.objects.filter(step=step, is_generated=False))
        for kind in self.document_kinds:
            label = _("%(name)s (required)") % {"name": kind.name} if kind.is_required else kind.name
            widget = MultipleFileInput(attrs={"accept": "image/*,application/pdf"})
            self.fields[f"doc_{kind.code}"] = MultipleFileField(label=label, required=False, widget=widget)

    def documents(self) -> list:
        return [
            (kind, uploaded)
            for kind in getattr(self, "document_kinds", [])
            for uploaded in self.cleaned_data.get(f"doc_{kind.code}") or []
        ]

    def add_override_field(self, user: AbstractBaseUser) -> None:
        if user.has_perm("rectification.override_case_rules"):
            self.fields["override_reason"] = forms.CharField(
                label=_("override a rule, with the reason"),
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=_("Only when documents are missing or the amount is above the standard."),
            )


class CaseOpenForm(DocumentFieldsMixin, forms.ModelForm):
    applied_on = forms.DateField(label=_("application date"), widget=DATE)
    field_order = ("applied_on",)

    class Meta:
        model = RenovationCase
        fields = (
            "programme_year", "renovation_type", "build_mode", "funding_source", "planned_subsidy", "builder",
            "resettlement_site", "notes",
        )  # fmt: skip
        widgets = {"notes": forms.Textarea(attrs={"rows": 2}), "renovation_type": forms.RadioSelect}

    def __init__(self, *args, user: AbstractBaseUser, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["applied_on"].initial = today
        self.fields["programme_year"].initial = today.year
        self.fields["renovation_type"].choices = RenovationType.choices  # radios need no blank
        self.fields["resettlement_site"].help_text = _("Only for the relocation programme (造福工程搬迁).")
        self.add_document_fields(CaseStatus.APPLIED)
        self.add_override_field(user)


class CaseMoveForm(DocumentFieldsMixin, forms.Form):
    """The fields one move needs: its date and note, the step's documents, and what that step records."""

    on = forms.DateField(label=_("date of this step"), widget=DATE)
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, case: RenovationCase, to: str, user: AbstractBaseUser, **kwargs):
        super().__init__(*args, prefix=to, **kwargs)
        self.to, self.label = to, CaseStatus(to).label
        self.ends_case = to in (CaseStatus.REJECTED, CaseStatus.WITHDRAWN)  # the page asks before sending it
        self.fields["on"].initial = timezone.localdate()
        if self.ends_case:
            self.fields["note"].required = True
            self.fields["note"].label = _("reason")
        if to in (CaseStatus.VILLAGE_ASSESSED, CaseStatus.TOWNSHIP_REVIEWED):
            self.fields["posting_start"] = forms.DateField(label=_("posting from"), widget=DATE)
            self.fields["posting_end"] = forms.DateField(label=_("posting until"), widget=DATE)
        if to == CaseStatus.ACCEPTED:
            self.fields["acceptors"] = forms.CharField(label=_("acceptance team"), max_length=200)
            if case.is_moving:
                self.fields["moved_in_on"] = forms.DateField(label=_("moved in on"), widget=DATE)
                self.fields["old_house_outcome"] = forms.ChoiceField(
                    label=_("old house"), choices=RenovationCase.OldHouse.choices, widget=forms.RadioSelect
                )
        if to == CaseStatus.PAID:
            self.fields["amount"] = forms.DecimalField(
                label=_("amount (yuan)"), max_digits=10, decimal_places=2, initial=case.planned_subsidy
            )
            self.fields["voucher_number"] = forms.CharField(label=_("voucher number"), max_length=50)
        if to in CASE_STEPS and to != CaseStatus.ARCHIVED:
            self.add_document_fields(to)
        if to in CASE_STEPS:
            self.add_override_field(user)
        self.order_fields([name for name in self.fields if name not in ("note", "override_reason")])

    def step(self) -> dict:
        """Keyword arguments for services.move_case."""
        data = {key: value for key, value in self.cleaned_data.items() if not key.startswith("doc_")}
        return {**data, "documents": self.documents()}


class CaseDocumentsForm(DocumentFieldsMixin, forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="docs", **kwargs)
        kinds = DocumentKind.objects.filter(is_generated=False)
        self.document_kinds = list(kinds)
        self.fields["kind"] = forms.ModelChoiceField(label=_("kind"), queryset=kinds)
        self.fields["files"] = MultipleFileField(
            label=_("files"), widget=MultipleFileInput(attrs={"accept": "image/*,application/pdf"})
        )

    def documents(self) -> list:
        return [(self.cleaned_data["kind"], uploaded) for uploaded in self.cleaned_data["files"]]


class ConstructionCheckForm(forms.Form):
    on = forms.DateField(label=_("date of the check"), widget=DATE)
    note = forms.CharField(label=_("what the check found"), widget=forms.Textarea(attrs={"rows": 2}))
    photos = MultipleFileField(label=_("photos"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="check", **kwargs)
        self.fields["on"].initial = timezone.localdate()


class NewDwellingForm(forms.ModelForm):
    class Meta:
        model = Dwelling
        fields = ("address", "structure_type", "storeys", "floor_area", "year_built")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="dwelling", **kwargs)


class SupplementaryPaymentForm(forms.Form):
    paid_on = forms.DateField(label=_("paid on"), widget=DATE)
    amount = forms.DecimalField(label=_("amount (yuan)"), max_digits=10, decimal_places=2, min_value=Decimal("0.01"))
    voucher_number = forms.CharField(label=_("voucher number"), max_length=50)
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="supplement", **kwargs)


# Complaints and leads ---------------------------------------------------------------------------------------

DATETIME = forms.DateTimeInput(format="%Y-%m-%dT%H:%M", attrs={"type": "datetime-local"})


class ComplaintForm(forms.ModelForm):
    """The hotline intake: what a clerk asks on the phone, in that order."""

    files = MultipleFileField(
        label=_("photos or scans"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/*,application/pdf"}),
        help_text=_("Handlers see these files: keep a signed letter that names the reporter in the paper file."),
    )

    class Meta:
        model = Complaint
        fields = (
            "channel", "external_ticket", "received_at", "is_anonymous", "reporter_name", "reporter_phone",
            "township", "village", "category", "content",
        )  # fmt: skip
        widgets = {
            "channel": forms.RadioSelect,
            "category": forms.RadioSelect,
            "received_at": DATETIME,
            "content": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["received_at"].initial = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
        self.fields["received_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
        self.fields["channel"].choices = Complaint.Channel.choices
        self.fields["channel"].initial = Complaint.Channel.HOTLINE
        self.fields["reporter_phone"].widget.input_type = "tel"
        self.fields["category"].choices = Complaint.Category.choices
        self.fields["village"].queryset = Village.objects.select_related("township").order_by("township__code", "name")
        self.fields["village"].label_from_instance = lambda village: f"{village.township.name} {village.name}"

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("is_anonymous"):  # an anonymous complaint keeps nothing the clerk may have typed
            cleaned["reporter_name"], cleaned["reporter_phone"] = "", ""
        return cleaned


class ComplaintMoveForm(forms.Form):
    """The fields one move of a complaint needs."""

    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, complaint: Complaint, to: str, **kwargs):
        super().__init__(*args, prefix=to, **kwargs)
        self.to, self.label = to, ComplaintStatus(to).label
        reopening = to == ComplaintStatus.HANDLING and complaint.status == ComplaintStatus.CLOSED
        if reopening:
            self.label = _("Reopen")
        if to in (ComplaintStatus.NOT_ACCEPTED, ComplaintStatus.TRANSFERRED, ComplaintStatus.ESCALATED) or reopening:
            self.fields["note"].required, self.fields["note"].label = True, _("reason")
        if to == ComplaintStatus.ASSIGNED:
            self.fields["handler"] = forms.ModelChoiceField(label=_("handler"), queryset=complaint_handlers(complaint))
        if to == ComplaintStatus.REPLIED:
            self.fields["replied_on"] = forms.DateField(label=_("replied on"), widget=DATE)
            self.fields["replied_on"].initial = timezone.localdate()
            self.fields["reply_method"] = forms.ChoiceField(
                label=_("reply method"), choices=Complaint.ReplyMethod.choices, widget=forms.RadioSelect
            )
            self.fields["reply"] = forms.CharField(label=_("reply"), widget=forms.Textarea(attrs={"rows": 3}))
        if to == ComplaintStatus.CLOSED:
            self.fields["satisfaction"] = forms.ChoiceField(
                label=_("satisfaction"), choices=Complaint.Satisfaction.choices, widget=forms.RadioSelect,
                initial=Complaint.Satisfaction.NOT_GIVEN,
            )  # fmt: skip
        if to == ComplaintStatus.TRANSFERRED:
            self.fields["to_unit"] = forms.ModelChoiceField(
                label=_("to unit"), queryset=Unit.objects.filter(is_active=True).exclude(kind=Unit.Kind.BUREAU)
            )
        self.order_fields([name for name in self.fields if name != "note"] + ["note"])  # the step's own fields first


class ComplaintProblemForm(forms.Form):
    description = forms.CharField(label=_("problem"), widget=forms.Textarea(attrs={"rows": 2}))
    deadline = forms.DateField(label=_("deadline"), widget=DATE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="problem", **kwargs)


class LookupForm(forms.Form):
    ticket = forms.CharField(label=_("ticket number"), max_length=20)
    code = forms.CharField(
        label=_("query code"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


class LeadForm(forms.ModelForm):
    class Meta:
        model = LeadTransfer
        fields = ("direction", "from_unit", "to_unit", "to_discipline", "subject", "sent_on")
        widgets = {"sent_on": DATE, "subject": forms.Textarea(attrs={"rows": 3}), "direction": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["direction"].choices = LeadTransfer.Direction.choices
        self.fields["sent_on"].initial = timezone.localdate()


class LeadReceiptForm(forms.Form):
    on = forms.DateField(label=_("receipt confirmed on"), widget=DATE)
    by = forms.CharField(label=_("receipt confirmed by"), max_length=50)


class LeadFeedbackForm(forms.Form):
    on = forms.DateField(label=_("feedback on"), widget=DATE)
    feedback = forms.CharField(label=_("feedback"), widget=forms.Textarea(attrs={"rows": 2}))


class LeadReturnForm(forms.ModelForm):
    """A unit's quarterly lead return: the figures start as the lead register's (the view's initial values)."""

    class Meta:
        model = LeadQuarterReturn
        fields = (*LEAD_RETURN_FIGURES, "situation", "difference_reason")
        widgets = {
            **{name: forms.NumberInput(attrs={"min": 0, "inputmode": "numeric"}) for name in LEAD_RETURN_FIGURES},
            "situation": forms.Textarea(attrs={"rows": 4}),
            "difference_reason": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "situation": _("How the unit found, transferred and followed up leads this quarter."),
            "difference_reason": _("Needed where a figure differs from the lead register."),
        }

    def _post_clean(self):
        """The service validates and writes; the form's own model validation would refuse a second filing as a
        duplicate of the first (a correction until the report goes out)."""

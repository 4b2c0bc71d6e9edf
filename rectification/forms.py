from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from households.models import Dwelling
from inspections.forms import MultipleFileField, MultipleFileInput

from .models import CASE_STEPS, CaseStatus, DocumentKind, RenovationCase, RenovationType


class ProblemMoveForm(forms.Form):
    to = forms.CharField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    resolution = forms.CharField(label=_("resolution"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


# Renovation cases -------------------------------------------------------------------------------------------

DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class DocumentFieldsMixin:
    """One file field per archive document kind of a step (several files each); required kinds are marked."""

    def add_document_fields(self, step: str) -> None:
        self.document_kinds = list(DocumentKind.objects.filter(step=step))
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

    def add_override_field(self, user) -> None:
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

    def __init__(self, *args, user, **kwargs):
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

    def __init__(self, *args, case: RenovationCase, to: str, user, **kwargs):
        super().__init__(*args, prefix=to, **kwargs)
        self.to, self.label = to, CaseStatus(to).label
        self.fields["on"].initial = timezone.localdate()
        if to in (CaseStatus.REJECTED, CaseStatus.WITHDRAWN):
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

    def step(self) -> dict:
        """Keyword arguments for services.move_case."""
        data = {key: value for key, value in self.cleaned_data.items() if not key.startswith("doc_")}
        return {**data, "documents": self.documents()}


class CaseDocumentsForm(DocumentFieldsMixin, forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="docs", **kwargs)
        self.document_kinds = list(DocumentKind.objects.all())
        self.fields["kind"] = forms.ModelChoiceField(label=_("kind"), queryset=DocumentKind.objects.all())
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

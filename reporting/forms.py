from django import forms

from .models import MonthlyReport


class ReportForm(forms.ModelForm):
    """The unit's narrative; the service decides what submitting requires."""

    class Meta:
        model = MonthlyReport
        fields = ["progress", "problems_handled"]
        widgets = {
            "progress": forms.Textarea(attrs={"rows": 6}),
            "problems_handled": forms.Textarea(attrs={"rows": 6}),
        }

"""Thin Celery adapters over services (run inline on a laptop, through Redis in production)."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from .models import FindingKind, HelperReport


@shared_task(autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def notify_township_of_report(report_id: int) -> bool:
    """E-mail the township unit's contact that a helper reported a household; False when it has no address."""
    report = HelperReport.objects.select_related("household__village__township__unit").get(pk=report_id)
    unit = getattr(report.household.village.township, "unit", None)
    if unit is None or not unit.email:
        return False
    with translation.override(settings.LANGUAGE_CODE):
        kinds = "、".join(str(FindingKind(kind).label) for kind in report.found_kinds())
        send_mail(
            subject=_("Helper's report: %(name)s, %(village)s")
            % {"name": report.household.head_name, "village": report.household.village.name},
            message=_("%(kinds)s\n\n%(note)s\n\nHandle it at %(url)s")
            % {
                "kinds": kinds or "-",
                "note": report.note,
                "url": settings.PUBLIC_BASE_URL.rstrip("/") + reverse("inspections:report", args=[report.pk]),
            },
            from_email=None,
            recipient_list=[unit.email],
        )
    return True

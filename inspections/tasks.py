"""Thin Celery adapters over services (run inline on a laptop, through Redis in production)."""

from celery import shared_task

from . import services
from .models import HelperReport


@shared_task
def notify_township_of_report(report_id: int) -> bool:
    """Kept for messages the previous release put on the broker: the e-mail is now queued in the outbox by
    services.report_observation itself (key `helper-report:<pk>`, so this queues nothing twice). Remove once no
    such message can be left."""
    report = HelperReport.objects.select_related("household__village__township").get(pk=report_id)
    return services.notify_township_of_report(report) > 0

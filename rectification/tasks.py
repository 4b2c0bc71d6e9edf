"""Thin Celery adapters over the rectification app (inline on a laptop, through Redis in production)."""

from celery import shared_task

from .models import Complaint
from .services.complaints import notify_handler_of_complaint as queue_handler_notice


@shared_task
def notify_handler_of_complaint(complaint_id: int) -> bool:
    """Kept for messages the previous release put on the broker: the e-mail is now queued in the outbox by
    services.move_complaint itself (keyed by the assignment, so this queues nothing twice). Remove once no such
    message can be left."""
    complaint = Complaint.objects.select_related("handler", "township", "village").get(pk=complaint_id)
    return queue_handler_notice(complaint) > 0

"""Thin Celery adapters over the rectification app (inline on a laptop, through Redis in production)."""

from celery import shared_task
from django.contrib.auth import get_user_model

from .models import Complaint, RenovationCase
from .services.complaints import notify_handler_of_complaint as queue_handler_notice
from .services.renovation import file_posting_notice as file_posting_notice_service


@shared_task
def notify_handler_of_complaint(complaint_id: int) -> bool:
    """Kept for messages the previous release put on the broker: the e-mail is now queued in the outbox by
    services.move_complaint itself (keyed by the assignment, so this queues nothing twice). Remove once no such
    message can be left."""
    complaint = Complaint.objects.select_related("handler", "township", "village").get(pk=complaint_id)
    return queue_handler_notice(complaint) > 0


@shared_task
def file_posting_notice(case_id: int, step: str, actor_id: int) -> int:
    """File the posting notice of a case's step in the posted cases' archives (services.file_posting_notice)."""
    case = RenovationCase.objects.select_related("household__village", "township__unit").get(pk=case_id)
    actor = get_user_model().objects.get(pk=actor_id)
    return len(file_posting_notice_service(actor=actor, case=case, step=step))

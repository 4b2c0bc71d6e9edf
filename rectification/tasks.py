"""Thin Celery adapters over the rectification app (inline on a laptop, through Redis in production)."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from .models import Complaint


@shared_task(autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def notify_handler_of_complaint(complaint_id: int) -> bool:
    """E-mail the assigned handler: ticket, category, subject, content and deadline, never the reporter (the
    handler's role does not see who complained). False when the handler has no address."""
    complaint = Complaint.objects.select_related("handler", "township", "village").get(pk=complaint_id)
    if complaint.handler is None or not complaint.handler.email:
        return False
    subject_place = " ".join(
        filter(None, [getattr(complaint.township, "name", ""), getattr(complaint.village, "name", "")])
    )
    with translation.override(settings.LANGUAGE_CODE):
        send_mail(
            subject=_("Complaint %(ticket)s assigned to you") % {"ticket": complaint.ticket},
            message=_("%(category)s · %(place)s\n\n%(content)s\n\nHandle it by %(due)s at %(url)s")
            % {
                "category": complaint.get_category_display(),
                "place": subject_place or "-",
                "content": complaint.content,
                "due": f"{complaint.handling_due:%Y-%m-%d}",
                "url": settings.PUBLIC_BASE_URL.rstrip("/") + reverse("rectification:complaint", args=[complaint.pk]),
            },
            from_email=None,
            recipient_list=[complaint.handler.email],
        )
    return True

"""Thin Celery adapters for the project-wide pieces (the outbox)."""

from celery import shared_task

from . import mail


@shared_task(bind=True, max_retries=5, soft_time_limit=120, time_limit=180)
def deliver_email(self, email_id: int) -> bool:
    """Deliver one queued e-mail; retry with growing pauses while the mail server is down (the outbox row shows
    each failure). Inline (no broker) a failure is left to the periodic `send_pending_mail` job."""
    try:
        return mail.deliver(email_id)
    except mail.MailNotSent as error:
        if self.request.is_eager:
            return False
        raise self.retry(exc=error, countdown=min(3600, 60 * 2**self.request.retries)) from error

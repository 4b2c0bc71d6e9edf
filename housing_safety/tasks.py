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


@shared_task(soft_time_limit=1800, time_limit=1900)
def build_print_job(job_id: int) -> str:
    """Lay out one large print (housing_safety.printing)."""
    from . import printing

    return printing.build(job_id)


@shared_task(soft_time_limit=300, time_limit=360)
def deliver_webhooks(delivery_ids: list[int]) -> tuple[int, int]:
    """Send an event's deliveries after its transaction committed (housing_safety.webhooks.emit). A failure is not
    retried here: the row records it and the every-minute sweep (deliver_due_webhooks) tries again when due."""
    from . import webhooks

    return webhooks.deliver_many(delivery_ids)


@shared_task(soft_time_limit=300, time_limit=360)
def deliver_due_webhooks() -> str:
    """The beat's every-minute sweep of webhook deliveries whose next attempt is due (migration 0012)."""
    from . import webhooks

    delivered, failed = webhooks.deliver_due()
    return f"delivered {delivered}, failed {failed}"

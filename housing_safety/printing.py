"""Large prints in the background: a village's appraisal forms, a township's archive covers. The person asks on the
page the print belongs to (`start`); a worker lays the pages out in chunks, counting them on the job so its page
shows a progress bar (`build`), stores the PDF for that person alone and tells them (inbox) it is ready.

Each app registers what it prints in its AppConfig.ready (`register`): a kind's `pages(job)` gives the job's
records as its user may see them (the app's scoped selector) and `render(records)` one chunk's HTML. The job
re-reads the records as its user when it runs, so a print never shows more than its page would.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from . import pdf
from .background import enqueue_on_commit
from .models import PrintJob
from .notices import notify

logger = logging.getLogger(__name__)

CHUNK = 25  # records laid out per step: the progress moves every few seconds, memory stays flat per step


@dataclass(frozen=True)
class PrintKind:
    records: Callable[[PrintJob], Sequence]  # the job's records, as its user may see them
    render: Callable[[Sequence], str]  # one chunk's HTML (its pages)
    filename: Callable[[PrintJob], str]


KINDS: dict[str, PrintKind] = {}


def register(kind: str, *, records, render, filename) -> None:
    KINDS[kind] = PrintKind(records, render, filename)


def start(*, user, kind: str, title: str, params: dict, total: int) -> PrintJob:
    """Ask for a print; its page (`job_url`) follows it. A worker lays it out (inline without a broker)."""
    from .tasks import build_print_job

    if kind not in KINDS:
        raise ValueError(f"unknown print kind {kind!r}")
    with transaction.atomic():
        job = PrintJob.objects.create(user=user, kind=kind, title=title[:200], params=params, total=total)
        enqueue_on_commit(build_print_job, job.pk)
    return job


def build(job_id: int) -> str:
    """Lay the job out, chunk by chunk, and store its PDF. Idempotent: a job that is not pending is left as it is."""
    job = PrintJob.objects.select_related("user").get(pk=job_id)
    if job.status != PrintJob.Status.PENDING:
        return job.status
    kind = KINDS[job.kind]
    try:
        with translation.override(settings.LANGUAGE_CODE):
            records = list(kind.records(job))
            PrintJob.objects.filter(pk=job.pk).update(total=len(records), done=0)
            parts = []
            for start_at in range(0, len(records), CHUNK):
                chunk = records[start_at : start_at + CHUNK]
                parts.append(pdf.html_to_pdf(kind.render(chunk)))
                PrintJob.objects.filter(pk=job.pk).update(done=start_at + len(chunk))
            content = pdf.join_pdfs(parts) if parts else pdf.html_to_pdf(kind.render([]))
        job.file.save(kind.filename(job), ContentFile(content), save=False)
        job.status = PrintJob.Status.READY
    except Exception:
        logger.exception("Print job %s failed", job.pk)
        job.status = PrintJob.Status.FAILED
    job.finished_at = timezone.now()
    job.save(update_fields=["file", "status", "finished_at"])
    tell_requester(job)
    return job.status


def tell_requester(job: PrintJob) -> int:
    with translation.override(settings.LANGUAGE_CODE):
        if job.status == PrintJob.Status.READY:
            title = gettext("Ready to print: %(title)s") % {"title": job.title}
        else:
            title = gettext("The print could not be prepared: %(title)s") % {"title": job.title}
        return notify(key=f"print:{job.pk}", users=[job.user], title=title, url=job_url(job))


def job_url(job: PrintJob) -> str:
    return reverse("print-job", args=[job.pk])


def remove_expired(*, before) -> int:
    """The PDFs made before `before` (they carry names and addresses): removed, the job kept as expired."""
    removed = 0
    for job in PrintJob.objects.filter(status=PrintJob.Status.READY, created_at__lt=before):
        job.file.delete(save=False)
        PrintJob.objects.filter(pk=job.pk).update(file="", status=PrintJob.Status.EXPIRED)
        removed += 1
    return removed

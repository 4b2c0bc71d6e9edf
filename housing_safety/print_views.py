"""A large print's page: its progress while a worker lays it out, then the PDF (housing_safety.printing). Only the
person who asked sees either; anyone else gets a 404."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404, render

from .background import BROKER_DOWN_MESSAGE, is_waiting
from .models import PrintJob
from .pdf import pdf_response
from .web import page


@page()
def print_job(request, pk: int):
    from .tasks import build_print_job

    job = get_object_or_404(PrintJob, pk=pk, user=request.user)
    waiting = job.status == PrintJob.Status.PENDING and is_waiting(build_print_job, job.pk)
    return render(
        request,
        "print_job.html",
        {
            "job": job,
            "broker_down": waiting and BROKER_DOWN_MESSAGE,
            "retention_days": settings.EXPORT_FILE_RETENTION_DAYS,
            # the page the print was asked from (a path of ours: the job's own params, never the request's)
            "back": job.params.get("back", "")
            if str(job.params.get("back", "")).startswith("/") and not str(job.params.get("back", "")).startswith("//")
            else "",
        },
    )


@page()
def print_job_file(request, pk: int):
    job = get_object_or_404(PrintJob, pk=pk, user=request.user, status=PrintJob.Status.READY)
    with job.file.open("rb") as handle:
        return pdf_response(handle.read(), f"{job.title}.pdf")

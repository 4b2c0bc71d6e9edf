from django.contrib.auth.decorators import login_required
from django.http import FileResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from housing_safety import health

from . import selectors


@require_GET
@login_required
def attachment_download(request, pk: int):
    """Files are never served from a public URL: only to a user whose scope covers the record."""
    attachment = get_object_or_404(selectors.attachments_for_user(request.user), pk=pk)
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=attachment.mime_type not in selectors.INLINE_TYPES,
        filename=attachment.original_name or f"attachment-{attachment.pk}",
        content_type=attachment.mime_type or "application/octet-stream",
    )


@require_GET
def healthz(request):
    """For the load balancer: 200 when this host can serve, 503 naming the part that failed (housing_safety.health)."""
    checks = {"database": health.database_state(), "broker": health.broker_state()}
    healthy = health.FAILED not in checks.values()
    return JsonResponse({"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503)

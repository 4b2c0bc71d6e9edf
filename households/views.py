from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import FileResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

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
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})

from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import PasswordChangeView
from django.http import FileResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from housing_safety import health, holidays
from housing_safety.middleware import MUST_CHANGE_PASSWORD
from housing_safety.redirects import home_url, safe_next
from housing_safety.web import page

from . import selectors, services


@page()
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
    """For the load balancer: 200 when this host can serve, 503 naming the part that failed (housing_safety.health).
    From 1 December, next year's holidays missing from the holiday table make it "degraded" with a 200: deadlines
    are estimated, nothing fails (housing_safety.holidays); so does the discipline commission without an address
    (the quarterly lead report cannot reach it)."""
    checks = {"database": health.database_state(), "broker": health.broker_state()}
    healthy = health.FAILED not in checks.values()
    status = "ok" if healthy else "unavailable"
    if healthy and (holiday_state := holidays.health_state(timezone.localdate())) != "ok":
        checks["holidays"], status = holiday_state, "degraded"
    if healthy and selectors.lead_report_address_missing(cached=True):  # "牵头单位按季度报市纪委监委" cannot be sent
        checks["lead_report_recipient"], status = "no address", "degraded"
    return JsonResponse({"status": status, **checks}, status=200 if healthy else 503)


class PasswordChange(PasswordChangeView):
    """The admin's own password-change page, which also ends a forced change (demo, new or reset accounts). Then on
    to the page the user asked for (`next`, a path of this site, carried by the middleware that forced the change),
    or to their home, with a message instead of the admin's "password changed" page."""

    template_name = "registration/password_change_form.html"

    def get_context_data(self, **kwargs):
        return {**admin.site.each_context(self.request), **super().get_context_data(**kwargs)}

    def get_success_url(self):
        return safe_next(self.request) or home_url()

    def form_valid(self, form):
        response = super().form_valid(form)
        services.password_changed(user=form.user)
        self.request.session.pop(MUST_CHANGE_PASSWORD, None)
        messages.success(self.request, _("Your password was changed."))
        return response


password_change = login_required(PasswordChange.as_view(), login_url="admin:login")

"""Login plumbing: the session's idle clock starts, and a user who must change their password carries the flag in
the session, so the middleware that enforces it (housing_safety.middleware.PasswordChangeRequiredMiddleware) needs
no query per request."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from housing_safety.middleware import MUST_CHANGE_PASSWORD, mark_session_active

from .models import UserProfile


@receiver(user_logged_in, dispatch_uid="households.session_start")
def start_session(sender, request, user, **kwargs):
    if request is None:
        return
    mark_session_active(request.session)
    if UserProfile.objects.filter(user=user, must_change_password=True).exists():
        request.session[MUST_CHANGE_PASSWORD] = True

"""Login plumbing: the session's idle clock starts, and a user who must change their password carries the flag in
the session, so the middleware that enforces it (housing_safety.middleware.PasswordChangeRequiredMiddleware) needs
no query per request. And the shell's cached identity line (housing_safety.workspace.identity_of) is forgotten when
a profile, its townships or its unit change."""

from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import m2m_changed, post_save
from django.dispatch import receiver

from housing_safety.middleware import MUST_CHANGE_PASSWORD, mark_session_active
from housing_safety.workspace import forget_identity

from .models import Unit, UserProfile


@receiver(user_logged_in, dispatch_uid="households.session_start")
def start_session(sender, request, user, **kwargs):
    if request is None:
        return
    mark_session_active(request.session)
    if UserProfile.objects.filter(user=user, must_change_password=True).exists():
        request.session[MUST_CHANGE_PASSWORD] = True


@receiver(post_save, sender=UserProfile, dispatch_uid="households.identity_profile")
def profile_changed(sender, instance, **kwargs):
    forget_identity(instance.user_id)


@receiver(m2m_changed, sender=UserProfile.townships.through, dispatch_uid="households.identity_townships")
def profile_townships_changed(sender, instance, **kwargs):
    if isinstance(instance, UserProfile):
        forget_identity(instance.user_id)
    else:  # a township's staff changed from the township's side
        forget_identity(*instance.staff_profiles.values_list("user_id", flat=True))


@receiver(post_save, sender=Unit, dispatch_uid="households.identity_unit")
def unit_changed(sender, instance, **kwargs):
    forget_identity(*instance.members.values_list("user_id", flat=True))

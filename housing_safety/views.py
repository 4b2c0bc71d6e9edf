from django.shortcuts import render
from django.utils.translation import gettext as _


def rate_limited(request, exception=None):
    """django-ratelimit's answer: 429 with a Chinese explanation, not a bare 403."""
    return render(
        request,
        "public/message.html",
        {"title": _("Too many requests"), "message": _("Please try again in a minute.")},
        status=429,
    )

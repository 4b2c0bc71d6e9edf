"""The field app's pages: its shell, its service worker and its manifest (docs/field-app.md). Thin: the app itself is
static/field/ (ES modules drawn from the package in IndexedDB); these pages only hand it its texts, addresses and
files, and the worker the list of what it may cache."""

from __future__ import annotations

import functools
import hashlib
import json

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from housing_safety.web import page
from housing_safety.workspace import identity_of
from inspections.models import Appraisal

from .package import may_take_package
from .texts import texts

APPRAISAL_LABELS = (
    "kind", "appraised_on", "organisation", "appraisers", "site_hazard", "is_leaking", "grade", "recommendation",
    "notes",
)  # fmt: skip

# What the service worker caches besides the shell: the app's own static files (the ES modules it imports, its
# style, icons) and the kit's. Nothing else: never /api/, never another page.
SHELL_STATIC = (
    "field/app.js",
    "field/store.js",
    "field/ui.js",
    "field/forms.js",
    "field/grading.js",
    "field/app.css",
    "field/icon.svg",
    "field/icon-192.png",
    "field/icon-512.png",
    "vendor/idb/index.js",
    "vendor/bootstrap/css/bootstrap.min.css",
    "vendor/bootstrap-icons/bootstrap-icons.min.css",
    "vendor/bootstrap-icons/fonts/bootstrap-icons.woff2",
    "css/shell.css",
    "favicon.svg",
)


def _present(paths) -> list[str]:
    return [path for path in paths if finders.find(path)]


@functools.cache
def shell_version() -> str:
    """The cache's version: a digest of the cached files' contents, so that a new release replaces the old cache
    (the worker's activate step deletes every other field-shell-* cache)."""
    digest = hashlib.sha256()
    for path in _present(SHELL_STATIC):
        with open(finders.find(path), "rb") as handle:
            digest.update(path.encode() + b"\0" + handle.read())
    return digest.hexdigest()[:12]


def _static_urls() -> list[str]:
    """Each cached file by the URL the pages use (hashed in production) and by its plain name (what the ES modules'
    relative imports ask for)."""
    urls = []
    for path in _present(SHELL_STATIC):
        for url in (static(path), settings.STATIC_URL.rstrip("/") + "/" + path):
            url = url if url.startswith("/") else "/" + url
            if url not in urls:
                urls.append(url)
    return urls


@page()
def app_shell(request):
    """The app's one page. Township staff and helpers only; anybody else gets a 403 page saying who it is for."""
    if not may_take_package(request.user):
        return render(request, "fieldwork/forbidden.html", status=403)
    identity = identity_of(request.user)
    config = {
        "version": shell_version(),
        "user": {"id": request.user.pk, "name": identity["name"], "role": identity["role_code"]},
        "urls": {
            "me": "/api/v1/field/me/",
            "villages": "/api/v1/field/villages/",
            "package": "/api/v1/field/package/",
            "appraisal": "/api/v1/dwellings/{id}/appraisals/",
            "revisit": "/api/v1/revisits/{id}/record/",
            "helper_report": "/api/v1/households/{id}/helper-reports/",
            "problem": "/api/v1/problems/{id}/moves/",
            "login": reverse("admin:login") + "?next=" + reverse("fieldwork:app"),
            "home": reverse("home"),
            "worker": reverse("fieldwork:sw"),
            "scope": reverse("fieldwork:app"),
            "grading": static("field/grading.js"),
        },
        "photo": {"max_side": settings.FIELD_PHOTO_MAX_SIDE, "quality": settings.FIELD_PHOTO_QUALITY},
        # the appraisal's labels as the page's form shows them (the model's names)
        "appraisal_labels": {name: str(Appraisal._meta.get_field(name).verbose_name) for name in APPRAISAL_LABELS},
        "texts": texts(),
    }
    response = render(request, "fieldwork/app.html", {"config": config, "identity": identity})
    response["Cache-Control"] = "no-cache"
    return response


@never_cache
def service_worker(request):
    """The worker, drawn from a template with this release's version and file list. Public (it carries no data):
    the browser fetches it again on its own to look for a new release, signed in or not."""
    body = render(
        request,
        "fieldwork/sw.js",
        {
            "version": json.dumps(shell_version()),
            "shell": json.dumps(reverse("fieldwork:app")),
            "files": json.dumps(_static_urls()),
        },
    ).content
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = reverse("fieldwork:app")
    response["Cache-Control"] = "no-cache"
    return response


def manifest(request):
    """The web app manifest: installable, opens the shell full screen. Public (no data)."""
    app = reverse("fieldwork:app")
    body = {
        "name": _("Rural housing field work"),
        "short_name": _("Field work"),
        "description": _("Appraisals, revisits, problems and helpers' reports without a signal; sent later."),
        "lang": "zh-CN",
        "start_url": app,
        "scope": app,
        "display": "standalone",
        "background_color": "#f3f5f8",
        "theme_color": "#123f6d",
        "icons": [
            {"src": static("field/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("field/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("field/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
            {"src": static("field/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return JsonResponse(body, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})

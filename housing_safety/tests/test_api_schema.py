"""The API's OpenAPI document: valid OpenAPI 3, and equal to the committed docs/api/openapi.yaml, so that a change to
the API shows in review. Its reference page (Swagger UI) loads only this site's files: the intranet has no CDN."""

import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from openapi_spec_validator import validate

from households.tests.factories import make_user
from housing_safety.access import Role

pytestmark = pytest.mark.django_db

COMMITTED = Path(settings.BASE_DIR) / "docs" / "api" / "openapi.yaml"
# On PostgreSQL, as the suite runs: SQLite's integer limits differ and would change the document.
REGENERATE = (
    "DATABASE_URL=postgres://postgres@127.0.0.1:5432/housing_safety "
    ".venv/bin/python manage.py spectacular --lang zh-hans --file docs/api/openapi.yaml"
)


def generated(tmp_path) -> str:
    out = tmp_path / "openapi.yaml"
    call_command("spectacular", "--lang", "zh-hans", "--file", str(out))
    return out.read_text(encoding="utf-8")


def test_the_document_is_valid_openapi_3(tmp_path):
    document = yaml.safe_load(generated(tmp_path))
    validate(document)
    assert document["info"]["title"] == "漳平市农村住房安全管理系统 API"
    assert "/api/v1/households/" in document["paths"]
    assert set(document["components"]["securitySchemes"]) == {"ApiKey", "Session"}


def test_the_document_equals_the_committed_copy(tmp_path):
    assert generated(tmp_path) == COMMITTED.read_text(encoding="utf-8"), (
        f"The API changed: regenerate the committed document with `{REGENERATE}` and commit it."
    )


def test_the_schema_is_served_to_callers_only():
    client = Client()
    assert client.get("/api/v1/schema/").status_code == 401
    client.force_login(make_user(Role.BUREAU_OFFICIAL))
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "漳平市农村住房安全管理系统 API"


def test_the_reference_page_uses_only_local_files():
    client = Client()
    client.force_login(make_user(Role.BUREAU_OFFICIAL))
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert re.findall(r"https?://(?!testserver)[^\s\"'<>]+", html) == []
    scripts = re.findall(r"<script[^>]*src=\"([^\"]+)\"", html)
    assert scripts and all(src.startswith("/") for src in scripts)
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", html) == []  # no inline script (the CSP allows none)
    assert "<style" not in html  # nor inline style
    start = client.get("/api/v1/docs/?script=")
    assert start.status_code == 200 and b"SwaggerUIBundle" in start.content

"""The field app's pages (docs/field-app.md): the shell for township staff and helpers only, the service worker that
caches nothing but the shell and its files, the manifest and its icons, and the entries from the field pages."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from PIL import Image

from housing_safety.tests.kit import (
    ADMIN,
    ANON,
    CLERK,
    HELPER,
    LIAISON,
    NO_ROLE,
    OFFICIAL,
    STAFF,
    assert_login_redirect,
    body,
    login,
)

pytestmark = pytest.mark.django_db

APP = "/field/app/"
CJK = re.compile(r"[\u4e00-\u9fff]")


def config_of(response) -> dict:
    text = body(response)
    found = re.search(r'<script id="field-config" type="application/json">(.*?)</script>', text, re.S)
    assert found, "the shell carries its configuration as a JSON script element"
    return json.loads(found.group(1))


def test_the_urls_are_the_contracts():
    assert reverse("fieldwork:app") == APP
    assert reverse("fieldwork:sw") == "/field/sw.js"
    assert reverse("fieldwork:manifest") == "/field/app/manifest.webmanifest"


def test_an_anonymous_visitor_is_sent_to_the_login_page(client):
    assert_login_redirect(client.get(APP), APP)


@pytest.mark.parametrize("persona", [STAFF, HELPER])
def test_township_staff_and_helpers_get_the_shell_with_their_own_identity(client, personas, persona, chinese):
    login(client, personas, persona)
    response = client.get(APP)
    assert response.status_code == 200
    config = config_of(response)
    user = personas[persona]
    assert config["user"]["id"] == user.pk
    assert config["user"]["role"] == persona
    assert config["urls"]["me"] == "/api/v1/field/me/"
    assert config["urls"]["appraisal"] == "/api/v1/dwellings/{id}/appraisals/"
    assert config["photo"] == {"max_side": 1600, "quality": 0.8}
    text = body(response)
    assert 'type="module" src="/static/field/app.js"' in text
    assert '<link rel="manifest" href="/field/app/manifest.webmanifest">' in text
    # the app's own logout form posts to the site's logout (which clears the site's data)
    assert f'action="{reverse("admin:logout")}" method="post"' in text
    assert "<script>" not in text and "style=" not in text  # the policy: no inline script or style


def test_every_text_the_app_shows_is_translated(client, personas, chinese):
    login(client, personas, STAFF)
    config = config_of(client.get(APP))
    untranslated = {key: text for key, text in config["texts"].items() if not CJK.search(text)}
    assert not untranslated
    assert config["texts"]["n_pending"] == "{n} 条待上传"
    assert config["texts"]["keep_mine"] == "保留我的，作为新记录"
    assert config["texts"]["upload_now"] == "立即上传"
    assert all(CJK.search(label) for label in config["appraisal_labels"].values())


@pytest.mark.parametrize("persona", [ADMIN, OFFICIAL, LIAISON, CLERK, NO_ROLE])
def test_other_roles_get_a_clear_403(client, personas, persona, chinese):
    login(client, personas, persona)
    response = client.get(APP)
    assert response.status_code == 403
    text = body(response)
    assert "离线外业仅供乡镇工作人员和帮扶责任人使用" in text
    assert "field-config" not in text


def test_the_shell_is_never_stored_by_the_browser_cache(client, personas):
    login(client, personas, STAFF)
    assert client.get(APP)["Cache-Control"] == "no-cache"


@pytest.mark.parametrize("persona", [ANON, STAFF])
def test_the_service_worker_is_served_with_its_scope_and_caches_only_the_shell(client, personas, persona):
    login(client, personas, persona)
    response = client.get("/field/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == APP
    assert "no-cache" in response["Cache-Control"]
    script = body(response)
    assert re.search(r'const VERSION = "[0-9a-f]{12}";', script)
    assert 'const CACHE = "field-shell-" + VERSION;' in script
    assert 'const SHELL = "/field/app/";' in script
    files = json.loads(re.search(r"const FILES = (\[.*?\]);", script).group(1))
    assert "/static/field/app.js" in files and "/static/vendor/idb/index.js" in files
    assert "/static/field/grading.js" in files
    assert all(path.startswith("/static/") for path in files), "nothing but static files is cached"
    assert 'url.pathname.startsWith("/api/")) return' in script  # the API passes by, never cached
    assert 'name.startsWith("field-shell-") && name !== CACHE' in script  # old releases' caches go on activate


def test_every_file_the_worker_caches_exists():
    from fieldwork.views import SHELL_STATIC

    missing = [path for path in SHELL_STATIC if not finders.find(path)]
    assert not missing


def test_the_shell_and_the_worker_name_the_same_release(client, personas):
    login(client, personas, HELPER)
    config = config_of(client.get(APP))
    assert f'const VERSION = "{config["version"]}";' in body(client.get("/field/sw.js"))


def test_the_manifest_makes_the_shell_installable(client, chinese):
    response = client.get("/field/app/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/manifest+json")
    manifest = json.loads(response.content)
    assert manifest["name"] == "农房安全外业"
    assert manifest["start_url"] == APP and manifest["scope"] == APP
    assert manifest["display"] == "standalone"
    sizes = {icon["sizes"]: icon for icon in manifest["icons"]}
    assert {"192x192", "512x512", "any"} <= set(sizes)
    for size in (192, 512):
        path = finders.find(f"field/icon-{size}.png")
        with open(path, "rb") as handle:
            image = Image.open(io.BytesIO(handle.read()))
        assert image.size == (size, size) and image.format == "PNG"
    assert finders.find("field/icon.svg")


def test_the_field_home_and_the_helper_home_lead_to_the_app(client, personas, chinese):
    login(client, personas, STAFF)
    text = body(client.get(reverse("inspections:field")))
    assert f'href="{APP}"' in text and "离线外业" in text
    client.logout()
    login(client, personas, HELPER)
    text = body(client.get(reverse("inspections:helper")))
    assert f'href="{APP}"' in text and "离线外业" in text


@pytest.mark.parametrize("persona", [STAFF, HELPER, ADMIN, OFFICIAL, LIAISON, CLERK])
def test_the_home_and_the_menu_lead_to_the_app_for_the_people_who_use_it(client, personas, persona, chinese):
    login(client, personas, persona)
    text = body(client.get(reverse("home")))
    menu = text[text.index('id="shell-menu"') :]
    menu = menu[: menu.index("</nav>")]
    if persona in (STAFF, HELPER):
        assert menu.count(f'href="{APP}"') == 1 and "离线外业" in menu  # the menu's entry
        assert text.count(f'href="{APP}"') == 2 and "去无信号的村前先下载工作包" in text  # and the home's action
    else:
        assert f'href="{APP}"' not in text


def test_the_shell_reads_a_fixed_number_of_queries(client, personas, django_assert_num_queries):
    login(client, personas, STAFF)
    client.get(APP)  # the identity is cached from here on: session, user, scope, and the shell draws no rows
    with django_assert_num_queries(4):
        assert client.get(APP).status_code == 200

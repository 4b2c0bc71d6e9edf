"""The API's reference page in a real browser: Swagger UI loads from our own static files and draws the document
under the content security policy (the `browser` fixture fails on any refusal), with no request to another host."""

import pytest

from households.tests.factories import make_user
from housing_safety.access import Role
from housing_safety.tests.kit import log_in, watch_console

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_reference_page_draws_the_document_from_local_files(browser, live_server):
    official = make_user(Role.BUREAU_OFFICIAL, username="api-docs-reader")
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    errors = watch_console(page)
    hosts = []
    page.on("request", lambda request: hosts.append(request.url.split("/")[2]))
    log_in(page, live_server.url, official.username)
    page.goto(f"{live_server.url}/api/v1/docs/")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "漳平市农村住房安全管理系统 API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector("text=/api/v1/households/")
    assert set(hosts) == {live_server.url.split("/")[2]}
    assert errors == []

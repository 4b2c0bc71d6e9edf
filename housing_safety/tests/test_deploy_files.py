"""The deployment files in deploy/ say what the application expects: nginx proxies with the headers settings trust,
never serves uploaded files, lets a form with several files at the limit through; exactly one beat; the example
environment is a complete production configuration."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
NGINX = (DEPLOY / "nginx-housing-safety.conf").read_text(encoding="utf-8")
UNITS = {path.name: path.read_text(encoding="utf-8") for path in DEPLOY.glob("*.service")}


def directives(text: str) -> list[str]:
    """Lines that are not comments."""
    return [line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip()]


def test_nginx_terminates_tls_and_passes_the_headers_django_trusts():
    lines = directives(NGINX)
    assert "listen 443 ssl http2;" in lines
    assert any(line.startswith("ssl_certificate ") for line in lines)
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in lines  # SECURE_PROXY_SSL_HEADER
    assert "proxy_set_header X-Real-IP $remote_addr;" in lines  # RATELIMIT_IP_META_KEY=HTTP_X_REAL_IP
    assert "proxy_set_header X-Request-ID $request_id;" in lines  # the application's log lines carry it
    assert "return 301 https://$host$request_uri;" in lines


def test_nginx_serves_static_files_and_never_uploaded_files():
    locations = re.findall(r"^\s*location\s+([^{]+?)\s*\{", NGINX, flags=re.MULTILINE)
    assert sorted(locations) == ["/", "/", "/static/", "= /healthz"]
    aliases = [line.split()[1].rstrip(";") for line in directives(NGINX) if line.startswith(("alias ", "root "))]
    assert aliases == ["/srv/housing-safety/staticfiles/"]  # STATIC_ROOT, nothing else
    assert "media" not in " ".join(directives(NGINX)).lower()


def test_nginx_lets_a_form_with_several_files_at_the_limit_through():
    (size,) = re.findall(r"^\s*client_max_body_size (\d+)m;", NGINX, flags=re.MULTILINE)
    assert int(size) * 1024 * 1024 >= 5 * settings.ATTACHMENT_MAX_BYTES


def test_exactly_one_beat_and_workers_without_beat():
    assert sorted(UNITS) == [
        "housing-safety-beat.service",
        "housing-safety-web.service",
        "housing-safety-worker.service",
    ]
    commands = {name: " ".join(line.rstrip("\\") for line in directives(text)) for name, text in UNITS.items()}
    running_beat = [
        name for name, command in commands.items() if re.search(r"celery .*\bbeat\b|\s-B\b|--beat", command)
    ]
    assert running_beat == ["housing-safety-beat.service"]
    assert "gunicorn housing_safety.wsgi" in UNITS["housing-safety-web.service"]
    assert "--bind 127.0.0.1:8000" in UNITS["housing-safety-web.service"]  # nginx's upstream
    assert "server 127.0.0.1:8000" in NGINX
    for text in UNITS.values():
        assert "EnvironmentFile=/etc/housing-safety/env" in text


def test_the_example_environment_is_a_complete_production_configuration():
    example = {}
    for line in directives((DEPLOY / "env.example").read_text(encoding="utf-8")):
        name, _, value = line.partition("=")
        example[name] = value.strip('"')  # quoted as systemd and sh both read it
    example["SECRET_KEY"] = "k3y-for-the-env-example-check-" + "x7Q!pL9#vR2$mN5&" * 3  # the example's is a placeholder
    keep = {k: v for k, v in os.environ.items() if k not in example and k not in {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**keep, **example},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr

"""Uploaded files on S3-compatible object storage (housing_safety/storage_settings.py): the settings switch, the
private and signed-only options, and the download view reading through the storage API (no bucket needed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from households import services
from households.models import Attachment
from households.tests.factories import HouseholdFactory, make_user, png_bytes, png_file, township
from housing_safety.access import Role
from housing_safety.storage_settings import media_storage

ROOT = Path(__file__).resolve().parents[2]
BUCKET_ENV = {
    "MEDIA_S3_BUCKET": "zfaq-media",
    "MEDIA_S3_ENDPOINT_URL": "https://oss.example.gov.cn",
    "MEDIA_S3_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "MEDIA_S3_SECRET_ACCESS_KEY": "secret-example",
    "MEDIA_S3_REGION": "cn-east-1",
}


def test_without_a_bucket_files_stay_in_media_root():
    assert media_storage({}) == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_a_bucket_gives_a_private_s3_storage_with_signed_urls_only():
    storage = media_storage(BUCKET_ENV)
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    options = storage["OPTIONS"]
    assert options["bucket_name"] == "zfaq-media"
    assert options["endpoint_url"] == "https://oss.example.gov.cn"
    assert (options["access_key"], options["secret_key"]) == ("AKIDEXAMPLE", "secret-example")
    assert options["default_acl"] == "private"
    assert options["querystring_auth"] is True
    assert options["custom_domain"] is None  # no public URL
    assert options["file_overwrite"] is False  # an archive file is never replaced by a namesake


def test_a_bucket_without_endpoint_or_keys_refuses_to_start():
    with pytest.raises(ImproperlyConfigured, match="MEDIA_S3_ENDPOINT_URL, MEDIA_S3_SECRET_ACCESS_KEY"):
        media_storage({"MEDIA_S3_BUCKET": "zfaq-media", "MEDIA_S3_ACCESS_KEY_ID": "AKIDEXAMPLE"})


def test_the_s3_storage_builds_and_any_url_it_makes_is_signed_and_short_lived():
    from storages.backends.s3 import S3Storage

    storage = S3Storage(**media_storage(BUCKET_ENV)["OPTIONS"])  # no request is made
    url = storage.url("attachments/2026/11/0123abcd")
    assert url.startswith("https://oss.example.gov.cn/zfaq-media/attachments/2026/11/0123abcd?")
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=300" in url


def test_settings_use_the_bucket_when_the_environment_names_one():
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.STORAGES['default']))"
    )
    keep = {k: v for k, v in os.environ.items() if not k.startswith("MEDIA_S3_")}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**keep, **BUCKET_ENV}, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == media_storage(BUCKET_ENV)


def test_the_download_view_reads_the_file_through_the_storage_not_a_path(client, db, settings):
    """What makes the bucket work unchanged: the scoped download opens the file from whatever storage is set."""
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    staff = make_user(Role.TOWNSHIP_STAFF, townships=[township()])
    attachment = services.add_attachment(
        actor=staff, record=HouseholdFactory(), uploaded_file=png_file(), kind=Attachment.Kind.PHOTO
    )
    assert not Path(settings.MEDIA_ROOT).exists()  # nothing written to disk
    client.force_login(staff)
    response = client.get(reverse("attachment-download", args=[attachment.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == png_bytes()

"""Where uploaded files live: MEDIA_ROOT on one server, an S3-compatible bucket when there are several web hosts.

A function of the environment so a test can build it without a bucket (settings call it with os.environ).
"""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

FILESYSTEM = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
S3_REQUIRED = ("MEDIA_S3_ENDPOINT_URL", "MEDIA_S3_ACCESS_KEY_ID", "MEDIA_S3_SECRET_ACCESS_KEY")


def media_storage(environ: Mapping[str, str]) -> dict:
    """STORAGES["default"]: the local MEDIA_ROOT, or the bucket named by MEDIA_S3_BUCKET.

    The bucket is private and the application never hands out its URLs: attachments are still read through
    households.views.attachment_download, which checks the user's scope and opens the file from storage. Objects
    are written private, any URL Django might build is signed and short-lived, and no public domain is set.
    """
    bucket = environ.get("MEDIA_S3_BUCKET", "")
    if not bucket:
        return dict(FILESYSTEM)
    missing = [name for name in S3_REQUIRED if not environ.get(name)]
    if missing:
        raise ImproperlyConfigured(f"MEDIA_S3_BUCKET is set; it also needs {', '.join(missing)}")
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": environ["MEDIA_S3_ENDPOINT_URL"],
            "access_key": environ["MEDIA_S3_ACCESS_KEY_ID"],
            "secret_key": environ["MEDIA_S3_SECRET_ACCESS_KEY"],
            "region_name": environ.get("MEDIA_S3_REGION") or None,
            # "path" for most self-hosted S3 servers; empty lets boto3 choose (virtual-hosted where it can).
            "addressing_style": environ.get("MEDIA_S3_ADDRESSING_STYLE") or None,
            "signature_version": "s3v4",
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": 300,
            "custom_domain": None,
            # Government archive: a second file with the same name never replaces the first (as on disk).
            "file_overwrite": False,
        },
    }

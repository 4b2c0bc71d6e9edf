"""make backup / make restore (housing_safety/backup.py): a real database with rows and an attachment is backed up,
restored into a fresh database and media folder, and the application checked against the restored copy.

Needs PostgreSQL (the suite's DATABASE_URL) and its client tools; under REQUIRE_SERVICES=1 their absence fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from contextlib import closing
from io import StringIO
from pathlib import Path

import psycopg2
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from households import services
from households.models import Attachment
from households.tests.factories import make_user, png_bytes, png_file
from housing_safety.access import Role
from housing_safety.backup import row_counts
from housing_safety.storage_settings import media_storage
from housing_safety.tests.kit import service_missing
from inspections.tests.factories import AppraisalFactory

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    keep = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "MEDIA_ROOT"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**keep, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        service_missing(f"backups need PostgreSQL (the suite runs on {connection.vendor})")
    for tool in ("pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            service_missing(f"{tool} is not installed (apt-get install postgresql-client)")
    return connection.settings_dict


@pytest.fixture
def fresh_database(postgresql):
    """A new, empty database on the same server, dropped afterwards; yields its URL."""
    name = f"restore_check_{uuid.uuid4().hex[:12]}"
    server = {
        "host": postgresql["HOST"] or None,
        "port": postgresql["PORT"] or None,
        "user": postgresql["USER"] or None,
        "password": postgresql["PASSWORD"] or None,
    }
    with closing(psycopg2.connect(dbname="postgres", **server)) as admin:
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        try:
            credentials = postgresql["USER"] + (f":{postgresql['PASSWORD']}" if postgresql["PASSWORD"] else "")
            host = f"{postgresql['HOST'] or '127.0.0.1'}:{postgresql['PORT'] or 5432}"
            yield {"url": f"postgres://{credentials}@{host}/{name}", "name": name, "server": server}
        finally:
            with admin.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_backup_then_restore_into_a_fresh_database_gives_the_same_rows_and_files(fresh_database, settings, tmp_path):
    bureau_admin = make_user(Role.BUREAU_ADMIN)
    appraisals = AppraisalFactory.create_batch(5)
    attachment = services.add_attachment(
        actor=bureau_admin,
        record=appraisals[0].dwelling.household,
        uploaded_file=png_file(),
        kind=Attachment.Kind.PHOTO,
    )
    assert (Path(settings.MEDIA_ROOT) / attachment.file.name).read_bytes() == png_bytes()

    out = StringIO()
    call_command("backup", "--to", str(tmp_path / "backups"), stdout=out)
    (folder,) = (tmp_path / "backups").iterdir()
    assert sorted(path.name for path in folder.iterdir()) == ["db.dump", "manifest.json", "media.tar"]
    assert folder.stat().st_mode & 0o077 == 0  # personal data: the service account's only
    print(out.getvalue())  # the time and sizes, for the record (pytest -s)

    restored_media = tmp_path / "restored-media"
    out = StringIO()
    call_command(
        "restore", str(folder), "--database-url", fresh_database["url"], "--media-root", str(restored_media), stdout=out
    )
    assert "all as in the backup" in out.getvalue()
    print(out.getvalue())

    # The data check, independent of the manifest the restore checked itself against.
    with connection.cursor() as cursor:
        source = row_counts(cursor)
    restored = psycopg2.connect(dbname=fresh_database["name"], **fresh_database["server"])
    with closing(restored), restored.cursor() as cursor:
        copy = row_counts(cursor)
    assert copy == source
    assert copy["households_household"] == 5 and copy["inspections_appraisal"] == 5
    assert copy["households_attachment"] == 1 and copy["django_migrations"] > 0
    assert (restored_media / attachment.file.name).read_bytes() == png_bytes()

    # The application runs against the restored copy: checks pass and no migration is pending.
    env = {"DATABASE_URL": fresh_database["url"], "MEDIA_ROOT": str(restored_media)}
    check = manage("check", "--database", "default", env=env)
    assert check.returncode == 0, check.stdout + check.stderr
    pending = manage("migrate", "--check", env=env)
    assert pending.returncode == 0, pending.stdout + pending.stderr


def test_restore_refuses_a_database_that_has_tables(postgresql, tmp_path):
    call_command("backup", "--to", str(tmp_path / "backups"), stdout=StringIO())
    (folder,) = (tmp_path / "backups").iterdir()
    credentials = postgresql["USER"] + (f":{postgresql['PASSWORD']}" if postgresql["PASSWORD"] else "")
    host = f"{postgresql['HOST'] or '127.0.0.1'}:{postgresql['PORT'] or 5432}"
    the_running_database = f"postgres://{credentials}@{host}/{postgresql['NAME']}"
    with pytest.raises(CommandError, match="already has tables"):
        call_command(
            "restore", str(folder), "--database-url", the_running_database, "--media-root", str(tmp_path / "m")
        )
    assert not (tmp_path / "m").exists()


def test_backup_refuses_sqlite_and_says_to_copy_the_file(tmp_path):
    result = manage("backup", env={"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"})
    assert result.returncode != 0
    assert "Backups are for the PostgreSQL production setup" in result.stderr
    assert "copy the database file and the media folder" in result.stderr


def test_with_files_in_a_bucket_the_backup_holds_the_database_only(postgresql, settings, tmp_path):
    """The bucket's versioning is the files' backup (docs/deployment.md); nothing is fetched from it here."""
    bucket = {
        "MEDIA_S3_BUCKET": "zfaq-media",
        "MEDIA_S3_ENDPOINT_URL": "https://oss.example.gov.cn",
        "MEDIA_S3_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "MEDIA_S3_SECRET_ACCESS_KEY": "secret-example",
    }
    settings.STORAGES = {**settings.STORAGES, "default": media_storage(bucket)}
    call_command("backup", "--to", str(tmp_path / "backups"), stdout=StringIO())
    (folder,) = (tmp_path / "backups").iterdir()
    assert sorted(path.name for path in folder.iterdir()) == ["db.dump", "manifest.json"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["media"] == {"storage": "storages.backends.s3.S3Storage", "archived": False}
    assert manifest["rows"]["django_migrations"] > 0

"""Backup and restore of the PostgreSQL production setup: the database and the uploaded files, together.

A backup is a folder BACKUP_DIR/<YYYYmmdd-HHMMSS>/ holding
  db.dump        pg_dump's custom format (compressed; pg_restore can restore it in parallel or table by table),
  media.tar      MEDIA_ROOT as it was (photos and PDFs are compressed already, so the tar is not),
  manifest.json  row counts per table and the number and bytes of the files, which restore checks itself against.

The row counts are taken in the very snapshot pg_dump dumps (pg_export_snapshot), so they agree with the dump even
while people keep working. The files are archived after the dump: every file the dump refers to is in the tar (a
file is stored before its row is committed, and nothing is deleted), a file uploaded meanwhile is merely extra.

These are functions rather than shell scripts so they read the configuration the application reads (DATABASE_URL,
MEDIA_ROOT and the storage switch from the environment or .env) and refuse SQLite through the same settings.
Passwords reach pg_dump and pg_restore in their environment (PGPASSWORD), never on a command line.
"""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import environ
import psycopg2
from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone
from psycopg2 import sql

DUMP, MEDIA, MANIFEST = "db.dump", "media.tar", "manifest.json"
POSTGRESQL = "django.db.backends.postgresql"
SQLITE_ADVICE = (
    "Backups are for the PostgreSQL production setup; DATABASE_URL points at SQLite ({name}). "
    "To back up a SQLite installation, stop the server and copy the database file and the media folder."
)
# libpq reads these from the environment; OPTIONS keys of Django's PostgreSQL backend map to them.
_LIBPQ_OPTIONS = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "options": "PGOPTIONS"}


class BackupError(Exception):
    """The backup or restore cannot go on; the message says why and what to do."""


@dataclass
class Result:
    folder: Path
    seconds: float
    dump_bytes: int
    media_bytes: int  # the tar's size
    tables: int
    rows: int
    files: int


def libpq_environment(database: dict) -> dict[str, str]:
    """pg_dump's and pg_restore's connection, from a Django DATABASES entry, in the environment (no password in ps)."""
    environment = dict(os.environ)
    for key, variable in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if database.get(key):
            environment[variable] = str(database[key])
    environment["PGDATABASE"] = database["NAME"]
    for key, variable in _LIBPQ_OPTIONS.items():
        if database.get("OPTIONS", {}).get(key):
            environment[variable] = str(database["OPTIONS"][key])
    return environment


def row_counts(cursor) -> dict[str, int]:
    """Rows per table of the schema the connection uses."""
    cursor.execute(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
    )
    counts = {}
    for (table,) in cursor.fetchall():
        cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        counts[table] = cursor.fetchone()[0]
    return counts


def media_files(root: Path) -> tuple[int, int]:
    """(number of files, their bytes) under root."""
    files = [path for path in root.rglob("*") if path.is_file()] if root.is_dir() else []
    return len(files), sum(path.stat().st_size for path in files)


def _media_on_object_storage() -> bool:
    return settings.STORAGES["default"]["BACKEND"] != "django.core.files.storage.FileSystemStorage"


def _run(command: list[str], environment: dict[str, str]) -> None:
    done = subprocess.run(command, env=environment, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()}")


def backup(backup_dir: Path, *, using: str = "default") -> Result:
    """Dump the database and archive MEDIA_ROOT into a new timestamped folder under backup_dir."""
    database = connections[using].settings_dict
    if database["ENGINE"] != POSTGRESQL:
        raise BackupError(SQLITE_ADVICE.format(name=database["NAME"]))
    started = time.monotonic()
    folder = Path(backup_dir) / timezone.localtime().strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=False)  # two backups in the same second: the second one fails, loudly
    folder.chmod(0o700)  # personal data (ID numbers) of the whole city: readable by the service account only

    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
        snapshot, server_version = cursor.fetchone()
        counts = row_counts(cursor)
        _run(
            ["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={folder / DUMP}"],
            libpq_environment(database),
        )

    manifest = {
        "created": timezone.localtime().isoformat(),
        "database": database["NAME"],
        "server_version": server_version,
        "rows": counts,
    }
    if _media_on_object_storage():
        # The bucket keeps its own versions and replicas (docs/deployment.md); copying it here would double it.
        manifest["media"] = {"storage": settings.STORAGES["default"]["BACKEND"], "archived": False}
    else:
        root = Path(settings.MEDIA_ROOT)
        with tarfile.open(folder / MEDIA, "w") as archive:
            if root.is_dir():
                archive.add(root, arcname=".")
        files, size = media_files(root)
        manifest["media"] = {"archived": True, "files": files, "bytes": size}
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    for path in folder.iterdir():
        path.chmod(0o600)
    return Result(
        folder=folder,
        seconds=round(time.monotonic() - started, 2),
        dump_bytes=(folder / DUMP).stat().st_size,
        media_bytes=(folder / MEDIA).stat().st_size if (folder / MEDIA).exists() else 0,
        tables=len(counts),
        rows=sum(counts.values()),
        files=manifest["media"].get("files", 0),
    )


def restore(folder: Path, *, database_url: str, media_root: Path | None, jobs: int = 1) -> Result:
    """Restore a backup into a new, empty database and a new, empty media folder, then check both against the
    manifest. Refuses a database that has tables or a media folder that has files: a restore never overwrites."""
    folder = Path(folder)
    started = time.monotonic()
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise BackupError(f"{folder} is not a backup: it has no {MANIFEST}") from error
    database = environ.Env.db_url_config(database_url)
    if database["ENGINE"] != POSTGRESQL:
        raise BackupError("Restore needs a PostgreSQL database URL (postgres://user@host:5432/name).")
    archived = manifest["media"]["archived"]
    if archived and media_root is None:
        raise BackupError("This backup holds the uploaded files: say where they go (--media-root).")

    environment = libpq_environment(database)
    with _connect(database) as target, target.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM information_schema.tables"
            " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        )
        if cursor.fetchone()[0]:
            raise BackupError(
                f"Database {database['NAME']} already has tables; restore into a new, empty database "
                f"(createdb {database['NAME']}_restored) and switch DATABASE_URL to it when it checks out."
            )
    if archived:
        media_root = Path(media_root)
        if media_root.exists() and any(media_root.iterdir()):
            raise BackupError(f"{media_root} is not empty; restore the files into a new folder.")

    restore_options = ["--no-owner", "--no-privileges", "--exit-on-error", f"--jobs={jobs}"]
    _run(["pg_restore", *restore_options, "--dbname", database["NAME"], str(folder / DUMP)], environment)
    if archived:
        media_root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(folder / MEDIA) as archive:
            archive.extractall(media_root, filter="data")  # no absolute paths, links out or device files

    with _connect(database) as target, target.cursor() as cursor:
        counts = row_counts(cursor)
    problems = [
        f"{table}: {manifest['rows'].get(table)} rows in the backup, {counts.get(table)} restored"
        for table in sorted(set(counts) | set(manifest["rows"]))
        if counts.get(table) != manifest["rows"].get(table)
    ]
    files, size = media_files(media_root) if archived else (0, 0)
    if archived and (files, size) != (manifest["media"]["files"], manifest["media"]["bytes"]):
        problems.append(
            f"media: {manifest['media']['files']} files ({manifest['media']['bytes']} bytes) in the backup, "
            f"{files} ({size} bytes) restored"
        )
    if problems:
        raise BackupError("The restore does not match the backup:\n" + "\n".join(problems))
    return Result(
        folder=folder,
        seconds=round(time.monotonic() - started, 2),
        dump_bytes=(folder / DUMP).stat().st_size,
        media_bytes=(folder / MEDIA).stat().st_size if archived else 0,
        tables=len(counts),
        rows=sum(counts.values()),
        files=files,
    )


def _connect(database: dict):
    connection = psycopg2.connect(
        dbname=database["NAME"],
        host=database.get("HOST") or None,
        port=database.get("PORT") or None,
        user=database.get("USER") or None,
        password=database.get("PASSWORD") or None,
    )
    connection.autocommit = True
    return closing(connection)  # psycopg2's own `with connection` ends a transaction but leaves it open

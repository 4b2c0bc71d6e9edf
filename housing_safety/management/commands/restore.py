"""manage.py restore: a backup folder into a new, empty database and media folder, checked against its manifest."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from housing_safety.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore a backup folder (from manage.py backup) into a new, empty PostgreSQL database and a new media "
        "folder, then check the row counts and files against the backup's manifest. Never overwrites."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path, help="e.g. backups/20261130-021500")
        parser.add_argument("--database-url", required=True, help="the new database, postgres://user@host:5432/name")
        parser.add_argument("--media-root", type=Path, help="the new media folder (created if missing)")
        parser.add_argument("--jobs", type=int, default=1, help="parallel pg_restore jobs")

    def handle(self, *args, folder, database_url, media_root, jobs, **options):
        try:
            result = restore(folder, database_url=database_url, media_root=media_root, jobs=jobs)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Restored {result.folder}: {result.tables} tables, {result.rows} rows, {result.files} files, "
            f"all as in the backup, in {result.seconds} s. Point DATABASE_URL and MEDIA_ROOT at them and run "
            "manage.py migrate --check."
        )

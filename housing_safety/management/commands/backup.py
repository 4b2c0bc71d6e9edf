"""manage.py backup: the database (pg_dump) and the uploaded files (tar) into BACKUP_DIR/<timestamp>/."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from housing_safety.backup import BackupError, backup


class Command(BaseCommand):
    help = "Back up the PostgreSQL database and MEDIA_ROOT into a new timestamped folder under BACKUP_DIR."

    def add_arguments(self, parser):
        parser.add_argument("--to", type=Path, default=None, help="the backup folder's parent (default BACKUP_DIR)")

    def handle(self, *args, to, **options):
        try:
            result = backup(to or Path(settings.BACKUP_DIR))
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"{result.folder}: {result.tables} tables, {result.rows} rows ({result.dump_bytes} bytes dumped), "
            f"{result.files} files ({result.media_bytes} bytes archived) in {result.seconds} s"
        )

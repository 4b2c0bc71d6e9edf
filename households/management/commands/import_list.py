"""Import a department's list from the command line (the bureau administrator's way for very large files)."""

import datetime
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError

from households import department_lists
from households.models import Unit


class Command(BaseCommand):
    help = "Read and compare a department's list (.xlsx or .csv); with --confirm also apply it."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--unit", required=True, help="the department's name, e.g. 漳平市民政局")
        parser.add_argument("--date", type=datetime.date.fromisoformat, required=True, help="the list's date")
        parser.add_argument("--user", required=True, help="the bureau administrator's username (recorded)")
        parser.add_argument("--confirm", action="store_true", help="apply the list after the comparison")

    def handle(self, *args, file, unit, date, user, confirm, **options):
        try:
            actor = get_user_model().objects.get(username=user, is_active=True)
            department = Unit.objects.get(name=unit)
        except (get_user_model().DoesNotExist, Unit.DoesNotExist) as error:
            raise CommandError(str(error)) from error
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        try:
            listed = department_lists.preview_list(
                actor=actor,
                unit=department,
                listed_on=date,
                uploaded_file=SimpleUploadedFile(file.name, file.read_bytes()),
            )
            counts = {key: value for key, value in listed.counts.items() if isinstance(value, int)}
            self.stdout.write(f"list #{listed.pk}: {counts}")
            if confirm:
                self.stdout.write(f"applied: {department_lists.confirm_list(actor=actor, department_list=listed)}")
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error

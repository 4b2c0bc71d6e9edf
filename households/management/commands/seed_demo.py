from django.conf import settings
from django.core.management.base import BaseCommand

from households.demo import DEMO_PASSWORD, seed_demo

FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"


class Command(BaseCommand):
    help = "Load idempotent demo data (demo villages, ~300 households, one user per role) and print the logins."

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, default=300)

    def handle(self, *args, households, **options):
        logins = seed_demo(households=households)
        # The demo's e-mails (the consolidated monthly report) stay in the outbox and go where EMAIL_URL says: on a
        # laptop, files in ./tmp-mail. The logins are the last thing printed.
        if settings.EMAIL_BACKEND == FILE_BACKEND:
            self.stdout.write(f"演示邮件 / demo e-mails: {settings.EMAIL_FILE_PATH}")
        self.stdout.write(self.style.SUCCESS(f"演示数据已就绪 / demo data ready. Logins (password: {DEMO_PASSWORD}):"))
        for username, role in logins:
            self.stdout.write(f"  {username:<12} {role}")

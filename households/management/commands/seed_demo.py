from django.core.management.base import BaseCommand

from households.demo import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Load idempotent demo data (demo villages, ~300 households, one user per role) and print the logins."

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, default=300)

    def handle(self, *args, households, **options):
        logins = seed_demo(households=households)
        self.stdout.write(self.style.SUCCESS(f"演示数据已就绪 / demo data ready. Logins (password: {DEMO_PASSWORD}):"))
        for username, role in logins:
            self.stdout.write(f"  {username:<12} {role}")

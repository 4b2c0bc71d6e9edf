"""Synthetic households for benchmarks: villages, households with categories, dwellings and appraisals, loaded
with batched bulk_create. Reproducible (--seed) and clearly synthetic (villages named 合成…村, flagged as demo)."""

import datetime
import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from households.identity import id_check_digit
from households.models import Dwelling, Household, HouseholdCategory, Township, Village
from inspections.models import Appraisal

BATCH = 5000
VILLAGES_PER_TOWNSHIP = 12
GRADES = {"A": 35, "B": 40, "C": 15, "D": 5, None: 5}  # None: not yet appraised
COMPONENT = {"A": "a", "B": "b", "C": "c", "D": "d"}


class Command(BaseCommand):
    help = "Add N synthetic households (with dwellings and appraisals) for benchmarks; refuses in production."

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, households, seed, **options):
        from django.conf import settings

        if settings.PRODUCTION:
            raise CommandError("generate_synthetic refuses to run in production.")
        rng = random.Random(seed)
        started = time.monotonic()
        villages = self._villages()
        categories = list(HouseholdCategory.objects.values_list("pk", flat=True))
        first_serial = Household.objects.count()
        for start in range(0, households, BATCH):
            with transaction.atomic():
                self._batch(rng, villages, categories, first_serial + start, min(BATCH, households - start))
            self.stdout.write(f"\r{min(start + BATCH, households):>8} / {households}", ending="")
            self.stdout.flush()
        self.stdout.write(f"\n{households} households in {time.monotonic() - started:.1f} s")

    def _villages(self) -> list[Village]:
        villages = []
        for township in Township.objects.order_by("code"):
            for number in range(VILLAGES_PER_TOWNSHIP):
                village, _created = Village.objects.get_or_create(
                    township=township, name=f"合成{number + 1}村", defaults={"is_demo": True}
                )
                villages.append(village)
        return villages

    def _batch(self, rng, villages, categories, first: int, count: int) -> None:
        today = datetime.date.today()
        households = []
        for serial in range(first, first + count):
            born = datetime.date(1900, 1, 1) + datetime.timedelta(days=serial // 900)  # before any real or demo birth
            first17 = f"350881{born:%Y%m%d}{serial % 900 + 100:03d}"
            households.append(
                Household(
                    head_name=f"合成户{serial}",
                    id_number=first17 + id_check_digit(first17),
                    village=rng.choice(villages),
                    members_count=rng.randint(1, 6),
                    registered_on=today - datetime.timedelta(days=rng.randint(0, 900)),
                )
            )
        Household.objects.bulk_create(households, batch_size=BATCH)
        links = [
            Household.categories.through(household_id=h.pk, householdcategory_id=rng.choice(categories))
            for h in households
        ]
        Household.categories.through.objects.bulk_create(links, batch_size=BATCH, ignore_conflicts=True)
        dwellings = [
            Dwelling(household=h, address=f"{rng.randint(1, 9)}组{rng.randint(1, 99)}号", structure_type="brick_timber",
                     storeys=1, year_built=rng.randint(1960, 2015))
            for h in households
        ]  # fmt: skip
        Dwelling.objects.bulk_create(dwellings, batch_size=BATCH)
        appraisals = []
        for dwelling in dwellings:
            grade = rng.choices(list(GRADES), weights=list(GRADES.values()))[0]
            if grade is None:
                continue
            part = COMPONENT[grade]
            appraisals.append(
                Appraisal(
                    dwelling=dwelling, appraised_on=today - datetime.timedelta(days=rng.randint(0, 400)),
                    organisation="合成鉴定组", appraisers="甲、乙", foundation=part, load_bearing_walls=part,
                    timber_frame=part, roof_truss=part, concrete_frame="n", floor_roof_slab=part, grade=grade,
                    recommendation="repair" if grade in ("C", "D") else "none",
                )
            )  # fmt: skip
        Appraisal.objects.bulk_create(appraisals, batch_size=BATCH)

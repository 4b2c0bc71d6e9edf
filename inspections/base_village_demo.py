"""Demo of the 31 base villages (issue 24): the province's list loaded through the import, households not yet
registered living in those villages, and one survey visit that finds a D house and registers its household.

Deterministic and idempotent: the list is loaded once (while no list has been confirmed), the households once."""

from __future__ import annotations

import datetime
import random

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from households.demo import demo_id_number
from households.models import Dwelling, Household, Village
from households.services import create_households, save_village
from housing_safety.excel import WorkbookWriter

from . import base_villages, services
from .models import BaseVillageList, Campaign, Revisit

DEMO_BATCH = "省定31个革命基点村（演示）"
XINQIAO = "350881100"  # the demo's township staff (xinqiao) sees its base village's survey on the home
SURVEY_NOTE = "基点村排查对象，尚未建档（演示）"
SURVEYED_HEADS = ("廖福生（演示）", "邱桂英（演示）", "罗水金（演示）")


def _demo_code(village: Village, position: int) -> str:
    return f"{village.township.code}{200 + position:03d}"


def seed_base_villages(admin) -> None:
    if BaseVillageList.objects.filter(status=BaseVillageList.Status.CONFIRMED).exists():
        return
    demo = list(Village.objects.filter(is_demo=True).select_related("township").order_by("township__code", "pk"))
    for position, village in enumerate(demo):
        if not village.code:  # the demo's villages get demo codes, so that the province's list can name them
            village.code = _demo_code(village, position % 100)
            save_village(actor=admin, village=village)
    listed = [village for village in demo if village.is_revolutionary_base_village]
    xinqiao = next((v for v in demo if v.township.code == XINQIAO and v not in listed), None)
    if xinqiao is not None:
        listed.append(xinqiao)
    _seed_unregistered(admin, listed)
    book = WorkbookWriter()
    sheet = book.sheet("省定革命基点村（演示）", ["序号", "乡镇（街道）", "村代码", "村名称"])
    for number, village in enumerate(listed, start=1):
        sheet.append([number, village.township.name, village.code, village.name])
    base_list = base_villages.preview_list(
        actor=admin,
        year=2020,
        batch=DEMO_BATCH,
        uploaded_file=SimpleUploadedFile("省定革命基点村名单（演示）.xlsx", book.to_bytes()),
    )
    base_villages.confirm_list(actor=admin, base_list=base_list)
    _seed_survey_visit(admin, xinqiao)


def _seed_unregistered(admin, villages: list[Village]) -> None:
    """Two households not yet registered in each listed village, one in an old earth-timber house."""
    rng = random.Random(2031)
    existing = set(Household.objects.filter(status=Household.Status.UNREGISTERED).values_list("head_name", "village"))
    new = []
    for index, village in enumerate(villages):
        for number in range(2):
            head = SURVEYED_HEADS[(index + number) % len(SURVEYED_HEADS)]
            id_number = demo_id_number(rng)
            if (head, village.pk) in existing:
                continue
            household = Household(
                head_name=head,
                id_number=id_number,
                village=village,
                members_count=rng.randint(2, 5),
                status=Household.Status.UNREGISTERED,
                registered_on=timezone.localdate(),
                notes=SURVEY_NOTE,
            )
            house = Dwelling(
                address=f"{village.name.removesuffix('（演示）')}{number + 1}组{10 + index}号",
                structure_type=Dwelling.StructureType.EARTH_TIMBER if number == 0 else Dwelling.StructureType.FRAME,
                storeys=1,
                year_built=1978 if number == 0 else 2012,
            )
            new.append((household, [], [house]))
    if new:
        create_households(actor=admin, households=new)


def _seed_survey_visit(admin, village: Village | None) -> None:
    """The survey finds the old earth-timber house of a household not yet registered in 新桥镇's base village
    dangerous (D): the household is registered (建档立卡), with its audit record."""
    if village is None:
        return
    revisit = (
        Revisit.objects.filter(
            campaign__kind=Campaign.Kind.BASE_VILLAGE,
            status=Revisit.Status.PENDING,
            dwelling__household__village=village,
            dwelling__household__status=Household.Status.UNREGISTERED,
            dwelling__structure_type=Dwelling.StructureType.EARTH_TIMBER,
        )
        .select_related("dwelling")
        .first()
    )
    if revisit is not None:
        services.record_revisit(
            actor=admin,
            revisit=revisit,
            visited_on=timezone.localdate() - datetime.timedelta(days=2),
            findings=[],
            outcome=Revisit.Outcome.REAPPRAISAL,
            still_lived_in=True,
            assessed_grade="D",
            notes="土木结构老屋，承重墙开裂（演示）",
        )

"""Demo data for a laptop: clearly marked villages, ~300 households with dwellings, one user per role.

Deterministic (fixed random seed) and idempotent: running it again finds what it made and adds nothing.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from housing_safety.access import Role

from . import services
from .identity import id_check_digit
from .models import Dwelling, Household, HouseholdCategory, Township, Unit, Village

DEMO_PASSWORD = "Zhangping-demo-2026"
VILLAGES_PER_TOWNSHIP = 3
VILLAGE_WORDS = ["东坑", "西山", "南坪", "北洋", "上坂", "下湖", "后林", "前溪", "溪口", "岭头", "竹园", "石门"]
SURNAMES = "陈林黄郑刘张王李吴罗邱赖卢翁苏谢詹蔡"
GIVEN = "永福春生金水秀英建华明清玉兰德荣文忠桂香新发丽珍国平"
CATEGORY_WEIGHTS = {
    "registered_poor": 40, "minimum_living": 25, "extremely_poor": 8, "special_care": 5, "five_olds": 5,
    "disabled": 8, "base_village": 4, "other_poor": 5,
}  # fmt: skip
STRUCTURE_WEIGHTS = {
    "adobe": 10, "earth_timber": 22, "brick_timber": 20, "brick_earth": 6, "timber": 4, "stone_timber": 3,
    "brick_concrete": 25, "frame": 10,
}  # fmt: skip


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    first_name: str
    township_codes: tuple[str, ...] = ()
    unit_name: str | None = None


DEMO_USERS = [
    DemoUser("admin", Role.BUREAU_ADMIN, "住建局管理员"),
    DemoUser("official", Role.BUREAU_OFFICIAL, "局领导"),
    DemoUser("xinqiao", Role.TOWNSHIP_STAFF, "新桥镇工作人员", township_codes=("350881100",)),
    DemoUser("shuangyang", Role.TOWNSHIP_STAFF, "双洋镇工作人员", township_codes=("350881101",)),
    DemoUser("liaison", Role.DEPARTMENT_LIAISON, "扶贫办联络员", unit_name="漳平市扶贫开发办公室"),
    DemoUser("clerk", Role.COMPLAINT_CLERK, "举报投诉受理员"),
    DemoUser("helper", Role.HELPER, "挂钩帮扶责任人"),
]


# Addresses in the style of the county's mail (example.gov.cn: never delivered), so the demo's notices and e-mails
# reach someone: each township government and each demo account has one.
DEMO_MAIL_DOMAIN = "zhangping.example.gov.cn"
TOWNSHIP_MAILBOXES = {
    "350881001": "jingcheng", "350881002": "guilin", "350881100": "xinqiao", "350881101": "shuangyang",
    "350881102": "yongfu", "350881103": "xinan", "350881104": "heping", "350881105": "gongqiao",
    "350881106": "xianghu", "350881107": "chishui", "350881108": "xiyuan", "350881109": "nanyang",
    "350881110": "luzhi", "350881203": "guantian", "350881204": "wuci", "350881205": "lingdi",
}  # fmt: skip


def demo_id_number(rng: random.Random) -> str:
    born = datetime.date(1935, 1, 1) + datetime.timedelta(days=rng.randrange(0, 365 * 55))
    first17 = f"350881{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return first17 + id_check_digit(first17)


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


# Apps built on the registry add their demo records here (in AppConfig.ready): step(admin_user) -> None.
DEMO_STEPS: list = []


@transaction.atomic
def seed_demo(*, households: int = 300) -> list[tuple[str, str]]:
    if getattr(settings, "PRODUCTION", False):
        raise ImproperlyConfigured("seed_demo refuses to run in production mode (DJANGO_ENV=production).")
    _ensure_township_addresses()
    logins = _ensure_users()
    _ensure_problem_owners()
    admin = User.objects.get(username="admin")
    villages = _ensure_villages(admin)
    _ensure_households(admin, villages, households)
    for step in DEMO_STEPS:
        step(admin)
    return logins


def _ensure_township_addresses() -> None:
    """A township government without an address or phone gets its demo ones (what was set by hand is kept)."""
    for unit in Unit.objects.filter(kind=Unit.Kind.TOWNSHIP, email="").select_related("township"):
        mailbox = TOWNSHIP_MAILBOXES.get(unit.township.code, f"zf{unit.township.code}")
        unit.email = f"{mailbox}@{DEMO_MAIL_DOMAIN}"
        unit.save(update_fields=["email"])
    # The phone a posting notice gives for objections (a made-up number in the city's 0597-73 range).
    for unit in Unit.objects.filter(kind=Unit.Kind.TOWNSHIP, phone="").select_related("township"):
        unit.phone = f"0597-73{int(unit.township.code[-3:]):05d}"
        unit.save(update_fields=["phone"])


# The plan's "明确时间表和责任人": 新桥镇 names its staff member, the others their government's contact, and 双洋镇
# neither, so its problems show on its staff's home as lacking a responsible person.
NO_PROBLEM_OWNER = "350881101"


def _ensure_problem_owners() -> None:
    """Each township's person for problems (a setting made by hand is kept)."""
    Township.objects.filter(code="350881100", problem_owner__isnull=True).update(
        problem_owner=User.objects.get(username="xinqiao")
    )
    Unit.objects.filter(kind=Unit.Kind.TOWNSHIP, contact_name="").exclude(township__code=NO_PROBLEM_OWNER).update(
        contact_name="联络员（演示）"
    )


def _ensure_users() -> list[tuple[str, str]]:
    logins = []
    # Hashed once for all (a hash takes half a second by design): the one published password, which each account
    # must replace at its first login anyway.
    hashed = make_password(DEMO_PASSWORD)
    for spec in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=spec.username,
            defaults={"first_name": spec.first_name, "email": f"{spec.username}@{DEMO_MAIL_DOMAIN}"},
        )
        if not user.email:
            user.email = f"{spec.username}@{DEMO_MAIL_DOMAIN}"
            user.save(update_fields=["email"])
        if created:
            user.password = hashed
            user.save(update_fields=["password"])
        services.set_user_role(
            user=user,
            role=spec.role,
            townships=Township.objects.filter(code__in=spec.township_codes),
            unit=Unit.objects.filter(name=spec.unit_name).first() if spec.unit_name else None,
        )
        if created:  # the published demo password must not survive the first login
            services.require_password_change(user=user)
        logins.append((spec.username, str(Role(spec.role).label)))
    return logins


def _ensure_villages(admin) -> list[Village]:
    villages = []
    for index, township in enumerate(Township.objects.all()):
        for offset in range(VILLAGES_PER_TOWNSHIP):
            word = VILLAGE_WORDS[(index + offset * 5) % len(VILLAGE_WORDS)]
            village = Village.objects.filter(township=township, name=f"{word}村（演示）").first()
            if village is None:
                village = services.save_village(
                    actor=admin,
                    village=Village(
                        township=township,
                        name=f"{word}村（演示）",
                        is_demo=True,
                        is_revolutionary_base_village=(offset == 2 and index % 4 == 0),
                    ),
                )
            villages.append(village)
    return villages


def _ensure_households(admin, villages: list[Village], count: int) -> None:
    rng = random.Random(2020)
    categories = {c.code: c for c in HouseholdCategory.objects.all()}
    helper = User.objects.get(username="helper")
    source_units = list(
        Unit.objects.filter(
            kind=Unit.Kind.DEPARTMENT,
            name__in=["漳平市扶贫开发办公室", "漳平市民政局", "漳平市退役军人事务局", "漳平市残疾人联合会"],
        )
    )
    existing = set(Household.objects.filter(village__is_demo=True).values_list("id_number", flat=True))
    today = datetime.date.today()
    new = []  # (household, categories, dwellings), created together by one set-based service
    for number in range(count):
        # Draw every random value before deciding to skip, so a re-run walks the same sequence.
        id_number = demo_id_number(rng)
        # Round-robin over townships first, so even a small demo covers all of them.
        township_count = len(villages) // VILLAGES_PER_TOWNSHIP
        village = villages[
            (number % township_count) * VILLAGES_PER_TOWNSHIP + (number // township_count) % VILLAGES_PER_TOWNSHIP
        ]
        codes = sorted({_weighted(rng, CATEGORY_WEIGHTS) for _ in range(rng.choice([1, 1, 2]))})
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice([1, 2])))
        phone = f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"
        members, source, age = rng.randint(1, 6), rng.choice(source_units), rng.randrange(0, 900)
        poverty_status = rng.choice(list(Household.PovertyStatus.values))
        exit_year, poor_days = rng.randint(2016, 2020), rng.randrange(30, 400)
        houses = [
            dict(
                structure_type=_weighted(rng, STRUCTURE_WEIGHTS),
                address=f"{village.name.removesuffix('（演示）')}{rng.randint(1, 9)}组{rng.randint(1, 80)}号",
                storeys=rng.choice([1, 1, 2]),
                bays=rng.randint(2, 6),
                floor_area=rng.randint(40, 160),
                year_built=rng.randint(1950, 2018),
            )
            for _ in range(rng.choice([1, 1, 1, 2]))
        ]
        if id_number in existing:
            continue
        household = Household(
            head_name=name,
            id_number=id_number,
            phone=phone,
            village=village,
            members_count=members,
            source=source,
            registered_on=today - datetime.timedelta(days=age),
            helper_name=f"帮扶干部{number % 40 + 1:02d}（演示）",
            helper_user=helper if number % 30 == 0 else None,
        )
        if "registered_poor" in codes:
            household.poverty_status = poverty_status
            household.poverty_exit_year = exit_year if poverty_status == "exited" else None
            household.newly_poor_on = (
                today - datetime.timedelta(days=poor_days) if poverty_status == "newly_poor" else None
            )
        # With two houses, the family lives in the first (often the old one: the plan's problem case).
        dwellings = [Dwelling(is_occupied=position == 0, **house) for position, house in enumerate(houses)]
        new.append((household, [categories[c] for c in codes], dwellings))
    services.create_households(actor=admin, households=new)

"""Synthetic households for benchmarks, added N at a time: villages in every township, households with categories,
dwellings of every structure type, appraisals with grade history, renovation cases at every step, one revisit
campaign per run, problems and complaints.

Clearly synthetic: villages named 合成N村 (flagged demo), heads named 合成户<serial>, ID numbers born from 1900 (with a
correct check digit), case numbers HC…, tickets HT…. Additive: serials continue after the highest synthetic ID
number already stored. Reproducible: the same seed on the same data (and the same day) makes the same rows.

Loaded with COPY on PostgreSQL (the next batch is generated while a second connection writes the last one) and
batched bulk_create elsewhere, 10,000 households per transaction. The stored summaries (dwellings' current grade
and leak finding, households' home state and flags) are computed here with the rule of
`households.services.refresh_home_state` and written with the rows; the tests check them against a refresh.
Synthetic complaints answer the public progress lookup with the query code 000000.
"""

from __future__ import annotations

import datetime
import random
import time
from bisect import bisect_right
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from itertools import accumulate, pairwise

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections, transaction
from django.db.models import Max
from django.utils import timezone

from households.identity import id_check_digit
from households.models import Dwelling, Household, HouseholdCategory, HousingStatus, Township, Unit, Village
from housing_safety.workdays import add_working_days
from inspections.models import Appraisal, Campaign, Revisit
from rectification.models import (
    CASE_STEPS,
    CaseStatus,
    CaseTransition,
    Complaint,
    ComplaintDeadline,
    ComplaintTransition,
    Problem,
    ProblemTransition,
    RenovationCase,
    RenovationType,
    SubsidyPayment,
    SubsidyStandard,
)
from rectification.services.complaints import hash_query_code

from ._bulk_load import Loader

BATCH = 10_000  # households per transaction
VILLAGES_PER_TOWNSHIP = 12
BASE_VILLAGE_NUMBERS = (3, 9)  # 合成3村 and 合成9村 of each township are revolutionary base villages
BIRTH_ORIGIN = datetime.date(1900, 1, 1)  # synthetic people are born from here on: before any real or demo birth
QUERY_CODE = "000000"
S = CaseStatus
CD = ("C", "D")
GRADE_ORDER = "ABCD"

# Shares (per household or per dwelling as named).
SECOND_DWELLING = 0.20  # households with a second dwelling
SECOND_OCCUPIED = 0.40  # of second dwellings, lived in too
APPRAISED = 0.95  # dwellings with at least one appraisal
HISTORY = 0.40  # appraised dwellings with older appraisals
CASE = 0.10  # dangerous occupied dwellings of covered households with a renovation case
REVISIT = 0.30  # dwellings in the run's revisit campaign
PROBLEM = 0.03  # households with problems
COMPLAINT = 0.01  # households with a complaint
REMOVED = 0.01  # households taken off the list


def table(weights: dict) -> tuple[list, list[float]]:
    total = sum(weights.values())
    cumulative = [value / total for value in accumulate(weights.values())]
    cumulative[-1] = 1.0
    return list(weights), cumulative


def pick(rng: random.Random, choices: tuple[list, list[float]]):
    values, cumulative = choices
    return values[bisect_right(cumulative, rng.random())]


T = Dwelling.StructureType
STRUCTURES = table({
    T.ADOBE: 7, T.EARTH_TIMBER: 14, T.BRICK_TIMBER: 20, T.BRICK_EARTH: 8, T.TIMBER: 5, T.STONE_TIMBER: 4,
    T.BRICK_CONCRETE: 32, T.FRAME: 8, T.OTHER: 2,
})  # fmt: skip
FRAGILE, TRADITIONAL, SOLID = "fragile", "traditional", "solid"
GROUP = {
    T.ADOBE: FRAGILE, T.EARTH_TIMBER: FRAGILE, T.BRICK_EARTH: FRAGILE, T.BRICK_TIMBER: TRADITIONAL,
    T.TIMBER: TRADITIONAL, T.STONE_TIMBER: TRADITIONAL, T.OTHER: TRADITIONAL, T.BRICK_CONCRETE: SOLID, T.FRAME: SOLID,
}  # fmt: skip
GRADES = {
    FRAGILE: table({"A": 10, "B": 44, "C": 32, "D": 14}),
    TRADITIONAL: table({"A": 25, "B": 52, "C": 17, "D": 6}),
    SOLID: table({"A": 60, "B": 36, "C": 3, "D": 1}),
}
BUILT = {FRAGILE: (1950, 1995), TRADITIONAL: (1960, 2008), SOLID: (1985, 2022)}
STOREYS = {FRAGILE: table({1: 70, 2: 30}), TRADITIONAL: table({1: 50, 2: 45, 3: 5}),
           SOLID: table({1: 15, 2: 45, 3: 35, 4: 5})}  # fmt: skip
# Which of the six graded components (foundation, load-bearing walls, timber frame, roof truss, concrete frame,
# floor and roof slab) a structure has; the others are "n" (not present).
LAYOUT = {
    T.FRAME: (True, False, False, False, True, True),
    T.BRICK_CONCRETE: (True, True, False, False, False, True),
    T.TIMBER: (True, False, True, True, False, False),
}
TRADITIONAL_LAYOUT = (True, True, True, True, False, False)
COMPONENT_GRADES = {"A": table({"a": 1}), "B": table({"a": 40, "b": 60}), "C": table({"a": 15, "b": 45, "c": 40}),
                    "D": table({"b": 10, "c": 50, "d": 40})}  # fmt: skip
WORST_COMPONENT = {"A": "a", "B": "b", "C": "c", "D": "d"}
LEAKING = {"A": 0.01, "B": 0.05, "C": 0.30, "D": 0.35}
R = Appraisal.Recommendation
RECOMMENDATION = {
    "A": table({R.NONE: 1}),
    "B": table({R.NONE: 90, R.REPAIR: 10}),
    "C": table({R.REPAIR: 70, R.REBUILD: 25, R.RELOCATE: 5}),
    "D": table({R.REBUILD: 60, R.RELOCATE: 25, R.REPAIR: 15}),
}
ORGANISATIONS = ("合成鉴定组", "合成房屋安全检测公司", "乡镇评定组（合成）")
OLDER_COUNT = table({1: 50, 2: 30, 3: 20})

CATEGORIES = table({
    "minimum_living": 30, "registered_poor": 25, "other_poor": 12, "extremely_poor": 10, "disabled": 10,
    "special_care": 5, "five_olds": 3,
})  # fmt: skip
MEMBERS = table({1: 15, 2: 25, 3: 20, 4: 20, 5: 12, 6: 8})
POVERTY = table({"exited": 45, "not_exited": 5, "newly_poor": 5, "": 45})

# Renovation cases: where each one stands (every step, plus ended ones), and days between steps.
CASE_OUTCOMES = table({**{step: 10 for step in CASE_STEPS}, S.REJECTED: 5, S.WITHDRAWN: 5})
ENDED_AT = CASE_STEPS[: CASE_STEPS.index(S.CONSTRUCTION_STARTED) + 1]
STEP_GAP = {
    S.VILLAGE_ASSESSED: (3, 20), S.TOWNSHIP_REVIEWED: (8, 20), S.APPROVED: (8, 30), S.AGREEMENT_SIGNED: (5, 30),
    S.CONSTRUCTION_STARTED: (5, 45), S.ACCEPTED: (60, 200), S.PAID: (5, 40), S.ARCHIVED: (5, 60),
}  # fmt: skip
POSTING_DAYS = 7
COMPLETED = (S.ACCEPTED, S.PAID, S.ARCHIVED)
RT = RenovationType
CASE_TYPES = {  # (current grade, completed?) -> types; moving types only before acceptance (no new dwelling)
    ("C", True): table({RT.REPAIR: 70, RT.REBUILD: 30}),
    ("D", True): table({RT.REBUILD: 80, RT.POST_DISASTER: 20}),
    ("C", False): table({RT.REPAIR: 60, RT.REBUILD: 25, RT.SWAP_OR_LEASE: 5, RT.NEW_SITE: 5, RT.RELOCATION: 5}),
    ("D", False): table({RT.REBUILD: 60, RT.NEW_SITE: 15, RT.RELOCATION: 15, RT.POST_DISASTER: 10}),
}
STANDARDS = {RT.REPAIR: 8000, RT.REBUILD: 20000, RT.NEW_SITE: 20000, RT.POST_DISASTER: 20000,
             RT.SWAP_OR_LEASE: 10000, RT.RELOCATION: 20000}  # fmt: skip
BUILD_MODES = table({RenovationCase.BuildMode.SELF: 70, RenovationCase.BuildMode.UNIFIED: 30})
FUNDING = table({"central": 40, "provincial": 20, "combined": 30, "local": 10})

PK = Problem.Kind
PROBLEM_KINDS = {
    PK.NEW_DAMAGE: (20, "墙体新增裂缝（合成）"), PK.LIVES_IN_OLD_DANGEROUS: (10, "仍居住在原危房（合成）"),
    PK.CONNECTED_HAZARD: (5, "联体房邻户不配合加固（合成）"), PK.LEAKING: (25, "屋面漏雨透风（合成）"),
    PK.PLACARD_MISSING: (15, "安全标识牌缺失（合成）"), PK.MISSING_DOCUMENTS: (10, "一户一档资料缺失（合成）"),
    PK.DATA_MISMATCH: (10, "台账信息与部门名单不一致（合成）"), PK.OTHER: (5, "其他问题（合成）"),
}  # fmt: skip
HOUSEHOLD_LEVEL_KINDS = (PK.MISSING_DOCUMENTS, PK.DATA_MISMATCH, PK.OTHER)
PROBLEM_STATUSES = table({"open": 40, "in_progress": 25, "resolved": 20, "verified": 15})
PROBLEM_SOURCES = table({"revisit": 35, "self_inspection": 30, "helper_report": 15, "complaint": 10,
                         "spot_check": 5, "other": 5})  # fmt: skip
PROBLEM_PATH = ("open", "in_progress", "resolved", "verified")

C = Complaint.Status
COMPLAINT_STATUSES = {  # by the complaint's age: newer ones are earlier in the procedure
    "new": table({C.RECEIVED: 70, C.ACCEPTED: 30}),
    "recent": table({C.RECEIVED: 10, C.ACCEPTED: 20, C.NOT_ACCEPTED: 5, C.ASSIGNED: 25, C.HANDLING: 30,
                     C.REPLIED: 10}),
    "old": table({C.RECEIVED: 3, C.ACCEPTED: 3, C.NOT_ACCEPTED: 8, C.ASSIGNED: 6, C.HANDLING: 10, C.REPLIED: 15,
                  C.CLOSED: 50, C.TRANSFERRED: 3, C.ESCALATED: 2}),
}  # fmt: skip
COMPLAINT_PATH = {
    C.RECEIVED: (C.RECEIVED,), C.ACCEPTED: (C.RECEIVED, C.ACCEPTED), C.NOT_ACCEPTED: (C.RECEIVED, C.NOT_ACCEPTED),
    C.ASSIGNED: (C.RECEIVED, C.ACCEPTED, C.ASSIGNED),
    C.HANDLING: (C.RECEIVED, C.ACCEPTED, C.ASSIGNED, C.HANDLING),
    C.REPLIED: (C.RECEIVED, C.ACCEPTED, C.ASSIGNED, C.HANDLING, C.REPLIED),
    C.CLOSED: (C.RECEIVED, C.ACCEPTED, C.ASSIGNED, C.HANDLING, C.REPLIED, C.CLOSED),
    C.TRANSFERRED: (C.RECEIVED, C.ACCEPTED, C.TRANSFERRED), C.ESCALATED: (C.RECEIVED, C.ACCEPTED, C.ESCALATED),
}  # fmt: skip
COMPLAINT_CHANNELS = table({"hotline": 40, "12345": 30, "letter": 10, "email": 5, "visit": 10, "other": 5})
COMPLAINT_CATEGORIES = {
    "dangerous_not_renovated": (35, "反映该户仍住在危房中，未纳入改造（合成）"),
    "appraisal_disputed": (20, "对房屋安全鉴定等级有异议（合成）"), "subsidy": (15, "改造补助未按时到账（合成）"),
    "construction_quality": (15, "改造房屋施工质量差（合成）"), "staff_conduct": (5, "评议过程不公开（合成）"),
    "other": (10, "其他问题（合成）"),
}  # fmt: skip

# Columns written per table, in the order of the generated tuples; other columns get their defaults.
HOUSEHOLD_COLUMNS = [
    "id", "head_name", "id_number", "phone", "village_id", "members_count", "poverty_status", "poverty_exit_year",
    "newly_poor_on", "helper_name", "source_id", "registered_on", "status", "removed_on", "removal_reason",
    "home_status", "flag_owns_safe_but_lives_in_danger", "flag_connected_uncooperative", "flag_leaking",
]  # fmt: skip
CATEGORY_COLUMNS = ["household_id", "householdcategory_id"]
DWELLING_COLUMNS = [
    "id", "household_id", "address", "structure_type", "storeys", "bays", "floor_area", "year_built", "is_occupied",
    "renovated_on", "is_connected", "neighbour_cooperates", "latitude", "longitude", "current_grade",
    "current_leaking", "current_graded_on",
]  # fmt: skip
APPRAISAL_COLUMNS = [
    "id", "dwelling_id", "kind", "appraised_on", "organisation", "appraisers", "foundation", "load_bearing_walls",
    "timber_frame", "roof_truss", "concrete_frame", "floor_roof_slab", "site_hazard", "is_leaking", "grade",
    "recommendation", "recorded_by_id",
]  # fmt: skip
CASE_COLUMNS = [
    "id", "number", "township_id", "household_id", "dwelling_id", "trigger_appraisal_id", "programme_year",
    "renovation_type", "build_mode", "funding_source", "planned_subsidy", "builder", "status", "status_on",
    "last_activity_on", "closed_from", "village_posting_start", "village_posting_end", "township_posting_start",
    "township_posting_end", "accepted_on", "acceptors", "acceptance_appraisal_id", "resettlement_site",
    "created_by_id",
]  # fmt: skip
CASE_TRANSITION_COLUMNS = ["case_id", "from_status", "to_status", "on", "actor_id", "note"]
PAYMENT_COLUMNS = ["case_id", "paid_on", "amount", "voucher_number", "recorded_by_id"]
REVISIT_COLUMNS = [
    "id", "campaign_id", "dwelling_id", "township_id", "due_on", "status", "visited_on", "visited_by_id", "outcome",
    "notes", "finding_new_damage", "finding_lives_in_old_dangerous", "finding_connected_hazard", "finding_leaking",
    "finding_placard_missing",
]  # fmt: skip
PROBLEM_COLUMNS = [
    "id", "township_id", "household_id", "dwelling_id", "source", "kind", "revisit_id", "complaint_id", "description",
    "measure", "responsible_person", "deadline", "phase", "status", "resolution", "resolved_at", "resolved_by_id",
    "verified_at", "verified_by_id", "created_by_id",
]  # fmt: skip
PROBLEM_TRANSITION_COLUMNS = ["problem_id", "from_status", "to_status", "actor_id", "note"]
COMPLAINT_COLUMNS = [
    "id", "ticket", "query_code_hash", "received_at", "channel", "is_anonymous", "reporter_name", "reporter_phone",
    "township_id", "village_id", "household_id", "dwelling_id", "category", "content", "status", "acceptance_due",
    "handling_due", "deadline_estimated", "decision_note", "handler_id", "replied_on", "reply_method", "reply",
    "satisfaction", "closed_at", "created_by_id",
]  # fmt: skip
COMPLAINT_TRANSITION_COLUMNS = ["complaint_id", "from_status", "to_status", "actor_id", "note"]

# In the order they are written (parents first).
COLUMNS = {
    Household: HOUSEHOLD_COLUMNS, Household.categories.through: CATEGORY_COLUMNS, Dwelling: DWELLING_COLUMNS,
    Appraisal: APPRAISAL_COLUMNS, RenovationCase: CASE_COLUMNS, CaseTransition: CASE_TRANSITION_COLUMNS,
    SubsidyPayment: PAYMENT_COLUMNS, Revisit: REVISIT_COLUMNS, Complaint: COMPLAINT_COLUMNS,
    ComplaintTransition: COMPLAINT_TRANSITION_COLUMNS, Problem: PROBLEM_COLUMNS,
    ProblemTransition: PROBLEM_TRANSITION_COLUMNS,
}  # fmt: skip


def synthetic_id_number(serial: int) -> str:
    born = BIRTH_ORIGIN + datetime.timedelta(days=serial // 900)
    first17 = f"350881{born:%Y%m%d}{serial % 900 + 100:03d}"
    return first17 + id_check_digit(first17)


def next_serial() -> int:
    """One past the highest synthetic serial stored (ID numbers 350881 born 1900-1934 are synthetic)."""
    highest = Household.objects.filter(id_number__gte="35088119000101", id_number__lt="35088119350101").aggregate(
        highest=Max("id_number")
    )["highest"]
    if highest is None:
        return 0
    born = datetime.date(int(highest[6:10]), int(highest[10:12]), int(highest[12:14]))
    return (born - BIRTH_ORIGIN).days * 900 + int(highest[14:17]) - 100 + 1


def home_state(dwellings: list[list]) -> tuple[str, bool, bool, bool]:
    """households.services.refresh_home_state for one household, from its dwellings
    [occupied, grade, leaking, renovated_on, connected, neighbour_cooperates]."""
    homes = [d for d in dwellings if d[0]]
    dangerous = any(d[1] in CD for d in homes)
    if dangerous:
        status = HousingStatus.DANGEROUS
    elif not homes or any(d[1] is None for d in homes):
        status = HousingStatus.UNAPPRAISED
    elif any(d[3] is not None for d in homes):
        status = HousingStatus.RENOVATED_SAFE
    else:
        status = HousingStatus.APPRAISED_SAFE
    owns_safe = dangerous and any(d[1] in ("A", "B") for d in dwellings)
    uncooperative = any(d[4] and d[5] is False for d in homes)
    leaking = any(d[2] is True for d in homes)
    return status.value, owns_safe, uncooperative, leaking


class Generator:
    """Makes the rows of one batch of households; ids come from the loader, randomness from one seeded stream."""

    def __init__(
        self,
        rng: random.Random,
        loader: Loader,
        today: datetime.date,
        *,
        actor_id: int,
        campaign,
        villages: list[tuple[int, int, bool]],
        categories: dict[str, int],
        sources: list[int],
        deadlines: dict[str, tuple[int, int]],
    ):
        self.rng, self.loader, self.today = rng, loader, today
        self.actor_id, self.campaign, self.villages = actor_id, campaign, villages
        self.categories, self.sources, self.deadlines = categories, sources, deadlines
        self.query_code_hash = hash_query_code(QUERY_CODE)
        # Times are counted back from the start of today, not from now: a rerun the same day makes the same rows.
        self.midnight = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
        self.components = {
            (layout, grade): [self._components(layout, grade) for _variant in range(24)]
            for layout in {*LAYOUT.values(), TRADITIONAL_LAYOUT}
            for grade in GRADE_ORDER
        }
        self._due: dict[tuple[datetime.date, str], tuple] = {}

    def _components(self, layout: tuple[bool, ...], grade: str) -> tuple[str, ...]:
        grades = [pick(self.rng, COMPONENT_GRADES[grade]) if present else "n" for present in layout]
        worst = WORST_COMPONENT[grade]
        if grade in CD and worst not in grades:  # a C house has a c component, a D house a d one
            grades[layout.index(True)] = worst
        return tuple(grades)

    # One batch ----------------------------------------------------------------------------------------------

    def batch(self, first: int, count: int) -> dict[type, list]:
        """The rows of households first..first+count-1 and everything belonging to them, per model."""
        self.rows: dict[type, list] = {model: [] for model in COLUMNS}
        for serial in range(first, first + count):
            self._household(serial)
        return self.rows

    def _days_ago(self, low: int, high: int) -> datetime.date:
        return self.today - datetime.timedelta(days=self.rng.randint(low, high))

    def _household(self, serial: int) -> None:
        rng = self.rng
        household_id = self.loader.next_id(Household)
        village_id, township_id, base_village = rng.choice(self.villages)
        active = rng.random() >= REMOVED
        poverty = pick(rng, POVERTY)
        codes = [pick(rng, CATEGORIES)]
        if base_village and rng.random() < 0.6:
            codes.insert(0, "base_village")
        elif rng.random() < 0.15:
            codes.append(pick(rng, CATEGORIES))
        links = self.rows[Household.categories.through]
        for code in dict.fromkeys(codes):
            links.append((household_id, self.categories[code]))

        dwellings = []  # [occupied, grade, leaking, renovated_on, connected, cooperates, id, visited revisit id]
        for index in range(2 if rng.random() < SECOND_DWELLING else 1):
            dwellings.append(self._dwelling(serial, index, household_id, township_id, active))
        status, owns_safe, uncooperative, leaking = home_state(dwellings)
        # Most households not yet appraised were registered recently, within or just past the one-month clock.
        recent = status == HousingStatus.UNAPPRAISED and rng.random() < 0.7
        registered_on = self._days_ago(0, 60) if recent else self._days_ago(0, 1500)
        self.rows[Household].append((
            household_id, f"合成户{serial}", synthetic_id_number(serial),
            f"199{serial % 10**8:08d}" if rng.random() < 0.7 else "", village_id, pick(rng, MEMBERS), poverty,
            rng.randint(2016, 2020) if poverty == "exited" else None,
            self._days_ago(30, 900) if poverty == "newly_poor" else None,
            f"合成帮扶人{serial % 997}" if rng.random() < 0.8 else "",
            rng.choice(self.sources) if rng.random() < 0.6 else None, registered_on,
            Household.Status.ACTIVE if active else Household.Status.REMOVED,
            None if active else self._days_ago(1, 300), "" if active else "户籍迁出（合成）",
            status, owns_safe, uncooperative, leaking,
        ))  # fmt: skip

        complaint_id = None
        if rng.random() < COMPLAINT:
            complaint_id = self._complaint(serial, household_id, village_id, township_id, dwellings[0][6])
        if active and rng.random() < PROBLEM:
            self._problems(household_id, township_id, dwellings, complaint_id)

    def _dwelling(self, serial, index, household_id, township_id, active) -> list:
        rng = self.rng
        dwelling_id = self.loader.next_id(Dwelling)
        occupied = index == 0 or rng.random() < SECOND_OCCUPIED
        structure = pick(rng, STRUCTURES)
        group = GROUP[structure]
        layout = LAYOUT.get(structure, TRADITIONAL_LAYOUT)
        appraisals = []  # (grade, date, kind, leaking) oldest first
        case = None
        grade = None
        if rng.random() < APPRAISED:
            grade = pick(rng, GRADES[group])
            outcome = None
            if grade in CD and occupied and active and rng.random() < CASE:
                outcome = pick(rng, CASE_OUTCOMES)
                case = self._case_dates(outcome)
                newest = case["dates"][S.APPLIED] - datetime.timedelta(days=rng.randint(3, 90))
            else:
                newest = self._days_ago(0, 720)
            history = [(grade, newest)]
            if rng.random() < HISTORY:
                for _older in range(pick(rng, OLDER_COUNT)):
                    newer_grade, newer_date = history[0]
                    history.insert(
                        0, (self._older_grade(newer_grade), newer_date - datetime.timedelta(days=rng.randint(180, 900)))
                    )
            for old_grade, on in history:
                kind = Appraisal.Kind.FORMAL if rng.random() < 0.2 else Appraisal.Kind.ASSESSMENT
                appraisals.append((old_grade, on, kind, rng.random() < LEAKING[old_grade]))
            if outcome in COMPLETED:  # the appraisal after the works, which completion acceptance requires
                accepted_on = case["dates"][S.ACCEPTED]
                on = accepted_on - datetime.timedelta(days=rng.randint(0, 10))
                appraisals.append(("A" if rng.random() < 0.6 else "B", on, Appraisal.Kind.FORMAL, False))
        low, high = BUILT[group]
        year_built = rng.randint(low, high)
        if appraisals:
            year_built = min(year_built, appraisals[0][1].year)
        connected = rng.random() < 0.05
        cooperates = (True if rng.random() < 0.6 else False if rng.random() < 0.7 else None) if connected else None
        appraisal_ids = []
        rows = self.rows[Appraisal]
        for old_grade, on, kind, leaking in appraisals:
            appraisal_id = self.loader.next_id(Appraisal)
            appraisal_ids.append(appraisal_id)
            parts = rng.choice(self.components[(layout, old_grade)])
            rows.append((
                appraisal_id, dwelling_id, kind, on, rng.choice(ORGANISATIONS), "合成甲、合成乙", *parts,
                rng.random() < 0.02, leaking, old_grade, pick(rng, RECOMMENDATION[old_grade]), self.actor_id,
            ))  # fmt: skip
        current_grade = appraisals[-1][0] if appraisals else None
        current_leaking = appraisals[-1][3] if appraisals else None
        current_graded_on = appraisals[-1][1] if appraisals else None
        renovated_on = None
        if case is not None:
            trigger = appraisal_ids[-2] if case["outcome"] in COMPLETED else appraisal_ids[-1]
            acceptance = appraisal_ids[-1] if case["outcome"] in COMPLETED else None
            renovated_on = self._case(
                serial, index, household_id, dwelling_id, township_id, grade, case, trigger, acceptance
            )
        has_position = rng.random() < 0.6
        self.rows[Dwelling].append((
            dwelling_id, household_id, f"{rng.randint(1, 12)}组{rng.randint(1, 120)}号", structure,
            pick(rng, STOREYS[group]), rng.randint(2, 6), f"{rng.uniform(40, 220):.2f}", year_built, occupied,
            renovated_on, connected, cooperates,
            f"{rng.uniform(25.0, 25.6):.6f}" if has_position else None,
            f"{rng.uniform(117.1, 117.7):.6f}" if has_position else None,
            current_grade, current_leaking, current_graded_on,
        ))  # fmt: skip
        visited = None
        if rng.random() < REVISIT:
            visited = self._revisit(
                dwelling_id, township_id, current_grade, current_leaking, occupied, connected, cooperates
            )
        return [occupied, current_grade, current_leaking, renovated_on, connected, cooperates, dwelling_id, visited]

    def _older_grade(self, newer: str) -> str:
        """A different grade for an earlier appraisal: usually worse (the house was repaired since)."""
        position = GRADE_ORDER.index(newer)
        worse, better = GRADE_ORDER[position + 1 :], GRADE_ORDER[:position]
        if worse and (not better or self.rng.random() < 0.7):
            return self.rng.choice(worse)
        return self.rng.choice(better)

    # Renovation cases ---------------------------------------------------------------------------------------

    def _case_dates(self, outcome: str) -> dict:
        """The dates of the steps a case reached, counted back from its latest step."""
        rng = self.rng
        ended = outcome in (S.REJECTED, S.WITHDRAWN)
        last = rng.choice(ENDED_AT) if ended else outcome
        latest = self._days_ago(0, 28) if rng.random() < 0.75 else self._days_ago(29, 240)  # a quarter stalled
        steps = CASE_STEPS[: CASE_STEPS.index(last) + 1]
        end_on = None
        if ended:
            end_on = latest
            latest = end_on - datetime.timedelta(days=rng.randint(1, 30))
        dates = {last: latest}
        for previous, step in zip(reversed(steps[:-1]), reversed(steps[1:]), strict=True):
            dates[previous] = dates[step] - datetime.timedelta(days=rng.randint(*STEP_GAP[step]))
        return {"outcome": outcome, "last": last, "dates": dates, "end_on": end_on}

    def _case(self, serial, index, household_id, dwelling_id, township_id, grade, case, trigger_id, acceptance_id):
        """Write a case with its steps (and payment); return the dwelling's renovation date, if accepted."""
        rng, dates, outcome = self.rng, case["dates"], case["outcome"]
        case_id = self.loader.next_id(RenovationCase)
        completed = outcome in COMPLETED
        renovation_type = pick(rng, CASE_TYPES[(grade, completed)])
        subsidy = Decimal(STANDARDS[renovation_type] - 500 * rng.randint(0, 6))
        status_on = case["end_on"] or dates[case["last"]]
        village = dates.get(S.VILLAGE_ASSESSED)
        township = dates.get(S.TOWNSHIP_REVIEWED)
        accepted_on = dates.get(S.ACCEPTED)
        self.rows[RenovationCase].append((
            case_id, f"HC{serial:09d}{index}", township_id, household_id, dwelling_id, trigger_id,
            dates[S.APPLIED].year, renovation_type, pick(rng, BUILD_MODES), pick(rng, FUNDING), subsidy,
            f"合成建筑队{serial % 37}", outcome, status_on, min(self.today, status_on + datetime.timedelta(
                days=rng.randint(0, 2))),
            case["last"] if case["end_on"] else "", village,
            village + datetime.timedelta(days=POSTING_DAYS - 1) if village else None, township,
            township + datetime.timedelta(days=POSTING_DAYS - 1) if township else None, accepted_on,
            "合成验收组：技术员甲、乡镇干部乙" if completed else "", acceptance_id,
            "合成安置点" if renovation_type == RT.RELOCATION else "", self.actor_id,
        ))  # fmt: skip
        transitions = self.rows[CaseTransition]
        previous = ""
        for step, on in sorted(dates.items(), key=lambda item: CASE_STEPS.index(item[0])):
            transitions.append((case_id, previous, step, on, self.actor_id, ""))
            previous = step
        if case["end_on"]:
            note = "经评议不符合条件（合成）" if outcome == S.REJECTED else "农户申请撤回（合成）"
            transitions.append((case_id, previous, outcome, case["end_on"], self.actor_id, note))
        if outcome in (S.PAID, S.ARCHIVED):
            self.rows[SubsidyPayment].append((case_id, dates[S.PAID], subsidy, f"HV{serial:09d}{index}", self.actor_id))
        return accepted_on if completed else None

    # Revisits, problems, complaints -------------------------------------------------------------------------

    def _revisit(self, dwelling_id, township_id, grade, leaking, occupied, connected, cooperates) -> int | None:
        """A revisit of the run's campaign; returns its id once visited (a problem can come from it)."""
        rng, today, campaign = self.rng, self.today, self.campaign
        revisit_id = self.loader.next_id(Revisit)
        due_on = campaign.starts_on + datetime.timedelta(
            days=rng.randint(20, (campaign.due_on - campaign.starts_on).days)
        )
        done = rng.random() < (0.6 if due_on < today else 0.2)
        if not done:
            self.rows[Revisit].append((revisit_id, campaign.pk, dwelling_id, township_id, due_on,
                                       Revisit.Status.PENDING, None, None, "", "", False, False, False, False,
                                       False))  # fmt: skip
            return None
        visited_on = min(today, due_on - datetime.timedelta(days=rng.randint(0, 30)))
        visited_on = max(visited_on, campaign.starts_on)
        findings = (
            rng.random() < 0.05,
            not occupied and grade in CD and rng.random() < 0.3,
            bool(connected and cooperates is False),
            bool(leaking) and rng.random() < 0.8,
            rng.random() < 0.03,
        )
        outcome = (
            Revisit.Outcome.REPAIR
            if grade in CD and rng.random() < 0.5
            else Revisit.Outcome.REAPPRAISAL
            if any(findings) or rng.random() < 0.05
            else Revisit.Outcome.NONE
        )
        self.rows[Revisit].append((revisit_id, campaign.pk, dwelling_id, township_id, due_on, Revisit.Status.DONE,
                                   visited_on, self.actor_id, outcome, "", *findings))  # fmt: skip
        return revisit_id

    def _problems(self, household_id, township_id, dwellings, complaint_id) -> None:
        rng, today, actor = self.rng, self.today, self.actor_id
        kinds = list(PROBLEM_KINDS)
        count = 2 if rng.random() < 0.15 else 1
        chosen = rng.sample(kinds, k=count, counts=[weight for weight, _text in PROBLEM_KINDS.values()])
        if count == 2 and chosen[0] == chosen[1]:
            chosen = chosen[:1]
        for kind in chosen:  # distinct kinds: at most one open problem per dwelling and kind
            dwelling = rng.choice(dwellings)
            dwelling_id = None if kind in HOUSEHOLD_LEVEL_KINDS and rng.random() < 0.5 else dwelling[6]
            source = pick(rng, PROBLEM_SOURCES)
            revisit_id = dwelling[7] if source == "revisit" and dwelling_id else None
            linked_complaint = complaint_id if source == "complaint" else None
            if (source == "revisit" and revisit_id is None) or (source == "complaint" and complaint_id is None):
                source = "self_inspection"
            status = pick(rng, PROBLEM_STATUSES)
            reached = PROBLEM_PATH[: PROBLEM_PATH.index(status) + 1]
            resolved_at = (
                self.midnight - datetime.timedelta(days=rng.randint(5, 120), seconds=rng.randint(0, 86399))
                if "resolved" in reached
                else None
            )
            verified_at = resolved_at + datetime.timedelta(days=rng.randint(1, 4)) if status == "verified" else None
            problem_id = self.loader.next_id(Problem)
            self.rows[Problem].append((
                problem_id, township_id, household_id, dwelling_id, source, kind, revisit_id, linked_complaint,
                PROBLEM_KINDS[kind][1], "限期整改（合成）", "合成责任人",
                today + datetime.timedelta(days=rng.randint(-90, 120)), 2 if rng.random() < 0.4 else 3, status,
                "已整改到位（合成）" if resolved_at else "", resolved_at, actor if resolved_at else None, verified_at,
                actor if verified_at else None, actor,
            ))  # fmt: skip
            transitions = self.rows[ProblemTransition]
            for before, after in pairwise(reached):
                transitions.append((problem_id, before, after, actor, ""))

    def _deadlines(self, received_on: datetime.date, category: str) -> tuple:
        key = (received_on, category)
        if key not in self._due:
            acceptance_days, handling_days = self.deadlines.get(category, (3, 15))
            acceptance = add_working_days(received_on, acceptance_days)
            handling = add_working_days(received_on, handling_days)
            self._due[key] = (acceptance.day, handling.day, acceptance.estimated or handling.estimated)
        return self._due[key]

    def _complaint(self, serial, household_id, village_id, township_id, dwelling_id) -> int:
        rng, actor = self.rng, self.actor_id
        complaint_id = self.loader.next_id(Complaint)
        received_at = self.midnight - datetime.timedelta(seconds=rng.randint(600, 365 * 86400))
        received_on = timezone.localdate(received_at)
        age = (self.today - received_on).days
        status = pick(rng, COMPLAINT_STATUSES["new" if age < 2 else "recent" if age < 15 else "old"])
        category = pick(rng, table({key: weight for key, (weight, _text) in COMPLAINT_CATEGORIES.items()}))
        acceptance_due, handling_due, estimated = self._deadlines(received_on, category)
        anonymous = rng.random() < 0.3
        about_household = rng.random() < 0.8
        path = COMPLAINT_PATH[status]
        replied = C.REPLIED in path
        replied_on = min(self.today, received_on + datetime.timedelta(days=rng.randint(3, 20))) if replied else None
        closed_at = None
        if status == C.CLOSED:
            closed_at = min(
                self.midnight,
                received_at + datetime.timedelta(days=(replied_on - received_on).days + 1, hours=rng.randint(0, 72)),
            )
        self.rows[Complaint].append((
            complaint_id, f"HT{serial:09d}", self.query_code_hash, received_at, pick(rng, COMPLAINT_CHANNELS),
            anonymous, "" if anonymous else "合成举报人", "" if anonymous else f"198{serial % 10**8:08d}",
            township_id, village_id, household_id if about_household else None,
            dwelling_id if about_household and rng.random() < 0.5 else None, category,
            COMPLAINT_CATEGORIES[category][1], status, acceptance_due, handling_due, estimated,
            "不属于受理范围（合成）" if status == C.NOT_ACCEPTED else "", actor if C.ASSIGNED in path else None,
            replied_on, Complaint.ReplyMethod.PHONE if replied else "", "已核实并答复（合成）" if replied else "",
            rng.choice(["satisfied", "basically", "unsatisfied", "not_given"]) if status == C.CLOSED else "",
            closed_at, actor,
        ))  # fmt: skip
        transitions = self.rows[ComplaintTransition]
        previous = ""
        for step in path:
            note = "移送相关部门（合成）" if step in (C.TRANSFERRED, C.ESCALATED) else ""
            transitions.append((complaint_id, previous, step, actor, note))
            previous = step
        return complaint_id if about_household else None


class Command(BaseCommand):
    help = (
        "Add N synthetic households (dwellings, appraisals with history, renovation cases, a revisit campaign, "
        "problems, complaints) for benchmarks; refuses in production."
    )

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, households, seed, **options):
        if settings.PRODUCTION:
            raise CommandError("generate_synthetic refuses to run in production.")
        if households < 1:
            raise CommandError("--households must be at least 1.")
        started = time.monotonic()
        today = timezone.localdate()
        loader = Loader()
        first = next_serial()
        rng = random.Random(f"{seed}:{first}")  # the same seed on the same data makes the same rows
        with transaction.atomic():
            actor_id = self._actor()
            generator = Generator(
                rng,
                loader,
                today,
                actor_id=actor_id,
                campaign=self._campaign(today, first, actor_id),
                villages=self._villages(),
                categories=dict(HouseholdCategory.objects.values_list("code", "pk")),
                sources=list(
                    Unit.objects.filter(kind__in=[Unit.Kind.BUREAU, Unit.Kind.DEPARTMENT])
                    .order_by("pk")
                    .values_list("pk", flat=True)
                ),
                deadlines={
                    row.category: (row.acceptance_days, row.handling_days) for row in ComplaintDeadline.objects.all()
                },
            )
            self._standards(today)
        batches = [(first + start, min(BATCH, households - start)) for start in range(0, households, BATCH)]
        if loader.postgres and not connection.in_atomic_block:
            self._pipelined(generator, loader, batches, households)
        else:  # inside a caller's transaction (the tests): one connection, batches in savepoints
            for start, count in batches:
                rows = generator.batch(start, count)
                with transaction.atomic():
                    self._write(loader, rows)
                self._progress(start + count - first, households)
        loader.analyze(COLUMNS)
        counts = ", ".join(f"{label.split('.')[-1]} {count}" for label, count in loader.written.items())
        self.stdout.write(
            f"\n{households} households (serials {first}-{first + households - 1}) in "
            f"{time.monotonic() - started:.1f} s: {counts}"
        )

    def _pipelined(self, generator, loader, batches, households) -> None:
        """Generate the next batch while a second connection writes and commits the previous one: the database and
        Python each keep one of the cores busy. Ids come from the sequences, so the two never collide."""
        first = batches[0][0]
        with ThreadPoolExecutor(max_workers=1) as writer:
            pending = None
            try:
                for start, count in batches:
                    rows = generator.batch(start, count)
                    if pending is not None:
                        self._progress(pending.result(), households)
                    pending = writer.submit(self._write_committed, loader, rows, start + count - first)
                self._progress(pending.result(), households)
            finally:
                writer.submit(connections.close_all).result()  # the writer thread's own connection

    @staticmethod
    def _write_committed(loader, rows, done: int) -> int:
        with transaction.atomic():
            Command._write(loader, rows)
        return done

    @staticmethod
    def _write(loader, rows) -> None:
        for model, columns in COLUMNS.items():
            loader.write(model, columns, rows[model])

    def _progress(self, done: int, households: int) -> None:
        self.stdout.write(f"\r  {done} / {households}", ending="")
        self.stdout.flush()

    def _actor(self) -> int:
        """Who the synthetic records say recorded them: the demo admin, else a superuser, else any user, else a
        new inactive account without a password."""
        users = get_user_model().objects.order_by("pk")
        for chosen in (users.filter(username="admin"), users.filter(is_superuser=True), users):
            pk = chosen.values_list("pk", flat=True).first()
            if pk is not None:
                return pk
        user = get_user_model().objects.create(username="synthetic", is_active=False, password=make_password(None))
        return user.pk

    def _villages(self) -> list[tuple[int, int, bool]]:
        villages = []
        for township in Township.objects.order_by("code"):
            for number in range(1, VILLAGES_PER_TOWNSHIP + 1):
                village, _created = Village.objects.get_or_create(
                    township=township,
                    name=f"合成{number}村",
                    defaults={"is_demo": True, "is_revolutionary_base_village": number in BASE_VILLAGE_NUMBERS},
                )
                villages.append((village.pk, township.pk, village.is_revolutionary_base_village))
        return villages

    def _campaign(self, today: datetime.date, first: int, actor_id: int) -> Campaign:
        """This run's revisit campaign (launched; its revisits are written with the dwellings)."""
        campaign = Campaign.objects.create(
            name=f"合成回访（第{first}户起）",
            kind=Campaign.Kind.REVIEW,
            starts_on=today - datetime.timedelta(days=150),
            due_on=today + datetime.timedelta(days=60),
            structure_types=[],
            current_grades=[],
            occupied_only=False,
            launched_at=timezone.now(),
            launched_by_id=actor_id,
        )
        campaign.villages.set(Village.objects.filter(name__startswith="合成", is_demo=True))
        return campaign

    def _standards(self, today: datetime.date) -> None:
        """Subsidy standards for the programme years the cases use, where the bureau has not set them."""
        for year in range(today.year - 3, today.year + 1):
            for renovation_type, amount in STANDARDS.items():
                SubsidyStandard.objects.get_or_create(
                    year=year, renovation_type=renovation_type, defaults={"amount": amount, "note": "合成数据"}
                )

"""Writes about housing safety: appraisals, secured-housing arrangements, placards. Admin, the field form,
imports and tests call these, so the grading rules, the scope rule and the history's "who" always apply."""

from __future__ import annotations

import datetime
import random
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from households.models import Attachment, Dwelling, Household, HousingStatus, Township
from households.selectors import households_for_user, people_of_unit
from households.services import add_attachment, refresh_home_state, register_surveyed_household
from households.uploads import check_uploads
from housing_safety import webhooks
from housing_safety.access import ensure_can_write_in_township, require_perm
from housing_safety.bulk import insert_select, touching
from housing_safety.dates import DUE, check_date
from housing_safety.notices import notify

from . import selectors
from .models import (
    DANGEROUS_GRADES,
    Appraisal,
    BaseVillageRegistration,
    Campaign,
    FindingKind,
    Grade,
    GuidanceAssignment,
    HelperReport,
    Placard,
    Revisit,
    SecuredHousing,
    SpotCheck,
    SpotCheckItem,
)


def refresh_current_grades(*, household_ids: Iterable[int] | None = None) -> None:
    """Store each dwelling's newest appraisal grade, leak finding and date, then its household's home state.

    For the given households' dwellings, or every dwelling when None (the nightly check, the bulk loaders). Two
    UPDATE statements whatever the number of rows.
    """
    dwellings = Dwelling.objects.all()
    if household_ids is not None:
        dwellings = dwellings.filter(household_id__in=household_ids)
    state = {
        "current_grade": selectors.current_appraisal("grade"),
        "current_leaking": selectors.current_appraisal("is_leaking"),
        "current_graded_on": selectors.current_appraisal("appraised_on"),
    }
    dwellings.update(**(state if household_ids is None else touching(state)))  # as refresh_home_state does
    refresh_home_state(household_ids=household_ids)


@transaction.atomic
def record_appraisal(
    *, actor: AbstractBaseUser, appraisal: Appraisal, photos: Iterable = (), scanned_form=None
) -> Appraisal:
    """Record an appraisal of a dwelling with its scanned form and photos, all or nothing.

    Rules (Appraisal.clean): the grade is no better than the worst component allows, C/D carry a recommendation,
    the date is neither in the future nor before the house was built, and at least two appraisers sign. The actor
    needs the add permission and the dwelling must be in their township(s). Files are checked by content first.
    """
    require_perm(actor, "inspections.add_appraisal")
    if appraisal.pk:
        raise ValidationError(_("An appraisal is a record: enter a new appraisal instead of changing one."))
    ensure_can_write_in_township(actor, appraisal.dwelling.household.township_id)
    photos = check_uploads(photos, "photos")
    scans = check_uploads([scanned_form], "scanned_form")
    appraisal.recorded_by = actor
    appraisal.full_clean()
    appraisal._history_user = actor
    appraisal.save()
    refresh_current_grades(household_ids=[appraisal.dwelling.household_id])
    register_base_village_household(
        actor=actor, dwelling=appraisal.dwelling, grade=appraisal.grade, on=appraisal.appraised_on, appraisal=appraisal
    )
    for uploaded in scans:
        add_attachment(actor=actor, record=appraisal, uploaded_file=uploaded, kind=Attachment.Kind.SCANNED_FORM)
    for uploaded in photos:
        add_attachment(actor=actor, record=appraisal, uploaded_file=uploaded, kind=Attachment.Kind.PHOTO)
    webhooks.emit_many("appraisal.recorded", lambda: appraisal_events([appraisal]))
    return appraisal


def appraisal_events(appraisals: Iterable[Appraisal]) -> list[dict]:
    """The webhook's payloads of recorded appraisals: ids, codes, date and findings; no names or numbers. One query."""
    appraisals = list(appraisals)
    places = {
        pk: (household, village, township)
        for pk, household, village, township in Dwelling.objects.filter(
            pk__in={appraisal.dwelling_id for appraisal in appraisals}
        ).values_list("pk", "household_id", "household__village__code", "household__village__township__code")
    }
    return [
        {
            "appraisal_id": appraisal.pk,
            "dwelling_id": appraisal.dwelling_id,
            "household_id": places[appraisal.dwelling_id][0],
            "village_code": places[appraisal.dwelling_id][1],
            "township_code": places[appraisal.dwelling_id][2],
            "kind": appraisal.kind,
            "appraised_on": appraisal.appraised_on,
            "grade": appraisal.grade,
            "recommendation": appraisal.recommendation,
            "site_hazard": appraisal.site_hazard,
            "is_leaking": appraisal.is_leaking,
        }
        for appraisal in appraisals
    ]


@transaction.atomic
def record_appraisals(*, actor: AbstractBaseUser, appraisals: Iterable[Appraisal]) -> list[Appraisal]:
    """Record many appraisals without files in a few statements, whatever their number (the demo data).

    The rules of `record_appraisal`: the add permission, every dwelling in the actor's township(s), new records only,
    every field and row rule (Appraisal.clean) checked before anything is written; references are the database's to
    refuse, in the same statement. A history row per appraisal names the actor; the current grades and home states
    of the dwellings' households are refreshed once. Given in order of entry: of two on the same day, the later wins.
    """
    require_perm(actor, "inspections.add_appraisal")
    appraisals = list(appraisals)
    if any(appraisal.pk for appraisal in appraisals):
        raise ValidationError(_("An appraisal is a record: enter a new appraisal instead of changing one."))
    for township_id in {appraisal.dwelling.household.township_id for appraisal in appraisals}:
        ensure_can_write_in_township(actor, township_id)
    for appraisal in appraisals:
        appraisal.recorded_by = actor
        appraisal.full_clean(exclude=["dwelling", "recorded_by"], validate_unique=False, validate_constraints=False)
    Appraisal.objects.bulk_create(appraisals)
    Appraisal.history.bulk_history_create(appraisals, default_user=actor)
    refresh_current_grades(household_ids={appraisal.dwelling.household_id for appraisal in appraisals})
    surveyed = set(
        Household.objects.filter(
            pk__in={appraisal.dwelling.household_id for appraisal in appraisals if appraisal.grade in DANGEROUS_GRADES},
            status=Household.Status.UNREGISTERED,
        ).values_list("pk", flat=True)
    )
    for appraisal in appraisals:  # only a dangerous house of a household not yet registered: none in most loads
        if appraisal.dwelling.household_id in surveyed:
            register_base_village_household(
                actor=actor, dwelling=appraisal.dwelling, grade=appraisal.grade, on=appraisal.appraised_on,
                appraisal=appraisal,
            )  # fmt: skip
    webhooks.emit_many("appraisal.recorded", lambda: appraisal_events(appraisals))
    return appraisals


@transaction.atomic
def save_secured_housing(*, actor: AbstractBaseUser, arrangement: SecuredHousing) -> SecuredHousing:
    """Record (or end, by setting `until`) that a household lives safely elsewhere."""
    require_perm(actor, "inspections.change_securedhousing" if arrangement.pk else "inspections.add_securedhousing")
    if arrangement.pk:  # both where it is stored now and where it is moved to
        stored = SecuredHousing.objects.filter(pk=arrangement.pk).values_list(
            "household__village__township_id", flat=True
        )
        ensure_can_write_in_township(actor, stored.first())
    ensure_can_write_in_township(actor, arrangement.household.township_id)
    arrangement.full_clean()
    arrangement._history_user = actor
    arrangement.save()
    return arrangement


def _next_serials(township: Township, count: int) -> list[str]:
    """Serials per township, e.g. 100-000123 for 新桥镇; the township row lock keeps two printers apart."""
    Township.objects.select_for_update().get(pk=township.pk)
    prefix = f"{township.code[6:]}-"
    last = (
        Placard.objects.filter(serial__startswith=prefix).order_by("-serial").values_list("serial", flat=True).first()
    )
    start = int(last.removeprefix(prefix)) + 1 if last else 1
    return [f"{prefix}{n:06d}" for n in range(start, start + count)]


@transaction.atomic
def issue_placards(
    *, actor: AbstractBaseUser, households: Iterable[Household], today: datetime.date | None = None
) -> list[Placard]:
    """Issue a placard for every given covered household that has no placard for its current status yet, whatever
    the status: the plan asks for "贫困户房屋安全状况制牌上墙", every poor household's house, not only the safe ones
    (a dangerous house's placard names its grade and the action under way, an unappraised one's says 待鉴定).

    Idempotent: a household whose current placard still certifies its current status gets nothing new. Every
    household must be in the actor's scope.
    """
    require_perm(actor, "inspections.add_placard")
    today = today or timezone.localdate()
    created: list[Placard] = []
    households = list({household.pk: household for household in households}.values())  # each household once
    by_township: dict[int, list[Placard]] = {}
    for household in households:
        ensure_can_write_in_township(actor, household.township_id)
        if household.status != Household.Status.ACTIVE:
            continue
        status, appraisal_id, secured_id = selectors.current_basis(household, today)
        if status == HousingStatus.UNAPPRAISED:
            appraisal_id = None  # 待鉴定 certifies no appraisal (a second home's does not make this one appraised)
        same = Placard.objects.filter(
            household=household, status=status, appraisal_id=appraisal_id, secured_housing_id=secured_id
        )
        if same.exists():
            continue
        placard = Placard(
            household=household,
            status=status,
            appraisal_id=appraisal_id,
            secured_housing_id=secured_id,
            issued_by=actor,
        )
        by_township.setdefault(household.village.township_id, []).append(placard)
    for township_id, placards in by_township.items():
        for placard, serial in zip(
            placards, _next_serials(Township.objects.get(pk=township_id), len(placards)), strict=True
        ):
            placard.serial = serial
            placard._history_user = actor
            placard.save()
            created.append(placard)
    return created


def check_placard_installation(*, placard: Placard, installed_on: datetime.date) -> None:
    """An installation date is given, and is neither in the future nor before the placard was issued."""
    if installed_on is None:
        raise ValidationError({"installed_on": _("Enter the installation date.")})
    check_date("installed_on", installed_on)  # not in the future, not before 2000
    if installed_on < timezone.localtime(placard.issued_at).date():
        raise ValidationError({"installed_on": _("A placard cannot be installed before it was issued.")})


@transaction.atomic
def record_placard_installation(
    *, actor: AbstractBaseUser, placard: Placard, installed_on: datetime.date, photo=None
) -> Placard:
    """The placard is on the wall: a plausible date (check_placard_installation) and optionally a photo."""
    require_perm(actor, "inspections.change_placard")
    ensure_can_write_in_township(actor, placard.household.township_id)
    check_placard_installation(placard=placard, installed_on=installed_on)
    photos = check_uploads([photo], "photo")
    placard.installed_on = installed_on
    placard._history_user = actor
    placard.save(update_fields=["installed_on"])
    for uploaded in photos:
        add_attachment(actor=actor, record=placard, uploaded_file=uploaded, kind=Attachment.Kind.PHOTO)
    return placard


# Campaigns --------------------------------------------------------------------------------------------------


@transaction.atomic
def launch_campaign(*, actor: AbstractBaseUser | None, campaign: Campaign) -> int:
    """Create one Revisit per dwelling the campaign's scope matches, in one INSERT … SELECT statement.

    Idempotent: a dwelling already in the campaign is skipped (unique campaign+dwelling, ON CONFLICT DO NOTHING),
    so launching twice creates nothing new. Returns the number of revisits created.
    """
    if actor is not None:
        require_perm(actor, "inspections.add_campaign")
    check_date("starts_on", campaign.starts_on, DUE)
    check_date("due_on", campaign.due_on, DUE)
    Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
    matched = (
        selectors.campaign_dwellings(campaign)
        .annotate(matched_id=F("pk"), matched_township_id=F("household__village__township_id"))
        .values_list("matched_id", "matched_township_id")
        .order_by()
    )
    select_sql, params = matched.query.sql_with_params()
    table = connection.ops.quote_name(Revisit._meta.db_table)
    # Every other column gets the model's default (no outcome, no findings), a field added later too. The township
    # is the household's now; the registry's services keep it so when the household moves (follow_township).
    given = {
        "campaign_id": "%s",
        "dwelling_id": "matched.matched_id",
        "township_id": "matched.matched_township_id",
        "due_on": "%s",
        "status": "%s",
    }
    columns, values, defaults = insert_select(Revisit, given, now=timezone.now())
    sql = (
        f"INSERT INTO {table} ({columns}) SELECT {values} FROM ({select_sql}) AS matched "
        "WHERE TRUE "  # SQLite needs a WHERE before ON CONFLICT in INSERT … SELECT
        "ON CONFLICT (campaign_id, dwelling_id) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [campaign.pk, campaign.due_on, Revisit.Status.PENDING, *defaults, *params])
        created = max(cursor.rowcount, 0)
    if campaign.launched_at is None or (campaign.launched_by_id is None and actor is not None):
        # Launching again writes nothing (nor a history row) once the campaign's launch is recorded.
        campaign.launched_at = campaign.launched_at or timezone.now()
        campaign.launched_by = campaign.launched_by or actor
        campaign.save(update_fields=["launched_at", "launched_by"])
    return created


def follow_township(dwellings: QuerySet[Dwelling], township_id: int) -> int:
    """The revisits of `dwellings` move to `township_id`, their household's township now (registered with the
    registry's services as a TOWNSHIP_FOLLOWERS entry: it runs in the moving service's transaction, one UPDATE).

    Done revisits follow as well as pending ones. The stored township is the township responsible for the house now,
    and it is the revisits' scope: before it was stored, a revisit was seen by the township of its household, done or
    not, so the township that takes a household over sees its whole record (the household's page lists its past
    visits) and the one that gave it up no longer does. Keeping every revisit equal to its household's township keeps
    that scope exactly as it was. Who visited and what was found stay as recorded; the household's history records
    the move. Touches updated_at, so an incremental sync (the API's, the field app's) sees them arrive or leave.
    Returns the number of revisits moved."""
    return (
        Revisit.objects.filter(dwelling__in=dwellings)
        .exclude(township_id=township_id)
        .update(township_id=township_id, updated_at=timezone.now())
    )


def quarter_of(day: datetime.date) -> tuple[int, datetime.date, datetime.date]:
    quarter = (day.month - 1) // 3 + 1
    first = datetime.date(day.year, 3 * quarter - 2, 1)
    last = (first + datetime.timedelta(days=95)).replace(day=1) - datetime.timedelta(days=1)
    return quarter, first, last


@transaction.atomic
def launch_quarterly_revisits(*, day: datetime.date, actor: AbstractBaseUser | None = None) -> tuple[Campaign, int]:
    """The plan's quarterly revisit of every adobe, earth-timber and brick-timber house of a covered household, lived
    in or not, due by the end of the quarter containing `day`: an old house marked as left is where the revisit finds
    a family that owns a safe house yet still sleeps in the old one (已有安全住房却仍住在老旧危房). Safe to run
    again: one campaign per quarter (a quarter's campaign made before this rule is widened to it)."""
    quarter, first, last = quarter_of(day)
    with translation.override(settings.LANGUAGE_CODE):  # a stored name, in the bureau's language
        name = _("Quarterly revisit %(year)s Q%(quarter)s") % {"year": first.year, "quarter": quarter}
    campaign, _created = Campaign.objects.get_or_create(
        schedule_key=f"{first.year}Q{quarter}",
        defaults={
            "name": name,
            "kind": Campaign.Kind.QUARTERLY,
            "starts_on": first,
            "due_on": last,
            "structure_types": list(Dwelling.VULNERABLE),
            "occupied_only": False,
        },
    )
    if campaign.occupied_only:
        campaign.occupied_only = False
        campaign.save(update_fields=["occupied_only"])
    return campaign, launch_campaign(actor=None, campaign=campaign)


# Revisits and helpers' reports --------------------------------------------------------------------------------

# Apps built on this one react to findings (the problem list opens problems): handler(actor=..., record=...).
FINDING_HANDLERS: list = []


def _findings_recorded(actor: AbstractBaseUser, record) -> None:
    for handler in FINDING_HANDLERS:
        handler(actor=actor, record=record)


def _set_findings(record, kinds: Iterable[str]) -> None:
    kinds = set(kinds)
    unknown = kinds - set(FindingKind.values)
    if unknown:
        raise ValidationError(_("Unknown finding: %(kinds)s") % {"kinds": ", ".join(sorted(unknown))})
    for kind in FindingKind.values:
        setattr(record, f"finding_{kind}", kind in kinds)


@transaction.atomic
def record_revisit(
    *,
    actor: AbstractBaseUser,
    revisit: Revisit,
    visited_on: datetime.date,
    findings: Iterable[str],
    outcome: str,
    still_lived_in: bool | None,
    notes: str = "",
    photos: Iterable = (),
    assessed_grade: str = "",
) -> Revisit:
    """Record a visit: date (not in the future), whether anyone still lives in the house, findings, outcome,
    photos. Each finding opens a problem.

    The answer sets the dwelling's "household lives here" when it differs (the dwelling's history names the
    revisit), and the household's stored state and flags follow (refresh_home_state): an old C/D house found
    lived in makes the household 危房, and "owns a safe house, lives in the old one" when it owns an A/B one."""
    require_perm(actor, "inspections.change_revisit")
    revisit = Revisit.objects.select_for_update().select_related("dwelling__household__village").get(pk=revisit.pk)
    ensure_can_write_in_township(actor, revisit.dwelling.household.township_id)
    if revisit.status == Revisit.Status.DONE:
        raise ValidationError(_("This revisit has already been recorded."))
    check_date("visited_on", visited_on)  # not in the future, not before 2000
    if outcome not in Revisit.Outcome.values:
        raise ValidationError({"outcome": _("Choose an outcome.")})
    if still_lived_in not in (True, False):
        raise ValidationError({"still_lived_in": _("Say whether anyone still lives in this house.")})
    survey = revisit.campaign.kind == Campaign.Kind.BASE_VILLAGE
    if survey and assessed_grade not in Grade.values:
        raise ValidationError({"assessed_grade": _("Judge the house's grade: the base-village survey asks for it.")})
    photos = check_uploads(photos, "photos")
    _set_findings(revisit, findings)
    revisit.visited_on, revisit.visited_by, revisit.outcome, revisit.notes = visited_on, actor, outcome, notes
    revisit.still_lived_in = still_lived_in
    revisit.assessed_grade = assessed_grade if survey else ""
    revisit.status = Revisit.Status.DONE
    revisit._history_user = actor
    revisit.save()
    dwelling = revisit.dwelling
    if dwelling.is_occupied != still_lived_in:
        dwelling.is_occupied = still_lived_in
        dwelling._history_user = actor
        with translation.override(settings.LANGUAGE_CODE):
            dwelling._change_reason = _("Revisit of %(date)s (%(campaign)s): %(answer)s") % {
                "date": f"{visited_on:%Y-%m-%d}",
                "campaign": revisit.campaign.name,
                "answer": _("still lived in") if still_lived_in else _("nobody lives here"),
            }
        dwelling.save(update_fields=["is_occupied", "updated_at"])
        refresh_home_state(household_ids=[dwelling.household_id])
    for uploaded in photos:
        add_attachment(actor=actor, record=revisit, uploaded_file=uploaded, kind=Attachment.Kind.PHOTO)
    if survey:
        register_base_village_household(
            actor=actor, dwelling=dwelling, grade=assessed_grade, on=visited_on, revisit=revisit
        )
    _findings_recorded(actor, revisit)
    return revisit


def register_base_village_household(
    *,
    actor: AbstractBaseUser,
    dwelling: Dwelling,
    grade: str,
    on: datetime.date,
    revisit: Revisit | None = None,
    appraisal: Appraisal | None = None,
) -> BaseVillageRegistration | None:
    """The plan (二（四）): "对31个省定革命基点村群众的住房情况组织一次排查认定，对经认定属危旧房的进行建档立卡".

    A house found C/D, by the base-village survey's revisit or by an appraisal, of a household of a base village
    that is not yet registered (Household.Status.UNREGISTERED) registers the household
    (households.services.register_surveyed_household: on the covered list from the day found, category
    革命基点村群众) and records who, when and on which finding (BaseVillageRegistration). Anything else (a safe
    grade, a covered household, a village no longer on the province's list) registers nothing: None."""
    if grade not in DANGEROUS_GRADES:
        return None
    household = Household.objects.select_for_update().select_related("village").get(pk=dwelling.household_id)
    if household.status != Household.Status.UNREGISTERED or not household.village.is_revolutionary_base_village:
        return None
    with translation.override(settings.LANGUAGE_CODE):  # the history's reason, in the bureau's language
        finding = (
            _("revisit of %(date)s") % {"date": f"{on:%Y-%m-%d}"}
            if revisit is not None
            else _("appraisal of %(date)s") % {"date": f"{on:%Y-%m-%d}"}
        )
        reason = _("Registered by the base-village survey: house graded %(grade)s (%(finding)s)") % {
            "grade": grade,
            "finding": finding,
        }
    register_surveyed_household(actor=actor, household=household, registered_on=on, reason=reason)
    return BaseVillageRegistration.objects.create(
        household=household,
        dwelling=dwelling,
        grade=grade,
        registered_on=on,
        revisit=revisit,
        appraisal=appraisal,
        registered_by=actor,
    )


@transaction.atomic
def report_observation(
    *,
    actor: AbstractBaseUser,
    household: Household,
    findings: Iterable[str],
    note: str,
    dwelling: Dwelling | None = None,
    photos: Iterable = (),
) -> HelperReport:
    """A helper reports what they saw at a household assigned to them; the township is told (list and e-mail)."""
    require_perm(actor, "inspections.add_helperreport")
    if not households_for_user(actor).filter(pk=household.pk).exists():
        raise PermissionDenied(_("You may only report on households assigned to you."))
    if dwelling is not None and dwelling.household_id != household.pk:
        raise ValidationError({"dwelling": _("This dwelling belongs to another household.")})
    if not (note or "").strip():
        raise ValidationError({"note": _("Describe what you saw.")})
    photos = check_uploads(photos, "photos")
    report = HelperReport(household=household, dwelling=dwelling, note=note.strip(), reported_by=actor)
    _set_findings(report, findings)
    report._history_user = actor
    report.save()
    for uploaded in photos:
        add_attachment(actor=actor, record=report, uploaded_file=uploaded, kind=Attachment.Kind.PHOTO)
    _findings_recorded(actor, report)
    notify_township_of_report(report)
    return report


def notify_township_of_report(report: HelperReport) -> int:
    """Tell the township about a helper's report: a notice in its staff's inbox and the e-mail to them and the
    township unit's address, in the outbox with the report (a broker or mail server that is down delays it, the
    ten-minute job delivers it). Once per report (key `helper-report:<pk>`), however often this runs; how many
    people and addresses it reached, 0 when the township has no unit or nobody there can receive it."""
    unit = getattr(report.household.village.township, "unit", None)
    if unit is None:
        return 0
    path = reverse("inspections:report", args=[report.pk])
    with translation.override(settings.LANGUAGE_CODE):
        kinds = "、".join(str(FindingKind(kind).label) for kind in report.found_kinds())
        return notify(
            key=f"helper-report:{report.pk}",
            users=people_of_unit(unit),
            emails=[unit.email],
            title=_("Helper's report: %(name)s, %(village)s")
            % {"name": report.household.head_name, "village": report.household.village.name},
            body=f"{kinds or '-'} · {report.note}"[:500],
            url=path,
            email_body=_("%(kinds)s\n\n%(note)s\n\nHandle it at %(url)s")
            % {"kinds": kinds or "-", "note": report.note, "url": settings.PUBLIC_BASE_URL.rstrip("/") + path},
        )


@transaction.atomic
def record_report_action(*, actor: AbstractBaseUser, report: HelperReport, action_taken: str) -> HelperReport:
    """The township records what it did about a helper's report."""
    require_perm(actor, "inspections.change_helperreport")
    ensure_can_write_in_township(actor, report.household.township_id)
    report = HelperReport.objects.select_for_update().get(pk=report.pk)
    if report.handled_at:
        raise ValidationError(_("This report has already been handled."))
    if not (action_taken or "").strip():
        raise ValidationError({"action_taken": _("Describe what the township did.")})
    report.action_taken, report.handled_by, report.handled_at = action_taken.strip(), actor, timezone.now()
    report._history_user = actor
    report.save(update_fields=["action_taken", "handled_by", "handled_at"])
    return report


# Spot checks --------------------------------------------------------------------------------------------------


@transaction.atomic
def draw_spot_check(*, actor: AbstractBaseUser, spot_check: SpotCheck) -> int:
    """Draw N covered households per township with the check's seed (a new one is recorded if empty), so the
    same seed always draws the same sample. Drawing again adds nothing."""
    require_perm(actor, "inspections.add_spotcheck")
    if spot_check.drawn_at:
        return 0
    spot_check.seed = spot_check.seed or secrets.token_hex(8)
    township_ids = list(spot_check.townships.values_list("pk", flat=True))
    if not township_ids:
        # 包片: with no township chosen, the chosen official's townships of the year, or the drawer's own when they
        # guide some; the townships drawn are recorded on the check, so its list says where it was drawn.
        guide = spot_check.guided_by or actor
        township_ids = selectors.guided_township_ids(guide, timezone.localdate().year)
        if township_ids:
            spot_check.guided_by = guide
            spot_check.townships.set(township_ids)
        elif spot_check.guided_by_id:
            raise ValidationError({"guided_by": _("This official guides no township this year.")})
        else:
            township_ids = list(Township.objects.values_list("pk", flat=True))
    items = []
    for township in Township.objects.filter(pk__in=township_ids).order_by("code"):
        ids = list(
            Household.objects.filter(status=Household.Status.ACTIVE, village__township=township)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        sample = random.Random(f"{spot_check.seed}:{township.code}").sample(ids, min(spot_check.per_township, len(ids)))
        items += [SpotCheckItem(spot_check=spot_check, household_id=pk) for pk in sorted(sample)]
    SpotCheckItem.objects.bulk_create(items)
    spot_check.drawn_at, spot_check.drawn_by = timezone.now(), actor
    spot_check._history_user = actor
    spot_check.save(update_fields=["seed", "drawn_at", "drawn_by", "guided_by"])
    return len(items)


@transaction.atomic
def check_spot_check_result(*, result: str, notes: str = "") -> None:
    """The rules of a result, for a form to show as its errors before anything is saved."""
    if result not in (SpotCheckItem.Result.MATCHES, SpotCheckItem.Result.MISMATCH):
        raise ValidationError({"result": _("Choose whether the household matches the records.")})
    if result == SpotCheckItem.Result.MISMATCH and not notes.strip():
        raise ValidationError({"notes": _("Say what does not match.")})


def record_spot_check_result(
    *, actor: AbstractBaseUser, item: SpotCheckItem, result: str, notes: str = ""
) -> SpotCheckItem:
    """Verify one sampled household; a mismatch needs a note saying what differs."""
    require_perm(actor, "inspections.change_spotcheckitem")
    check_spot_check_result(result=result, notes=notes)
    item.result, item.notes, item.verified_by, item.verified_at = result, notes.strip(), actor, timezone.now()
    item.save(update_fields=["result", "notes", "verified_by", "verified_at"])
    return item


def check_spot_check_guide(*, guided_by, townships, year: int) -> None:
    """A spot check drawn for an official's townships needs an official who guides some this year (包片)."""
    if guided_by is not None and not townships and not selectors.guided_township_ids(guided_by, year):
        raise ValidationError({"guided_by": _("This official guides no township this year.")})


# 包片 guidance ----------------------------------------------------------------------------------------------------

GUIDE_ROLES = ("bureau_official", "bureau_admin")


def check_guidance(*, official, township, year: int) -> None:
    """Only the bureau's people guide townships (市住建局深入乡镇村开展工作指导): an official or administrator with an
    account that is active; the year within the plausible range."""
    from housing_safety.access import scope_of
    from housing_safety.dates import PlausibleYear

    errors = {}
    if official is None or not official.is_active or scope_of(official).role not in GUIDE_ROLES:
        errors["official"] = _("Choose a bureau official or administrator: only the bureau's people guide townships.")
    if township is None:
        errors["township"] = _("Choose a township.")
    try:
        PlausibleYear(ahead=1)(year)
    except ValidationError as error:
        errors["year"] = error.messages
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def assign_guidance(
    *, actor: AbstractBaseUser, official, township: Township, year: int, note: str = "", assignment=None
) -> GuidanceAssignment:
    """Assign (or change) a township's guiding official for a year (包片负责分工); the bureau administrator's."""
    require_perm(actor, "inspections.change_guidanceassignment" if assignment else "inspections.add_guidanceassignment")
    check_guidance(official=official, township=township, year=year)
    assignment = assignment or GuidanceAssignment()
    taken = GuidanceAssignment.objects.filter(year=year, official=official, township=township)
    if taken.exclude(pk=assignment.pk).exists():
        raise ValidationError({"township": _("This official already guides this township in this year.")})
    assignment.year, assignment.official, assignment.township, assignment.note = year, official, township, note.strip()
    assignment._history_user = actor
    assignment.save()
    return assignment

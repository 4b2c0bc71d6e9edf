"""House-safety appraisals, secured housing arrangements, and wall placards."""

from __future__ import annotations

import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

# The grades are defined with the dwelling, which stores its current grade; they are used from here too.
from households.models import DANGEROUS_GRADES, SAFE_GRADES, Dwelling, Grade, Household, Township  # noqa: F401
from housing_safety.dates import EARLIEST, PlausibleYear, due_date, event_date

from . import grading


class ComponentGrade(models.TextChoices):
    A = "a", "a"
    B = "b", "b"
    C = "c", "c"
    D = "d", "d"
    ABSENT = "n", _("not present")


class Appraisal(models.Model):
    """One appraisal of a dwelling; the newest (by date, then entry) is the dwelling's current grade."""

    class Kind(models.TextChoices):
        ASSESSMENT = "assessment", _("Assessment (评定)")
        FORMAL = "formal", _("Formal appraisal (鉴定)")

    class Recommendation(models.TextChoices):
        NONE = "none", _("None")
        REPAIR = "repair", _("Repair and reinforce")
        REBUILD = "rebuild", _("Demolish and rebuild")
        RELOCATE = "relocate", _("Relocate")

    # (field name, label) of the graded components, in the order of the national form.
    COMPONENTS = (
        ("foundation", _("foundation (地基基础)")),
        ("load_bearing_walls", _("load-bearing walls (承重墙)")),
        ("timber_frame", _("timber columns, beams, purlins (木柱/梁/檩)")),
        ("roof_truss", _("timber roof truss (木屋架)")),
        ("concrete_frame", _("concrete columns and beams (混凝土柱/梁)")),
        ("floor_roof_slab", _("floor and roof slab (楼屋盖)")),
    )

    dwelling = models.ForeignKey(
        Dwelling, on_delete=models.PROTECT, related_name="appraisals", verbose_name=_("dwelling")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.ASSESSMENT)
    appraised_on = models.DateField(_("appraised on"), validators=[event_date])
    organisation = models.CharField(_("appraising organisation"), max_length=100)
    appraisers = models.CharField(
        _("appraisers"), max_length=200, help_text=_("At least two names, separated by 、 or commas.")
    )
    foundation = models.CharField(COMPONENTS[0][1], max_length=1, choices=ComponentGrade.choices)
    load_bearing_walls = models.CharField(COMPONENTS[1][1], max_length=1, choices=ComponentGrade.choices)
    timber_frame = models.CharField(COMPONENTS[2][1], max_length=1, choices=ComponentGrade.choices)
    roof_truss = models.CharField(COMPONENTS[3][1], max_length=1, choices=ComponentGrade.choices)
    concrete_frame = models.CharField(COMPONENTS[4][1], max_length=1, choices=ComponentGrade.choices)
    floor_roof_slab = models.CharField(COMPONENTS[5][1], max_length=1, choices=ComponentGrade.choices)
    site_hazard = models.BooleanField(
        _("site hazard"), default=False, help_text=_("Landslide, flooding or similar at the site.")
    )
    is_leaking = models.BooleanField(_("leaking or drafty (漏雨透风)"), default=False)
    grade = models.CharField(_("house grade"), max_length=1, choices=Grade.choices)
    recommendation = models.CharField(
        _("recommendation"), max_length=10, choices=Recommendation.choices, default=Recommendation.NONE
    )
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, editable=False, verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-appraised_on", "-pk"]
        verbose_name = _("appraisal")
        verbose_name_plural = _("appraisals")
        indexes = [
            models.Index(fields=["dwelling", "-appraised_on", "-id"], name="appraisal_current"),
            models.Index(fields=["-appraised_on", "-id"], name="appraisal_newest_first"),  # the list's order
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(grade__in=["C", "D"]) | ~Q(recommendation="none"),
                name="appraisal_dangerous_has_recommendation",
                violation_error_message=_("A grade C or D house needs a recommendation."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.appraised_on} {self.grade}"

    def component_grades(self) -> list[str]:
        return [getattr(self, name) for name, _label in self.COMPONENTS]

    def appraiser_names(self) -> list[str]:
        return [name for name in re.split(r"[、,，;；/\s]+", self.appraisers or "") if name]

    def clean(self):
        # The grade against its components and its recommendation: the national guideline's rules (grading.py).
        errors = grading.refusals(self)
        grades = set(self.component_grades())
        # A date in the future or before 2000 is the field validator's to refuse (housing_safety.dates).
        built = self.dwelling.year_built if self.dwelling_id else None
        if self.appraised_on and built and EARLIEST.year <= self.appraised_on.year < built:
            errors["appraised_on"] = _("The appraisal date cannot be before the house was built (%(year)s).") % {
                "year": built
            }
        if len(self.appraiser_names()) < 2:
            errors["appraisers"] = _("At least two appraisers must sign.")
        if grades == {ComponentGrade.ABSENT}:
            errors["foundation"] = _("Grade at least one component.")
        if errors:
            raise ValidationError(errors)

    @property
    def is_safe(self) -> bool:
        return self.grade in SAFE_GRADES


class SecuredHousing(models.Model):
    """The household lives safely elsewhere (保障安全): collective housing, 幸福大院, a rented idle house, relatives."""

    class Kind(models.TextChoices):
        COLLECTIVE = "collective", _("Collective or public rental housing")
        HAPPINESS_COURTYARD = "courtyard", _("Happiness courtyard (幸福大院)")
        RENTED_IDLE_HOUSE = "rented", _("Rented idle house")
        RELATIVES = "relatives", _("Living with relatives")

    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="secured_housing", verbose_name=_("household")
    )
    kind = models.CharField(_("arrangement"), max_length=12, choices=Kind.choices)
    since = models.DateField(_("since"), validators=[event_date])
    until = models.DateField(
        _("until"), null=True, blank=True, help_text=_("Leave empty while it lasts."), validators=[due_date]
    )
    address = models.CharField(_("address"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-since"]
        verbose_name = _("secured housing")
        verbose_name_plural = _("secured housing")
        constraints = [
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gte=models.F("since")),
                name="secured_housing_until_after_since",
                violation_error_message=_("The end date cannot be before the start date."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}（{self.since}）"


def new_placard_token() -> str:
    return secrets.token_urlsafe(18)


class Placard(models.Model):
    """A printed wall placard certifying a household's safe status at the time it was issued."""

    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="placards", verbose_name=_("household")
    )
    serial = models.CharField(_("serial number"), max_length=20, unique=True)
    token = models.CharField(
        _("verification token"), max_length=32, unique=True, default=new_placard_token, editable=False
    )
    status = models.CharField(_("status certified"), max_length=20)
    appraisal = models.ForeignKey(
        Appraisal, on_delete=models.PROTECT, null=True, blank=True, related_name="placards", verbose_name=_("appraisal")
    )
    secured_housing = models.ForeignKey(
        SecuredHousing,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="placards",
        verbose_name=_("secured housing"),
    )
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, editable=False, verbose_name=_("issued by")
    )
    installed_on = models.DateField(_("installed on"), null=True, blank=True, validators=[event_date])
    history = HistoricalRecords()

    class Meta:
        ordering = ["-issued_at"]
        verbose_name = _("placard")
        verbose_name_plural = _("placards")

    def __str__(self) -> str:
        return self.serial


class FindingKind(models.TextChoices):
    """What a revisit or a helper can find; each kind found opens a problem on the township's list."""

    NEW_DAMAGE = "new_damage", _("new damage")
    LIVES_IN_OLD_DANGEROUS = "lives_in_old_dangerous", _("still lives in the old dangerous house")
    CONNECTED_HAZARD = "connected_hazard", _("connected-house hazard, neighbour uncooperative")
    LEAKING = "leaking", _("leaking or drafty")
    PLACARD_MISSING = "placard_missing", _("placard missing or damaged")


class Findings(models.Model):
    """The findings checklist shared by revisits and helpers' reports: one boolean per FindingKind."""

    finding_new_damage = models.BooleanField(FindingKind.NEW_DAMAGE.label, default=False)
    finding_lives_in_old_dangerous = models.BooleanField(FindingKind.LIVES_IN_OLD_DANGEROUS.label, default=False)
    finding_connected_hazard = models.BooleanField(FindingKind.CONNECTED_HAZARD.label, default=False)
    finding_leaking = models.BooleanField(FindingKind.LEAKING.label, default=False)
    finding_placard_missing = models.BooleanField(FindingKind.PLACARD_MISSING.label, default=False)

    class Meta:
        abstract = True

    def found_kinds(self) -> list[str]:
        return [kind for kind in FindingKind.values if getattr(self, f"finding_{kind}")]

    def found_labels(self) -> list[str]:
        return [str(FindingKind(kind).label) for kind in self.found_kinds()]


class Campaign(models.Model):
    """A revisit or inspection drive over a set of dwellings; launching it creates one Revisit per dwelling."""

    class Kind(models.TextChoices):
        QUARTERLY = "quarterly", _("Quarterly revisit (季度回访)")
        REVIEW = "review", _("Look-back review (回头看)")
        POST_DISASTER = "post_disaster", _("Post-disaster check (灾后排查)")
        BASE_VILLAGE = "base_village", _("Revolutionary base village survey (基点村排查)")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    starts_on = models.DateField(_("starts on"), validators=[due_date])
    due_on = models.DateField(_("due on"), validators=[due_date])
    # Scope: an empty selection means "all".
    townships = models.ManyToManyField("households.Township", blank=True, verbose_name=_("townships"))
    villages = models.ManyToManyField("households.Village", blank=True, verbose_name=_("villages"))
    base_villages_only = models.BooleanField(_("revolutionary base villages only"), default=False)
    structure_types = models.JSONField(_("structure types"), default=list, blank=True)
    categories = models.ManyToManyField(
        "households.HouseholdCategory", blank=True, verbose_name=_("household categories")
    )
    current_grades = models.JSONField(_("current grades"), default=list, blank=True, help_text=_("A, B, C, D or none."))
    occupied_only = models.BooleanField(_("only dwellings the household lives in"), default=True)
    # Quarterly campaigns are made by the scheduled job once per quarter: this key keeps a re-run from duplicating.
    schedule_key = models.CharField(
        _("schedule key"), max_length=20, unique=True, null=True, blank=True, editable=False
    )
    launched_at = models.DateTimeField(_("launched at"), null=True, blank=True, editable=False, validators=[event_date])
    launched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("launched by"),
    )
    history = HistoricalRecords(m2m_fields=[townships, villages, categories])

    class Meta:
        ordering = ["-starts_on", "-pk"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [
            models.CheckConstraint(
                condition=Q(due_on__gte=models.F("starts_on")),
                name="campaign_due_after_start",
                violation_error_message=_("The due date cannot be before the start date."),
            )
        ]

    def __str__(self) -> str:
        return self.name


class Revisit(Findings):
    """One dwelling to visit in a campaign, and what the visit found."""

    class Status(models.TextChoices):
        PENDING = "pending", _("To visit")
        DONE = "done", _("Visited")

    class Outcome(models.TextChoices):
        NONE = "none", _("Nothing to do")
        REAPPRAISAL = "reappraisal", _("Re-appraisal needed")
        REPAIR = "repair", _("Repair needed")

    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="revisits", verbose_name=_("campaign")
    )
    dwelling = models.ForeignKey(
        Dwelling, on_delete=models.PROTECT, related_name="revisits", verbose_name=_("dwelling")
    )
    # The township of the dwelling's household, stored so that a township's list reads its own index instead of
    # joining every revisit to its dwelling, household and village. Written by the campaign's INSERT … SELECT and
    # kept equal to the household's township by the registry's services when a household, a dwelling or a village
    # moves (services.follow_township): it is always the township responsible for the house now.
    township = models.ForeignKey(
        Township,
        on_delete=models.PROTECT,
        related_name="revisits",
        verbose_name=_("township responsible"),
        db_index=False,  # the list's index below starts with it
        editable=False,
    )
    due_on = models.DateField(_("due on"), validators=[due_date])
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    visited_on = models.DateField(_("visited on"), null=True, blank=True, validators=[event_date])
    visited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("visited by"),
    )
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    # The plan's "已有安全住房却仍住在老旧危房": the visit finds out whether anyone still lives in the house; the
    # answer sets the dwelling's "household lives here" (record_revisit). Empty until visited.
    still_lived_in = models.BooleanField(_("still lived in"), null=True, blank=True)
    # The plan (二（四）): the base-village survey "排查认定" judges each house; a house judged C/D of a household not
    # yet registered registers it (建档立卡). Asked only in a base-village survey, empty elsewhere.
    assessed_grade = models.CharField(_("grade found by the survey"), max_length=1, choices=Grade.choices, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    history = HistoricalRecords()

    updated_at = models.DateTimeField(_("updated at"), auto_now=True)  # the API's ?changed_since=

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("revisit")
        verbose_name_plural = _("revisits")
        constraints = [models.UniqueConstraint(fields=["campaign", "dwelling"], name="revisit_once_per_campaign")]
        indexes = [
            models.Index(fields=["status", "due_on"], name="revisit_status_due"),
            # The to-do list's page in its order (earliest due first) without sorting every pending revisit.
            models.Index(fields=["due_on", "id"], condition=Q(status="pending"), name="revisit_pending_due"),
            models.Index(fields=["due_on", "id"], name="revisit_due"),
            models.Index(fields=["updated_at", "id"], name="revisit_updated"),
            # A township's list (status, then earliest due first) reads one range of this index in its order.
            models.Index(fields=["township", "status", "due_on", "id"], name="revisit_township_list"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.dwelling}"

    def save(self, *args, **kwargs):
        # A revisit made one at a time (the shell, fixtures) starts in its dwelling's township, as the campaign's
        # INSERT … SELECT writes it; moves are followed by the registry's services (services.follow_township).
        if self.township_id is None and self.dwelling_id is not None:
            self.township_id = (
                Dwelling.objects.filter(pk=self.dwelling_id)
                .values_list("household__village__township_id", flat=True)
                .first()
            )
        super().save(*args, **kwargs)


class BaseVillageList(models.Model):
    """One upload of the province's list of revolutionary base villages (省定革命基点村): read and checked row by row
    (preview), then confirmed: the listed villages are marked, those no longer listed unmarked, and the one-off
    base-village survey (基点村排查) takes every house in them."""

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("Previewed, not confirmed")
        CONFIRMED = "confirmed", _("Confirmed")

    year = models.PositiveSmallIntegerField(_("year named"), validators=[PlausibleYear(1949, ahead=1)])
    batch = models.CharField(_("batch"), max_length=100, blank=True)
    file = models.FileField(_("file"), upload_to="base-villages/%Y/", max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    sha256 = models.CharField(_("fingerprint"), max_length=64, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PREVIEWED)
    # [{"row": Excel row, "code": ..., "name": ..., "village_id": id or None, "error": reason or ""}, ...]
    rows = models.JSONField(_("rows as read"), default=list, editable=False)
    error = models.TextField(_("why the file was refused"), blank=True, editable=False)
    counts = models.JSONField(_("counts"), default=dict, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True, validators=[event_date])
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("campaign")
    )

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        verbose_name = _("base village list")
        verbose_name_plural = _("base village lists")

    def __str__(self) -> str:
        return f"{self.year} · {self.original_name}"

    @property
    def refused(self) -> bool:
        return bool(self.error) or any(row["error"] for row in self.rows)


class BaseVillageRegistration(models.Model):
    """The audit record of 建档立卡 by the base-village survey: a household of a base village, not registered, whose
    house the survey or an appraisal found dangerous (C/D), put on the covered list."""

    household = models.OneToOneField(
        Household, on_delete=models.PROTECT, related_name="base_village_registration", verbose_name=_("household")
    )
    dwelling = models.ForeignKey(Dwelling, on_delete=models.PROTECT, related_name="+", verbose_name=_("dwelling"))
    grade = models.CharField(_("grade found"), max_length=1, choices=Grade.choices)
    registered_on = models.DateField(_("registered on"), validators=[event_date])
    revisit = models.ForeignKey(
        Revisit, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("revisit")
    )
    appraisal = models.ForeignKey(
        Appraisal, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("appraisal")
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("registered by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-registered_on", "-pk"]
        verbose_name = _("base village registration")
        verbose_name_plural = _("base village registrations")
        constraints = [
            models.CheckConstraint(condition=Q(grade__in=["C", "D"]), name="base_village_registration_dangerous"),
            models.CheckConstraint(
                condition=Q(revisit__isnull=False) | Q(appraisal__isnull=False),
                name="base_village_registration_has_finding",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household} · {self.grade} · {self.registered_on}"


class HelperReport(Findings):
    """An assigned helper's observation during a routine visit (动态监测); the township records what it did."""

    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="helper_reports", verbose_name=_("household")
    )
    dwelling = models.ForeignKey(
        Dwelling,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="helper_reports",
        verbose_name=_("dwelling"),
    )
    note = models.TextField(_("what the helper saw"))
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("reported by"),
    )
    reported_at = models.DateTimeField(_("reported at"), auto_now_add=True)
    action_taken = models.TextField(_("action taken by the township"), blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("handled by"),
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True, editable=False, validators=[event_date])
    history = HistoricalRecords()

    class Meta:
        ordering = ["-reported_at"]
        verbose_name = _("helper's report")
        verbose_name_plural = _("helpers' reports")

    def __str__(self) -> str:
        return f"{self.household} · {self.reported_at:%Y-%m-%d}"


class SpotCheck(models.Model):
    """A reproducible random sample (抽查核实): N households per township, drawn with a recorded seed."""

    name = models.CharField(_("name"), max_length=100)
    per_township = models.PositiveSmallIntegerField(_("households per township"), default=5)
    seed = models.CharField(
        _("random seed"), max_length=32, blank=True, help_text=_("Leave empty for a new random seed.")
    )
    townships = models.ManyToManyField("households.Township", blank=True, verbose_name=_("townships"))
    drawn_at = models.DateTimeField(_("drawn at"), null=True, blank=True, editable=False, validators=[event_date])
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("drawn by"),
    )
    guided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("for the townships of (包片)"),
        help_text=_(
            "With no township chosen, the sample is drawn in this official's townships of the year (包片). "
            "Left empty, an official who guides townships draws in their own."
        ),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("spot check")
        verbose_name_plural = _("spot checks")

    def __str__(self) -> str:
        return self.name


class SpotCheckItem(models.Model):
    class Result(models.TextChoices):
        PENDING = "pending", _("To verify")
        MATCHES = "matches", _("Matches the records")
        MISMATCH = "mismatch", _("Does not match")

    spot_check = models.ForeignKey(
        SpotCheck, on_delete=models.PROTECT, related_name="items", verbose_name=_("spot check")
    )
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+", verbose_name=_("household"))
    result = models.CharField(_("result"), max_length=10, choices=Result.choices, default=Result.PENDING)
    notes = models.TextField(_("notes"), blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("verified by"),
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True, editable=False, validators=[event_date])

    class Meta:
        ordering = ["household__village__township__code", "pk"]
        verbose_name = _("sampled household")
        verbose_name_plural = _("sampled households")
        constraints = [models.UniqueConstraint(fields=["spot_check", "household"], name="spot_check_household_once")]

    def __str__(self) -> str:
        return str(self.household)


class GuidanceAssignment(models.Model):
    """包片 (phase 二 of the plan): a bureau official assigned to a township for one year's guidance and spot checks.
    "市住建局深入乡镇村开展工作指导……按照……包片负责分工": the official's home shows their townships, and the spot
    checks they draw are drawn in them. A township may have more than one guide; an official several townships."""

    year = models.PositiveSmallIntegerField(_("year"), validators=[PlausibleYear(ahead=1)])
    official = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="guidance_assignments",
        verbose_name=_("bureau official"),
    )
    township = models.ForeignKey(
        "households.Township",
        on_delete=models.PROTECT,
        related_name="guidance_assignments",
        verbose_name=_("township"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True, help_text=_("For example: 第二片区 lead."))
    history = HistoricalRecords()

    class Meta:
        ordering = ["-year", "township__code", "official__username"]
        verbose_name = _("guidance assignment (包片)")
        verbose_name_plural = _("guidance assignments (包片)")
        constraints = [
            models.UniqueConstraint(
                fields=["year", "official", "township"],
                name="guidance_once_per_year",
                violation_error_message=_("This official already guides this township in this year."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.year} · {self.township} · {self.official}"

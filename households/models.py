"""The registry: townships, villages, responsible units, covered households and their dwellings."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from housing_safety.access import ALL_ROWS_ROLES, Role, Scope
from housing_safety.dates import PlausibleYear, event_date
from housing_safety.people import person_name

from .identity import normalise_id_number, normalise_phone, validate_id_number, validate_phone
from .uploads import attachment_upload_to


class Grade(models.TextChoices):
    """The house-safety appraisal grade (房屋安全鉴定等级); appraisals are recorded in `inspections`."""

    A = "A", _("A: safe")
    B = "B", _("B: basically safe")
    C = "C", _("C: partly dangerous")
    D = "D", _("D: dangerous as a whole")


SAFE_GRADES = (Grade.A, Grade.B)
DANGEROUS_GRADES = (Grade.C, Grade.D)


class HousingStatus(models.TextChoices):
    APPRAISED_SAFE = "appraised_safe", _("Appraised safe (鉴定安全)")
    RENOVATED_SAFE = "renovated_safe", _("Renovated safe (改造安全)")
    SECURED = "secured", _("Secured elsewhere (保障安全)")
    DANGEROUS = "dangerous", _("Dangerous house (危房)")
    UNAPPRAISED = "unappraised", _("Not yet appraised (未鉴定)")


class StoredSummaryMixin:
    """Columns listed in `summary_fields` are a stored summary of other tables, kept by one refresh service.

    A full save() of an instance loaded before the refresh would write back stale values, so full saves leave
    those columns alone; only the refresh (a set-based UPDATE) writes them.
    """

    summary_fields: tuple[str, ...] = ()

    def save(self, *args, **kwargs):
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in self.summary_fields
            ]
        super().save(*args, **kwargs)


class IdNumberField(models.CharField):
    """An ID number, normalised on clean (full-width, spaces, lower-case x) and stored as NULL when absent."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 18)
        kwargs.setdefault("validators", [validate_id_number])
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        return normalise_id_number(super().to_python(value)) or None


class PhoneField(models.CharField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("validators", [validate_phone])
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        return normalise_phone(super().to_python(value))


class Township(models.Model):
    class Kind(models.TextChoices):
        SUBDISTRICT = "subdistrict", _("Subdistrict (街道)")
        TOWN = "town", _("Town (镇)")
        TOWNSHIP = "township", _("Township (乡)")

    code = models.CharField(_("statistical code"), max_length=9, unique=True, validators=[RegexValidator(r"^\d{9}$")])
    name = models.CharField(_("name"), max_length=50, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    # The plan (三（一）): the problem list "明确时间表和责任人". A problem opened by a finding names this person;
    # without one, the township unit's contact (Unit.contact_name) stands in (responsible_for_problems).
    problem_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("person responsible for problems"),
        help_text=_(
            "Named as the responsible person of every problem a finding opens in this township. Without one, the "
            "contact of the township's unit is named."
        ),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("township")
        verbose_name_plural = _("townships")

    def __str__(self) -> str:
        return self.name

    def responsible_for_problems(self) -> str:
        """The responsible person a new problem of this township names: the township's named user, else its unit's
        contact (with the phone, so the list says whom to call); "" when it has neither (flagged on the home)."""
        if self.problem_owner_id:
            return person_name(self.problem_owner)
        unit = getattr(self, "unit", None)
        if unit is not None and unit.contact_name:
            return f"{unit.contact_name} {unit.phone}".strip()[:50]
        return ""


class Village(models.Model):
    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, related_name="villages", verbose_name=_("township")
    )
    code = models.CharField(
        _("village code"),
        max_length=12,
        unique=True,
        null=True,
        blank=True,
        validators=[RegexValidator(r"^\d{12}$", _("A village code has 12 digits."))],
    )
    name = models.CharField(_("name"), max_length=50)
    is_revolutionary_base_village = models.BooleanField(
        _("province-designated revolutionary base village"), default=False
    )
    # The plan (二（四）): "对31个省定革命基点村群众的住房情况组织一次排查认定". Marked by loading the province's list
    # (inspections.base_villages); the year and batch it was first named in are kept while it stays on the list.
    base_village_year = models.PositiveSmallIntegerField(
        _("year named a base village"), null=True, blank=True, validators=[PlausibleYear(1949, ahead=1)]
    )
    base_village_batch = models.CharField(_("base village batch"), max_length=100, blank=True)
    is_demo = models.BooleanField(_("demo data"), default=False, help_text=_("Created by seed_demo; not real."))
    history = HistoricalRecords()

    class Meta:
        ordering = ["township__code", "name"]
        verbose_name = _("village")
        verbose_name_plural = _("villages")
        constraints = [models.UniqueConstraint(fields=["township", "name"], name="village_unique_name_per_township")]

    def __str__(self) -> str:
        return f"{self.township.name} {self.name}" if self.township_id else self.name


class Unit(models.Model):
    """A responsible unit that reports monthly (the bureau, a partner department or a township)."""

    class Kind(models.TextChoices):
        BUREAU = "bureau", _("Housing bureau")
        DEPARTMENT = "department", _("Partner department")
        TOWNSHIP = "township", _("Township government")
        # The plan (五（二）): "牵头单位按季度报市纪委监委": the city discipline commission receives the lead report; it
        # is no partner department (no lists, no monthly report, no staff here).
        DISCIPLINE = "discipline", _("Discipline inspection commission")

    name = models.CharField(_("name"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    township = models.OneToOneField(
        Township, on_delete=models.PROTECT, null=True, blank=True, related_name="unit", verbose_name=_("township")
    )
    contact_name = models.CharField(_("contact name"), max_length=50, blank=True)
    phone = PhoneField(_("phone"))
    email = models.EmailField(_("e-mail"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # The plan (四（四）): "各责任单位每月23日前向住建局报送本月整治工作进展情况…11月10日前报送专项整治工作工作总结".
    # The responsible units are those the plan names per task (filled by migration 0013); the bureau receives the
    # reports and is never one of them.
    reports_monthly = models.BooleanField(
        _("reports to the bureau (monthly progress and year-end summary)"),
        default=True,
        help_text=_(
            "A responsible unit named in the plan's tasks reports its progress before the 23rd of each month and its "
            "year-end summary before 10 November. The housing bureau receives the reports and does not report to "
            "itself."
        ),
    )
    receives_lead_report = models.BooleanField(
        _("receives the quarterly lead report"),
        default=False,
        help_text=_(
            "The city discipline commission (市纪委监委): the bureau's quarterly report on lead transfers is e-mailed "
            "to its address."
        ),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("responsible unit")
        verbose_name_plural = _("responsible units")
        constraints = [
            models.UniqueConstraint(
                fields=["receives_lead_report"],
                condition=Q(receives_lead_report=True),
                name="unit_one_lead_report_recipient",
                violation_error_message=_("Only one unit receives the quarterly lead report."),
            ),
            models.CheckConstraint(
                condition=Q(kind="township", township__isnull=False) | (~Q(kind="township") & Q(township__isnull=True)),
                name="unit_township_iff_township_kind",
                violation_error_message=_("A township unit needs its township; other units have none."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        super().clean()
        if self.kind == self.Kind.DISCIPLINE and self.reports_monthly:
            raise ValidationError(
                {"reports_monthly": _("The discipline commission receives the lead report; it does not report.")}
            )
        if self.kind == self.Kind.BUREAU and self.reports_monthly:
            raise ValidationError(
                {"reports_monthly": _("The housing bureau receives the units' reports; it does not report to itself.")}
            )


class HouseholdCategory(models.Model):
    """One of the eight covered categories (帮扶对象类别); rows are created by migration."""

    class Code(models.TextChoices):
        REGISTERED_POOR = "registered_poor", _("Registered poor household (建档立卡贫困户)")
        MINIMUM_LIVING = "minimum_living", _("Minimum living guarantee (低保户)")
        EXTREMELY_POOR = "extremely_poor", _("Rural scattered-support extremely poor (特困人员)")
        SPECIAL_CARE = "special_care", _("Key special-care recipient, old revolutionary area (重点优抚对象)")
        FIVE_OLDS = "five_olds", _("Family of revolutionary 'five olds' (五老人员)")
        DISABLED = "disabled", _("Poor household with a disabled member (贫困残疾人家庭)")
        BASE_VILLAGE = "base_village", _("Resident of a revolutionary base village (革命基点村群众)")
        OTHER_POOR = "other_poor", _("Other poor household (其他贫困户)")

    code = models.CharField(_("code"), max_length=20, choices=Code.choices, unique=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position"]
        verbose_name = _("household category")
        verbose_name_plural = _("household categories")

    def __str__(self) -> str:
        return str(self.get_code_display())


class Household(StoredSummaryMixin, models.Model):
    class PovertyStatus(models.TextChoices):
        NOT_EXITED = "not_exited", _("Not yet out of poverty")
        EXITED = "exited", _("Exited poverty")
        NEWLY_POOR = "newly_poor", _("Newly poor")

    class Status(models.TextChoices):
        ACTIVE = "active", _("On the list")
        REMOVED = "removed", _("Removed from the list")
        # The plan (二（四）): a household of a base village whose house is surveyed (基点村排查) before it is
        # registered; a house found dangerous registers it (建档立卡:
        # inspections.services.register_base_village_household).
        UNREGISTERED = "unregistered", _("Not registered (base village survey)")

    head_name = models.CharField(_("head of household"), max_length=50)
    id_number = IdNumberField(_("ID number"), unique=True, null=True, blank=True)
    phone = PhoneField(_("phone"))
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="households", verbose_name=_("village"))
    members_count = models.PositiveSmallIntegerField(
        _("members"), default=1, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    categories = models.ManyToManyField(HouseholdCategory, related_name="households", verbose_name=_("categories"))
    poverty_status = models.CharField(_("poverty status"), max_length=12, choices=PovertyStatus.choices, blank=True)
    poverty_exit_year = models.PositiveSmallIntegerField(
        _("year out of poverty"), null=True, blank=True, validators=[PlausibleYear(2013)]
    )
    newly_poor_on = models.DateField(_("newly poor since"), null=True, blank=True, validators=[event_date])
    helper_name = models.CharField(_("assigned helper"), max_length=50, blank=True)
    helper_phone = PhoneField(_("helper's phone"))
    helper_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="helped_households",
        verbose_name=_("helper's account"),
        limit_choices_to={"profile__role": Role.HELPER},
    )
    source = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sourced_households",
        verbose_name=_("source department"),
        limit_choices_to={"kind__in": [Unit.Kind.BUREAU, Unit.Kind.DEPARTMENT]},
    )
    registered_on = models.DateField(
        _("registered on"),
        default=timezone.localdate,
        help_text=_("Entry into the covered list; starts the one-month appraisal clock."),
        validators=[event_date],
    )
    notes = models.TextField(_("notes"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE)
    removed_on = models.DateField(_("removed on"), null=True, blank=True, validators=[event_date])
    removal_reason = models.CharField(_("reason for removal"), max_length=200, blank=True)
    # The state of the homes it lives in, stored so that lists and counts over a province read one column
    # instead of deriving it per row (services.refresh_home_state). Living safely elsewhere (保障安全) depends
    # on the day and is added when read (inspections.selectors.with_housing_status).
    home_status = models.CharField(
        _("state of the homes lived in"),
        max_length=16,
        choices=HousingStatus.choices,
        default=HousingStatus.UNAPPRAISED,
        editable=False,
    )
    flag_owns_safe_but_lives_in_danger = models.BooleanField(
        _("owns a safe house but lives in a dangerous one"), default=False, editable=False
    )
    flag_connected_uncooperative = models.BooleanField(
        _("connected house, neighbour does not cooperate"), default=False, editable=False
    )
    flag_leaking = models.BooleanField(_("leaking roof"), default=False, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    summary_fields = (
        "home_status",
        "flag_owns_safe_but_lives_in_danger",
        "flag_connected_uncooperative",
        "flag_leaking",
    )
    history = HistoricalRecords(m2m_fields=[categories], excluded_fields=list(summary_fields))

    class Meta:
        # By village, then name: the (village, head_name) index serves a page of any list without sorting the
        # province (villages are numbered in township order as they are registered).
        ordering = ["village_id", "head_name", "pk"]
        verbose_name = _("household")
        verbose_name_plural = _("households")
        permissions = [("view_personal_data", _("Can view ID and phone numbers"))]
        indexes = [
            models.Index(fields=["village", "status"], name="household_village_status"),
            models.Index(fields=["head_name"], name="household_head_name"),
            models.Index(fields=["phone"], name="household_phone"),
            models.Index(fields=["registered_on"], name="household_registered_on"),
            models.Index(fields=["village", "head_name", "id"], name="household_village_name"),
            models.Index(fields=["home_status", "village"], name="household_home_status"),
            # Each list's page in its order, without sorting: dangerous houses by village and name, overdue
            # appraisals by registration date.
            models.Index(
                fields=["village", "head_name", "id"], condition=Q(home_status="dangerous"), name="household_dangerous"
            ),
            models.Index(
                fields=["registered_on", "id"], condition=Q(home_status="unappraised"), name="household_unappraised"
            ),
            # The API's incremental sync (?changed_since=): pages in order of change, by the cursor.
            models.Index(fields=["updated_at", "id"], name="household_updated"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(members_count__gte=1), name="household_members_positive"),
            models.CheckConstraint(
                condition=~Q(status="removed") | (Q(removed_on__isnull=False) & ~Q(removal_reason="")),
                name="household_removal_has_date_and_reason",
                violation_error_message=_("A removal needs its date and reason."),
            ),
            models.CheckConstraint(
                condition=~Q(poverty_status="exited") | Q(poverty_exit_year__isnull=False),
                name="household_exit_has_year",
                violation_error_message=_("Enter the year the household exited poverty."),
            ),
            models.CheckConstraint(
                condition=~Q(poverty_status="newly_poor") | Q(newly_poor_on__isnull=False),
                name="household_newly_poor_has_date",
                violation_error_message=_("Enter the date the household became newly poor."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.head_name}（{self.village.name}）" if self.village_id else self.head_name

    @property
    def township_id(self) -> int | None:
        return self.village.township_id if self.village_id else None

    def clean(self):
        self.id_number = self.id_number or None  # "unique where present": no number is NULL, never ""
        errors = {}
        if self.status == self.Status.REMOVED:
            if not self.removed_on:
                errors["removed_on"] = _("Enter the date of removal.")
            if not self.removal_reason.strip():
                errors["removal_reason"] = _("Enter the reason for removal.")
        if self.poverty_status == self.PovertyStatus.EXITED and not self.poverty_exit_year:
            errors["poverty_exit_year"] = _("Enter the year the household exited poverty.")
        if self.poverty_status == self.PovertyStatus.NEWLY_POOR and not self.newly_poor_on:
            errors["newly_poor_on"] = _("Enter the date the household became newly poor.")
        # Dates in the future or before 2000: the fields' validators (housing_safety.dates).
        if errors:
            raise ValidationError(errors)


class Dwelling(StoredSummaryMixin, models.Model):
    class StructureType(models.TextChoices):
        ADOBE = "adobe", _("Adobe (土坯)")
        EARTH_TIMBER = "earth_timber", _("Earth-timber (土木)")
        BRICK_TIMBER = "brick_timber", _("Brick-timber (砖木)")
        BRICK_EARTH = "brick_earth", _("Brick-earth (砖土混杂)")
        TIMBER = "timber", _("Timber (木)")
        STONE_TIMBER = "stone_timber", _("Stone-timber (石木)")
        BRICK_CONCRETE = "brick_concrete", _("Brick-concrete (砖混)")
        FRAME = "frame", _("Reinforced-concrete frame (框架)")
        OTHER = "other", _("Other")

    # The plan's vulnerable structures: revisited every quarter.
    VULNERABLE = (StructureType.ADOBE, StructureType.EARTH_TIMBER, StructureType.BRICK_TIMBER)

    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="dwellings", verbose_name=_("household")
    )
    address = models.CharField(_("address (village group, number)"), max_length=100)
    structure_type = models.CharField(_("structure type"), max_length=16, choices=StructureType.choices)
    storeys = models.PositiveSmallIntegerField(
        _("storeys"), default=1, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    bays = models.PositiveSmallIntegerField(
        _("bays"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    floor_area = models.DecimalField(
        _("floor area (m²)"), max_digits=7, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(1)]
    )
    year_built = models.PositiveSmallIntegerField(
        _("year built"), null=True, blank=True, validators=[MinValueValidator(1800)]
    )
    is_occupied = models.BooleanField(_("household lives here"), default=True)
    # Set by a renovation case's completion acceptance: the house is then 改造安全 while its grade stays A/B.
    renovated_on = models.DateField(
        _("renovation accepted on"), null=True, blank=True, editable=False, validators=[event_date]
    )
    is_connected = models.BooleanField(_("connected house (联体房)"), default=False)
    neighbour_cooperates = models.BooleanField(
        _("neighbour cooperates with reinforcement"), null=True, blank=True, help_text=_("Only for connected houses.")
    )
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    notes = models.TextField(_("notes"), blank=True)
    # The newest appraisal's grade and leak finding, stored by inspections.services.refresh_current_grades so
    # that counting grades over a province is a column read, not a newest-row subquery per dwelling.
    current_grade = models.CharField(
        _("current grade"), max_length=1, choices=Grade.choices, null=True, blank=True, editable=False
    )
    current_leaking = models.BooleanField(_("currently leaking"), null=True, editable=False)
    # and its date: a dangerous house's action is due DANGEROUS_ACTION_DAYS after it (the late list's order)
    current_graded_on = models.DateField(_("currently graded on"), null=True, editable=False, validators=[event_date])
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    summary_fields = ("current_grade", "current_leaking", "current_graded_on")
    history = HistoricalRecords(excluded_fields=list(summary_fields))

    class Meta:
        ordering = ["household", "pk"]
        verbose_name = _("dwelling")
        verbose_name_plural = _("dwellings")
        indexes = [
            models.Index(fields=["structure_type", "is_occupied"], name="dwelling_structure_occupied"),
            models.Index(fields=["current_grade", "is_occupied"], name="dwelling_current_grade"),
            models.Index(
                fields=["household", "id"],
                condition=Q(current_grade__in=["C", "D"], is_occupied=True),
                name="dwelling_dangerous_lived_in",
            ),
            models.Index(  # dangerous houses lived in, longest graded first: the late list reads its first rows
                fields=["current_graded_on", "id"],
                condition=Q(current_grade__in=["C", "D"], is_occupied=True),
                name="dwelling_dangerous_graded",
            ),
            models.Index(fields=["updated_at", "id"], name="dwelling_updated"),  # the API's ?changed_since=
        ]
        constraints = [
            models.CheckConstraint(condition=Q(storeys__gte=1), name="dwelling_storeys_positive"),
            models.CheckConstraint(
                condition=Q(is_connected=True) | Q(neighbour_cooperates__isnull=True),
                name="dwelling_cooperation_only_if_connected",
                violation_error_message=_("Neighbour cooperation applies only to connected houses."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.address}（{self.get_structure_type_display()}）"

    @property
    def is_vulnerable_structure(self) -> bool:
        return self.structure_type in self.VULNERABLE

    def clean(self):
        errors = {}
        if self.year_built and self.year_built > timezone.localdate().year:
            errors["year_built"] = _("The year built cannot be in the future.")
        if not self.is_connected and self.neighbour_cooperates is not None:
            errors["neighbour_cooperates"] = _("Neighbour cooperation applies only to connected houses.")
        if (self.latitude is None) != (self.longitude is None):
            errors["longitude" if self.longitude is None else "latitude"] = _(
                "Enter both latitude and longitude, or neither."
            )
        if errors:
            raise ValidationError(errors)


class Attachment(models.Model):
    """A photo or document attached to any record; stored under a random name, served with a scope check."""

    class Kind(models.TextChoices):
        PHOTO = "photo", _("Photo")
        SCANNED_FORM = "scanned_form", _("Scanned form")
        DOCUMENT = "document", _("Document")
        OTHER = "other", _("Other")

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, verbose_name=_("record type"))
    object_id = models.PositiveBigIntegerField(_("record id"))
    record = GenericForeignKey("content_type", "object_id")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.PHOTO)
    file = models.FileField(_("file"), upload_to=attachment_upload_to, max_length=200)
    original_name = models.CharField(_("original file name"), max_length=200, blank=True)
    mime_type = models.CharField(_("type"), max_length=100, blank=True, editable=False)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0, editable=False)
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    taken_on = models.DateField(_("taken on"), null=True, blank=True, validators=[event_date])
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, editable=False, verbose_name=_("uploaded by")
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-uploaded_at"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        indexes = [models.Index(fields=["content_type", "object_id"], name="attachment_record")]

    def __str__(self) -> str:
        return self.caption or self.original_name or f"#{self.pk}"


class UserProfile(models.Model):
    """A user's role and scope: the townships of township staff, the unit of a department liaison."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    townships = models.ManyToManyField(Township, blank=True, related_name="staff_profiles", verbose_name=_("townships"))
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="members", verbose_name=_("unit")
    )
    must_change_password = models.BooleanField(
        _("must change password"),
        default=False,
        help_text=_("Set for demo accounts and when an administrator creates an account or resets its password."),
    )
    history = HistoricalRecords(m2m_fields=[townships])

    class Meta:
        verbose_name = _("user profile")
        verbose_name_plural = _("user profiles")

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"

    @classmethod
    def scope_of_user(cls, user) -> Scope:
        """The rows a signed-in user who is not a superuser reaches: their profile's (one query, and one for the
        townships); none without a profile. housing_safety.access.scope_of asks here, once per user object."""
        profile = cls.objects.filter(user=user).select_related("unit").prefetch_related("townships").first()
        return profile.scope() if profile is not None else Scope()

    def scope(self) -> Scope:
        """The role's single criterion: everything, the townships of township staff, the unit of a department
        liaison, the households assigned to a helper."""
        role = self.role
        if role in ALL_ROWS_ROLES:
            return Scope(role=role, everything=True)
        if role == Role.TOWNSHIP_STAFF:
            townships = sorted(self.townships.all(), key=lambda township: township.pk)
            return Scope(
                role=role,
                township_ids=frozenset(t.pk for t in townships),
                township_names=tuple(t.name for t in townships),
            )
        if role == Role.DEPARTMENT_LIAISON:
            return Scope(role=role, unit_id=self.unit_id, unit_name=self.unit.name if self.unit else "")
        if role == Role.HELPER:
            return Scope(role=role, helper_user_id=self.user_id)
        return Scope(role=role)


# Partner departments' lists (信息比对) ----------------------------------------------------------------------------


class ColumnMapping(models.Model):
    """How one department heads its columns: their header text -> our field. The defaults in
    households.department_lists.DEFAULT_HEADERS apply where a department has no entry."""

    unit = models.OneToOneField(
        Unit,
        on_delete=models.CASCADE,
        related_name="column_mapping",
        verbose_name=_("department"),
        limit_choices_to={"kind": "department"},
    )
    columns = models.JSONField(
        _("columns"),
        default=dict,
        blank=True,
        help_text=_('Their header text -> our field, e.g. {"户主姓名": "head_name"}.'),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("column mapping")
        verbose_name_plural = _("column mappings")

    def __str__(self) -> str:
        return str(self.unit)

    def clean(self):
        # The admin's box takes any JSON (a number, a list: a 500 when a list was read with it, or on saving null).
        from .department_lists import FIELD_LABELS  # the module reads this model

        if self.columns in (None, ""):
            self.columns = {}
        entries = self.columns.items() if isinstance(self.columns, dict) else [(str(self.columns)[:100], None)]
        valid = lambda field: isinstance(field, str) and field in FIELD_LABELS  # noqa: E731
        wrong = [f"{heading}: {field}" for heading, field in entries if not valid(field)]
        if wrong:
            raise ValidationError(
                {
                    "columns": _(
                        "Each entry is a heading of their list and one of our fields: %(fields)s. Not valid: %(wrong)s"
                    )
                    % {"fields": ", ".join(FIELD_LABELS), "wrong": "; ".join(wrong)}
                }
            )


class DepartmentList(models.Model):
    """One upload of a department's list: read and compared (preview), then confirmed, or left."""

    class Status(models.TextChoices):
        READING = "reading", _("Being read")
        PREVIEWED = "previewed", _("Previewed, not confirmed")
        CONFIRMED = "confirmed", _("Confirmed")
        FAILED = "failed", _("Could not be read")

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="lists", verbose_name=_("department"))
    listed_on = models.DateField(
        _("date of the list"), help_text=_("New households are registered on this date."), validators=[event_date]
    )
    file = models.FileField(_("file"), upload_to="lists/%Y/", max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    sha256 = models.CharField(_("fingerprint"), max_length=64, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PREVIEWED)
    counts = models.JSONField(_("counts"), default=dict, editable=False)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0, editable=False)
    rows_expected = models.PositiveIntegerField(_("rows in the file"), null=True, blank=True, editable=False)
    error = models.TextField(_("error"), blank=True, editable=False)
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

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        verbose_name = _("department list")
        verbose_name_plural = _("department lists")

    def __str__(self) -> str:
        return f"{self.unit} · {self.listed_on} · {self.original_name}"


class ListRow(models.Model):
    """One row of a department's list as read, normalised and compared with our records."""

    class Outcome(models.TextChoices):
        NEW = "new", _("New household")
        CHANGED = "changed", _("Changed")
        UNCHANGED = "unchanged", _("Unchanged")
        SUGGESTED = "suggested", _("Possible match to confirm")
        # A household registered by a township or another department: the list may add its categories; any other
        # difference goes to the township as a ChangeProposal, and the liaison sees only that it is registered.
        REGISTERED = "registered", _("Registered elsewhere")
        INVALID = "invalid", _("Invalid row")

    department_list = models.ForeignKey(
        DepartmentList, on_delete=models.CASCADE, related_name="rows", verbose_name=_("department list")
    )
    row_number = models.PositiveIntegerField(_("row in Excel"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    household = models.ForeignKey(
        Household, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("household")
    )
    suggested = models.ForeignKey(
        Household,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("suggested household"),
    )
    head_name = models.CharField(_("head of household"), max_length=50, blank=True)
    id_number = models.CharField(_("ID number"), max_length=18, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    village = models.ForeignKey(Village, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    categories = models.CharField(_("categories"), max_length=200, blank=True)  # ",code,code," for LIKE matching
    members_count = models.PositiveSmallIntegerField(_("members"), null=True, blank=True)
    poverty_status = models.CharField(
        _("poverty status"), max_length=12, choices=Household.PovertyStatus.choices, blank=True
    )
    poverty_exit_year = models.PositiveSmallIntegerField(_("year out of poverty"), null=True, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)  # field -> [ours, theirs], applied on confirm
    proposed = models.JSONField(_("proposed changes"), default=dict, blank=True)  # the same, for the township
    errors = models.JSONField(_("errors"), default=list, blank=True)  # [[column header, reason], ...]
    raw = models.JSONField(_("cells as uploaded"), default=list, blank=True)

    class Meta:
        ordering = ["row_number"]
        verbose_name = _("list row")
        verbose_name_plural = _("list rows")
        indexes = [models.Index(fields=["department_list", "outcome"], name="listrow_list_outcome")]

    def __str__(self) -> str:
        return f"{self.department_list_id}:{self.row_number}"


class ChangeProposal(models.Model):
    """A difference a department's list found on a household that is not the department's to change (its name,
    phone, members, village or township, removal or source): the township holding the household (the bureau for a
    move between townships) accepts or rejects it, with a reason."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a decision")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        SUPERSEDED = "superseded", _("Replaced by a newer list")

    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="change_proposals", verbose_name=_("household")
    )
    department_list = models.ForeignKey(
        DepartmentList, on_delete=models.PROTECT, related_name="proposals", verbose_name=_("department list")
    )
    row_number = models.PositiveIntegerField(_("row in Excel"))
    township = models.ForeignKey(
        Township,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
        help_text=_("Empty: the bureau decides (a move between townships)."),
    )
    changes = models.JSONField(_("proposed changes"), default=dict)  # field -> [ours when listed, theirs]
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("created at"), validators=[event_date])
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True, validators=[event_date])
    decision_reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("change proposal")
        verbose_name_plural = _("change proposals")
        indexes = [models.Index(fields=["township", "status"], name="proposal_township_status")]
        constraints = [
            models.UniqueConstraint(fields=["department_list", "household"], name="one_proposal_per_list_household")
        ]

    def __str__(self) -> str:
        return f"{self.department_list_id}:{self.row_number}"

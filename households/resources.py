"""Excel import and export of the registry (django-import-export), scoped and masked per user.

Every row is written through the same service as the admin form; a row outside the importer's township is a
row error, never a silent write. A number (ID number, dwelling no.) that finds a record outside the importer's scope
is answered exactly like a number that finds nothing: an import does not tell which numbers exist in other
townships. Column headers are Chinese (translated), as the bureau's sheets are.
"""

from __future__ import annotations

import io
import re

import tablib
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources, widgets
from import_export.formats import base_formats
from import_export.forms import ImportForm

from housing_safety import disclosure
from housing_safety.access import can_view_personal_data, scope_of
from housing_safety.excel import safe_cell
from housing_safety.spreadsheets import SpreadsheetError, check_spreadsheet

from . import cleaning, selectors, services
from .identity import id_number_error, mask_id_number, mask_phone, normalise_id_number, normalise_phone
from .models import Dwelling, Household, HouseholdCategory, Township, Unit, Village
from .sheets import read_rows


def _header_key(value) -> str:
    """Text compared as a clerk would: full-width and half-width alike, spaces ignored."""
    return re.sub(r"\s", "", cleaning.plain(value))


class CellWidget(widgets.Widget):
    """Cleans a cell with one of the `cleaning` parsers; a ValueError becomes that row's error."""

    def __init__(self, parse, render=None, **kwargs):
        super().__init__(**kwargs)
        self.parse, self._render = parse, render

    def clean(self, value, row=None, **kwargs):
        return self.parse(value)

    def render(self, value, obj=None, **kwargs):
        if value is None or value == "":
            return ""
        return self._render(value) if self._render else value


class TownshipLookup:
    """Townships by name, short name (新桥 for 新桥镇) or statistical code, loaded once per import."""

    def __init__(self):
        self._by_key: dict[str, Township] = {}
        for township in Township.objects.all():
            for key in (
                township.name,
                township.code,
                township.name[:-2] if township.name.endswith("街道") else township.name[:-1],
            ):
                self._by_key[key] = township

    def get(self, value) -> Township:
        raw = cleaning.plain(value)
        if not raw:
            raise ValueError(_("The township is missing."))
        township = self._by_key.get(raw)
        if township is None:
            raise ValueError(_("Unknown township “%(value)s”.") % {"value": raw})
        return township


class VillageWidget(widgets.Widget):
    """A village by its name within the row's township (village names repeat across townships)."""

    def __init__(self, township_column, **kwargs):
        super().__init__(**kwargs)
        self.township_column = township_column
        self._townships = None
        self._villages = None

    def clean(self, value, row=None, **kwargs):
        if self._villages is None:
            self._townships = TownshipLookup()
            self._villages = {
                (v.township_id, _header_key(v.name)): v for v in Village.objects.select_related("township")
            }
        township = self._townships.get(row.get(str(self.township_column)))
        name = cleaning.text(value)
        if not name:
            raise ValueError(_("The village is missing."))
        village = self._villages.get((township.pk, _header_key(name)))
        if village is None:
            raise ValueError(
                _("Village “%(village)s” is not registered in %(township)s.")
                % {"village": name, "township": township.name}
            )
        return village

    def render(self, value, obj=None, **kwargs):
        return value.name if value else ""


class ScopedWidget(widgets.Widget):
    """Finds a related record by a number the clerk types, among the records the importer may reach only: one
    outside that scope is answered exactly like a number no record has. ScopedResource hands it the user."""

    user = None


def no_household_with(id_number: str) -> ValueError:
    return ValueError(
        _("No household with ID number %(id_number)s is registered within your scope.") % {"id_number": id_number}
    )


def no_dwelling_numbered(number: int) -> ValueError:
    return ValueError(_("There is no dwelling no. %(number)s within your scope.") % {"number": number})


class HouseholdByIdNumberWidget(ScopedWidget):
    """A dwelling's household, found by the head's ID number as departments write it."""

    def clean(self, value, row=None, **kwargs):
        id_number = normalise_id_number(cleaning.plain(value))
        if not id_number:
            raise ValueError(_("The head's ID number is missing."))
        household = selectors.households_for_user(self.user).filter(id_number=id_number).first()
        if household is None:
            raise no_household_with(id_number)
        return household

    def render(self, value, obj=None, **kwargs):
        return value.id_number if value else ""


class CategoriesWidget(widgets.ManyToManyWidget):
    def __init__(self, **kwargs):
        super().__init__(HouseholdCategory, **kwargs)

    def clean(self, value, row=None, **kwargs):
        codes = cleaning.parse_categories(value)
        if not codes:
            raise ValueError(_("At least one household category is required."))
        by_code = {c.code: c for c in HouseholdCategory.objects.all()}
        return [by_code[code] for code in codes]

    def render(self, value, obj=None, **kwargs):
        return "、".join(str(c) for c in value.all()) if value is not None else ""


class ScopedResource(resources.ModelResource):
    """Knows who imports or exports: rows outside their scope are row errors; personal data is masked."""

    personal_fields: tuple[str, ...] = ()

    def __init__(self, user=None, ip_address=None, **kwargs):
        super().__init__(**kwargs)
        self.user, self.ip_address = user, ip_address
        for field in self.fields.values():  # this resource's own copies (import-export deep-copies them)
            if isinstance(field.widget, ScopedWidget):
                field.widget.user = user

    def township_of(self, instance) -> int | None:
        raise NotImplementedError

    def stored_township_of(self, instance) -> int | None:
        """The township the row is in now, for an existing record (None for a new one)."""
        if not instance.pk:
            return None
        return self.township_of(type(instance).objects.get(pk=instance.pk))

    def get_instance(self, instance_loader, row):
        # A bad key cell (unknown township, malformed number) is reported by that row's validation,
        # not raised here, where it would abort the whole file.
        try:
            instance = super().get_instance(instance_loader, row)
        except (ValueError, ObjectDoesNotExist):
            return None
        # A record outside the importer's scope is not found: the row goes on exactly as for a key nothing has
        # (a new record, refused if it is for another township), so the answer does not say the key exists.
        if instance is not None and not scope_of(self.user).covers_township(self.township_of(instance)):
            return None
        return instance

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        scope = scope_of(self.user)
        stored = self.stored_township_of(instance)
        if stored is not None and not scope.covers_township(stored):
            raise ValidationError(_("This record belongs to another township; you may not change it."))
        if not errors:
            try:
                target = self.township_of(instance)
            except Exception:  # noqa: BLE001 - a missing relation is reported by full_clean below
                target = None
            if target is not None and not scope.covers_township(target):
                raise ValidationError(_("This row is for another township; you may only import your own."))
        super().validate_instance(instance, errors, validate_unique)

    def before_import(self, dataset, **kwargs):
        """Offices put titles above the table and type headers loosely (（）or (), stray spaces): the header is
        the first of the top rows naming at least two of our columns, renamed to our exact column names."""
        super().before_import(dataset, **kwargs)
        columns = {_header_key(f.column_name): str(f.column_name) for f in self.get_import_fields()}
        candidates = [dataset.headers or [], *dataset[:10]]
        for index, cells in enumerate(candidates):
            if sum(_header_key(cell) in columns for cell in cells) >= 2:
                for _ in range(index):
                    del dataset[0]
                dataset.headers = [columns.get(_header_key(cell), cleaning.text(cell)) for cell in cells]
                return

    def import_instance(self, instance, row, **kwargs):
        """Also check many-to-many cells, which import-export only reads after saving, so that a bad category is
        reported with the other errors of its row and nothing of that row is written."""
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        for field in self.get_import_fields():
            if not isinstance(field.widget, widgets.ManyToManyWidget):
                continue
            try:
                field.clean({str(field.column_name): None, **row})
            except ValueError as error:
                errors[field.attribute] = ValidationError(str(error), code="invalid")
        if errors:
            raise ValidationError(errors)

    def import_row(self, row, instance_loader, **kwargs):
        result = super().import_row(row, instance_loader, **kwargs)
        error = result.validation_error
        if error is not None and hasattr(error, "error_dict"):
            # Name each error after the column the clerk sees in Excel, not the model attribute.
            labels = {f.attribute: str(f.column_name) for f in self.fields.values() if f.attribute}
            result.validation_error = ValidationError({labels.get(k, k): v for k, v in error.error_dict.items()})
        return result

    def export(self, queryset=None, **kwargs):
        dataset = super().export(queryset, **kwargs)
        if self.personal_fields and self.user is not None and can_view_personal_data(self.user):
            name = str(self._meta.model._meta.verbose_name_plural)
            disclosure.log_export(user=self.user, name=name, rows=len(dataset), ip_address=self.ip_address)
        return dataset

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        if field.attribute in self.personal_fields and not can_view_personal_data(self.user):
            return mask_phone(value) if "phone" in field.attribute else mask_id_number(value)
        # Typed text never becomes a formula in the .xlsx or .csv (IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT is off:
        # it only drops a leading "=" and turns every number into text).
        return safe_cell(value)


class VillageResource(ScopedResource):
    township = fields.Field(
        attribute="township",
        column_name=gettext_lazy("Township"),
        widget=CellWidget(lambda v: TownshipLookup().get(v), render=lambda t: t.name),
    )
    name = fields.Field(attribute="name", column_name=gettext_lazy("Village"), widget=CellWidget(cleaning.text))
    code = fields.Field(
        attribute="code",
        column_name=gettext_lazy("Village code"),
        widget=CellWidget(lambda v: cleaning.plain(v) or None),
    )
    is_revolutionary_base_village = fields.Field(
        attribute="is_revolutionary_base_village",
        column_name=gettext_lazy("Revolutionary base village"),
        widget=CellWidget(lambda v: bool(cleaning.parse_bool(v)), render=lambda b: _("Yes") if b else _("No")),
    )

    class Meta:
        model = Village
        fields = ("township", "name", "code", "is_revolutionary_base_village")
        import_id_fields = ("township", "name")
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True

    def township_of(self, instance):
        return instance.township_id

    def do_instance_save(self, instance, is_create):
        services.save_village(actor=self.user, village=instance)


class HouseholdResource(ScopedResource):
    personal_fields = ("id_number", "phone", "helper_phone")

    id_number = fields.Field(
        attribute="id_number", column_name=gettext_lazy("ID number"), widget=CellWidget(cleaning.text)
    )
    head_name = fields.Field(
        attribute="head_name", column_name=gettext_lazy("Head of household"), widget=CellWidget(cleaning.text)
    )
    phone = fields.Field(attribute="phone", column_name=gettext_lazy("Phone"), widget=CellWidget(normalise_phone))
    township = fields.Field(attribute="village__township__name", column_name=gettext_lazy("Township"), readonly=True)
    village = fields.Field(
        attribute="village", column_name=gettext_lazy("Village"), widget=VillageWidget(gettext_lazy("Township"))
    )
    members_count = fields.Field(
        attribute="members_count",
        column_name=gettext_lazy("Members"),
        widget=CellWidget(lambda v: cleaning.parse_int(v, unit="人")),
        saves_null_values=False,
    )
    categories = fields.Field(
        attribute="categories", column_name=gettext_lazy("Categories"), widget=CategoriesWidget(), m2m_add=False
    )
    poverty_status = fields.Field(
        attribute="poverty_status",
        column_name=gettext_lazy("Poverty status"),
        widget=CellWidget(
            cleaning.parse_poverty_status, render=lambda s: Household.PovertyStatus(s).label if s else ""
        ),
    )
    poverty_exit_year = fields.Field(
        attribute="poverty_exit_year",
        column_name=gettext_lazy("Year out of poverty"),
        widget=CellWidget(cleaning.parse_year),
    )
    newly_poor_on = fields.Field(
        attribute="newly_poor_on", column_name=gettext_lazy("Newly poor since"), widget=CellWidget(cleaning.parse_date)
    )
    helper_name = fields.Field(
        attribute="helper_name", column_name=gettext_lazy("Assigned helper"), widget=CellWidget(cleaning.text)
    )
    helper_phone = fields.Field(
        attribute="helper_phone", column_name=gettext_lazy("Helper's phone"), widget=CellWidget(normalise_phone)
    )
    source = fields.Field(
        attribute="source",
        column_name=gettext_lazy("Source department"),
        widget=widgets.ForeignKeyWidget(Unit, field="name"),
    )
    registered_on = fields.Field(
        attribute="registered_on",
        column_name=gettext_lazy("Registered on"),
        widget=CellWidget(cleaning.parse_date),
        saves_null_values=False,
    )
    status = fields.Field(attribute="get_status_display", column_name=gettext_lazy("Status"), readonly=True)
    notes = fields.Field(attribute="notes", column_name=gettext_lazy("Notes"), widget=CellWidget(cleaning.text))

    class Meta:
        model = Household
        fields = (
            "id_number",
            "head_name",
            "phone",
            "township",
            "village",
            "members_count",
            "categories",
            "poverty_status",
            "poverty_exit_year",
            "newly_poor_on",
            "helper_name",
            "helper_phone",
            "source",
            "registered_on",
            "status",
            "notes",
        )
        import_id_fields = ("id_number",)
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True

    def before_import_row(self, row, **kwargs):
        # The ID number ties departments' lists together: a row without a valid one cannot be matched.
        key = str(self.fields["id_number"].column_name)
        value = normalise_id_number(cleaning.plain(row.get(key)))
        if not value:
            raise ValidationError({"id_number": _("The ID number is missing; rows are matched by ID number.")})
        error = id_number_error(value)
        if error:
            raise ValidationError({"id_number": error})
        row[key] = value

    def get_queryset(self):
        return Household.objects.select_related("village__township", "source").prefetch_related("categories")

    def township_of(self, instance):
        return instance.village.township_id if instance.village_id else None

    def do_instance_save(self, instance, is_create):
        services.save_household(actor=self.user, household=instance)


class DwellingResource(ScopedResource):
    personal_fields = ("household",)  # exported as the head's ID number

    id = fields.Field(
        attribute="id", column_name=gettext_lazy("Dwelling no."), widget=CellWidget(lambda v: cleaning.parse_int(v))
    )
    household = fields.Field(
        attribute="household",
        column_name=gettext_lazy("Head's ID number"),
        widget=HouseholdByIdNumberWidget(),
    )
    head_name = fields.Field(
        attribute="household__head_name", column_name=gettext_lazy("Head of household"), readonly=True
    )
    township = fields.Field(
        attribute="household__village__township__name", column_name=gettext_lazy("Township"), readonly=True
    )
    village = fields.Field(attribute="household__village__name", column_name=gettext_lazy("Village"), readonly=True)
    address = fields.Field(attribute="address", column_name=gettext_lazy("Address"), widget=CellWidget(cleaning.text))
    structure_type = fields.Field(
        attribute="structure_type",
        column_name=gettext_lazy("Structure type"),
        widget=CellWidget(cleaning.parse_structure_type, render=lambda s: Dwelling.StructureType(s).label),
    )
    storeys = fields.Field(
        attribute="storeys",
        column_name=gettext_lazy("Storeys"),
        widget=CellWidget(lambda v: cleaning.parse_int(v, unit="层")),
        saves_null_values=False,
    )
    bays = fields.Field(
        attribute="bays",
        column_name=gettext_lazy("Bays"),
        widget=CellWidget(lambda v: cleaning.parse_int(v, unit="间")),
    )
    floor_area = fields.Field(
        attribute="floor_area", column_name=gettext_lazy("Floor area (m²)"), widget=CellWidget(cleaning.parse_decimal)
    )
    year_built = fields.Field(
        attribute="year_built", column_name=gettext_lazy("Year built"), widget=CellWidget(cleaning.parse_year)
    )
    is_occupied = fields.Field(
        attribute="is_occupied",
        column_name=gettext_lazy("Household lives here"),
        widget=CellWidget(lambda v: cleaning.parse_bool(v) is not False, render=lambda b: _("Yes") if b else _("No")),
    )
    is_connected = fields.Field(
        attribute="is_connected",
        column_name=gettext_lazy("Connected house"),
        widget=CellWidget(lambda v: bool(cleaning.parse_bool(v)), render=lambda b: _("Yes") if b else _("No")),
    )
    neighbour_cooperates = fields.Field(
        attribute="neighbour_cooperates",
        column_name=gettext_lazy("Neighbour cooperates"),
        widget=CellWidget(cleaning.parse_bool, render=lambda b: _("Yes") if b else _("No")),
    )
    latitude = fields.Field(
        attribute="latitude", column_name=gettext_lazy("Latitude"), widget=CellWidget(cleaning.parse_coordinate)
    )
    longitude = fields.Field(
        attribute="longitude", column_name=gettext_lazy("Longitude"), widget=CellWidget(cleaning.parse_coordinate)
    )
    notes = fields.Field(attribute="notes", column_name=gettext_lazy("Notes"), widget=CellWidget(cleaning.text))

    class Meta:
        model = Dwelling
        fields = (
            "id",
            "household",
            "head_name",
            "township",
            "village",
            "address",
            "structure_type",
            "storeys",
            "bays",
            "floor_area",
            "year_built",
            "is_occupied",
            "is_connected",
            "neighbour_cooperates",
            "latitude",
            "longitude",
            "notes",
        )
        import_id_fields = ("id",)
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True

    def get_queryset(self):
        return Dwelling.objects.select_related("household__village__township")

    def get_or_init_instance(self, instance_loader, row):
        # A row naming a dwelling no. changes that dwelling; one not found (or outside the scope) is refused, not
        # created under the number it gives.
        instance, new = super().get_or_init_instance(instance_loader, row)
        if new:
            try:
                number = cleaning.parse_int(row.get(str(self.fields["id"].column_name)))
            except ValueError:
                number = None  # reported with the row's other errors
            if number:
                raise ValidationError({"id": str(no_dwelling_numbered(number))})
        return instance, new

    def township_of(self, instance):
        return instance.household.village.township_id if instance.household_id else None

    def do_instance_save(self, instance, is_create):
        services.save_dwelling(actor=self.user, dwelling=instance)


# The admin's import files ---------------------------------------------------------------------------------------


class SpreadsheetImportForm(ImportForm):
    """The admin's import form refuses a file that is too large or not a spreadsheet (housing_safety.spreadsheets)
    before import-export reads it: it would read the whole upload into memory first."""

    def clean_import_file(self):
        uploaded = self.cleaned_data["import_file"]
        try:
            check_spreadsheet(uploaded)
        except SpreadsheetError as error:
            raise ValidationError(str(error), code="unreadable") from error
        return uploaded


class SpreadsheetFormat:
    """An import format reading through the department lists' checked, streaming reader (households.sheets), not
    openpyxl's read-only mode, which yields every row up to the sheet's last (a row numbered 1,048,577 made it fill
    in a million blank rows, each of which import-export then ran as a row) and builds each row whole (one row of
    200,000 cells took 300 MB). The content decides how the file is read, whichever format was picked; blank rows
    are left out. import-export holds every row in memory and runs each through the services, so a file is limited
    to IMPORT_MAX_ROWS rows (below its header)."""

    def is_binary(self):
        return True  # bytes to the reader: it tells UTF-8 from GBK itself

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream, **kwargs):
        if isinstance(in_stream, str):
            in_stream = in_stream.encode("utf-8")
        limit = settings.IMPORT_MAX_ROWS
        rows = []
        for _number, cells in read_rows(io.BytesIO(in_stream)):
            if len(rows) > limit:
                raise SpreadsheetError(
                    _("The file has more than %(limit)s rows; import at most %(limit)s rows at a time.")
                    % {"limit": f"{limit:,}"}
                )
            rows.append(cells)
        width = max((len(cells) for cells in rows), default=0)
        dataset = tablib.Dataset()
        if rows:
            dataset.headers = rows[0] + [None] * (width - len(rows[0]))
            for cells in rows[1:]:
                dataset.append(cells + [None] * (width - len(cells)))
        return dataset


class XLSXImport(SpreadsheetFormat, base_formats.XLSX):
    pass


class CSVImport(SpreadsheetFormat, base_formats.CSV):
    pass

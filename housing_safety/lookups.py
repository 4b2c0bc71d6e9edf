"""`field__any_of=<subquery>`: membership in a subquery's rows, written so PostgreSQL reads the subquery once.

PostgreSQL plans `village_id IN (SELECT id FROM village WHERE township_id = 7)` as a join, and a join cannot use the
index on (village_id, head_name) to stop after the first page: it walked 469,000 households to list 50 of one
township (0.83 s). `village_id = ANY(ARRAY(SELECT ...))` evaluates the subquery first and scans the index in order
(0.5 ms). Other databases get the plain IN.

Below it, `exact` through a relation and `in` on integers match nothing for a number beyond the column's range.
"""

from django.core.exceptions import EmptyResultSet, FieldError
from django.db.models import Field, ForeignObject, IntegerField, Lookup
from django.db.models.fields.related_lookups import RelatedExact, RelatedIn
from django.db.models.lookups import In


@ForeignObject.register_lookup  # relations keep their own lookup table
@Field.register_lookup
class AnyOf(Lookup):
    lookup_name = "any_of"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} IN {rhs}", [*lhs_params, *rhs_params]

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(ARRAY{rhs})", [*lhs_params, *rhs_params]


# Integers beyond the column's range ------------------------------------------------------------------------------
#
# Django answers `id = <a number the column cannot hold>` with "no row" instead of sending it (IntegerFieldOverflow),
# but not through a relation (`village_id=`, an admin's `?household=` filter) nor for `in` (an autocomplete's
# selected value): there SQLite cannot bind a number over 2**63 and raised OverflowError, a 500. The same rule,
# extended to both: an out-of-range value matches nothing.


def _out_of_range(value, field, connection) -> bool:
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    try:
        target = getattr(field, "target_field", field)  # a relation compares its target's values
        low, high = connection.ops.integer_field_range(target.get_internal_type())
    except (KeyError, FieldError):  # not an integer column, or a relation over several columns
        return False
    return (low is not None and value < low) or (high is not None and value > high)


@ForeignObject.register_lookup
class RelatedExactInRange(RelatedExact):
    def process_rhs(self, compiler, connection):
        if self.rhs_is_direct_value() and _out_of_range(self.rhs, self.lhs.output_field, connection):
            raise EmptyResultSet
        return super().process_rhs(compiler, connection)


class _InRange:
    def process_rhs(self, compiler, connection):
        if self.rhs_is_direct_value():
            field = self.lhs.output_field
            self.rhs = [value for value in self.rhs if not _out_of_range(value, field, connection)]
        return super().process_rhs(compiler, connection)  # an empty list is EmptyResultSet there


@ForeignObject.register_lookup
class RelatedInInRange(_InRange, RelatedIn):
    pass


@IntegerField.register_lookup
class IntegerInInRange(_InRange, In):
    pass

"""`field__any_of=<subquery>`: membership in a subquery's rows, written so PostgreSQL reads the subquery once.

PostgreSQL plans `village_id IN (SELECT id FROM village WHERE township_id = 7)` as a join, and a join cannot use the
index on (village_id, head_name) to stop after the first page: it walked 469,000 households to list 50 of one
township (0.83 s). `village_id = ANY(ARRAY(SELECT ...))` evaluates the subquery first and scans the index in order
(0.5 ms). Other databases get the plain IN.
"""

from django.db.models import Field, ForeignObject, Lookup


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

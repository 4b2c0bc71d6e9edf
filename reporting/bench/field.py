"""The field app's line of the benchmark (issue 20): the work package of a village of 300 households, as the township
staff's demo account (新桥镇) takes it before going out of signal: its size (what the phone downloads, and so
FIELD_PACKAGE_BYTES_PER_ITEM), the time to build it (fieldwork.package.package_for and its JSON) and through the
API (/api/v1/field/package/), and its queries, which must not grow with the village or the database.

No synthetic village has 300 households (they hold the database's size over twelve villages a township), so one is
made for the measure: 300 of the township's covered households, the first by id with their dwellings, appraisals,
revisits and problems as generate_synthetic made them, are moved into a new village inside a transaction that is
rolled back afterwards: the database is left as it was. With fewer in the township, the line says how many."""

from __future__ import annotations

import json
import math

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from rest_framework.renderers import JSONRenderer

from households.models import Household, Village
from households.selectors import households_for_user
from housing_safety.access import scope_of

VILLAGE_HOUSEHOLDS = 300
WHO = "township"


def _queries(work) -> int:
    queries: list[str] = []
    with connection.execute_wrapper(lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)):
        work()
    return len(queries)


def line(bench, households: int = VILLAGE_HOUSEHOLDS) -> dict:
    from fieldwork.package import package_for  # the top app: imported when the line runs

    account = bench.users[WHO]
    with transaction.atomic():
        township_id = min(scope_of(account).township_ids)
        village = Village.objects.create(township_id=township_id, name="外业测速村", is_demo=True)
        ids = list(
            households_for_user(account)
            .filter(status=Household.Status.ACTIVE, village__township_id=township_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:households]
        )
        Household.objects.filter(pk__in=ids).update(village=village)

        def build() -> bytes:
            user = get_user_model().objects.get(pk=account.pk)  # as a request starts: nothing cached
            return JSONRenderer().render(package_for(user, village.pk))

        content = build()  # the bytes the phone downloads
        queries = _queries(build) - 1  # the account's own row, read by build() as a request's session would
        seconds = bench.median(build)
        client = bench.client(WHO)
        url = f"/api/v1/field/package/?village={village.pk}"
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}: {response.content[:300]!r}")
        api_seconds = bench.median(lambda: client.get(url))
        transaction.set_rollback(True)  # the village and the move are the measure's only

    body = json.loads(content)
    houses = sum(len(h["dwellings"]) for h in body["households"])
    to_appraise = sum(d["to_appraise"] for h in body["households"] for d in h["dwellings"])
    items = to_appraise + len(body["revisits"]) + len(body["problems"])
    in_package = len(body["households"])
    row = {
        "metric": "field_package",
        "village_households": in_package,
        "dwellings": houses,
        "items": items,
        "to_appraise": to_appraise,
        "revisits": len(body["revisits"]),
        "problems": len(body["problems"]),
        "kb": round(len(content) / 1024, 1),
        "bytes_per_household": round(len(content) / max(in_package, 1)),
        "bytes_per_item": math.ceil(len(content) / max(in_package + items, 1)),  # FIELD_PACKAGE_BYTES_PER_ITEM
        "build_ms": round(seconds * 1000, 1),
        "api_ms": round(api_seconds * 1000, 1),
        "queries": queries,
        "households": Household.objects.count(),
    }
    bench.emit(row)
    return row

"""The read replica (housing_safety/db_router.py): only the dashboard and the exports read from it, inside
use_replica(); every write, and every other read, goes to the primary.

The replica here is a second alias on the test database (a mirror, as in production's TEST setting), opened as its
own connection, so the queries each alias runs can be told apart. The tests commit their rows (transaction=True):
the second connection could not see rows inside another connection's test transaction.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from households.models import Village
from households.tests.factories import DwellingFactory, VillageFactory, make_user, township
from housing_safety.access import Role
from housing_safety.db_router import REPLICA, use_replica
from housing_safety.tests.kit import closed_port, service_missing

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def replica_alias():
    """What DATABASE_REPLICA_URL adds: a `replica` alias, here a mirror of the test database. Module-scoped so it
    exists before the test case is set up (Django lets a test use only the aliases it declares)."""
    connections.settings[REPLICA] = {**connections["default"].settings_dict, "TEST": {"MIRROR": "default"}}
    yield REPLICA
    connections[REPLICA].close()
    del connections[REPLICA]
    del connections.settings[REPLICA]


@pytest.fixture
def replica(replica_alias, settings):
    """The replica's connection, with the router that settings install alongside it."""
    settings.DATABASE_ROUTERS = ["housing_safety.db_router.ReplicaRouter"]
    return connections[replica_alias]


with_replica = pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=["default", REPLICA])


def statements(captured) -> list[str]:
    return [query["sql"] for query in captured.captured_queries]


def writes(captured) -> list[str]:
    return [sql for sql in statements(captured) if sql.lstrip().split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}]


@with_replica
def test_the_dashboard_reads_its_figures_from_the_replica(client, replica):
    DwellingFactory.create_batch(3)
    client.force_login(make_user(Role.BUREAU_OFFICIAL))
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(replica) as from_replica,
    ):
        response = client.get(reverse("reporting:dashboard"))
    assert response.status_code == 200
    assert len(from_replica) > 10
    assert all(sql.lstrip().upper().startswith(("SELECT", "WITH")) for sql in statements(from_replica))
    assert any('"households_household"' in sql for sql in statements(from_replica))
    # The primary only answers what runs before the view: the session, the user and their permissions.
    assert statements(primary)
    assert not any('"households_household"' in sql or '"households_dwelling"' in sql for sql in statements(primary))


@with_replica
def test_inside_use_replica_reads_go_to_the_replica_and_writes_to_the_primary(replica):
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(replica) as from_replica,
        use_replica(),
    ):
        village = VillageFactory(name="读写分离村")
        read_back = Village.objects.get(pk=village.pk)  # read from the replica...
        read_back.name = "读写分离二村"
        read_back.save(update_fields=["name"])  # ...and still saved to the primary
    assert writes(from_replica) == []
    assert any(sql.startswith('INSERT INTO "households_village"') for sql in writes(primary))
    assert any(sql.startswith('UPDATE "households_village"') for sql in writes(primary))
    assert any('"households_village"' in sql for sql in statements(from_replica))
    assert Village.objects.get(pk=village.pk).name == "读写分离二村"


@with_replica
def test_outside_use_replica_nothing_reaches_the_replica(client, replica):
    DwellingFactory.create_batch(2)
    client.force_login(make_user(Role.TOWNSHIP_STAFF, townships=[township()]))
    with CaptureQueriesContext(replica) as from_replica:
        assert client.get(reverse("inspections:field")).status_code == 200
        assert client.get(reverse("reporting:reports")).status_code == 200
        assert Village.objects.count() == 2
    assert statements(from_replica) == []


@with_replica
def test_the_export_reads_its_rows_from_the_replica(client, replica):
    DwellingFactory.create_batch(2)
    client.force_login(make_user(Role.BUREAU_ADMIN))
    with CaptureQueriesContext(replica) as from_replica:
        response = client.get(reverse("reporting:export", args=["households"]))
        b"".join(response.streaming_content)
    assert response.status_code == 200
    assert any('"households_household"' in sql for sql in statements(from_replica))
    assert writes(from_replica) == []


def settings_from(env: dict[str, str]) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'aliases': sorted(s.DATABASES), 'routers': s.DATABASE_ROUTERS, "
        "'default': s.DATABASES['default'], 'replica': s.DATABASES.get('replica', {})}, default=str))"
    )
    keep = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DATABASE_REPLICA_URL"}}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**keep, **env}, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_settings_add_the_replica_and_its_router_only_when_a_replica_url_is_set():
    primary = "postgres://app@db1.example:5432/housing_safety"
    with_replica = settings_from({"DATABASE_URL": primary, "DATABASE_REPLICA_URL": "postgres://app@db2.example/hs"})
    assert with_replica["aliases"] == ["default", "replica"]
    assert with_replica["routers"] == ["housing_safety.db_router.ReplicaRouter"]
    assert with_replica["replica"]["HOST"] == "db2.example"
    assert with_replica["replica"]["TEST"]["MIRROR"] == "default"
    assert (
        with_replica["replica"]["OPTIONS"]["options"] == "-c jit=off -c cursor_tuple_fraction=1"
    )  # the primary's session settings
    assert with_replica["replica"]["CONN_MAX_AGE"] == with_replica["default"]["CONN_MAX_AGE"]
    without = settings_from({"DATABASE_URL": primary})
    assert without["aliases"] == ["default"]
    assert without["routers"] == []


@with_replica
def test_a_replica_that_cannot_be_reached_sends_the_dashboard_to_the_primary_with_a_note(client, replica, caplog):
    """A stopped replica costs the dashboard its speed, not its answer (test_scaleout.py stops a real one)."""
    if replica.vendor != "postgresql":
        service_missing("an unreachable replica needs PostgreSQL (DATABASE_URL=postgres://…)")
    DwellingFactory.create_batch(2)
    client.force_login(make_user(Role.BUREAU_OFFICIAL))
    note = "只读副本数据库暂时无法连接：以下数字直接读自主数据库。"
    assert note not in client.get(reverse("reporting:dashboard")).content.decode()
    port = replica.settings_dict["PORT"]
    replica.close()
    replica.settings_dict["PORT"] = closed_port()
    try:
        with CaptureQueriesContext(connections["default"]) as primary:
            response = client.get(reverse("reporting:dashboard"))
    finally:
        replica.close()
        replica.settings_dict["PORT"] = port
    assert response.status_code == 200
    assert note in response.content.decode()
    assert response.context["totals"]["covered"] == 2
    assert any('"households_household"' in sql for sql in statements(primary))
    assert "read replica unreachable, reading from the primary" in caplog.text

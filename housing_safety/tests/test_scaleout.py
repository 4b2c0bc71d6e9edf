"""Scale-out on real parts (docs/deployment.md "Several hosts", issue 21): a PostgreSQL streaming replica made from
the test cluster with pg_basebackup, two gunicorn processes behind nginx, uploaded files on an S3-compatible server.

The replica tests prove where a page read by what it shows: with the replica's replay paused, the dashboard and the
export show the replica's older rows while the household's page (read after write) shows the new one from the
primary; the replica is a hot standby, so any write sent there would fail. Stopped, the dashboard answers from the
primary with a note. They commit their rows (transaction=True): a replica sees only what the primary committed.

The parts are started once per module (housing_safety/tests/scaleout.py); the tests run on one xdist worker
(xdist_group), and CI runs this module first, on its own (.ci/run: a hot standby waits for the primary's open
transactions, which a parallel worker's module-long test transaction would hold for minutes). Missing parts skip with
the reason, or fail under REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import datetime
import io
import os
import uuid
from types import SimpleNamespace

import pytest
import requests
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from households.models import Attachment
from households.tests.factories import DwellingFactory, make_user, png_bytes, township
from housing_safety.access import Role
from housing_safety.api import keys
from housing_safety.db_router import REPLICA
from housing_safety.models import PersonalDataAccess
from housing_safety.tests import scaleout
from housing_safety.tests.kit import PASSWORD, body

pytestmark = pytest.mark.xdist_group("scaleout")

NOTE = "只读副本数据库暂时无法连接：以下数字直接读自主数据库。"


# The replica ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def replica_server(django_db_setup):
    """A hot standby of the test cluster on its own port (made after the test database, which it therefore has)."""
    base = scaleout.new_base("hs-replica-")
    try:
        replica = scaleout.make_replica(connections["default"].settings_dict, base)
    except BaseException:
        scaleout.shutil.rmtree(base, ignore_errors=True)
        raise
    yield replica
    scaleout.remove_replica(replica)


@pytest.fixture(scope="module")
def replica_alias(replica_server):
    """What DATABASE_REPLICA_URL adds (settings.py), pointed at the real replica: the same test database on the
    replica's port. A mirror for Django's test machinery (never created, flushed or written by it)."""
    connections.settings[REPLICA] = {
        **connections["default"].settings_dict,
        "PORT": replica_server.port,
        "TEST": {"MIRROR": "default"},
    }
    yield replica_server
    connections[REPLICA].close()
    del connections[REPLICA]
    del connections.settings[REPLICA]


@pytest.fixture
def replica(replica_alias, settings):
    """The running replica, with the router that settings install alongside it; replay running on entry and exit."""
    if not replica_alias.running:
        pytest.fail("the replica was stopped by an earlier test: the stopping test must be the module's last")
    settings.DATABASE_ROUTERS = ["housing_safety.db_router.ReplicaRouter"]
    yield replica_alias
    replica_alias.resume_replay()


on_both = pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=["default", REPLICA])


def covered(client) -> int:
    response = client.get(reverse("reporting:dashboard"))
    assert response.status_code == 200
    return response.context["totals"]["covered"]


def export_rows(client) -> list[tuple]:
    response = client.get(reverse("reporting:export", args=["households"]))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return list(book.worksheets[0].iter_rows(min_row=2, values_only=True))


@on_both
def test_the_dashboard_and_the_export_read_the_replica_and_the_household_page_the_primary(client, replica):
    DwellingFactory.create_batch(2)
    admin = make_user(Role.BUREAU_ADMIN)
    client.force_login(admin)
    replica.caught_up()
    assert covered(client) == 2
    assert len(export_rows(client)) == 2

    replica.pause_replay()  # the replica now lags: what it shows is older than the primary
    new = DwellingFactory(household__head_name="副本未到户").household
    assert covered(client) == 2
    exported = export_rows(client)
    assert len(exported) == 2 and not any("副本未到户" in map(str, row) for row in exported)
    # Each export with full numbers writes its disclosure record inside use_replica(): a hot standby would refuse
    # the INSERT, so the pages above answering 200 with the rows on the primary shows the writes went there.
    assert PersonalDataAccess.objects.filter(user=admin, record_type="export").count() == 2
    household_page = client.get(reverse("inspections:household", args=[new.pk]))
    assert household_page.status_code == 200 and "副本未到户" in body(household_page)

    replica.resume_replay()
    replica.caught_up()
    assert covered(client) == 3
    assert any("副本未到户" in map(str, row) for row in export_rows(client))


@on_both
def test_the_replica_answers_the_dashboards_reads_and_nothing_else(client, replica):
    DwellingFactory.create_batch(2)
    client.force_login(make_user(Role.BUREAU_OFFICIAL))
    replica.caught_up()
    with CaptureQueriesContext(connections["default"]) as primary, CaptureQueriesContext(connections[REPLICA]) as on:
        assert client.get(reverse("reporting:dashboard")).status_code == 200
    assert any('"households_household"' in query["sql"] for query in on.captured_queries)
    assert not any('"households_household"' in query["sql"] for query in primary.captured_queries)
    with connections[REPLICA].cursor() as cursor:  # the alias really is the standby on its own port
        cursor.execute("SELECT pg_is_in_recovery(), current_setting('port')::int")
        assert cursor.fetchone() == (True, replica.port)


@on_both
def test_with_the_replica_stopped_the_dashboard_answers_from_the_primary_with_a_note(client, replica, caplog):
    """The replica tests' last: the replica stays stopped (a restarted hot standby may wait minutes for the
    primary's open transactions to end before it admits connections again)."""
    DwellingFactory.create_batch(3)
    client.force_login(make_user(Role.BUREAU_ADMIN))
    replica.caught_up()
    assert NOTE not in body(client.get(reverse("reporting:dashboard")))
    replica.pause_replay()
    DwellingFactory()  # on the primary only: the figures below come from there
    replica.stop()
    connections[REPLICA].close()
    response = client.get(reverse("reporting:dashboard"))
    assert response.status_code == 200
    assert response.context["totals"]["covered"] == 4
    assert NOTE in body(response)
    assert "read replica unreachable" in caplog.text
    assert len(export_rows(client)) == 4  # the export too, from the primary
    assert client.get(reverse("inspections:field")).status_code == 200  # pages that never read the replica


# Two web hosts behind nginx, files in an S3-compatible bucket ----------------------------------------------------------

BUCKET = "zfaq-media"


@pytest.fixture(scope="module")
def web(django_db_setup):
    """moto's S3 server, two gunicorn processes of the project (the test database, the bucket, one SECRET_KEY, a
    MEDIA_ROOT each that must stay empty) and nginx balancing them round robin. The hosts are other processes: the
    tests commit what they must see (transaction=True)."""
    import boto3

    database = connections["default"].settings_dict
    if database["ENGINE"] != "django.db.backends.postgresql":
        scaleout.service_missing("the load-balancer tests need PostgreSQL (the hosts share the test database)")
    nginx = scaleout.nginx_binary()
    base = scaleout.new_base("hs-web-")
    processes = []
    try:
        s3, s3_url = scaleout.start_s3(base)
        processes.append(s3)
        bucket = boto3.resource(
            "s3",
            endpoint_url=s3_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        ).Bucket(BUCKET)
        bucket.create()
        password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "MEDIA_", "CELERY_", "CACHE_"))}
        env = {
            **keep,
            "DJANGO_ENV": "development",
            "DATABASE_URL": f"postgres://{database['USER']}{password}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}",
            "SECRET_KEY": "scale-out-test: one key on every web host",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "EMAIL_URL": "dummymail://",
            "LOG_LEVEL": "WARNING",
            "MEDIA_S3_BUCKET": BUCKET,
            "MEDIA_S3_ENDPOINT_URL": s3_url,
            "MEDIA_S3_ACCESS_KEY_ID": "testing",
            "MEDIA_S3_SECRET_ACCESS_KEY": "testing",
            "MEDIA_S3_REGION": "us-east-1",
            "MEDIA_S3_ADDRESSING_STYLE": "path",
        }
        hosts, media = [], []
        for name in ("web1", "web2"):
            media.append(base / f"media-{name}")
            media[-1].mkdir()
            process, port = scaleout.start_gunicorn(base, name, {**env, "MEDIA_ROOT": str(media[-1])})
            processes.append(process)
            hosts.append((process, port, base / f"{name}.log"))
        for process, port, log in hosts:
            scaleout.wait_listening(f"http://127.0.0.1:{port}/healthz", process, log)
        balancer, port = scaleout.start_nginx(base, [port for _, port, _ in hosts])
        processes.append(balancer)
        scaleout.wait_listening(f"http://127.0.0.1:{port}/healthz", balancer, base / "nginx.log")
        yield SimpleNamespace(
            url=f"http://127.0.0.1:{port}",
            backends={f"127.0.0.1:{port}" for _, port, _ in hosts},
            bucket=bucket,
            media=media,
            nginx=nginx,
        )
    finally:
        for process in reversed(processes):  # gunicorn: SIGINT is its quick shutdown (SIGTERM waits for workers)
            scaleout.stop_process(
                process, scaleout.signal.SIGINT if "gunicorn" in process.args else scaleout.signal.SIGTERM
            )
        scaleout.shutil.rmtree(base, ignore_errors=True)


on_the_hosts = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def real_hasher(settings):
    """The hosts check passwords with the project's hashers, not the tests' fast MD5 one."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]


def log_in(web, user) -> requests.Session:
    """A browser's session through the load balancer: the login form, its CSRF token, the POST."""
    browser = requests.Session()
    assert browser.get(f"{web.url}{reverse('admin:login')}", timeout=30).status_code == 200
    answered = browser.post(
        f"{web.url}{reverse('admin:login')}",
        data={
            "username": user.username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
            "next": "/",
        },
        allow_redirects=False,
        timeout=30,
    )
    assert answered.status_code == 302 and answered.headers["Location"] == "/", answered.text[:2000]
    return browser


@on_the_hosts
def test_one_session_is_served_by_both_web_hosts_behind_nginx(web, real_hasher):
    official = make_user(Role.BUREAU_OFFICIAL)
    browser = log_in(web, official)
    answered_by = []
    for _ in range(4):
        home = browser.get(f"{web.url}/", allow_redirects=False, timeout=30)
        assert home.status_code == 200  # logged in on whichever host answers (anonymous: a 302 to the login)
        assert official.username in home.text
        answered_by.append(home.headers["X-Upstream"])
    assert set(answered_by) == web.backends  # round robin: both hosts served the one session
    assert requests.get(f"{web.url}/", allow_redirects=False, timeout=30).status_code == 302  # no session: login


@on_the_hosts
def test_a_file_uploaded_through_one_host_is_downloaded_through_either(web, real_hasher):
    staff = make_user(Role.TOWNSHIP_STAFF, townships=[township()])
    dwelling = DwellingFactory(household__village__township=township())
    plain = keys.issue_key(
        user=staff, name="外业 App", scopes=["write:appraisals"], expires_at=timezone.now() + datetime.timedelta(days=1)
    )[1]
    appraisal = {
        "kind": "assessment", "appraised_on": timezone.localdate().isoformat(), "organisation": "漳平市房屋安全鉴定站",
        "appraisers": "王工、陈工", "foundation": "a", "load_bearing_walls": "b", "timber_frame": "a", "roof_truss": "a",
        "concrete_frame": "n", "floor_roof_slab": "a", "grade": "B", "recommendation": "none",
    }  # fmt: skip
    uploaded = requests.post(
        f"{web.url}/api/v1/dwellings/{dwelling.pk}/appraisals/",
        data=appraisal,
        files={"photos": ("正面.png", png_bytes(), "image/png")},
        headers={"Authorization": f"Api-Key {plain}", "Idempotency-Key": str(uuid.uuid4())},
        timeout=60,
    )
    assert uploaded.status_code == 201, uploaded.text[:2000]
    attachment = Attachment.objects.get()
    # In the bucket, not on either host's disk.
    assert [item.key for item in web.bucket.objects.all()] == [attachment.file.name]
    assert not any(any(folder.rglob("*")) for folder in web.media)

    browser = log_in(web, staff)
    answered_by = set()
    for _ in range(2):
        download = browser.get(f"{web.url}{reverse('attachment-download', args=[attachment.pk])}", timeout=30)
        assert download.status_code == 200 and download.content == png_bytes()
        answered_by.add(download.headers["X-Upstream"])
    assert answered_by == web.backends  # the host that took the upload and the other one
    assert uploaded.headers["X-Upstream"] in web.backends

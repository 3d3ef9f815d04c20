"""make backup takes a verified base backup; make restore-drill restores it into a scratch server, runs
verify_audit, compares every clinical table with the backup and the source, and says PASS or FAIL;
make restore puts a backup in place of the data directory."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clinic.conftest import ROOT, localdb, manage

pytestmark = pytest.mark.xdist_group("scratch_clinic")


def backup_script(scratch, *args):
    return subprocess.run(
        [sys.executable, "scripts/backup.py", *args],
        cwd=ROOT,
        env=scratch.env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def take_backup(scratch):
    localdb.start(scratch.cluster)
    made = backup_script(scratch, "backup")
    assert made.returncode == 0, made.stdout + made.stderr
    assert "verified by pg_verifybackup" in made.stdout
    return Path(re.search(r"^backup: (\S+) \(", made.stdout, re.MULTILINE).group(1))


def patients(scratch):
    return int(localdb.psql(scratch.cluster, "SELECT count(*) FROM patients_patient", database="clinic"))


def tamper_audit(cluster, detail):
    """As the tables' owner could: rewrite the first audit event's detail behind the trigger."""
    localdb.psql(
        cluster,
        "ALTER TABLE audit_auditevent DISABLE TRIGGER USER; "
        f"UPDATE audit_auditevent SET detail = '{detail}' WHERE id = (SELECT min(id) FROM audit_auditevent); "
        "ALTER TABLE audit_auditevent ENABLE TRIGGER USER;",
        database="clinic",
    )


def test_the_drill_restores_the_latest_backup_and_passes(scratch_clinic):
    backup = take_backup(scratch_clinic)
    facts = json.loads((backup / "backup.json").read_text())
    assert facts["rows_before"]["patients_patient"] == patients(scratch_clinic) > 0
    assert {"audit_auditevent", "consent_riskdecision", "treatments_needlepoint"} <= set(facts["rows_after"])

    drill = backup_script(scratch_clinic, "drill")
    assert drill.returncode == 0, drill.stdout + drill.stderr
    assert "pg_verifybackup: every file and checksum as in the manifest" in drill.stdout
    assert "verify_audit (exit 0):" in drill.stdout
    assert "Audit chain intact" in drill.stdout
    for table in (
        "patients_patient",
        "treatments_needlingsession",
        "consent_consentrecord",
        "audit_auditevent",
    ):
        counted = re.search(rf"^  {table} +(\d+) +(\d+) +(\d+)$", drill.stdout, re.MULTILINE)
        assert counted, f"{table} is not compared:\n{drill.stdout}"
        assert counted.group(1) == counted.group(2), f"{table} restored other rows than it held"
    assert int(re.search(r"audit_auditevent +(\d+)", drill.stdout).group(1)) > 0
    assert drill.stdout.strip().endswith("when the backup was taken.")
    assert "verdict: PASS" in drill.stdout
    assert not list((scratch_clinic.var / "scratch").glob("drill-*")), "the scratch server is removed"


def test_the_drill_refuses_a_backup_whose_files_changed(scratch_clinic):
    backup = take_backup(scratch_clinic)
    with (backup / "base" / "base.tar.gz").open("r+b") as archive:
        # Every bit of 16 bytes inverted: writing zeros changed nothing when the stretch already held
        # zeros (a run of empty pages deflates to zero bits), and the drill then rightly passed.
        archive.seek(2000)
        stretch = archive.read(16)
        archive.seek(2000)
        archive.write(bytes(byte ^ 0xFF for byte in stretch))
    drill = backup_script(scratch_clinic, "drill", backup.name)
    assert drill.returncode == 1
    assert "verdict: FAIL: pg_verifybackup refused the backup" in drill.stdout


def test_the_drill_fails_a_restored_copy_with_a_broken_audit_chain_or_other_rows(scratch_clinic):
    cluster = scratch_clinic.cluster
    original = localdb.psql(
        cluster, "SELECT detail FROM audit_auditevent ORDER BY id LIMIT 1", database="clinic"
    )
    tamper_audit(cluster, "rewritten")
    try:
        backup = take_backup(scratch_clinic)
    finally:
        tamper_audit(cluster, original)
    # And a backup that does not hold what was there when it was taken.
    facts_file = backup / "backup.json"
    facts = json.loads(facts_file.read_text())
    held = facts["rows_before"]["patients_patient"]
    facts["rows_before"]["patients_patient"] = facts["rows_after"]["patients_patient"] = held + 1
    facts_file.write_text(json.dumps(facts))

    drill = backup_script(scratch_clinic, "drill", str(backup))
    assert drill.returncode == 1, drill.stdout
    assert "verdict: FAIL" in drill.stdout
    assert "verify_audit did not pass on the restored copy" in drill.stdout
    assert f"patients_patient: {held} rows restored, {held + 1} at backup" in drill.stdout


def test_restore_puts_a_backup_in_place_and_keeps_the_old_data_aside(scratch_clinic):
    cluster = scratch_clinic.cluster
    backup = take_backup(scratch_clinic)
    at_backup = patients(scratch_clinic)
    manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from tests.factories import PatientFactory; PatientFactory()",
        env=scratch_clinic.env,
    )
    assert patients(scratch_clinic) == at_backup + 1

    running = backup_script(scratch_clinic, "restore", backup.name)
    assert running.returncode != 0 and "stop `make run`" in running.stderr, "never under a running server"

    localdb.stop(cluster)
    restored = backup_script(scratch_clinic, "restore", backup.name)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    aside = Path(re.search(r"kept in (\S+);", restored.stdout).group(1))
    try:
        assert (aside / "PG_VERSION").exists()
        localdb.start(cluster)
        assert patients(scratch_clinic) == at_backup, "the database is as it was at the backup"
    finally:
        shutil.rmtree(aside)


def test_an_archive_whose_bytes_still_inflate_but_changed_is_refused(tmp_path):
    """A few bytes changed inside a gzip stream can still inflate, into other bytes, in a file
    pg_verifybackup skips; the archive's own CRC-32 catches it (the check behind the drill's refusal)."""
    import gzip

    from tests.clinic.conftest import load_script

    backup_module = load_script("backup")
    base = tmp_path / "backup" / "base"
    base.mkdir(parents=True)
    archive = base / "base.tar.gz"
    archive.write_bytes(gzip.compress(b"PG_VERSION 18\n" * 1000))
    assert backup_module.verify_compression(tmp_path / "backup") == (True, "")
    data = bytearray(archive.read_bytes())
    data[-8] ^= 0xFF  # the CRC-32 of the inflated bytes: as if they had come out different
    archive.write_bytes(bytes(data))
    intact, why = backup_module.verify_compression(tmp_path / "backup")
    assert not intact and why.startswith("base.tar.gz: ")

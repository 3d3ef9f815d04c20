"""The run cluster (`make run`: the clinic's records) keeps every write it acknowledged through a crash;
the throwaway test cluster trades that for speed, and neither is ever served with the other's settings."""

import json
import subprocess
import sys

import pytest
from django.db import connection

from tests.clinic.conftest import ROOT, command_environment, localdb

pytestmark = pytest.mark.xdist_group("scratch_clinic")


def settings_of(cluster):
    rows = localdb.psql(
        cluster, "SELECT name, setting FROM pg_settings WHERE name IN " + str(tuple(localdb.DURABLE))
    )
    return dict(line.split("|") for line in rows.splitlines())


def test_a_crash_under_writers_loses_no_acknowledged_registration(scratch_clinic):
    # bench/crash_durability.py, one short round on this cluster (docs/benchmarks.md has the long runs).
    result = subprocess.run(
        [sys.executable, "bench/crash_durability.py", "--cluster", "run", "--var", str(scratch_clinic.var)]
        + ["--writers", "3", "--seconds", "2", "--rounds", "1", "--json"],
        cwd=ROOT,
        env=command_environment(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["acknowledged"] >= 20, "the writers must really have been writing when the server died"
    assert figures["missing"] == 0
    assert localdb.is_running(scratch_clinic.cluster), "the bench leaves the recovered server running"


def test_the_run_cluster_is_durable(scratch_clinic):
    localdb.start(scratch_clinic.cluster)
    assert settings_of(scratch_clinic.cluster) == {
        "fsync": "on",
        "synchronous_commit": "on",
        "full_page_writes": "on",
    }


def test_the_test_cluster_is_throwaway(db):
    host = connection.settings_dict["OPTIONS"].get("host", "")
    if host != str(localdb.Cluster("test").sockets):
        pytest.skip(f"the suite runs on {host or 'another server'}, not on localdb's test cluster")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, setting FROM pg_settings WHERE name = ANY(%s)", [list(localdb.DURABLE)])
        assert dict(cursor.fetchall()) == {
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }


def test_a_cluster_running_with_the_other_settings_is_refused(scratch_clinic):
    cluster = scratch_clinic.cluster
    localdb.stop(cluster)
    # As an older localdb started it: the test cluster's speed settings on the command line.
    unsafe = " ".join(f"-c {name}={value}" for name, value in localdb.THROWAWAY.items())
    localdb.pg(
        [
            localdb.bin_path("pg_ctl"),
            "-D",
            str(cluster.data),
            "-l",
            str(cluster.log),
            "-w",
            "-o",
            unsafe,
            "start",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        with pytest.raises(SystemExit) as refused:
            localdb.start(cluster)
        assert "is running with fsync=off" in str(refused.value)
        assert "stop" in str(refused.value)
    finally:
        localdb.stop(cluster)
        localdb.start(cluster)
    assert settings_of(cluster)["fsync"] == "on"

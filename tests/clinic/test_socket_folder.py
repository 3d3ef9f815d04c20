"""The local clusters' Unix socket fits in the 107 bytes a socket's path may hold, however deep the checkout
(a fresh clone under /tmp/tmp.XXXX/project runs the restore drill's scratch cluster five folders down)."""

import socket
import tempfile
from pathlib import Path

from tests.clinic.conftest import localdb

SOCKET = ".s.PGSQL.5432"


def test_a_shallow_checkout_keeps_its_socket_under_var():
    cluster = localdb.Cluster("test", var="/srv/ims/var")
    assert cluster.sockets == Path("/srv/ims/var/test/run")


def test_a_deep_checkout_gets_a_short_socket_folder_of_its_own():
    deep = "/tmp/tmp.zgWf6vxFU6/project/var/scratch/suite-qfve6fb8/scratch/drill-20261130T071249Z"
    cluster = localdb.Cluster("test", var=deep)
    assert len(str(Path(deep) / "test" / "run" / SOCKET)) > localdb.SOCKET_PATH_MAX
    assert cluster.sockets.parent == Path(tempfile.gettempdir())
    assert len(str(cluster.sockets / SOCKET).encode()) <= localdb.SOCKET_PATH_MAX
    # Each cluster its own folder; the same cluster the same one every time (make run finds its server).
    assert localdb.Cluster("test", var=deep + "x").sockets != cluster.sockets
    assert localdb.Cluster("test", var=deep).sockets == cluster.sockets


def test_the_short_folder_takes_a_socket(tmp_path):
    folder = localdb.socket_folder(tmp_path / ("deep" * 30) / "run")
    folder.mkdir(exist_ok=True)
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(folder / SOCKET))
    (folder / SOCKET).unlink()

"""
C{twistd -n oso} as a real process: the default installation starts in an
empty folder, says it is ready, serves CSTA, and stops cleanly on SIGTERM.

The default installation listens for CSTA on TCP 8800 and serves the
G-Server on 8802; these tests run it with a configuration that changes
only that, to free loopback ports, so that tests running in parallel never
compete for them.
"""

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from oso.csta import ber
from oso.csta import messages as m
from oso.csta.framing import BERFramer

DEMO = re.compile(r"demo extension (\d+) password (\S+)$")
LISTENING = re.compile(r"CSTAFactory starting on (\d+)$")


def freePorts(folder):
    """
    Write C{free-ports.toml} into C{folder}: the default installation with
    its CSTA and G-Server listeners on free loopback ports.

    @return: the arguments that start twistd with it.
    """
    (folder / "free-ports.toml").write_text(
        '[components.csta]\nlisten = ["tcp:0:interface=127.0.0.1"]\n'
        '[components.gserver]\nlisten = ["ssl:0:interface=127.0.0.1"]\n'
    )
    return ["-n", "oso", "--config", "free-ports.toml"]


def demoLines(lines):
    return dict(match.groups() for line in lines if (match := DEMO.search(line)))


def test_defaultInstallation(tmp_path, twistd):
    """
    With the default settings, C{twistd -n oso} creates C{./oso-data/} with
    its store, prints the six demo passwords once, says it is ready, and on
    SIGTERM stops every component and closes the store; twistd then ends
    by the signal it got, as it does for every clean SIGTERM shutdown.  The
    second start reuses the data and prints no password.
    """
    first = twistd(freePorts(tmp_path), cwd=tmp_path)
    ready = first.waitFor("oso ready:")
    assert ready.endswith(
        f"oso ready: components virtual-phones, csta, cdr, gserver; data {tmp_path / 'oso-data'}"
    )
    assert first.stop() == -signal.SIGTERM
    output = first.output()
    assert "oso stopped" in output
    assert "Traceback" not in output
    assert sorted(demoLines(first.lines)) == ["100", "101", "102", "103", "104", "105"]
    assert (tmp_path / "oso-data" / "oso.sqlite").is_file()
    assert not (tmp_path / "twistd.pid").exists()

    second = twistd(freePorts(tmp_path), cwd=tmp_path)
    second.waitFor("oso ready:")
    assert second.stop() == -signal.SIGTERM
    assert demoLines(second.lines) == {}
    assert "oso stopped" in second.output()


def test_interruptStopsCleanly(tmp_path, twistd):
    """
    SIGINT (Ctrl-C) stops the server the same clean way as SIGTERM.
    """
    process = twistd(freePorts(tmp_path) + ["--data-dir", "data"], cwd=tmp_path)
    process.waitFor("oso ready:")
    process.process.send_signal(signal.SIGINT)
    assert process.finish() == -signal.SIGINT
    assert "oso stopped" in process.output()
    assert (tmp_path / "data" / "oso.sqlite").is_file()


def test_defaultInstallationServesCSTA(tmp_path, twistd):
    """
    The default installation serves CSTA: a BER client's AARQ is accepted
    and SystemStatus (normal) follows.
    """
    process = twistd(freePorts(tmp_path), cwd=tmp_path)
    port = int(LISTENING.search(process.waitFor("CSTAFactory starting on")).group(1))
    process.waitFor("oso ready:")
    framer = BERFramer()
    frames = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
        client.sendall(ber.encode(m.AssociationRequest(applicationContextName="1.3.12.0.285.200")))
        while len(frames) < 2:
            data = client.recv(4096)
            assert data, "the server closed the link"
            frames += framer.feed(data)
    aare, status = [ber.decode(frame) for frame in frames]
    assert aare.result is m.AssociateResult.accepted
    assert status.argument == m.SystemStatus(systemStatus=m.SystemStatusValue.normal)
    assert process.stop() == -signal.SIGTERM
    assert "Traceback" not in process.output()


def test_startFailureExitsNonZero(tmp_path, twistd):
    """
    A server that cannot start (its data directory is a file) says why and
    ends with exit status 1, not 0.
    """
    (tmp_path / "occupied").write_text("a file")
    process = twistd(["-n", "oso", "--data-dir", "occupied"], cwd=tmp_path)
    assert process.finish() == 1
    output = process.output()
    assert f"oso failed to start: the data directory {tmp_path / 'occupied'} is not a directory" in output
    assert "oso ready" not in output


def test_badConfigurationExitsBeforeStarting(tmp_path, twistd):
    """
    A configuration error ends twistd at once with status 1 and the message
    naming the file and the key.
    """
    (tmp_path / "oso.toml").write_text("[server]\ncolour = 'blue'\n")
    process = twistd(["-n", "oso", "--config", "oso.toml"], cwd=tmp_path)
    assert process.finish() == 1
    assert "oso.toml: server.colour: unknown key" in process.output()
    assert not (tmp_path / "oso-data").exists()


def test_installedPackageOffersTwistdOso(tmp_path):
    """
    Installed with pip (no checkout on the path), the package makes
    C{twistd --help} list the C{oso} command.
    """
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    installed = subprocess.run(
        [sys.executable, "-c", "import oso"], cwd=tmp_path, env=environment
    )
    if installed.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must test the installed package: pip install . did not install oso")
        pytest.skip("oso is not installed here (pip install . installs it)")
    executable = Path(sys.executable).with_name("twistd")
    result = subprocess.run(
        [str(executable), "--help"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"^\s+oso\s+An open-source communications server", result.stdout, re.M)

"""
C{twistd -n oso} as a real process: the default installation starts in an
empty folder, says it is ready, and stops cleanly on SIGTERM.
"""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

DEMO = re.compile(r"demo extension (\d+) password (\S+)$")


def demoLines(lines):
    return dict(match.groups() for line in lines if (match := DEMO.search(line)))


def test_defaultInstallation(tmp_path, twistd):
    """
    Without configuration, C{twistd -n oso} creates C{./oso-data/} with its
    store, prints the six demo passwords once, says it is ready, and on
    SIGTERM stops every component and closes the store; twistd then ends
    by the signal it got, as it does for every clean SIGTERM shutdown.  The
    second start reuses the data and prints no password.
    """
    first = twistd(["-n", "oso"], cwd=tmp_path)
    ready = first.waitFor("oso ready:")
    assert ready.endswith(
        f"oso ready: components virtual-phones; data {tmp_path / 'oso-data'}"
    )
    assert first.stop() == -signal.SIGTERM
    output = first.output()
    assert "oso stopped" in output
    assert "Traceback" not in output
    assert sorted(demoLines(first.lines)) == ["100", "101", "102", "103", "104", "105"]
    assert (tmp_path / "oso-data" / "oso.sqlite").is_file()
    assert not (tmp_path / "twistd.pid").exists()

    second = twistd(["-n", "oso"], cwd=tmp_path)
    second.waitFor("oso ready:")
    assert second.stop() == -signal.SIGTERM
    assert demoLines(second.lines) == {}
    assert "oso stopped" in second.output()


def test_interruptStopsCleanly(tmp_path, twistd):
    """
    SIGINT (Ctrl-C) stops the server the same clean way as SIGTERM.
    """
    process = twistd(["-n", "oso", "--data-dir", "data"], cwd=tmp_path)
    process.waitFor("oso ready:")
    process.process.send_signal(signal.SIGINT)
    assert process.finish() == -signal.SIGINT
    assert "oso stopped" in process.output()
    assert (tmp_path / "data" / "oso.sqlite").is_file()


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

"""
Shared fixtures: third-party plugin folders, and C{twistd oso} run as a real
process.
"""

import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from hypothesis import settings

import oso.plugins

# A test never asserts a time: hypothesis's per-example deadline would,
# and fails on a loaded machine.
settings.register_profile("oso", deadline=None)
settings.load_profile("oso")

#: The checkout: the folder holding C{oso/} and C{twisted/plugins/}.
CHECKOUT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def temporaryWorkingDirectory(tmp_path_factory, monkeypatch):
    """
    Run every test in an empty working directory of its own, so that
    relative paths (C{twisted.trial}'s C{mktemp}, a default C{./oso-data})
    never land in the checkout.
    """
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


@pytest.fixture
def dropIn(tmp_path, monkeypatch):
    """
    Write third-party plugin modules into an C{oso/plugins/} folder (without
    C{__init__.py}) and put the folder's root on C{sys.path}, the way a user
    drops a component in; undo it afterwards.

    @return: a function taking C{{moduleName: source}} and returning the
        root folder it put on C{sys.path}.
    """
    added = []
    count = 0

    def write(modules):
        nonlocal count
        count += 1
        root = tmp_path / f"site{count}"
        folder = root / "oso" / "plugins"
        folder.mkdir(parents=True)
        for moduleName, source in modules.items():
            (folder / f"{moduleName}.py").write_text(textwrap.dedent(source))
            added.append(f"oso.plugins.{moduleName}")
        monkeypatch.syspath_prepend(str(root))
        return root

    originalPath = list(oso.plugins.__path__)
    yield write
    oso.plugins.__path__[:] = originalPath
    for name in added:
        sys.modules.pop(name, None)


class Twistd:
    """
    One C{twistd} process, its output read line by line as it comes.

    @ivar lines: every line read so far.
    """

    def __init__(self, arguments, cwd, pythonPath=()):
        """
        @param arguments: the arguments after C{twistd}.
        @param cwd: the working directory.
        @param pythonPath: folders to put first on the child's C{sys.path}
            (the checkout is always first).
        """
        executable = Path(sys.executable).with_name("twistd")
        command = (
            [str(executable)]
            if executable.exists()
            else [sys.executable, "-c", "from twisted.scripts.twistd import run; run()"]
        )
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(
            [str(CHECKOUT), *map(str, pythonPath)]
        )
        self.lines = []
        self._queue = queue.Queue()
        self.process = subprocess.Popen(
            command + list(arguments),
            cwd=cwd,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def waitFor(self, text, timeout=60):
        """
        Read output until a line holds C{text}.

        @return: that line.
        @raise AssertionError: when the process ends or C{timeout} seconds
            pass first.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    f"no line with {text!r} within {timeout} s:\n" + self.output()
                ) from None
            if line is None:
                self._queue.put(None)
                raise AssertionError(
                    f"twistd ended without a line with {text!r}:\n" + self.output()
                )
            self.lines.append(line)
            if text in line:
                return line

    def finish(self, timeout=60):
        """
        Wait for the process to end and read the rest of its output.

        @return: its exit status (negative: the signal that ended it).
        """
        status = self.process.wait(timeout)
        while (line := self._queue.get(timeout=timeout)) is not None:
            self.lines.append(line)
        self._queue.put(None)
        return status

    def stop(self, timeout=60):
        """
        Send SIGTERM and wait for the process to end.

        @return: its exit status.
        """
        self.process.send_signal(signal.SIGTERM)
        return self.finish(timeout)

    def output(self):
        return "\n".join(self.lines)


@pytest.fixture
def twistd():
    """
    Start C{twistd} processes that are killed if a test leaves them running.

    @return: a function taking L{Twistd}'s arguments.
    """
    started = []

    def start(arguments, cwd, pythonPath=()):
        process = Twistd(arguments, cwd, pythonPath)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.process.poll() is None:
            process.process.kill()
            process.process.wait()

"""
Tests for C{oso-cti} (L{oso.cti.cli}): the real command, run as
C{python -m oso.cti.cli} in a child process, against a CSTA server with
virtual phones listening on a loopback port of this test's reactor, in
BER and XML; and its exit codes.
"""

import os
import signal
import sys
from pathlib import Path

from twisted.internet import defer, protocol, reactor
from twisted.internet.endpoints import serverFromString
from twisted.internet.task import deferLater
from twisted.internet.utils import getProcessOutputAndValue
from twisted.trial.unittest import TestCase

from oso.callmodel.states import LocalConnectionState as S
from oso.csta.callcontrol import CallControl
from oso.csta.monitors import Monitors
from oso.csta.protocol import CSTAFactory
from oso.testing import Exchange

COMMAND = [sys.executable, "-m", "oso.cti.cli"]
# The child imports this checkout's oso, installed or not.
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2]), os.environ.get("PYTHONPATH", "")])}


class Watcher(protocol.ProcessProtocol):
    """
    An C{oso-cti monitor} child: its lines as they come, its exit code.
    """

    def __init__(self):
        self.text = b""
        self.ended = defer.Deferred()

    def outReceived(self, data):
        self.text += data

    def errReceived(self, data):
        self.text += data

    def lines(self):
        return self.text.decode().splitlines()

    def processEnded(self, reason):
        self.ended.callback(reason.value.exitCode)


class CLITests(TestCase):
    timeout = 180  # each test runs the oso-cti command as a process; slow under a loaded -n 2 run
    maxDiff = None

    def setUp(self):
        return defer.ensureDeferred(self.serve())

    async def serve(self):
        self.exchange = Exchange()
        factory = CSTAFactory(reactor, self.exchange.model)
        CallControl(self.exchange.model).register(factory.services)
        monitors = Monitors(self.exchange.model)
        monitors.register(factory.services)
        monitors.startService()
        self.addCleanup(monitors.stopService)
        self.port = await serverFromString(reactor, "tcp:0:interface=127.0.0.1").listen(factory)
        self.addCleanup(self.stop, factory)
        self.factory = factory
        self.server = f"127.0.0.1:{self.port.getHost().port}"

    async def stop(self, factory):
        await defer.maybeDeferred(self.port.stopListening)
        for link in list(factory.links):
            link.transport.abortConnection()

    async def cti(self, *arguments, encoding="--ber"):
        """
        Run C{oso-cti} to its end.

        @return: C{(stdout, stderr, exit code)} as text.
        """
        out, err, code = await getProcessOutputAndValue(
            sys.executable, COMMAND[1:] + ["--server", self.server, encoding, *arguments], env=ENV
        )
        return out.decode(), err.decode(), code

    async def commands(self, encoding):
        watcher = Watcher()
        process = reactor.spawnProcess(
            watcher, sys.executable,
            COMMAND + ["--server", self.server, encoding, "monitor", "100", "101"], env=ENV,
        )
        self.addCleanup(lambda: process.pid and process.signalProcess("KILL"))
        while "monitoring 101" not in watcher.lines():
            self.assertFalse(watcher.ended.called, watcher.text)
            await deferLater(reactor, 0.02, lambda: None)

        out, err, code = await self.cti("dial", "100", "101", encoding=encoding)
        self.assertEqual((out, err, code), ("call 1 100@1\n", "", 0))
        out, err, code = await self.cti("answer", "101", encoding=encoding)
        self.assertEqual((out, code), ("answered 101@1\n", 0))
        out, err, code = await self.cti("snapshot", "100", encoding=encoding)
        self.assertEqual((out, code), ("100@1 connected connected\n", 0))
        self.assertEqual(
            [(d, state) for d, _, state in self.exchange.model.snapshotCall("1")],
            [("100", S.connected), ("101", S.connected)],
        )
        out, err, code = await self.cti("hold", "100", encoding=encoding)
        self.assertEqual((out, code), ("held 100@1\n", 0))
        out, err, code = await self.cti("hangup", "100", encoding=encoding)
        self.assertEqual((out, code), ("cleared 100@1\n", 0))
        self.assertEqual(self.exchange.model.calls(), [])

        # Refusals: the universal failure on stderr, status 1.
        out, err, code = await self.cti("dial", "999", "101", encoding=encoding)
        self.assertEqual((out, code), ("", 1))
        self.assertIn("invalidCallingDeviceID", err)
        out, err, code = await self.cti("answer", "101", encoding=encoding)
        self.assertEqual((out, code), ("", 1))
        self.assertIn("no call alerting at 101", err)

        out, err, code = await self.cti("dnd", "101", "on", encoding=encoding)
        self.assertEqual((out, code), ("101 do not disturb on\n", 0))
        out, err, code = await self.cti("forward", "101", "102", encoding=encoding)
        self.assertEqual((out, code), ("101 forwarded to 102\n", 0))
        out, err, code = await self.cti("forward", "101", "off", encoding=encoding)
        self.assertEqual((out, code), ("101 forwarding off\n", 0))

        while not any(" CallCleared" in line and line.startswith("101") for line in watcher.lines()):
            await deferLater(reactor, 0.02, lambda: None)
        process.signalProcess(signal.SIGINT)
        self.assertEqual(await watcher.ended, 0)
        lines = watcher.lines()
        self.assertEqual(
            [line for line in lines if line.startswith("100 ")],
            [
                "100 ServiceInitiated 100@1 cause=makeCall call1=dialtone",
                "100 Originated 100@1 cause=makeCall call1=dialing",
                "100 Delivered 101@1 cause=newCall call1=ringback",
                "100 Established 101@1 cause=newCall call1=connected",
                "100 Held 100@1 cause=normal call1=onhold",
                "100 ConnectionCleared 100@1 cause=normalClearing call1=idle",
                "100 CallCleared call 1 cause=normalClearing",
            ],
        )
        self.assertIn("101 Delivered 101@1 cause=newCall call1=offering", lines)

    def test_ber(self):
        return defer.ensureDeferred(self.commands("--ber"))

    def test_xml(self):
        return defer.ensureDeferred(self.commands("--xml"))

    def test_transfer(self):
        async def run():
            self.exchange.phone("100").offHook("101")
            self.exchange.phone("101").answer()
            out, err, code = await self.cti("transfer", "101", "102")
            self.assertEqual((out, err, code), ("transferred 101@1 to 102\n", "", 0))
            self.assertEqual({d for d, _, _ in self.exchange.model.snapshotCall("1")}, {"100", "102"})

        return defer.ensureDeferred(run())

    def test_cannotConnect(self):
        async def run():
            await self.port.stopListening()
            out, err, code = await self.cti("snapshot", "100")
            self.assertEqual((out, code), ("", 3))
            self.assertIn("cannot reach", err)

        return defer.ensureDeferred(run())

    def test_monitorLinkLost(self):
        """
        A monitor whose link the server drops ends with status 3.
        """

        async def run():
            watcher = Watcher()
            process = reactor.spawnProcess(
                watcher, sys.executable, COMMAND + ["--server", self.server, "monitor", "100"], env=ENV
            )
            self.addCleanup(lambda: process.pid and process.signalProcess("KILL"))
            while "monitoring 100" not in watcher.lines():
                self.assertFalse(watcher.ended.called, watcher.text)
                await deferLater(reactor, 0.02, lambda: None)
            for link in list(self.factory.links):
                link.transport.abortConnection()
            self.assertEqual(await watcher.ended, 3)
            self.assertIn("oso-cti: ", watcher.lines()[-1])

        return defer.ensureDeferred(run())

    def test_usage(self):
        async def run():
            for arguments in (["dial", "100"], ["fly", "100"], ["dnd", "100", "maybe"]):
                out, err, code = await self.cti(*arguments)
                self.assertEqual(code, 2)
                self.assertIn("usage: oso-cti", err)
            out, err, code = await getProcessOutputAndValue(
                sys.executable, COMMAND[1:] + ["--server", "nohost", "snapshot", "100"], env=ENV
            )
            self.assertEqual(code, 2)

        return defer.ensureDeferred(run())

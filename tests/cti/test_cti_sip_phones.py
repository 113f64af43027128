"""
Issue 5's end-to-end run with SIP phones: a real C{twistd oso} with the
C{virtual-phones}, C{csta}, C{sip} and C{sip-lines} components; three SIP
extensions registered (digest) by SIPp phones that answer by themselves;
a CSTA client on BER and one on XML on the same CSTA port at once, both
monitoring two of the extensions, and the real C{oso-cti monitor} as a
child process.  MakeCall, hold and retrieve, consultation and transfer to
the third phone, and clearing the call: every monitor of every client gets
the same events, and C{oso-cti} prints the same lines.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from twisted.internet import defer, reactor
from twisted.internet.task import deferLater
from twisted.trial.unittest import TestCase

from oso.csta import messages as m
from oso.csta.framing import Encoding
from oso.cti.callstates import LineStates
from oso.cti.cli import describe
from oso.cti.client import ClientSettings
from oso.cti.protocol import connect

SCENARIOS = Path(__file__).resolve().parents[1] / "sip" / "sipp"
CHECKOUT = Path(__file__).resolve().parents[2]
PASSWORDS = {"200": "pw-200-secret", "201": "pw-201-secret", "202": "pw-202-secret"}
#: The two monitored extensions: the caller and the called.
MONITORED = ("200", "201")
LISTENING = re.compile(r"CSTAFactory starting on (\d+)$")


def freePort(kind):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def configuration(sipPort):
    devices = "".join(
        f'[[devices]]\nnumber = "{number}"\nname = "Phone {number}"\n'
        f'port = "sip-lines"\npassword = "{password}"\n\n'
        for number, password in PASSWORDS.items()
    )
    return (
        '[server]\nrealm = "oso"\n'
        'components = ["virtual-phones", "csta", "sip", "sip-lines"]\n\n'
        f"{devices}"
        f'[components.sip]\nlisten = ["udp:{sipPort}:interface=127.0.0.1"]\n\n'
        '[components.csta]\nlisten = ["tcp:0:interface=127.0.0.1"]\n'
    )


class SIPpPhone:
    """
    A SIPp process answering C{calls} calls for one extension
    (C{uas_answer.xml}: rings, answers, answers re-INVITEs and the BYE),
    registered with the extension's password from another SIPp.
    """

    def __init__(self, folder, number, calls, server):
        self.number = number
        self.port = freePort(socket.SOCK_DGRAM)
        self.process = self._sipp(folder, "uas_answer.xml", self.port, "-m", str(calls))
        csv = folder / f"register-{number}.csv"
        csv.write_text(f"SEQUENTIAL\n{number};127.0.0.1:{self.port}\n")
        registering = self._sipp(
            folder, "register.xml", freePort(socket.SOCK_DGRAM), "-m", "1", "-inf", str(csv),
            "-au", number, "-ap", PASSWORDS[number], server,
        )
        status = registering.wait(40)
        assert status == 0, f"SIPp REGISTER of {number} with digest failed"

    def _sipp(self, folder, scenario, port, *arguments):
        return subprocess.Popen(
            ["sipp", "-sf", str(SCENARIOS / scenario), "-i", "127.0.0.1", "-p", str(port),
             "-nostdin", "-timeout", "60", "-timeout_error", "-trace_err", *arguments],
            cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
        return self.process.wait(30)


class Monitoring:
    """
    One CSTA client monitoring the extensions: each monitor's events as
    they come (their cross reference blanked, the one field that differs
    between links), and the lines C{oso-cti} would print for them.
    """

    def __init__(self, link):
        self.link = link
        self.events = {device: [] for device in MONITORED}
        self.lines = {device: [] for device in MONITORED}

    async def start(self):
        for device in MONITORED:
            response = await self.link.invoke(m.MonitorStart(monitorObject=device))
            states = LineStates(device)

            def received(event, device=device, states=states):
                self.events[device].append(replace(event, monitorCrossRefID=""))
                self.lines[device].append(describe(device, event, states.feed(event)))

            self.link.addEventObserver(received, response.monitorCrossRefID)

    def names(self, device):
        return [type(event).__name__.removesuffix("Event") for event in self.events[device]]


class Console:
    """
    C{oso-cti --server ... monitor 200 201}, the real command in a child
    process, its output read as it comes.
    """

    def __init__(self, port):
        environment = dict(os.environ, PYTHONPATH=str(CHECKOUT))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "oso.cti.cli", "--server", f"127.0.0.1:{port}", "monitor", *MONITORED],
            env=environment, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
        )
        self.text = []
        reactor.callInThread(self._read)

    def _read(self):
        for line in self.process.stdout:
            self.text.append(line.rstrip("\n"))

    def lines(self, device):
        return [line for line in self.text if line.startswith(device + " ")]

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.wait(30)


async def until(condition, what, timeout=30.0):
    """
    Wait, letting the reactor run, until C{condition()} is true.
    """
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await deferLater(reactor, 0.05, lambda: None)
    raise AssertionError(f"timed out waiting for {what}")


class SIPPhonesTests(TestCase):
    timeout = 180
    maxDiff = None

    @pytest.fixture(autouse=True)
    def server(self, tmp_path, twistd):
        if shutil.which("sipp") is None:
            if os.environ.get("CI") == "true":
                pytest.fail("sipp is not installed, and CI installs it")
            pytest.skip("sipp is not installed")
        self.folder = tmp_path
        sipPort = freePort(socket.SOCK_DGRAM)
        (tmp_path / "oso.toml").write_text(configuration(sipPort))
        self.oso = twistd(["-n", "oso", "--config", "oso.toml"], cwd=tmp_path)
        self.cstaPort = int(LISTENING.search(self.oso.waitFor("CSTAFactory starting on")).group(1))
        self.oso.waitFor("oso ready:")
        self.phones = {}
        try:
            # 200 answers twice: the MakeCall and the consultation call.
            for number, calls in (("200", 2), ("201", 1), ("202", 1)):
                self.phones[number] = SIPpPhone(tmp_path, number, calls, f"127.0.0.1:{sipPort}")
            yield
        finally:
            statuses = {number: phone.stop() for number, phone in self.phones.items()}
            self.oso.stop()
        assert "Traceback" not in self.oso.output()
        # Each phone ended every call it answered with a BYE's 200.
        assert statuses == {"200": 0, "201": 0, "202": 0}, f"a SIPp phone failed (see {tmp_path})"

    async def client(self, encoding):
        link = await connect(
            reactor, f"tcp:127.0.0.1:{self.cstaPort}", ClientSettings(encoding=encoding, heartbeatInterval=0)
        )
        self.addCleanup(link.abort)
        monitoring = Monitoring(link)
        await monitoring.start()
        return monitoring

    async def scenario(self):
        ber = await self.client(Encoding.BER)
        xml = await self.client(Encoding.XML)
        console = Console(self.cstaPort)
        self.addCleanup(console.stop)
        await until(lambda: "monitoring 201" in console.text, "oso-cti to start its monitors")

        def seen(device, name, client=ber):
            return name in client.names(device)

        # MakeCall: 200 is called first and answers, then 201 rings and answers.
        made = await ber.link.invoke(m.MakeCall(callingDevice="200", calledDirectoryNumber="201"))
        calling = made.callingDevice
        self.assertEqual(calling.deviceID, "200")
        await until(lambda: len(ber.names("201")) >= 2 and seen("201", "Established"), "201 to answer")
        # Hold and retrieve, asked on the XML link.
        await xml.link.invoke(m.HoldCall(callToBeHeld=calling))
        await until(lambda: seen("200", "Held"), "the hold")
        await xml.link.invoke(m.RetrieveCall(callToBeRetrieved=calling))
        await until(lambda: seen("200", "Retrieved"), "the retrieve")
        # Consultation to the third phone, then the transfer.
        consulted = await ber.link.invoke(m.ConsultationCall(existingCall=calling, consultedDevice="202"))
        consultation = consulted.initiatedCall
        await until(lambda: ber.names("200").count("Established") >= 2, "202 to answer the consultation")
        transferred = await ber.link.invoke(m.TransferCall(heldCall=calling, activeCall=consultation))
        await until(lambda: seen("201", "Transfered"), "the transfer")
        # 201 and 202 now talk; the XML client clears the call.
        (remaining,) = [c.newConnection for c in transferred.connections if c.endpoint == "201"]
        await xml.link.invoke(m.ClearCall(callToBeCleared=remaining))
        await until(lambda: seen("201", "CallCleared", ber) and seen("201", "CallCleared", xml), "the clearing")
        await until(
            lambda: all(console.lines(d) == ber.lines[d] for d in MONITORED) or len(console.text) > 100,
            "oso-cti to print every event", timeout=10,
        )

        # Both clients saw the same events on each monitor.
        for device in MONITORED:
            self.assertEqual(ber.events[device], xml.events[device], device)
            self.assertEqual(console.lines(device), ber.lines[device], device)
        # The sequences ECMA-269 prescribes for each party's monitor.
        self.assertEqual(ber.names("200"), [
            "ServiceInitiated", "Originated", "Delivered", "Established",
            "Held", "Retrieved",
            "Held", "ServiceInitiated", "Originated", "Delivered", "Established",
            "Transfered",
        ])
        self.assertEqual(ber.names("201"), [
            "Delivered", "Established", "Held", "Retrieved", "Held", "Transfered",
            "ConnectionCleared", "CallCleared",
        ])
        return ber, xml

    def test_makeCallHoldTransferClear(self):
        """
        MakeCall connects 200 and 201, 200 holds and retrieves, consults
        202 and transfers 201 to it, and the call is cleared: the BER and
        the XML client's monitors of 200 and 201 get the same events, the
        sequences ECMA-269 prescribes, and C{oso-cti monitor} prints the
        same lines.
        """
        return defer.ensureDeferred(self.scenario())

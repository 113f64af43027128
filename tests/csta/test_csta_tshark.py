"""
An independent decoder on the wire: tshark captures a real BER CSTA link
between a socket client and C{twistd -n oso} on loopback and decodes it as
BER (C{-d tcp.port==PORT,ber}; tshark has no CSTA dissector).  No packet
may be malformed, and each APDU must be where the exchange puts it.
"""

import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import threading

import pytest

from oso.callmodel.errors import UniversalFailure
from oso.csta import ber
from oso.csta import messages as m
from oso.csta.framing import BERFramer

LISTENING = re.compile(r"CSTAFactory starting on (\d+)$")

#: An invoke of operation 999, which ECMA-285 does not define: the
#: server's ROSE reject answers it.
UNKNOWN_OPERATION = bytes.fromhex("a107020107020203e7")

#: The pcap link type tshark is told to hand to its BER dissector (the
#: first of the link types reserved for private use).
USER_DLT = 147

#: X.690 class numbers as tshark's C{ber.id.class} field shows them.
APPLICATION, CONTEXT = "1", "2"

#: ECMA-285 operation codes (C{CODE local:N} in the modules) and values.
SYSTEM_STATUS, REQUEST_SYS_STAT, SYSTEM_REGISTER_CANCEL = 211, 210, 209
UNIVERSAL_FAILURE, INVALID_CROSS_REF_ID, NORMAL = 1, 17, 2

#: What tshark must find in each APDU, in order: the outermost element's
#: class and tag, then every INTEGER and every ENUMERATED inside.  First
#: link, client then server; then the second link, client then server.
EXPECTED = [
    (APPLICATION, "0", [], []),  # AARQ
    (CONTEXT, "2", [1, SYSTEM_STATUS], []),  # returnResult of SystemStatus
    (CONTEXT, "1", [2, REQUEST_SYS_STAT], []),  # invoke RequestSystemStatus
    (CONTEXT, "1", [3, SYSTEM_REGISTER_CANCEL], []),  # invoke SystemRegisterCancel
    (CONTEXT, "1", [7, 999], []),  # invoke of an unknown operation
    (APPLICATION, "2", [], []),  # RLRQ
    (APPLICATION, "1", [0, 0], []),  # AARE: accepted, diagnostic null
    (CONTEXT, "1", [1, SYSTEM_STATUS], [NORMAL]),  # invoke SystemStatus normal
    (CONTEXT, "2", [2, REQUEST_SYS_STAT], [NORMAL]),  # returnResult: normal
    (CONTEXT, "3", [3, UNIVERSAL_FAILURE], [INVALID_CROSS_REF_ID]),  # returnError
    (CONTEXT, "4", [7], []),  # reject (its problem is an implicit tag)
    (APPLICATION, "3", [], []),  # RLRE
    (CONTEXT, "1", [1, REQUEST_SYS_STAT], []),  # invoke before association
    (APPLICATION, "4", [], []),  # ABRT
]


def program(name):
    """
    The path of C{name}; a skip when it is missing, a failure under CI,
    which installs it.
    """
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (apt-get install tshark)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


class Capture:
    """
    A tshark capture on the loopback interface, written to a file.

    tshark says it has started before its capture runs, and a capture
    stopped at once loses the last packets; so a probe connection marks
    each end: the capture counts as running once the first probe shows up
    in it (C{-P -l} prints each packet as it is written), and as complete
    once the last one does.
    """

    def __init__(self, tshark, port, path):
        self.port = port
        self.path = path
        self.process = subprocess.Popen(
            [tshark, "-i", "lo", "-f", f"tcp port {port}", "-w", str(path), "-P", "-l"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        self.probe()

    def _read(self):
        for line in self.process.stdout:
            with self.changed:
                self.output.append(line)
                self.changed.notify_all()
        with self.changed:
            self.output.append(None)
            self.changed.notify_all()

    def probe(self):
        """
        Open and close a connection to the port until tshark shows it (30
        tries, 2 seconds each).
        """
        for _ in range(30):
            with socket.create_connection(("127.0.0.1", self.port), timeout=30) as probe:
                mark = f"{probe.getsockname()[1]} \N{RIGHTWARDS ARROW} {self.port}"
            with self.changed:
                if self.changed.wait_for(lambda: any(line is None or mark in line for line in self.output), 2):
                    break
        else:
            raise AssertionError("tshark shows no probe connection:\n" + "".join(self.output))
        if None in self.output:
            raise AssertionError("tshark ended:\n" + "".join(self.output[:-1]))

    def stop(self):
        """
        End the capture once everything sent so far is in it.
        """
        try:
            self.probe()
        finally:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Client:
    """
    A blocking BER client on a socket.
    """

    def __init__(self, port):
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.framer = BERFramer()
        self.frames = []

    def send(self, message):
        self.socket.sendall(message if isinstance(message, bytes) else ber.encode(message))

    def receive(self):
        """
        @return: the next message from the server, decoded.
        """
        while not self.frames:
            data = self.socket.recv(65536)
            assert data, "the server closed the link"
            self.frames += self.framer.feed(data)
        return ber.decode(self.frames.pop(0))

    def waitClosed(self):
        assert self.socket.recv(1) == b""
        self.socket.close()


def exchange(port):
    """
    Drive two links through what the server sends: AARE, SystemStatus
    invoke, returnResult, returnError, reject and RLRE on the first; an
    ABRT for a ROSE APDU before association on the second.
    """
    client = Client(port)
    client.send(m.AssociationRequest(applicationContextName="1.3.12.0.285.200"))
    assert client.receive().result is m.AssociateResult.accepted
    status = client.receive()
    assert status.argument == m.SystemStatus(systemStatus=m.SystemStatusValue.normal)
    client.send(m.ReturnResult(invokeID=status.invokeID, operation="systemStatus", result=m.SystemStatusResponse()))
    client.send(m.Invoke(invokeID=2, operation="requestSysStat", argument=m.RequestSystemStatus()))
    assert client.receive() == m.ReturnResult(
        invokeID=2,
        operation="requestSysStat",
        result=m.RequestSystemStatusResponse(systemStatus=m.SystemStatusValue.normal),
    )
    client.send(m.Invoke(invokeID=3, operation="systemRegisterCancel", argument=m.SystemRegisterCancel(sysStatRegisterID="none")))
    assert client.receive() == m.ReturnError(invokeID=3, failure=UniversalFailure("operation", "invalidCrossRefID"))
    client.send(UNKNOWN_OPERATION)
    assert client.receive() == m.Reject(invokeID=7, problem=m.RejectProblem.invokeUnrecognizedOperation)
    client.send(m.ReleaseRequest(reason=m.ReleaseRequestReason.normal))
    assert isinstance(client.receive(), m.ReleaseResponse)
    client.waitClosed()

    early = Client(port)
    early.send(m.Invoke(invokeID=1, operation="requestSysStat", argument=m.RequestSystemStatus()))
    assert isinstance(early.receive(), m.Abort)
    early.waitClosed()


def tshark(*arguments):
    """
    Run tshark on a file.

    @return: what it printed.
    """
    result = subprocess.run(
        [program("tshark"), *arguments], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def streams(capture, port):
    """
    The bytes each side sent on each captured connection, in capture order.

    @return: a list of C{(client bytes, server bytes)}, one per connection
        that carried data.
    """
    sent = {}
    for line in tshark("-r", str(capture), "-Y", "tcp.len > 0", "-T", "fields",
                       "-e", "tcp.stream", "-e", "tcp.srcport", "-e", "tcp.payload").splitlines():
        stream, source, payload = line.split("\t")
        sides = sent.setdefault(int(stream), [b"", b""])
        sides[int(source) == port] += bytes.fromhex(payload.replace(":", ""))
    return [tuple(sides) for _, sides in sorted(sent.items())]


def apdus(data):
    """
    Split a BER stream into its APDUs.
    """
    frames = BERFramer().feed(data)
    assert sum(map(len, frames)) == len(data)
    return frames


def decodeEach(apduList, folder):
    """
    tshark's own decoding of each APDU: they go into a pcap file, one
    packet each, with a user link type that tshark hands to its BER
    dissector.

    @return: one dict per APDU with tshark's fields C{class}, C{tag} (of
        the outermost element), C{INTEGER}, C{ENUMERATED} and C{OID}
        (every one met, in order), and C{malformed}.
    """
    path = folder / "apdus.pcap"
    with open(path, "wb") as pcap:
        pcap.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, USER_DLT))
        for apdu in apduList:
            pcap.write(struct.pack("<IIII", 0, 0, len(apdu), len(apdu)) + apdu)
    fields = ("ber.id.class", "ber.id.tag", "ber.unknown.INTEGER", "ber.unknown.ENUMERATED", "ber.unknown.OID", "_ws.malformed")
    output = tshark(
        "-r", str(path),
        "-o", f'uat:user_dlts:"User 0 (DLT={USER_DLT})","ber","0","","0",""',
        "-o", "ber.show_internals:TRUE",
        "-T", "json", *[argument for field in fields for argument in ("-e", field)],
    )
    decoded = []
    for packet in json.loads(output):
        layers = packet["_source"]["layers"]
        decoded.append(
            {
                "class": layers["ber.id.class"][0],
                "tag": layers["ber.id.tag"][0],
                "INTEGER": [int(value) for value in layers.get("ber.unknown.INTEGER", [])],
                "ENUMERATED": [int(value) for value in layers.get("ber.unknown.ENUMERATED", [])],
                "OID": layers.get("ber.unknown.OID", []),
                "malformed": "_ws.malformed" in layers,
            }
        )
    return decoded


def test_tsharkDecodesTheLink(tmp_path, twistd):
    """
    The live capture decodes as BER without a malformed packet or an
    expert error; and tshark, decoding each APDU the two links carried,
    finds the ROSE and ACSE APDUs the exchange sends, with their invoke
    ids, operation codes (ECMA-285 C{CODE local:N}) and values.
    """
    program("tshark")
    (tmp_path / "oso.toml").write_text(
        '[server]\ncomponents = ["csta"]\n'
        '[components.csta]\nlisten = ["tcp:0:interface=127.0.0.1"]\n'
    )
    server = twistd(["-n", "oso", "--config", "oso.toml"], cwd=tmp_path)
    port = int(LISTENING.search(server.waitFor("CSTAFactory starting on")).group(1))
    server.waitFor("oso ready:")
    capture = Capture(program("tshark"), port, tmp_path / "csta.pcapng")
    try:
        exchange(port)
    finally:
        capture.stop()
    server.stop()

    decodeAs = ("-d", f"tcp.port=={port},ber")
    # Warnings of TCP's own analysis (SACK, a segment the capture missed on
    # a loaded machine) say nothing about the APDUs: that analysis is off.
    noTCPAnalysis = ("-o", "tcp.analyze_sequence_numbers:FALSE")
    assert tshark("-r", str(capture.path), *decodeAs, *noTCPAnalysis,
                  "-Y", "_ws.malformed || _ws.expert.severity >= 6291456") == ""
    summary = tshark("-r", str(capture.path), *decodeAs, "-Y", "tcp.len > 0")
    assert summary.count(" BER ") == len(summary.splitlines()) >= 10, summary

    [(client, server), (earlyClient, earlyServer)] = streams(capture.path, port)
    decoded = decodeEach(apdus(client) + apdus(server) + apdus(earlyClient) + apdus(earlyServer), tmp_path)
    assert not any(apdu["malformed"] for apdu in decoded), decoded
    shapes = [(apdu["class"], apdu["tag"], apdu["INTEGER"], apdu["ENUMERATED"]) for apdu in decoded]
    assert shapes == EXPECTED, shapes
    assert decoded[0]["OID"][0] == decoded[6]["OID"][0] == "1.3.12.0.285.200"

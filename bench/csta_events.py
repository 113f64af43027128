"""
CSTA call control and event delivery over real TCP on loopback, with
virtual phones: MakeCall round trips per second (request to result), events
per second delivered to many monitoring links, and the latency from a call
model event to its bytes arriving at a client (median and 99th percentile).

The server (call model, virtual phones, the csta link's services) runs in
this process; the clients run in a second process (this script with
C{--clients}), so their reading does not count against the server.  Both
use the monotonic clock, which is the same across processes, for latency.

    python bench/csta_events.py [--links 100] [--calls 100] [--makecalls 2000] [--xml]
"""

import argparse
import array
import json
import os
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from twisted.internet import defer, reactor
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.task import deferLater, react
from twisted.internet.threads import deferToThread
from zope.interface import implementer

from oso.callmodel.errors import UniversalFailure
from oso.csta import ber
from oso.csta import messages as m
from oso.csta.callcontrol import CallControl
from oso.csta.framing import BERFramer, XMLFramer, frameXML
from oso.csta.monitors import Monitors
from oso.csta.protocol import CSTAFactory
from oso.csta.xml import Edition, modelCodec
from oso.interfaces.observer import IEventObserver
from oso.testing import Exchange

CODEC = modelCodec()
AARQ = ber.encode(m.AssociationRequest(applicationContextName="1.3.12.0.285.200"))
#: Events a monitor of the caller gets per call (ServiceInitiated,
#: Originated, Delivered, Established, Held, Retrieved, ConnectionCleared,
#: CallCleared).
EVENTS_PER_CALL = 8


# --- the client process -------------------------------------------------------


def request(xml, invokeID, argument, operation):
    if xml:
        return frameXML(invokeID, CODEC.encode(argument, Edition.ED5))
    return ber.encode(m.Invoke(invokeID=invokeID, operation=operation, argument=argument))


def decodeAll(xml, framer, data):
    if xml:
        return [CODEC.decode(document)[1] for _, document in framer.feed(data)]
    return [ber.decode(frame) for frame in framer.feed(data)]


def frameCounter(xml):
    """
    Counts whole frames in a byte stream without decoding them.
    """
    buffer = bytearray()

    def feed(data):
        buffer.extend(data)
        count = 0
        while True:
            if xml:
                if len(buffer) < 4:
                    return count
                size = int.from_bytes(buffer[2:4], "big")
            else:
                if len(buffer) < 2:
                    return count
                first = buffer[1]
                if first < 0x80:
                    size = 2 + first
                else:
                    octets = first & 0x7F
                    if len(buffer) < 2 + octets:
                        return count
                    size = 2 + octets + int.from_bytes(buffer[2 : 2 + octets], "big")
            if len(buffer) < size:
                return count
            del buffer[:size]
            count += 1

    return feed


def runClients(port, links, expected, xml, times):
    """
    Open C{links} links monitoring 100; count frames until each got
    C{expected} events; write each event's arrival time (link 0) to
    C{times}, and print the totals as JSON.
    """
    selector = selectors.DefaultSelector()
    state = []
    for index in range(links):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if not xml:
            sock.sendall(AARQ)
        sock.sendall(request(xml, 1, m.MonitorStart(monitorObject="100"), "monitorStart"))
        sock.setblocking(False)
        # Frames before the first event: BER AARE, SystemStatus, the
        # MonitorStart result; XML the result and SystemStatus.
        entry = {"sock": sock, "count": -(2 if xml else 3), "feed": frameCounter(xml), "times": array.array("d")}
        state.append(entry)
        selector.register(sock, selectors.EVENT_READ, entry)
    print("ready", flush=True)
    done = 0
    deadline = time.monotonic() + 600
    while done < links and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=1):
            entry = key.data
            data = entry["sock"].recv(1 << 16)
            now = time.monotonic()
            if not data:
                selector.unregister(entry["sock"])
                done += 1
                continue
            before = entry["count"]
            entry["count"] += entry["feed"](data)
            if entry is state[0]:
                entry["times"].extend([now] * (entry["count"] - max(before, 0)) if entry["count"] > 0 else [])
            if before < expected <= entry["count"]:
                done += 1
    with open(times, "wb") as stream:
        state[0]["times"].tofile(stream)
    print(json.dumps({"counts": [min(e["count"], expected) for e in state], "end": time.monotonic()}), flush=True)


def runMakeCalls(port, count, xml):
    """
    MakeCall 100 -> 101 and ClearConnection, one after another; print the
    round trip times of the MakeCalls as JSON.
    """
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    framer = XMLFramer() if xml else BERFramer()

    def answer():
        while True:
            for message in decodeAll(xml, framer, sock.recv(1 << 16)):
                result = getattr(message, "result", message)
                if isinstance(result, (m.MakeCallResponse, m.ClearConnectionResponse)):
                    return result
                if isinstance(message, (m.ReturnError, UniversalFailure)):
                    raise RuntimeError(f"refused: {message}")

    if not xml:
        sock.sendall(AARQ)
    rtts = []
    cpu = time.process_time()
    invokeID = 1
    for _ in range(count):
        invokeID = invokeID % 9000 + 1
        start = time.monotonic()
        sock.sendall(request(xml, invokeID, m.MakeCall(
            callingDevice="100", calledDirectoryNumber="101", autoOriginate=m.AutoOriginate.doNotPrompt
        ), "makeCall"))
        made = answer()
        rtts.append(time.monotonic() - start)
        invokeID = invokeID % 9000 + 1
        sock.sendall(request(xml, invokeID, m.ClearConnection(connectionToBeCleared=made.callingDevice), "clearConnection"))
        answer()
    print(json.dumps({"rtts": rtts, "cpu": time.process_time() - cpu}), flush=True)


# --- the server process -------------------------------------------------------


def serve():
    exchange = Exchange()
    factory = CSTAFactory(reactor, exchange.model, maxLinks=100000, eventLimit=10**9)
    CallControl(exchange.model).register(factory.services)
    monitors = Monitors(exchange.model)
    monitors.register(factory.services)
    monitors.startService()
    eventTimes = array.array("d")

    @implementer(IEventObserver)
    class Stamp:
        def eventReceived(self, event):
            if not (event.name == "ConnectionCleared" and event.connection.deviceID == "101"):
                eventTimes.append(time.monotonic())

    exchange.model.addObserver(Stamp())
    return exchange, factory, monitors, eventTimes


def child(mode, *args):
    return subprocess.Popen(
        [sys.executable, __file__, mode, *map(str, args)],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)),
    )


def deferToThreadRead(process):
    """
    The child's next line of output, read without blocking the reactor.
    """
    return deferToThread(process.stdout.readline)


async def main(options):
    exchange, factory, monitors, eventTimes = serve()
    port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(factory)
    number = port.getHost().port
    xml = ["--xml"] if options.xml else []

    # MakeCall round trips.
    serverCPU = time.process_time()
    maker = child("--makecall", number, options.makecalls, *xml)
    made = json.loads(await deferToThreadRead(maker))
    serverCPU = time.process_time() - serverCPU
    rtts = made["rtts"]
    maker.wait()

    # Events to many monitoring links.
    expected = options.calls * EVENTS_PER_CALL
    with tempfile.NamedTemporaryFile() as timesFile:
        clients = child("--clients", number, options.links, expected, timesFile.name, *xml)
        assert (await deferToThreadRead(clients)).strip() == "ready"
        while sum(len(monitors.monitorsOf(p.link)) for p in factory.links) < options.links:
            await deferLater(reactor, 0.01, lambda: None)
        del eventTimes[:]
        start = time.monotonic()
        phone, called = exchange.phone("100"), exchange.phone("101")
        for _ in range(options.calls):
            phone.offHook("101")
            called.answer()
            called.pressHold()
            called.pressRetrieve()
            phone.hangUp()
            await deferLater(reactor, 0, lambda: None)
        result = json.loads(await deferToThreadRead(clients))
        clients.wait()
        arrivals = array.array("d")
        with open(timesFile.name, "rb") as stream:
            arrivals.frombytes(stream.read())

    delivered = sum(result["counts"])
    seconds = result["end"] - start
    latencies = sorted(1000 * (a - e) for e, a in zip(eventTimes, arrivals))
    encoding = "XML" if options.xml else "BER"
    print(f"encoding: {encoding}")
    print(
        f"MakeCall round trips: {len(rtts) / sum(rtts):,.0f}/s sequential "
        f"(median {1000 * statistics.median(rtts):.2f} ms; target 500/s)"
    )
    print(
        f"  CPU per MakeCall + ClearConnection: server {1e6 * serverCPU / len(rtts):,.0f} us, "
        f"client {1e6 * made['cpu'] / len(rtts):,.0f} us (load-independent: "
        f"{len(rtts) / (serverCPU + made['cpu']):,.0f}/s with both on one core)"
    )
    print(
        f"events delivered: {delivered:,} of {expected * options.links:,} to {options.links} links "
        f"in {seconds:.2f} s: {delivered / seconds:,.0f} events/s (target 10,000/s, none lost)"
    )
    if latencies:
        p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
        print(
            f"event to client latency (link 0, {len(latencies)} events): "
            f"median {statistics.median(latencies):.1f} ms, 99th percentile {p99:.1f} ms"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--clients"]:
        port, links, expected, times = sys.argv[2:6]
        runClients(int(port), int(links), int(expected), "--xml" in sys.argv, times)
    elif sys.argv[1:2] == ["--makecall"]:
        runMakeCalls(int(sys.argv[2]), int(sys.argv[3]), "--xml" in sys.argv)
    else:
        parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
        parser.add_argument("--links", type=int, default=100)
        parser.add_argument("--calls", type=int, default=100)
        parser.add_argument("--makecalls", type=int, default=2000)
        parser.add_argument("--xml", action="store_true", help="ECMA-323 XML instead of BER")
        options = parser.parse_args()

        react(lambda _: defer.ensureDeferred(main(options)))

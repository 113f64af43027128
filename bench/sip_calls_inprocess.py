"""
The CPU time oso spends on one call of bench/sip_load.py's call load, in
one process with no sockets: a caller's INVITE (407, ACK, the INVITE with
credentials, 100), the B2BUA's INVITE to a hunt group member's contact
(its 200, our ACK, the 200 to the caller), the caller's ACK, its BYE (200)
and our BYE to the member (200), as SIPp's UAC and UAS scenarios send them.

The bytes take the path of a UDP datagram (C{readMessage}, the UA core,
the transaction layer, the sip-lines port, the call model with its hunt
group, the legs' SDP); what oso sends is serialised as for the socket.
Only oso's part is timed (the peers' messages are made and read outside
it), timers included: the clock moves on by C{1 / --rate} seconds per
call, so transactions stay alive for Timer J and K as in a server at that
rate.  The counterpart of bench/sip_load.py's live CPU per call: what is
left between the two is the sockets, the reactor and the machine's load.

    python bench/sip_calls_inprocess.py [--calls 10000] [--rate 400]
                                        [--profile FILE] [--default-gc]
"""

import argparse
import cProfile
import gc
import heapq
import itertools
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twisted.internet.base import DelayedCall  # noqa: E402

from oso.callmodel.devices import Credentials, Device, DeviceType, HuntMode  # noqa: E402
from oso.callmodel.model import CallModel  # noqa: E402
from oso.collector import tuneCollector  # noqa: E402
from oso.plugins.sip import ha1Lookup  # noqa: E402
from oso.ports.sip_lines import SIPLines  # noqa: E402
from oso.secrets import digestHA1  # noqa: E402
from oso.sip.digest import DigestAuthenticator, digestResponse  # noqa: E402
from oso.sip.headers import parseChallenge  # noqa: E402
from oso.sip.message import parseMessage  # noqa: E402
from oso.sip.registrar import Registrar  # noqa: E402
from oso.sip.transport import readMessage  # noqa: E402
from oso.sip.useragent import UserAgent  # noqa: E402
from oso.store.memory import MemoryStore  # noqa: E402

REALM = "oso"
PASSWORD = "bench-secret"
SERVER = ("127.0.0.1", 5060)
UAC = ("127.0.0.1", 40000)
UAS = ("127.0.0.1", 40001)
GROUP = "201"
CALLERS = [str(n) for n in range(20000, 20100)]
MEMBERS = [str(n) for n in range(50000, 50070)]

#: SIPp's offer and answer (bench/sip_load.py).
SDP = (
    "v=0\r\no=- 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\nm=audio 6000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
)


class HeapClock:
    """
    A clock with the reactor's timer heap (Twisted's C{Clock} sorts all its
    calls on every C{callLater}, which would be the hot spot here).
    """

    def __init__(self, now):
        self.now = now
        self._heap = []
        self._order = itertools.count()

    def seconds(self):
        return self.now

    def callLater(self, delay, f, *args, **kw):
        call = DelayedCall(
            self.now + delay, f, args, kw, lambda call: None, self._push, seconds=self.seconds
        )
        self._push(call)
        return call

    def _push(self, call):
        heapq.heappush(self._heap, (call.time, next(self._order), call))

    def advance(self, amount):
        self.now += amount
        heap = self._heap
        while heap and heap[0][0] <= self.now:
            when, _, call = heapq.heappop(heap)
            if call.cancelled or call.called or call.time != when:
                continue
            if call.delayed_time:
                call.activate_delay()
                self._push(call)
                continue
            call.called = 1
            call.func(*call.args, **call.kw)


def fields(data, *names):
    """
    The raw lines of the fields C{names} of a message, as SIPp's
    C{[last_Name:]} copies them.
    """
    wanted = tuple(n.lower() + ":" for n in names)
    head = data.split(b"\r\n\r\n", 1)[0].decode()
    return "".join(line + "\r\n" for line in head.split("\r\n") if line.lower().startswith(wanted))


class Bench:
    """
    oso's call path on an in-memory wire, and the two SIPp peers.
    """

    def __init__(self, profiler=None):
        self.clock = HeapClock(1_800_000_000.0)
        self.sent = []
        self.cpu = 0.0
        self.profiler = profiler
        store = MemoryStore()
        self.model = CallModel(self.clock, store)
        ha1 = digestHA1
        credentials = {n: Credentials(digestHA1=((REALM, ha1(n, REALM, PASSWORD)),))
                       for n in CALLERS + MEMBERS}
        self.model.loadDevices(
            [Device(n, name=f"Bench {n}", port="sip-lines", credentials=credentials[n])
             for n in CALLERS + MEMBERS]
            + [Device(GROUP, type=DeviceType.group, members=tuple(MEMBERS),
                      huntMode=HuntMode.circular)]
        )  # fmt: skip
        self.ha1 = {n: c.ha1For(REALM) for n, c in credentials.items()}
        registrar = Registrar(self.clock, store)
        self.ua = UserAgent(
            self.clock, self._send, lambda transport: SERVER, registrar,
            DigestAuthenticator(REALM, b"k" * 32, self.clock), ha1Lookup(self.model, REALM),
        )  # fmt: skip
        registrar._bindingsChanged = self.ua.bindingsChanged
        lines = SIPLines(self.model, self.ua)
        self.model.registerPort(lines)
        self.model.addObserver(lines)
        self.ua.attach(lines, fallback=True)
        for number in MEMBERS:
            request = parseMessage(
                f"REGISTER sip:{SERVER[0]} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {UAS[0]}:{UAS[1]};branch=z9hG4bK-r{number}\r\n"
                f"From: <sip:{number}@{SERVER[0]}>;tag=r{number}\r\n"
                f"To: <sip:{number}@{SERVER[0]}>\r\nCall-ID: r{number}\r\nCSeq: 1 REGISTER\r\n"
                f"Contact: <sip:{number}@{UAS[0]}:{UAS[1]}>\r\nExpires: 3600\r\n"
                "Content-Length: 0\r\n\r\n".encode()
            )
            registrar.handle(request, number, ("UDP",) + UAS)

    def _send(self, message, destination, transport):
        self.sent.append((message.serialise(), tuple(destination)))

    def deliver(self, text, source):
        """
        oso reads C{text} from C{source}; timed.

        @return: what it sent meanwhile, C{(bytes, destination)} pairs.
        """
        data = text.encode()
        profiler = self.profiler
        start = time.process_time()
        if profiler is not None:
            profiler.enable()
        arrival = readMessage(data, source, True)
        self.ua.receive(arrival.message, source, "UDP")
        if profiler is not None:
            profiler.disable()
        self.cpu += time.process_time() - start
        sent, self.sent = self.sent, []
        return sent

    def wait(self, seconds):
        """
        Time passes; oso's timers that are due run (timed).
        """
        start = time.process_time()
        if self.profiler is not None:
            self.profiler.enable()
        self.clock.advance(seconds)
        if self.profiler is not None:
            self.profiler.disable()
        self.cpu += time.process_time() - start
        if self.sent:
            sys.exit(f"oso sent {len(self.sent)} messages by timer: {self.sent[0][0][:80]!r}")

    def call(self, number):
        """
        One call of SIPp's UAC to the hunt group, answered by its UAS.
        """
        caller = CALLERS[number % len(CALLERS)]
        callID = f"{number}-uac@{UAC[0]}"
        head = (
            f"From: <sip:{caller}@{SERVER[0]}>;tag={number}SIPpTag\r\n"
            f"Call-ID: {callID}\r\nMax-Forwards: 70\r\n"
        )
        uri = f"sip:{GROUP}@{SERVER[0]}:{SERVER[1]}"
        body = f"Content-Type: application/sdp\r\nContent-Length: {len(SDP)}\r\n\r\n{SDP}"

        def invite(cseq, branch, authorization=""):
            return (
                f"INVITE {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {UAC[0]}:{UAC[1]};branch={branch}\r\n"
                f"{head}To: <sip:{GROUP}@{SERVER[0]}>\r\nCSeq: {cseq} INVITE\r\n"
                f"Contact: <sip:{caller}@{UAC[0]}:{UAC[1]}>\r\n{authorization}{body}"
            )

        (challenge, _), = expect(self.deliver(invite(1, f"z9hG4bK-{number}-1"), UAC), 407)
        self.deliver(
            f"ACK {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {UAC[0]}:{UAC[1]};branch=z9hG4bK-{number}-1\r\n"
            f"{head}{fields(challenge, 'To')}CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
            UAC,
        )
        params = parseChallenge(parseMessage(challenge).headers.get("proxy-authenticate")).params
        response = digestResponse(self.ha1[caller], "INVITE", uri, params["nonce"], "auth",
                                  "00000001", "c")
        opaque = f', opaque="{params["opaque"]}"' if "opaque" in params else ""
        authorization = (
            f'Proxy-Authorization: Digest username="{caller}", realm="{REALM}", '
            f'nonce="{params["nonce"]}", uri="{uri}", response="{response}", algorithm=MD5, '
            f'qop=auth, nc=00000001, cnonce="c"{opaque}\r\n'
        )
        out = self.deliver(invite(2, f"z9hG4bK-{number}-2", authorization), UAC)
        expect(out, 100)
        (forked, destination), = [(d, to) for d, to in out if d.startswith(b"INVITE")]
        assert destination == UAS, destination
        # The UAS answers at once, echoing the record-route set.
        answer = (
            f"SIP/2.0 200 OK\r\n{fields(forked, 'Via', 'From')}"
            f"{fields(forked, 'To').rstrip()};tag={number}UAS\r\n"
            f"{fields(forked, 'Call-ID', 'CSeq', 'Record-Route')}"
            f"Contact: <sip:{UAS[0]}:{UAS[1]}>\r\n{body}"
        )
        out = self.deliver(answer, UAS)
        (ok, _), = expect(out, 200)
        assert any(d.startswith(b"ACK") for d, _ in out)
        okMessage = parseMessage(ok)
        target = okMessage.contacts[0].uri
        routes = fields(ok, "Record-Route").replace("Record-Route", "Route")

        def inDialog(method, cseq, branch):
            return (
                f"{method} {target} SIP/2.0\r\nVia: SIP/2.0/UDP {UAC[0]}:{UAC[1]};branch={branch}\r\n"
                f"{head}{fields(ok, 'To')}{routes}CSeq: {cseq} {method}\r\n"
                "Content-Length: 0\r\n\r\n"
            )

        self.deliver(inDialog("ACK", 2, f"z9hG4bK-{number}-3"), UAC)
        out = self.deliver(inDialog("BYE", 3, f"z9hG4bK-{number}-4"), UAC)
        expect(out, 200)
        (bye, _), = [(d, to) for d, to in out if d.startswith(b"BYE")]
        self.deliver(
            f"SIP/2.0 200 OK\r\n{fields(bye, 'Via', 'From', 'To', 'Call-ID', 'CSeq')}"
            "Content-Length: 0\r\n\r\n",
            UAS,
        )


def expect(sent, status):
    """
    The responses with C{status} among what oso sent; at least one.
    """
    found = [(d, to) for d, to in sent if d.startswith(f"SIP/2.0 {status} ".encode())]
    if not found:
        sys.exit(f"expected a {status}, oso sent {[d[:40] for d, _ in sent]}")
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=10000)
    parser.add_argument("--rate", type=float, default=400.0,
                        help="calls per second of the clock (how long transactions live)")
    parser.add_argument("--profile", metavar="FILE",
                        help="cProfile oso's part only; statistics saved to FILE")
    parser.add_argument("--default-gc", dest="defaultGC", action="store_true")
    args = parser.parse_args()
    if not args.defaultGC:
        tuneCollector()
    profiler = cProfile.Profile() if args.profile else None
    bench = Bench(profiler)
    half = args.calls // 2
    collections = sum(s["collections"] for s in gc.get_stats())
    for number in range(args.calls):
        if number == half:
            firstHalf = bench.cpu
        bench.call(number)
        bench.wait(1 / args.rate)
    collections = sum(s["collections"] for s in gc.get_stats()) - collections
    if profiler is not None:
        profiler.dump_stats(args.profile)
    print(
        f"{args.calls} calls in process: {bench.cpu / args.calls * 1e6:.0f} us CPU each "
        f"(second half {(bench.cpu - firstHalf) / (args.calls - half) * 1e6:.0f} us), "
        f"{len(bench.ua.layer.transactions)} transactions alive, {len(bench.model.calls())} calls "
        f"left, {collections} collections"
    )


if __name__ == "__main__":
    main()

"""
The CPU time oso's SIP stack spends on a REGISTER with digest (the 401 and
the authenticated REGISTER with its 200) in one process with no sockets:
the bytes go through the same path as from a UDP listener (C{readMessage},
the UA core, the transaction layer, the digest authenticator, the
registrar on an in-memory store) and the responses are serialised as for
sending. The counterpart of bench/sip_load.py's live figure: what is left
between the two is the sockets, the reactor and the machine's load.

The timers run on the reactor's own timer code (a heap of DelayedCalls,
as in C{twistd}) over a simulated clock that moves on by 1/C{--rate}
seconds per REGISTER, as a live server at that rate sees it: finished
transactions wait for Timer J (32 s) as in the live server, and what
the timers cost is counted. The collector runs with the server's
thresholds (L{oso.collector}) unless C{--default-gc}.

    python bench/sip_inprocess.py [--registers 20000] [--users 20] [--rate 1000] [--default-gc]
"""

import argparse
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twisted.internet.selectreactor import SelectReactor  # noqa: E402

from oso.collector import tuneCollector  # noqa: E402
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
CLIENT = ("127.0.0.1", 40000)


class _SimulatedReactor(SelectReactor):
    """
    A reactor that is never run: its timer code (C{callLater},
    C{runUntilCurrent}) as the live server's, on a clock the benchmark
    moves.
    """

    def __init__(self, now):
        super().__init__()
        self.now = now

    def seconds(self):
        return self.now

    def advance(self, amount):
        self.now += amount
        self.runUntilCurrent()


def register(user, number, authorization=""):
    return (
        f"REGISTER sip:{SERVER[0]}:{SERVER[1]} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {CLIENT[0]}:{CLIENT[1]}"
        f";branch=z9hG4bK-{number}-{bool(authorization)}\r\n"
        f"From: <sip:{user}@{SERVER[0]}>;tag={number}SIPpTag\r\n"
        f"To: <sip:{user}@{SERVER[0]}>\r\n"
        f"Call-ID: {number}-bench@{CLIENT[0]}\r\n"
        f"CSeq: {1 + bool(authorization)} REGISTER\r\n"
        f"Contact: <sip:{user}@127.0.0.1:9>\r\n"
        f"{authorization}Max-Forwards: 70\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n"
    ).encode()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registers", type=int, default=20000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rate", type=float, default=1000.0,
                        help="REGISTERs per second of the simulated clock")
    parser.add_argument("--default-gc", dest="defaultGC", action="store_true")
    args = parser.parse_args()
    if not args.defaultGC:
        tuneCollector()
    clock = _SimulatedReactor(1_800_000_000.0)
    step = 1 / args.rate
    sent = []

    def send(message, destination, transport):
        sent.append(message.serialise())

    ha1 = {str(n): digestHA1(str(n), REALM, PASSWORD) for n in range(300, 300 + args.users)}
    registrar = Registrar(clock, MemoryStore())
    ua = UserAgent(
        clock, send, lambda transport: SERVER, registrar,
        DigestAuthenticator(REALM, b"k" * 32, clock), ha1.get,
    )  # fmt: skip
    registrar._bindingsChanged = ua.bindingsChanged
    uri = f"sip:{SERVER[0]}:{SERVER[1]}"

    def serve(data):
        arrival = readMessage(data, CLIENT, True)
        ua.receive(arrival.message, CLIENT, "UDP")

    server = 0.0
    collections = sum(s["collections"] for s in gc.get_stats())
    collecting = [0.0, 0.0]

    def timeCollector(phase, info):
        if phase == "start":
            collecting[1] = time.process_time()
        else:
            collecting[0] += time.process_time() - collecting[1]

    gc.callbacks.append(timeCollector)
    for number in range(args.registers):
        user = str(300 + number % args.users)
        data = register(user, number)
        start = time.process_time()
        clock.advance(step)
        serve(data)
        server += time.process_time() - start
        challenge = parseChallenge(
            parseMessage(sent.pop()).headers.get("www-authenticate")
        ).params
        nonce, opaque = challenge["nonce"], challenge.get("opaque")
        echo = f', opaque="{opaque}"' if opaque is not None else ""
        response = digestResponse(ha1[user], "REGISTER", uri, nonce, "auth", "00000001", "c")
        authorization = (
            f'Authorization: Digest username="{user}", realm="{REALM}", nonce="{nonce}", '
            f'uri="{uri}", response="{response}", algorithm=MD5, qop=auth, nc=00000001, '
            f'cnonce="c"{echo}\r\n'
        )
        data = register(user, number, authorization)
        start = time.process_time()
        serve(data)
        server += time.process_time() - start
        answer = sent.pop()
        if not answer.startswith(b"SIP/2.0 200"):
            sys.exit(f"REGISTER {number} not accepted: {answer[:60]!r}")
    collections = sum(s["collections"] for s in gc.get_stats()) - collections
    print(
        f"{args.registers} REGISTERs with digest in process: "
        f"{server / args.registers * 1e6:.0f} us CPU each (401 and 200), "
        f"{len(ua.layer.transactions)} transactions alive after {args.registers / args.rate:.0f} s, "
        f"{collections} collections ({collecting[0] / args.registers * 1e6:.0f} us per REGISTER), "
        f"collector thresholds {gc.get_threshold()}"
    )


if __name__ == "__main__":
    main()

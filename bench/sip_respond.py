"""
The CPU time oso's SIP codec spends building and writing the two
responses of a REGISTER with digest, as the server sends them: the
stateless 401 (its To tag from L{oso.sip.transaction.statelessTag}, a
WWW-Authenticate with its own nonce, written and its destination read
from its Via) and the 200 (a To tag, Contact with C{expires} and Date
as the registrar adds them, kept in its sent form, its destination read
from that). Each request has its own Via branch, From tag and Call-ID,
as SIPp sends them, so that nothing is flattered by a cache of one
message; the requests are read before the clock starts, and kept out of
the collector's sight (which runs with the server's thresholds).

    python bench/sip_respond.py [--count 2000] [--repeat 7] [--rport]
    python bench/sip_respond.py --once N [--respond M]

C{--once} reads N pairs and answers the first M (all by default),
untimed: for C{valgrind --tool=callgrind}, where the difference between
M = N and M = 0 is what the answers cost.
"""

import argparse
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sip_inprocess import CLIENT, register  # noqa: E402

from oso.collector import tuneCollector  # noqa: E402
from oso.sip.sent import sentForm  # noqa: E402
from oso.sip.transaction import makeResponse  # noqa: E402
from oso.sip.transport import readMessage, responseDestination  # noqa: E402

_CHALLENGE = 'Digest realm="oso", nonce="{}", algorithm=MD5, qop="auth", opaque="6f736f"'
_DATE = "Sun, 29 Nov 2026 18:40:00 GMT"
_CREDENTIALS = (
    'Authorization: Digest username="{0}", realm="oso", nonce="1800000000.{1:016x}", '
    'uri="sip:127.0.0.1:5060", response="0123456789abcdef0123456789abcdef", '
    'algorithm=MD5, qop=auth, nc=00000001, cnonce="c", opaque="6f736f"\r\n'
)


def requests(first, count, rport):
    """
    @return: C{count} pairs of REGISTERs (the first without credentials,
        the second with them, as a client sends them after the 401)
        numbered from C{first} (none read before, so that no cache holds
        their values), read as from UDP, over 20 users; with C{rport},
        each top Via asks for it (and is stamped on reading).
    """
    read = []
    for number in range(first, first + count):
        user = str(300 + number % 20)
        pair = []
        for authorization in ("", _CREDENTIALS.format(user, number)):
            data = register(user, number, authorization)
            if rport:
                data = data.replace(b";branch=", b";rport;branch=", 1)
            pair.append(readMessage(data, CLIENT, True).message)
        read.append(pair)
    gc.freeze()
    return read


def respond(first, second, number):
    """
    Build and write the 401 to C{first} and the 200 to C{second}, each
    as the server does.
    """
    challenge = makeResponse(first, 401)
    challenge.headers.add("www-authenticate", _CHALLENGE.format(f"1800000000.{number:016x}"))
    challenge.serialise()
    responseDestination(challenge, "UDP")
    # The UA core reads To's URI (the address of record) before the 200.
    user = second.toAddress.shared().address.uri.user
    ok = makeResponse(second, 200, toTag=f"{number:012x}")
    ok.headers.add("Contact", f"<sip:{user}@127.0.0.1:9>;expires=3600")
    ok.headers.add("Date", _DATE)
    sent = sentForm(ok)
    sent.serialise()
    responseDestination(sent, "UDP")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--rport", action="store_true")
    parser.add_argument("--once", type=int, help="read N pairs, untimed")
    parser.add_argument("--respond", type=int, help="with --once, answer the first M")
    args = parser.parse_args()
    tuneCollector()
    if args.once is not None:
        read = requests(0, args.once, args.rport)
        answered = args.once if args.respond is None else args.respond
        for number, (first, second) in enumerate(read[:answered]):
            respond(first, second, number)
        return
    best = None
    for run in range(args.repeat):
        read = requests(run * args.count, args.count, args.rport)
        start = time.process_time()
        for number, (first, second) in enumerate(read):
            respond(first, second, number)
        spent = time.process_time() - start
        best = spent if best is None else min(best, spent)
    print(f"{best / args.count * 1e6:.2f} us CPU per 401 and 200 (least of {args.repeat} runs of {args.count})")


if __name__ == "__main__":
    main()

"""
The CPU time of oso's digest authentication on the REGISTER path: the
check of an authenticated REGISTER (L{DigestAuthenticator.verify}: its
Authorization read, the nonce, its count and the MD5 response checked,
the user's HA1 looked up) and the making of a 401's challenge. Each
REGISTER has its own nonce, cnonce and response, over 20 users, with
credentials written as SIPp writes them, so that nothing is flattered by
a cache of one value; the requests are read (untimed) before each round,
and each round checks them with a new authenticator under the same
secret, so that no nonce count is known before.

    python bench/sip_digest.py [--count 20000] [--repeat 5]
    python bench/sip_digest.py --once N --work none|parse|verify|challenge

C{--once} reads N REGISTERs and does the work once for each, untimed:
for C{valgrind --tool=callgrind}, where the difference from C{--work
none} is what the work costs (C{parse} is the Authorization read alone).
"""

import argparse
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sip_inprocess import CLIENT, PASSWORD, REALM, SERVER, register  # noqa: E402
from twisted.internet.task import Clock  # noqa: E402

from oso.collector import tuneCollector  # noqa: E402
from oso.secrets import digestHA1  # noqa: E402
from oso.sip.digest import DigestAuthenticator, digestResponse  # noqa: E402
from oso.sip.headers import parseChallenge  # noqa: E402
from oso.sip.transport import readMessage  # noqa: E402

SECRET = b"k" * 32
URI = f"sip:{SERVER[0]}:{SERVER[1]}"
HA1 = {str(n): digestHA1(str(n), REALM, PASSWORD) for n in range(300, 320)}


def requests(first, count, clock):
    """
    @return: C{count} authenticated REGISTERs numbered from C{first},
        each answering a challenge of its own, read as from UDP.
    """
    server = DigestAuthenticator(REALM, SECRET, clock)
    read = []
    for number in range(first, first + count):
        user = str(300 + number % 20)
        challenge = parseChallenge(server.challenge()).params
        nonce, cnonce = challenge["nonce"], f"{number:08x}"
        response = digestResponse(HA1[user], "REGISTER", URI, nonce, "auth", "00000001", cnonce)
        authorization = (
            f'Authorization: Digest username="{user}",realm="{REALM}",cnonce="{cnonce}",'
            f'nc=00000001,qop=auth,uri="{URI}",nonce="{nonce}",response="{response}",'
            f'algorithm=MD5,opaque="{challenge["opaque"]}"\r\n'
        )
        read.append(readMessage(register(user, number, authorization), CLIENT, True).message)
    return read


def work(kind, read, server):
    """
    Do C{kind} of work once for each of C{read} with C{server}.
    """
    if kind == "verify":
        for request in read:
            if not server.verify(request, HA1.get).ok:
                sys.exit("a REGISTER was not accepted")
    elif kind == "parse":
        for request in read:
            request.headers.getAllParsed("Authorization")
    elif kind == "challenge":
        for _ in read:
            server.challenge()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--once", type=int)
    parser.add_argument("--work", default="verify",
                        choices=("none", "parse", "verify", "challenge"))
    args = parser.parse_args()
    tuneCollector()
    clock = Clock()
    clock.advance(1_800_000_000)
    if args.once is not None:
        work(args.work, requests(0, args.once, clock),
             DigestAuthenticator(REALM, SECRET, clock))
        return
    figures = {"verify": [], "challenge": []}
    for turn in range(args.repeat):
        read = requests(turn * args.count, args.count, clock)
        gc.freeze()
        server = DigestAuthenticator(REALM, SECRET, clock)
        for kind, times in figures.items():
            start = time.process_time()
            work(kind, read, server)
            times.append((time.process_time() - start) / args.count * 1e6)
        gc.unfreeze()
    for kind, times in figures.items():
        print(f"{kind}: " + ", ".join(f"{t:.2f}" for t in sorted(times)) + " us each (least first)")


if __name__ == "__main__":
    main()

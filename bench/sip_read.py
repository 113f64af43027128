"""
What oso's SIP codec spends reading the two REGISTERs of a registration
with digest (the first one, and the one with its Authorization), as a
live load sends them: every message has its own Call-ID, Via branch and
From tag, and every Authorization its own nonce, cnonce and response, so
that nothing keeps whole texts from one message for the next (a fixed
message flatters the codec's caches of texts read before). The
credentials alternate between SIPp's way of writing them (no space after
the commas) and a phone's (a space after each).

Each message is read as a REGISTER's path reads it: C{readMessage} (over
UDP), then the fields the UA core, the transaction layer, the digest
authenticator and the registrar ask for (the top Via's branch, CSeq,
Call-ID, the From and To tags, Require, the Contacts, Expires, and the
parsed credentials).

    python bench/sip_read.py [--messages 10000] [--runs 5] [--batch 100]
    python bench/sip_read.py --count N [--only first|second]   (read N of
        each, untimed: for valgrind --tool=callgrind, the difference of
        two counts)

The REGISTERs are read in batches as under load (C{--batch} first ones,
then their second ones, which share their Call-ID and From tag).
"""

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from oso.sip.transport import readMessage  # noqa: E402

CLIENT = ("127.0.0.1", 40000)
SERVER = "127.0.0.1:5060"
USERS = 20


_RANDOM = random.Random(3)


def _hex(octets):
    return _RANDOM.randbytes(octets).hex()


def registers(count, seed):
    """
    C{count} pairs of REGISTERs (without, then with credentials), each
    with values of its own.

    @param seed: what makes this batch's values differ from another's.
    """
    pairs = []
    for number in range(count):
        user = str(300 + number % USERS)
        call = f"{seed}-{number}"
        head = (
            f"REGISTER sip:{SERVER} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {CLIENT[0]}:{CLIENT[1]};branch=z9hG4bK-{call}-{{step}}\r\n"
            f"From: <sip:{user}@127.0.0.1>;tag={call}SIPpTag{_hex(4)}\r\n"
            f"Call-ID: {call}-{_hex(6)}@{CLIENT[0]}\r\n"
            "Max-Forwards: 70\r\n"
            f"To: <sip:{user}@127.0.0.1>\r\n"
            "CSeq: {cseq} REGISTER\r\n"
            f"Contact: <sip:{user}@127.0.0.1:{40000 + number % USERS}>\r\n"
        )
        tail = "Expires: 3600\r\nContent-Length: 0\r\n\r\n"
        nonce = f"{_hex(4)}.{_hex(8)}.{_hex(16)}"
        comma = "," if number % 2 else ", "
        credentials = comma.join(
            (
                f'Digest username="{user}"',
                'realm="oso"',
                f'cnonce="{_hex(4)}"',
                "nc=00000001",
                "qop=auth",
                f'uri="sip:{SERVER}"',
                f'nonce="{nonce}"',
                f'response="{_hex(16)}"',
                "algorithm=MD5",
                f'opaque="{"5" * 32}"',
            )
        )
        first = head.format(step=1, cseq=1) + tail
        second = head.format(step=2, cseq=2) + f"Authorization: {credentials}\r\n" + tail
        pairs.append((first.encode(), second.encode()))
    return pairs


def read(data):
    """
    Read one REGISTER as its path does.
    """
    request = readMessage(data, CLIENT, True).message
    request.via.branch
    request.cseq.number
    request.callID
    request.fromAddress.tag
    request.toAddress.tag
    request.headers.getAll("require")
    request.contacts
    request.headers.get("expires")
    return request


def readWithCredentials(data):
    """
    Read one REGISTER with credentials as its path does.
    """
    read(data).headers.getAllParsed("authorization")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=100, help="REGISTERs in flight")
    parser.add_argument("--count", type=int, default=None)
    parser.add_argument("--only", choices=("first", "second"), default=None,
                        help="with --count: read only the first or the second REGISTERs")
    args = parser.parse_args()
    if args.count is not None:
        # The same messages made whatever the count, so that the
        # difference of two counts is the reading alone.
        pairs = registers(args.messages, "cg")[: args.count]
        for batch in range(0, len(pairs), args.batch):
            batch = pairs[batch : batch + args.batch]
            if args.only != "second":
                for first, _ in batch:
                    read(first)
            if args.only != "first":
                for _, second in batch:
                    readWithCredentials(second)
        return
    results = {"first": [], "second": []}
    clock = time.process_time
    for run in range(args.runs):
        pairs = registers(args.messages, f"r{run}")
        spent = [0.0, 0.0]
        # As under load: a batch of first REGISTERs, then their second
        # ones (the same Call-ID and From tag, a new branch).
        for batch in range(0, len(pairs), args.batch):
            batch = pairs[batch : batch + args.batch]
            start = clock()
            for first, _ in batch:
                read(first)
            middle = clock()
            for _, second in batch:
                readWithCredentials(second)
            spent[0] += middle - start
            spent[1] += clock() - middle
        results["first"].append(spent[0] / args.messages * 1e6)
        results["second"].append(spent[1] / args.messages * 1e6)
    for name, figures in results.items():
        figures.sort()
        print(
            f"{name:6s} REGISTER read: median {figures[len(figures) // 2]:.2f} us "
            f"(runs: {', '.join(f'{figure:.2f}' for figure in figures)})"
        )


if __name__ == "__main__":
    main()

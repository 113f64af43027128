"""
How fast the cdr component's TCP stream empties a journal into a billing
receiver on loopback, in both confirmation modes.

Each run fills a journal with C{--records} records, starts a receiver (a
Twisted server in this process) and a L{StreamClient}, and prints the time
until every record is acknowledged in the journal, and the rate:

  - ack mode: the receiver parses the frames and answers C{ACK <id>} for
    the last whole record of each chunk it reads;
  - no-ack mode: a plain receiver that reads to the end and closes when
    the sender closes; the sender closes every 1,000 records to have them
    confirmed, and reconnects at once.

    python bench/cdr_stream.py [--records 100000]
"""

import argparse
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from twisted.internet.defer import Deferred, ensureDeferred  # noqa: E402
from twisted.internet.endpoints import TCP4ServerEndpoint  # noqa: E402
from twisted.internet.protocol import Factory, Protocol  # noqa: E402
from twisted.internet.task import react  # noqa: E402

from oso.cdr.formats import OpenScapeFormat  # noqa: E402
from oso.cdr.journal import Journal  # noqa: E402
from oso.cdr.streamclient import StreamClient  # noqa: E402

# This script's folder is on sys.path when it runs.
from cdr_tftp import fill  # noqa: E402

_FRAME = re.compile(rb"CDR (\d+) (\d+)\r\n")


class AckReceiver(Protocol):
    def connectionMade(self):
        self.buffer = b""

    def dataReceived(self, data):
        self.buffer += data
        last = None
        position = 0
        while True:
            match = _FRAME.match(self.buffer, position)
            if match is None:
                break
            end = match.end() + int(match.group(2))
            if end > len(self.buffer):
                break
            last, position = int(match.group(1)), end
        self.buffer = self.buffer[position:]
        if last is not None:
            self.transport.write(b"ACK %d\r\n" % last)


class PlainReceiver(Protocol):
    def dataReceived(self, data):
        pass


async def run(reactor, records, ackMode):
    directory = tempfile.mkdtemp()
    try:
        journal = Journal(directory, reactor)
        await journal.open()
        await fill(journal, records)
        receiver = AckReceiver if ackMode else PlainReceiver
        port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(
            Factory.forProtocol(receiver)
        )
        client = StreamClient(
            reactor,
            journal,
            OpenScapeFormat(),
            f"tcp:host=127.0.0.1:port={port.getHost().port}",
            ackMode=ackMode,
            checkpointSeconds=0.05,
        )
        began = time.perf_counter()
        client.startService()
        while journal.pending:
            d = Deferred()
            reactor.callLater(0.01, d.callback, None)
            await d
        elapsed = time.perf_counter() - began
        await client.stopService()
        await port.stopListening()
        await journal.close()
        mode = "ack" if ackMode else "no-ack"
        print(
            f"{mode:>6} mode: {records} records streamed and acknowledged in "
            f"{elapsed:.2f} s, {records / elapsed:,.0f} records/s"
        )
    finally:
        shutil.rmtree(directory)


async def main(reactor, records):
    await run(reactor, records, ackMode=True)
    await run(reactor, records, ackMode=False)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    options = parser.parse_args()
    react(lambda reactor: ensureDeferred(main(reactor, options.records)))

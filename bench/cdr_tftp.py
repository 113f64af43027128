"""
How fast a billing program fetches call data records over the cdr
component's TFTP server on loopback, with Debian's real clients: tftp-hpa
(512-byte blocks, lock-step RFC 1350) and atftp with a larger negotiated
C{blksize}.

Each run fills the journal with C{--records} records and fetches
C{gez.txt} (the snapshot, the transfer and the acknowledgement) until the
journal holds nothing, and prints the time and the rate.  First it times
the snapshot alone (reading the journal and rendering the records), which
every fetch includes.  A fetch holds at most C{TFTPService.maxRecords}
records, so a large journal takes several.  A file holds
at most 65535 blocks (and 32 MiB), so with 512-byte blocks a large journal
takes several fetches; the script fetches until the journal is empty.

    python bench/cdr_tftp.py [--records 100000]
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from twisted.internet.defer import ensureDeferred, gatherResults  # noqa: E402
from twisted.internet.task import react  # noqa: E402
from twisted.internet.utils import getProcessOutputAndValue  # noqa: E402

from oso.cdr.formats import OpenScapeFormat  # noqa: E402
from oso.cdr.journal import Journal  # noqa: E402
from oso.cdr.tftpserver import TFTPService, snapshot  # noqa: E402

# The journal benchmark's record, shaped like a real outgoing call's; this
# script's folder is on sys.path when it runs.
from cdr_journal import record  # noqa: E402


def clients(port, dest):
    """
    The fetch commands: C{(label, argv)}.
    """
    yield "tftp-hpa, 512-byte blocks", [
        "tftp", "127.0.0.1", str(port), "-m", "binary", "-c", "get", "gez.txt", dest,
    ]
    for size in (1428, 8192):
        yield f"atftp, blksize {size}", [
            "atftp", "--option", f"blksize {size}", "-g", "-r", "gez.txt", "-l",
            dest, "127.0.0.1", str(port),
        ]


async def fill(journal, records):
    """
    Append C{records} records, a thousand at a time in flight.
    """
    for start in range(0, records, 1000):
        end = min(records, start + 1000)
        await gatherResults([journal.append(record(i)) for i in range(start, end)])


async def fetchAll(reactor, service, argv, dest):
    """
    Fetch until the journal is empty.

    @return: C{(fetches, bytes)}.
    """
    fetches = size = 0
    while service.journal.pending:
        _, err, code = await getProcessOutputAndValue(argv[0], argv[1:], env=os.environ)
        if code != 0:
            raise RuntimeError(f"{argv[0]} failed: {err!r}")
        if service.serving is not None:
            await service.serving
        fetches += 1
        size += os.path.getsize(dest)
    return fetches, size


async def main(reactor, records):
    directory = tempfile.mkdtemp()
    try:
        journal = Journal(os.path.join(directory, "cdr"), reactor)
        await journal.open()
        service = TFTPService(
            reactor, journal, OpenScapeFormat(), "gez.txt", "udp:0:interface=127.0.0.1"
        )
        service.startService()
        dest = os.path.join(directory, "gez.txt")
        print(f"{records} openscape records per run, loopback")
        await fill(journal, records)
        began = time.perf_counter()
        data, _, _ = await snapshot(
            journal, service.format, service.maxBytes, records, False
        )
        seconds = time.perf_counter() - began
        print(
            f"snapshot alone: {len(data) / 1e6:.1f} MB in {seconds:.2f} s: "
            f"{records / seconds:,.0f} records/s"
        )
        for label, argv in clients(service.port.getHost().port, dest):
            if shutil.which(argv[0]) is None:
                print(f"{label}: {argv[0]} not installed, skipped")
                continue
            if not journal.pending:
                await fill(journal, records)
            began = time.perf_counter()
            fetches, size = await fetchAll(reactor, service, argv, dest)
            seconds = time.perf_counter() - began
            print(
                f"{label}: {fetches} fetch(es), {size / 1e6:.1f} MB in "
                f"{seconds:.2f} s: {records / seconds:,.0f} records/s, "
                f"{size / 1e6 / seconds:.1f} MB/s"
            )
        await service.stopService()
        await journal.close()
    finally:
        shutil.rmtree(directory)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--records", type=int, default=100_000)
    options = parser.parse_args()
    react(lambda reactor: ensureDeferred(main(reactor, options.records)))

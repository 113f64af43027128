"""
How long a billing system takes to fetch and acknowledge a million call
data records over HTTPS on loopback with the two-phase protocol
(C{GET /cdr/batch}, then C{POST /cdr/batch/<id>/ack}) from oso's CDR
download.  The target is under 10 s for 1,000,000 records.

The server is this process (the journal, the download and its TLS listener
on 127.0.0.1); the billing system is C{curl}, a separate process, which
saves each batch to a file before acknowledging it, as a real one should.
The journal is filled beforehand (not timed).  Durable write speed is
C{bench/cdr_journal.py}'s figure.

    python bench/cdr_fetch.py [--records 1000000] [--batch 100000 1000000]
                              [--format jsonl] [--directory DIR] [--profile]
"""

import argparse
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).parent)]

from twisted.internet.defer import ensureDeferred  # noqa: E402
from twisted.internet.task import react  # noqa: E402
from twisted.internet.utils import getProcessOutputAndValue  # noqa: E402
from twisted.python.filepath import FilePath  # noqa: E402

from oso.cdr.download import CDRDownload, PasswordCheck  # noqa: E402
from oso.cdr.downloadlistener import DownloadListener  # noqa: E402
from oso.cdr.formats import (  # noqa: E402
    CSVFormat,
    HiPathFixedFormat,
    JSONLinesFormat,
    OpenScapeFormat,
)
from oso.cdr.journal import Journal, SyncJournal  # noqa: E402
from oso.certificates import ensureCertificate  # noqa: E402
from oso.secrets import hashPassword  # noqa: E402
from cdr_journal import record  # noqa: E402  (a record shaped like a real call's)

TARGET_SECONDS = 10.0
USER, PASSWORD = "billing", "bench-password"
FORMATS = {f.name: f for f in [JSONLinesFormat(), OpenScapeFormat(),
                                HiPathFixedFormat(), CSVFormat()]}


def fill(directory, count):
    """
    Write C{count} records into a fresh journal (not timed).
    """
    journal = SyncJournal(directory, capacity=max(count, 1))
    journal.open()
    for start in range(0, count, 50_000):
        journal.appendBatch([record(i) for i in range(start, min(count, start + 50_000))])
    journal.close()


async def curl(reactor, *arguments):
    """
    Run curl; return its standard output.
    """
    out, err, code = await getProcessOutputAndValue(
        "curl", ["--silent", "--show-error", "--fail", *arguments], reactor=reactor
    )
    if code != 0:
        raise RuntimeError(f"curl {' '.join(arguments)}: {err.decode()}")
    return out


async def fetchAll(reactor, url, cacert, batch, format, out):
    """
    Fetch and acknowledge batches until none is left.

    @return: the records fetched.
    """
    auth = ["--cacert", cacert, "--user", f"{USER}:{PASSWORD}"]
    fetched = 0
    while True:
        headers = os.path.join(out, "headers")
        body = os.path.join(out, "batch")
        await curl(reactor, *auth, "--dump-header", headers, "--output", body,
                   f"{url}/batch?limit={batch}&format={format}")
        fields = {}
        with open(headers, "rb") as f:
            for line in f:
                name, _, value = line.decode("latin-1").partition(":")
                fields[name.strip().lower()] = value.strip()
        if fields.get("x-cdr-count", "0") == "0":
            return fetched
        with open(body, "rb") as f:
            os.fsync(f.fileno())
        fetched += int(fields["x-cdr-count"])
        await curl(reactor, *auth, "--request", "POST",
                   f"{url}/batch/{fields['x-cdr-batch']}/ack")


async def run(reactor, options):
    base = options.directory or tempfile.mkdtemp(prefix="oso-cdr-fetch-")
    try:
        data = FilePath(base)
        print(f"filling a journal with {options.records:,} records ...", flush=True)
        for batch in options.batch:
            journalPath = data.child("cdr").path
            shutil.rmtree(journalPath, ignore_errors=True)
            fill(journalPath, options.records)
            journal = Journal(journalPath, reactor, capacity=max(options.records, 1))
            await journal.open()
            download = CDRDownload(
                reactor, journal, FORMATS.__getitem__, options.format,
                PasswordCheck(reactor, {USER: hashPassword(PASSWORD)}),
            )
            listener = DownloadListener(
                reactor, "ssl:0:interface=127.0.0.1", data, download
            )
            await listener.start()
            url = f"https://127.0.0.1:{listener.port.getHost().port}/cdr"
            cacert = ensureCertificate(data).certificate.path
            profile = cProfile.Profile() if options.profile else None
            if profile:
                profile.enable()
            started = time.perf_counter()
            fetched = await fetchAll(reactor, url, cacert, batch, options.format, base)
            seconds = time.perf_counter() - started
            if profile:
                profile.disable()
            left = journal.pending
            await listener.stop()
            await journal.close()
            verdict = "meets" if seconds < TARGET_SECONDS * options.records / 1e6 else "MISSES"
            print(
                f"batches of {batch:>9,} {options.format}: {fetched:,} records fetched "
                f"and acknowledged in {seconds:.2f} s = {fetched / seconds:,.0f} records/s "
                f"({left} left; {verdict} the target of 1,000,000 in "
                f"{TARGET_SECONDS:.0f} s)",
                flush=True,
            )
            if profile:
                pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
    finally:
        if not options.directory:
            shutil.rmtree(base, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--format", default="jsonl", choices=sorted(FORMATS))
    parser.add_argument("--directory", help="where the journal goes (default: a temp folder)")
    parser.add_argument("--profile", action="store_true", help="profile the server side")
    options = parser.parse_args()
    if shutil.which("curl") is None:
        sys.exit("curl is needed: it plays the billing system")
    react(lambda reactor: ensureDeferred(run(reactor, options)))


if __name__ == "__main__":
    main()

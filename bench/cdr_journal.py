"""
How many call data records per second the journal makes durable (written
and fsync'd before the append's Deferred fires) on this machine.

Each run opens a fresh journal and keeps C{concurrency} appends in flight
(as many calls ending at once) until C{--records} are written; group commit
lets the appends that arrive during one fsync share the next.  The target
is 5,000 records/s.

    python bench/cdr_journal.py [--records 20000] [--concurrency 1 10 100 1000]
                                [--directory DIR]
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from twisted.internet.defer import ensureDeferred, gatherResults  # noqa: E402
from twisted.internet.task import react  # noqa: E402

from oso.cdr.journal import Journal  # noqa: E402
from oso.cdr.record import CallRecord, Direction, Disposition  # noqa: E402

TARGET = 5000


def record(i):
    """
    A record shaped like a real outgoing call's.
    """
    return CallRecord(
        callID=f"C{i}",
        endTime=time.time(),
        ringSeconds=4,
        durationSeconds=125,
        line="201",
        subscriber="33388",
        externalNumber="00498912345678",
        direction=Direction.outgoing,
        disposition=Disposition.answered,
        chargeUnits=7,
        accountCode="4711",
        msn="5551234",
        trunkGroup="0",
        lcrRoute="2",
    )


async def run(reactor, directory, records, concurrency):
    """
    Append C{records} records with C{concurrency} in flight.

    @return: C{(seconds, fsyncs, latencies)}.
    """
    fsyncs = [0]

    def fsync(fd):
        fsyncs[0] += 1
        os.fsync(fd)

    journal = Journal(directory, reactor, fsync=fsync)
    await journal.open()
    fsyncs[0] = 0
    latencies = []
    counter = iter(range(records))

    async def caller():
        for i in counter:
            started = time.perf_counter()
            await journal.append(record(i))
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await gatherResults([ensureDeferred(caller()) for _ in range(concurrency)])
    seconds = time.perf_counter() - started
    await journal.close()
    return seconds, fsyncs[0], latencies


async def main(reactor, arguments):
    parent = tempfile.mkdtemp(prefix="oso-cdr-bench-", dir=arguments.directory)
    print(f"journal on {parent} ({arguments.records} records per run)")
    print(
        f"{'in flight':>9} {'records/s':>10} {'fsyncs':>7} {'rec/fsync':>9} "
        f"{'p50 ms':>7} {'p99 ms':>7}"
    )
    best = 0
    try:
        for concurrency in arguments.concurrency:
            directory = os.path.join(parent, f"c{concurrency}")
            seconds, fsyncs, latencies = await run(
                reactor, directory, arguments.records, concurrency
            )
            rate = arguments.records / seconds
            best = max(best, rate)
            cuts = statistics.quantiles(latencies, n=100)
            print(
                f"{concurrency:>9} {rate:>10,.0f} {fsyncs:>7} "
                f"{arguments.records / max(fsyncs, 1):>9.1f} "
                f"{cuts[49] * 1000:>7.2f} {cuts[98] * 1000:>7.2f}"
            )
    finally:
        shutil.rmtree(parent)
    verdict = "meets" if best >= TARGET else "misses"
    print(f"best {best:,.0f} durable records/s: {verdict} the target of {TARGET:,}")


def parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument(
        "--concurrency", type=int, nargs="+", default=[1, 10, 100, 1000]
    )
    parser.add_argument(
        "--directory", default=None, help="where to put the journal (default: /tmp)"
    )
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse()
    react(lambda reactor: ensureDeferred(main(reactor, arguments)))

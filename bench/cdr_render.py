"""
How fast the CDR record path runs on one core, without the network: the
journal's C{readLines} (lines/s, checksums checked), parsing the journal's
JSON into records (C{CallRecord.fromJSON}), and each format's
C{formatRecord} (records/s).  The target is 400,000 lines/s for
C{readLines} and 150,000 records/s for each format's rendering.

    python bench/cdr_render.py [--records 200000] [--directory DIR]
"""

import argparse
import shutil
import sys
import tempfile
import time
from datetime import timezone
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).parent)]

from oso.cdr.formats import (  # noqa: E402
    CSVFormat,
    HiPathFixedFormat,
    JSONLinesFormat,
    OpenScapeFormat,
)
from oso.cdr.journal import SyncJournal  # noqa: E402
from oso.cdr.record import CallRecord  # noqa: E402
from cdr_journal import record  # noqa: E402  (a record shaped like a real call's)

READ_TARGET = 400_000
RENDER_TARGET = 150_000


def best(f, repeat=3):
    """
    The shortest of C{repeat} runs of C{f}, in seconds.
    """
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        f()
        times.append(time.perf_counter() - started)
    return min(times)


def verdict(rate, target):
    return "meets" if rate >= target else "MISSES"


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--directory", help="where the journal goes (default: /tmp)")
    options = parser.parse_args()
    count = options.records
    base = tempfile.mkdtemp(prefix="oso-cdr-render-", dir=options.directory)
    try:
        journal = SyncJournal(base, capacity=count)
        journal.open()
        for start in range(0, count, 50_000):
            journal.appendBatch([record(i) for i in range(start, min(count, start + 50_000))])
        seconds = best(lambda: journal.readLines(0, count))
        rate = count / seconds
        print(f"readLines      {rate:>10,.0f} lines/s   "
              f"({verdict(rate, READ_TARGET)} {READ_TARGET:,})")
        lines = journal.readLines(0, count)
        journal.close()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    seconds = best(lambda: [CallRecord.fromJSON(text) for _, text in lines])
    print(f"fromJSON       {count / seconds:>10,.0f} records/s")
    records = [CallRecord.fromJSON(text) for _, text in lines]
    for format in [OpenScapeFormat(timezone.utc), OpenScapeFormat(),
                   HiPathFixedFormat(), CSVFormat(), JSONLinesFormat()]:
        render = format.formatRecord
        seconds = best(lambda: [render(r) for r in records])
        rate = count / seconds
        zone = "" if getattr(format, "tz", None) is None else " (UTC)"
        print(f"{format.name + zone:<14} {rate:>10,.0f} records/s "
              f"({verdict(rate, RENDER_TARGET)} {RENDER_TARGET:,})")


if __name__ == "__main__":
    main()

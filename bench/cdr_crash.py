"""
The CDR crash test of tests/cdr/test_cdr_crash.py with more rounds:
C{twistd -n oso} making calls with virtual phones is killed with SIGKILL at
random moments C{--rounds} times and restarted, a billing client fetching
with the two-phase HTTPS protocol along the way and at the end.  Prints
how many calls ended, how many records were fetched, and that every ended
call had exactly one record per leg and no record came twice (it stops
with the assertion that failed otherwise).

    python bench/cdr_crash.py [--rounds 20] [--seed N]
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(CHECKOUT), str(CHECKOUT / "tests"), str(CHECKOUT / "tests" / "cdr")]

from conftest import Twistd  # noqa: E402
from test_cdr_crash import runCrashTest  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=None)
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="oso-cdr-crash-"))
    started = []

    def twistd(arguments, cwd, pythonPath=()):
        process = Twistd(arguments, cwd, pythonPath)
        started.append(process)
        return process

    began = time.monotonic()
    try:
        calls, records = runCrashTest(folder, twistd, options.rounds, options.seed)
    finally:
        for process in started:
            if process.process.poll() is None:
                process.process.kill()
                process.process.wait()
        shutil.rmtree(folder, ignore_errors=True)
    print(
        f"{options.rounds} SIGKILLs in {time.monotonic() - began:.0f} s: {calls} calls "
        f"ended, {records} records fetched; every ended call had exactly one record "
        f"per leg, and no record was fetched twice"
    )


if __name__ == "__main__":
    main()

"""
The CPU time of the transactions' timers: the reactor's own C{callLater}
(one C{DelayedCall} each, in a heap) against L{oso.sip.timerlanes}, on
the reactor's timer code over a simulated clock (see bench/sip_inprocess.py).

Each step of a millisecond starts what a transaction under load starts: a
Timer J (32 s, runs out), a retransmission timer (T1) and a timeout timer
(64*T1), the last two cancelled a few steps later when the answer comes;
so tens of thousands of timers are alive, as in a loaded server.

    python bench/sip_timers.py [--steps 30000] [--rounds 2]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.sip_inprocess import _SimulatedReactor  # noqa: E402
from oso.sip.timerlanes import TimerLanes  # noqa: E402


def measure(lanes, steps):
    """
    @return: the CPU time per step, in seconds.
    """
    reactor = _SimulatedReactor(1_800_000_000.0)
    clock = TimerLanes(reactor) if lanes else reactor
    pending = []

    def nothing(name):
        pass

    start = time.process_time()
    for _ in range(steps):
        reactor.advance(0.001)
        clock.callLater(32.0, nothing, "J")
        pending.append((clock.callLater(0.5, nothing, "A"), clock.callLater(32.0, nothing, "B")))
        if len(pending) > 5:
            for timer in pending.pop(0):
                timer.cancel()
    return (time.process_time() - start) / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=30000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    for round in range(args.rounds):
        reactor = measure(False, args.steps)
        lanes = measure(True, args.steps)
        print(
            f"round {round + 1}: three timers started and two cancelled per step: "
            f"reactor callLater {reactor * 1e6:.1f} us, TimerLanes {lanes * 1e6:.1f} us "
            f"({reactor / lanes:.1f} times less)"
        )


if __name__ == "__main__":
    main()

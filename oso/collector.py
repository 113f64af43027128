"""
The cyclic garbage collector's settings for the running server.

Under SIP load the server keeps tens of thousands of finished transactions
alive for their retransmission timers (Timer J: 32 s over UDP), each a few
dozen objects. With CPython's default thresholds (700, 10, 10) those
objects are promoted to the oldest generation as fast as they are made,
so full collections of nearly a million objects ran every few seconds:
about a quarter of the server's CPU under REGISTER load, in stalls of up
to 0.7 s that made every phone in flight retransmit
(doc/sip.md, "Load"). Nearly all of the server's garbage is freed by
reference counting; the collector is only for the few cycles, so it may
look less often: young collections after more allocations, and full ones
far more rarely.  What the server made while starting (configuration,
devices, modules) lives as long as the process and is frozen out of the
collector's sight.
"""

import gc

#: Young collections after this many net allocations (CPython: 700); the
#: middle generation after this many young collections; the oldest after
#: this many middle ones (and only when it has grown by a quarter since).
THRESHOLDS = (10_000, 10, 100)


def tuneCollector():
    """
    Set the collector's thresholds for a long-running server
    (L{THRESHOLDS}).
    """
    gc.set_threshold(*THRESHOLDS)


def freezeStartup(ignored=None):
    """
    Move everything alive now out of the collector's sight (the server's
    start is done): C{gc.freeze()}. It still frees by reference counting.

    @return: C{ignored}, so that it can be a Deferred's callback.
    """
    gc.freeze()
    return ignored

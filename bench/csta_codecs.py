"""
Messages per second for encode and decode of a MakeCall request and a
DeliveredEvent, in ECMA-323 XML and ECMA-285 BER (a ROSE invoke around each),
on one core: the rates are per second of this process's CPU time, so that
other load on the machine does not lower them.  The BER encoder keeps
encoded device and connection ids, so it is measured both on one repeated
message and with a new call id each time.  C{--profile} adds, for each, the
share of the time spent in each part (pyasn1, lxml, oso's codec modules)
and a cProfile top 10.

    python bench/csta_codecs.py [--profile] [--seconds 1.0]
"""

import argparse
import cProfile
import pstats
import time
from dataclasses import replace

from oso.callmodel.causes import EventCause
from oso.callmodel.ids import ConnectionID
from oso.callmodel.states import LocalConnectionState
from oso.csta import messages as m
from oso.csta.xml import Edition, modelCodec

MAKE_CALL = m.MakeCall(callingDevice="100", calledDirectoryNumber="101")
DELIVERED = m.DeliveredEvent(
    monitorCrossRefID="17",
    connection=ConnectionID("4711", "101"),
    alertingDevice="101",
    callingDevice="100",
    calledDevice="101",
    lastRedirectionDevice=m.DeviceIDStatus.notKnown,
    localConnectionInfo=LocalConnectionState.alerting,
    cause=EventCause.newCall,
)


def rate(function, seconds):
    """
    Calls of C{function} per CPU second over about C{seconds} of CPU time.
    """
    n, start = 0, time.process_time()
    while True:
        for _ in range(200):
            function()
        n += 200
        elapsed = time.process_time() - start
        if elapsed >= seconds:
            return n / elapsed


#: Where a function's time is counted in the profile summary: the first
#: part whose marker is in its file's path.
PARTS = [
    ("pyasn1", "/pyasn1/"),
    ("lxml", "lxml"),
    ("oso.csta.asn1 (model <-> pyasn1 values)", "/oso/csta/asn1/"),
    ("oso.csta.ber (envelopes, structure check)", "/oso/csta/ber.py"),
    ("oso.csta.xml, xmlsafe", "/oso/csta/xml"),
]


def shares(stats):
    """
    The share of the profiled time spent in each of L{PARTS} (by the
    functions' own time), the rest as C{other}.
    """
    totals = {}
    for (path, _, function), (_, _, ownTime, _, _) in stats.stats.items():
        where = path + function
        part = next((name for name, marker in PARTS if marker in where), "other")
        totals[part] = totals.get(part, 0.0) + ownTime
    whole = sum(totals.values()) or 1.0
    return sorted(((t / whole, part) for part, t in totals.items()), reverse=True)


def cases():
    xml = modelCodec()
    for name, message in [("MakeCall", MAKE_CALL), ("DeliveredEvent", DELIVERED)]:
        data = xml.encode(message, Edition.ED3)
        yield f"XML {name} encode", lambda message=message: xml.encode(message, Edition.ED3)
        yield f"XML {name} decode", lambda data=data: xml.decode(data)
    from oso.csta import ber

    invokes = [
        ("MakeCall", m.Invoke(invokeID=1, operation="makeCall", argument=MAKE_CALL)),
        (
            "DeliveredEvent",
            m.Invoke(invokeID=9999, operation="cSTAEventReport", argument=DELIVERED),
        ),
    ]
    for name, invoke in invokes:
        data = ber.encode(invoke)
        yield f"BER {name} encode", lambda invoke=invoke: ber.encode(invoke)
        yield f"BER {name} decode", lambda data=data: ber.decode(data)
    callIDs = iter(range(10**9))

    def freshEvent():
        event = replace(DELIVERED, connection=ConnectionID(str(next(callIDs)), "101"))
        return ber.encode(m.Invoke(invokeID=9999, operation="cSTAEventReport", argument=event))

    yield "BER DeliveredEvent encode, new call", freshEvent

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--seconds", type=float, default=1.0)
    options = parser.parse_args()
    for label, function in cases():
        print(f"{label:32s} {rate(function, options.seconds):10,.0f} messages/s")
        if options.profile:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(5000):
                function()
            profile.disable()
            stats = pstats.Stats(profile)
            for share, part in shares(stats):
                print(f"    {share:6.1%}  {part}")
            stats.sort_stats("tottime").print_stats(10)


if __name__ == "__main__":
    main()

"""
Messages per second for encode and decode of a MakeCall request and a
DeliveredEvent, in ECMA-323 XML and (once L{oso.csta.ber} is in the tree)
ECMA-285 BER, on one core. C{--profile} adds a cProfile top 10 for each.

    python bench/csta_codecs.py [--profile] [--seconds 1.0]
"""

import argparse
import cProfile
import pstats
import time

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
    Calls of C{function} per second over about C{seconds}.
    """
    n, start = 0, time.perf_counter()
    while True:
        for _ in range(200):
            function()
        n += 200
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


def cases():
    xml = modelCodec()
    for name, message in [("MakeCall", MAKE_CALL), ("DeliveredEvent", DELIVERED)]:
        data = xml.encode(message, Edition.ED3)
        yield f"XML {name} encode", lambda message=message: xml.encode(message, Edition.ED3)
        yield f"XML {name} decode", lambda data=data: xml.decode(data)
    try:
        from oso.csta import ber
    except ImportError:
        print("BER: oso.csta.ber is not in the tree yet")
        return
    print("BER: oso.csta.ber is present; add its calls here once its API is settled")


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
            pstats.Stats(profile).sort_stats("tottime").print_stats(10)


if __name__ == "__main__":
    main()

"""
The media relay's throughput: N simultaneous trunk calls anchored on
oso's relay (L{oso.media.anchor}, the real sockets and reactor), each
with RTP at 50 packets/s both ways (G.711, 20 ms, 172 octets) from a
separate load process on loopback.  Prints, per N, the packets relayed
per second, the relay's CPU microseconds per packet (user + system of
this process, which runs only the reactor and the relay) and the packets
the load process got back against those it sent.

    python bench/media_relay.py [--calls 10 50 100 200] [--seconds 5]
"""

import argparse
import json
import resource
import socket
import subprocess
import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(CHECKOUT)]

from twisted.internet import task  # noqa: E402
from twisted.internet.defer import Deferred, ensureDeferred  # noqa: E402

from oso.media.anchor import MediaRelays, RelaySettings  # noqa: E402
from oso.media.relay import PHONE, PROVIDER  # noqa: E402
from oso.media.udp import PortRange  # noqa: E402

#: The load: one socket per party, each sending a packet every 20 ms to
#: its relay port and counting what comes back.
LOAD = r"""
import json, selectors, socket, sys, time
plan, seconds = json.loads(sys.argv[1]), float(sys.argv[2])
selector = selectors.DefaultSelector()
sockets = []
for local, remote in plan:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", local))
    s.setblocking(False)
    selector.register(s, selectors.EVENT_READ)
    sockets.append((s, ("127.0.0.1", remote)))
packet = b"\x80\x08" + bytes(10) + bytes(160)
sent = received = 0
tick = time.monotonic()
end = tick + seconds
while tick < end:
    for s, destination in sockets:
        s.sendto(packet, destination)
        sent += 1
    tick += 0.02
    while (wait := tick - time.monotonic()) > 0:
        for key, _ in selector.select(wait):
            try:
                while True:
                    key.fileobj.recv(2048)
                    received += 1
            except BlockingIOError:
                pass
print(json.dumps({"sent": sent, "received": received}))
"""


def description(port):
    return (f"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n").encode()


def freePorts(count):
    held = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        held.append(s)
    ports = [s.getsockname()[1] for s in held]
    for s in held:
        s.close()
    return ports


def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def sleep(reactor, seconds):
    done = Deferred()
    reactor.callLater(seconds, done.callback, None)
    return done


async def run(reactor, calls, seconds):
    # Below the kernel's ephemeral ports, where the load's sockets are.
    relays = MediaRelays(reactor, RelaySettings(PortRange(20000, 29999)))
    parties = freePorts(2 * calls)
    plan = []
    for n in range(calls):
        provider, phone = parties[2 * n], parties[2 * n + 1]
        anchor = relays.anchor("127.0.0.1", "127.0.0.1")
        anchor.toPhone(description(provider))
        anchor.toProvider(description(phone))
        (providerFacing, _), (phoneFacing, _) = anchor.local(0, PROVIDER), anchor.local(0, PHONE)
        plan += [(provider, providerFacing[1]), (phone, phoneFacing[1])]
    # One load process per 25 calls, so that the load keeps its pace.
    loads = [
        subprocess.Popen([sys.executable, "-c", LOAD, json.dumps(plan[i:i + 50]), str(seconds + 2)],
                         stdout=subprocess.PIPE, text=True)
        for i in range(0, len(plan), 50)
    ]

    def relayed():
        return sum(sum(counts.values()) for a in relays.anchors for counts in a.relayed().values())

    await sleep(reactor, 1)
    packets, used = relayed(), cpu()
    await sleep(reactor, seconds)
    packets, used = relayed() - packets, cpu() - used
    while any(load.poll() is None for load in loads):
        await sleep(reactor, 0.2)
    counts = [json.loads(load.stdout.read()) for load in loads]
    sent, received = (sum(c[key] for c in counts) for key in ("sent", "received"))
    await relays.stop()
    rate = packets / seconds
    print(f"{calls:5d} calls: {rate:9.0f} packets/s relayed "
          f"(nominal {calls * 100:6d}), {1e6 * used / max(packets, 1):6.1f} µs CPU per packet, "
          f"{100 * used / seconds:5.1f} % of a core; the load sent {sent}, got back {received}")


async def main(reactor, options):
    print(f"media relay, {options.seconds:.0f} s per run, RTP 50 packets/s each way per call")
    for calls in options.calls:
        await run(reactor, calls, options.seconds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--calls", type=int, nargs="+", default=[10, 50, 100, 200])
    parser.add_argument("--seconds", type=float, default=5.0)
    options = parser.parse_args()
    task.react(lambda reactor: ensureDeferred(main(reactor, options)))

"""
The G-Server's event stream under load: events per second delivered as
Server-Sent Events to N clients over HTTPS on loopback.

The server (the G-Server site serving the event stream on a TLS listener)
runs in this process and feeds the stream's history C{DoNotDisturb}
events in batches every 10 ms, numbered as the call model's bus numbers
them, so that what is measured is the stream (JSON once per event, the
fan-out, each client's queue, TLS), not the call model's services.  The
clients run in a second process (this script with C{--client-process}),
each reading the stream as an administrator over its own TLS connection,
so their work does not count against the server.

    python bench/gserver_events.py [--clients 10] [--seconds 10] [--batch 100]
"""

import argparse
import json
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from twisted.application.service import MultiService  # noqa: E402
from twisted.internet.defer import Deferred, ensureDeferred, gatherResults  # noqa: E402
from twisted.internet.endpoints import SSL4ServerEndpoint  # noqa: E402
from twisted.internet.protocol import Protocol  # noqa: E402
from twisted.internet.task import LoopingCall, deferLater, react  # noqa: E402
from twisted.internet.threads import deferToThread  # noqa: E402
from twisted.python.filepath import FilePath  # noqa: E402

DEVICES = [str(300 + i) for i in range(20)]


# --- the client process -------------------------------------------------------


class Counter(Protocol):
    """
    Counts the events and overflow notices of one stream.
    """

    def __init__(self):
        self.events = 0
        self.overflows = 0
        self.closed = Deferred()
        self._tail = b""

    def dataReceived(self, data):
        data = self._tail + data
        blocks = data.split(b"\n\n")
        self._tail = blocks.pop()
        for block in blocks:
            if block.startswith(b"id: "):
                self.events += 1
            elif b"event: overflow" in block:
                self.overflows += 1

    def connectionLost(self, reason):
        self.closed.callback(None)


async def clients(reactor, url, certificate, token, count, seconds):
    """
    Read the stream with C{count} clients for C{seconds}; print the
    figures as JSON.
    """
    from treq.client import HTTPClient
    from twisted.internet import ssl
    from twisted.web.client import Agent, BrowserLikePolicyForHTTPS, HTTPConnectionPool

    pool = HTTPConnectionPool(reactor, persistent=False)
    trust = ssl.Certificate.loadPEM(Path(certificate).read_bytes())
    client = HTTPClient(Agent(reactor, contextFactory=BrowserLikePolicyForHTTPS(trustRoot=trust),
                              pool=pool))

    async def open():
        response = await client.get(url + "/events",
                                    headers={"Authorization": "Bearer " + token})
        if response.code != 200:
            raise RuntimeError(f"the event stream answered {response.code}")
        counter = Counter()
        response.deliverBody(counter)
        return counter

    counters = await gatherResults([ensureDeferred(open()) for _ in range(count)])
    # Count from when every client is reading.
    for counter in counters:
        counter.events = 0
    began = time.monotonic()
    await deferLater(reactor, seconds, lambda: None)
    elapsed = time.monotonic() - began
    figures = {
        "seconds": elapsed,
        "events": [c.events for c in counters],
        "overflows": sum(c.overflows for c in counters),
    }
    for counter in counters:
        counter.transport.stopProducing()
    print(json.dumps(figures))


# --- the server -----------------------------------------------------------------


class EventsPart:
    """
    The event stream alone at C{/events} (the REST API serves it at
    C{/api/v1/events}).
    """

    name = "bench-events"
    path = "events"
    stream = None

    def resource(self, site):
        from oso.gserver.eventstream import EventStream

        self.stream = EventStream(site)
        return self.stream


async def serve(reactor, options):
    from oso.callmodel.events import DoNotDisturb
    from oso.callmodel.model import CallModel
    from oso.certificates import ensureCertificate
    from oso.config import defaults
    from oso.gserver.accounts import Accounts, Principal
    from oso.gserver.credentials import Administrator
    from oso.gserver.settings import GServerSettings
    from oso.gserver.site import GServerSite
    from oso.secrets import hashPassword
    from oso.service import ServerContext
    from oso.store.memory import MemoryStore

    store = MemoryStore()
    model = CallModel(reactor, store)
    data = FilePath(tempfile.mkdtemp(prefix="oso-bench-events-"))
    context = ServerContext(reactor, model, store, data, defaults(), MultiService())
    accounts = Accounts(store, model, reactor)
    part = EventsPart()
    site = GServerSite(context, accounts, reactor, GServerSettings(), parts=[part])
    files = ensureCertificate(data)
    port = await SSL4ServerEndpoint(reactor, 0, files.contextFactory(),
                                    interface="127.0.0.1").listen(site.webSite())
    await store.saveAdministrator(Administrator("bench", hashPassword(secrets.token_urlsafe())))
    token = await accounts.issueToken(Principal.forAdministrator("bench"), "bench")
    published = [0]

    def batch():
        history = part.stream.history
        for _ in range(options.batch):
            published[0] += 1
            history.eventReceived(DoNotDisturb(
                seq=published[0], time=reactor.seconds(), device=DEVICES[published[0] % 20],
                doNotDisturbOn=published[0] % 2 == 1,
            ))

    loop = LoopingCall(batch)
    began = time.monotonic()
    loop.start(0.01)
    try:
        result = await deferToThread(
            subprocess.run,
            [sys.executable, __file__, "--client-process", f"https://127.0.0.1:{port.getHost().port}",
             files.certificate.path, token, str(options.clients), str(options.seconds)],
            capture_output=True, text=True, check=False,
        )
    finally:
        loop.stop()
        running = time.monotonic() - began
        await port.stopListening()
        data.remove()
    if result.returncode != 0:
        sys.exit(f"the clients failed:\n{result.stderr}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    seconds = figures["seconds"]
    delivered = sum(figures["events"])
    print(f"event stream, {options.clients} SSE clients over HTTPS on loopback, "
          f"{seconds:.1f} s")
    print(f"  {published[0] / running:,.0f} events/s published (of {options.batch * 100:,} asked), "
          f"{delivered / seconds:,.0f} events/s delivered in all "
          f"({delivered / seconds / options.clients:,.0f} per client)")
    print(f"  fewest / most events of one client: {min(figures['events']):,} / "
          f"{max(figures['events']):,}; {figures['overflows']} streams ended by overflow")


def main():
    if sys.argv[1:2] == ["--client-process"]:
        url, certificate, token, count, seconds = sys.argv[2:7]
        react(lambda reactor: ensureDeferred(
            clients(reactor, url, certificate, token, int(count), float(seconds))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=100,
                        help="events published every 10 ms")
    options = parser.parse_args()
    react(lambda reactor: ensureDeferred(serve(reactor, options)))


if __name__ == "__main__":
    main()

"""
The OpenScape gadget API under polling: requests per second for
C{GetEvents} by many sessions over HTTPS on loopback, while virtual phones
make calls, with the latency of a poll (median and 99th percentile) and
the events delivered.

The server (the G-Server site with the gadget API part on a TLS listener,
the call model, virtual phones and a call generator) runs in this process;
the clients run in a second process (this script with C{--clients}), each
session logging in, monitoring its own extension and then polling
C{GetEvents} back to back over its own persistent TLS connection, so their
work does not count against the server.

    python bench/gserver_gadget.py [--sessions 100] [--seconds 10] [--calls 20]
"""

import argparse
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from twisted.application.service import MultiService  # noqa: E402
from twisted.internet.defer import Deferred, ensureDeferred, gatherResults  # noqa: E402
from twisted.internet.endpoints import SSL4ServerEndpoint  # noqa: E402
from twisted.internet.protocol import ProcessProtocol  # noqa: E402
from twisted.internet.task import LoopingCall, react  # noqa: E402
from twisted.python.filepath import FilePath  # noqa: E402

ADMIN, PASSWORD = "admin", "bench-Secret-1"
FIRST = 200


def cpu():
    """
    @return: this process's CPU seconds so far (user and system).
    """
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime



# --- the client process -------------------------------------------------------


async def clients(reactor, url, certificate, sessions, seconds):
    """
    Log C{sessions} sessions in, each monitoring its extension, and poll
    GetEvents with each for C{seconds}; print the figures as JSON.
    """
    import treq
    from twisted.internet import ssl
    from twisted.web.client import Agent, BrowserLikePolicyForHTTPS, HTTPConnectionPool

    pool = HTTPConnectionPool(reactor, persistent=True)
    pool.maxPersistentPerHost = sessions
    trust = ssl.Certificate.loadPEM(Path(certificate).read_bytes())
    client = treq.client.HTTPClient(
        Agent(reactor, contextFactory=BrowserLikePolicyForHTTPS(trustRoot=trust), pool=pool)
    )
    api = url + "/cgi-bin/gadgetapi"

    async def get(**params):
        response = await client.get(api, params=params)
        return await response.content()

    async def login(index):
        body = (await get(cmd="Login", gsUser=ADMIN, gsPass=PASSWORD)).decode()
        session = body.split("<ID>")[1].split("</ID>")[0]
        await get(cmd="MonitorStart", gsSession=session, deviceObject=str(FIRST + index))
        return session

    ids = await gatherResults([ensureDeferred(login(i)) for i in range(sessions)])
    print("polling", flush=True)
    latencies, counts = [], {"events": 0, "lost": 0, "errors": 0}
    end = time.monotonic() + seconds

    async def poll(session):
        while time.monotonic() < end:
            start = time.monotonic()
            reply = json.loads(await get(cmd="GetEvents", gsSession=session))
            latencies.append(time.monotonic() - start)
            if "events" not in reply:
                counts["errors"] += 1
                continue
            for event in reply["events"]:
                if event["type"] == "EventsLost":
                    counts["lost"] += event["count"]
                else:
                    counts["events"] += 1

    began, cpuBefore = time.monotonic(), cpu()
    await gatherResults([ensureDeferred(poll(session)) for session in ids])
    elapsed, cpuUsed = time.monotonic() - began, cpu() - cpuBefore
    await pool.closeCachedConnections()
    latencies.sort()
    print(json.dumps({
        "requests": len(latencies),
        "seconds": elapsed,
        "cpu": cpuUsed,
        "median": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99)],
        **counts,
    }))


# --- the server -----------------------------------------------------------------


def exchange(reactor, numbers):
    """
    A call model on the real reactor with a virtual phone per number, each
    answering 0.2 s after it starts ringing.
    """
    from oso.callmodel.devices import Device
    from oso.callmodel.model import CallModel
    from oso.ports.virtual import VirtualPhones
    from oso.store.memory import MemoryStore

    store = MemoryStore()
    model = CallModel(reactor, store)
    phones = VirtualPhones(model, reactor, autoAnswer={n: 0.2 for n in numbers})
    model.registerPort(phones)
    devices = [Device(n, port=phones.name) for n in numbers]
    model.loadDevices(devices)
    for device in devices:
        store.saveDevice(device)
    return store, model, phones


def callGenerator(reactor, model, phones, numbers, perSecond):
    """
    Start C{perSecond} calls a second between idle phones, each hung up by
    its caller 1 s after it starts.

    @return: a C{[calls started]} counter and the running L{LoopingCall}.
    """
    started = [0]

    def hangUp(phone):
        try:
            phone.hangUp()
        except LookupError:
            pass

    def one():
        idle = [n for n in numbers if not model.snapshotDevice(n)]
        if len(idle) < 2:
            return
        caller, called = random.sample(idle, 2)
        phones.phone(caller).offHook(called)
        started[0] += 1
        reactor.callLater(1.0, hangUp, phones.phone(caller))

    loop = LoopingCall(one)
    loop.clock = reactor
    loop.start(1.0 / perSecond, now=False)
    return started, loop


class Clients(ProcessProtocol):
    """
    The client process: C{polling} fires when every session has logged in
    and polling starts, C{ended} with its figures (JSON) when it exits.
    """

    def __init__(self):
        self.polling = Deferred()
        self.ended = Deferred()
        self._out = b""
        self._err = b""

    def outReceived(self, data):
        self._out += data
        if b"polling\n" in self._out and not self.polling.called:
            self.polling.callback(None)

    def errReceived(self, data):
        self._err += data

    def processEnded(self, reason):
        lines = self._out.decode().strip().splitlines()
        if reason.value.exitCode != 0 or not lines or lines[-1] == "polling":
            failure = RuntimeError(f"the clients failed:\n{self._err.decode()}")
            if not self.polling.called:
                self.polling.errback(failure)
            else:
                self.ended.errback(failure)
            return
        self.ended.callback(lines[-1])


async def serve(reactor, options):
    from oso.certificates import ensureCertificate
    from oso.config import defaults
    from oso.gserver.accounts import Accounts
    from oso.gserver.credentials import Administrator
    from oso.gserver.settings import GServerSettings
    from oso.gserver.site import GServerSite
    from oso.plugins.gserver_gadget import gadget
    from oso.secrets import hashPassword
    from oso.service import ServerContext

    numbers = [str(FIRST + i) for i in range(options.sessions)]
    store, model, phones = exchange(reactor, numbers)
    await store.saveAdministrator(Administrator(ADMIN, hashPassword(PASSWORD)))
    data = FilePath(tempfile.mkdtemp(prefix="oso-bench-gadget-"))
    context = ServerContext(reactor, model, store, data, defaults(), MultiService())
    site = GServerSite(context, Accounts(store, model, reactor), reactor, GServerSettings(),
                       parts=[gadget])
    files = ensureCertificate(data)
    port = await SSL4ServerEndpoint(reactor, 0, files.contextFactory(),
                                    interface="127.0.0.1").listen(site.webSite())
    started, loop = callGenerator(reactor, model, phones, numbers, options.calls)
    arguments = [__file__, "--clients", f"https://127.0.0.1:{port.getHost().port}",
                 files.certificate.path, str(options.sessions), str(options.seconds)]
    process = Clients()
    reactor.spawnProcess(process, sys.executable, [sys.executable, *arguments], env=None)
    try:
        await process.polling
        before = cpu()
        calls = started[0]
        output = await process.ended
        after = cpu()
        calls = started[0] - calls
    finally:
        loop.stop()
        await port.stopListening()
        data.remove()
    figures = json.loads(output)
    seconds = figures["seconds"]
    print(f"gadget API GetEvents polling, {options.sessions} sessions over HTTPS on loopback, "
          f"{calls} calls by virtual phones in {seconds:.1f} s "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    print(f"  {figures['requests'] / seconds:,.0f} requests/s "
          f"({figures['requests']} polls, {figures['errors']} errors)")
    print(f"  poll latency: median {figures['median'] * 1000:.2f} ms, "
          f"99th percentile {figures['p99'] * 1000:.2f} ms")
    print(f"  {figures['events'] / seconds:,.0f} events/s delivered, "
          f"{figures['lost']} counted lost (EventsLost)")
    print(f"  server CPU while polling: {after - before:.1f} s "
          f"({(after - before) / figures['requests'] * 1e6:,.0f} us per poll), "
          f"clients' CPU {figures['cpu']:.1f} s")


def main():
    if sys.argv[1:2] == ["--clients"]:
        url, certificate, sessions, seconds = sys.argv[2:6]
        react(lambda reactor: ensureDeferred(
            clients(reactor, url, certificate, int(sessions), float(seconds))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--calls", type=float, default=20.0, help="calls started per second")
    options = parser.parse_args()
    react(lambda reactor: ensureDeferred(serve(reactor, options)))


if __name__ == "__main__":
    main()

"""
REST MakeCall requests per second on virtual phones, over HTTPS on
loopback.

The server is this process: a G-Server (L{oso.gserver.site.GServerSite})
serving the REST part on a TLS listener on 127.0.0.1, over a call model
with virtual phones on the real reactor.  The client is a separate process
(this script with C{--client}) whose threads each keep one HTTPS
connection open and send C{POST /api/v1/services/makeCall} for their own
pairs of phones, round after round; between rounds every call is cleared
with C{POST /api/v1/services/clearCall} (timed apart).

    python bench/gserver_rest.py [--pairs 200] [--rounds 5] [--threads 8]
"""

import argparse
import http.client
import json
import os
import shutil
import ssl
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1])]

from twisted.application.service import MultiService  # noqa: E402
from twisted.internet.defer import ensureDeferred  # noqa: E402
from twisted.internet.endpoints import serverFromString  # noqa: E402
from twisted.internet.task import react  # noqa: E402
from twisted.internet.utils import getProcessOutputAndValue  # noqa: E402
from twisted.python.filepath import FilePath  # noqa: E402

from oso.callmodel.devices import Device  # noqa: E402
from oso.callmodel.model import CallModel  # noqa: E402
from oso.certificates import ensureCertificate  # noqa: E402
from oso.config import defaults  # noqa: E402
from oso.gserver.accounts import Accounts, Principal  # noqa: E402
from oso.gserver.site import GServerSite  # noqa: E402
from oso.plugins.gserver_rest import rest  # noqa: E402
from oso.ports.virtual import VirtualPhones  # noqa: E402
from oso.secrets import generatePassword  # noqa: E402
from oso.service import ServerContext  # noqa: E402
from oso.store.memory import MemoryStore  # noqa: E402


def post(connection, token, service, body):
    connection.request(
        "POST", f"/api/v1/services/{service}", json.dumps(body),
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    response = connection.getresponse()
    data = response.read()
    if response.status != 200:
        raise RuntimeError(f"{service}: {response.status} {data[:200]!r}")
    return json.loads(data)


def client(options):
    """
    The client process: rounds of MakeCall from every pair, then ClearCall;
    prints one JSON line of times.
    """
    context = ssl.create_default_context(cafile=options.certificate)
    pairs = [(str(1000 + 2 * i), str(1001 + 2 * i)) for i in range(options.pairs)]
    shares = [pairs[i::options.threads] for i in range(options.threads)]
    connections = [
        http.client.HTTPSConnection("127.0.0.1", options.port, context=context)
        for _ in shares
    ]
    made = [[] for _ in shares]

    def run(work):
        errors = []

        def guarded(i):
            try:
                work(i)
            except Exception as e:
                errors.append(e)

        threads = [threading.Thread(target=guarded, args=(i,)) for i in range(len(shares))]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        return time.perf_counter() - started

    def makeCalls(i):
        for caller, called in shares[i]:
            result = post(connections[i], options.token, "makeCall", {
                "callingDevice": caller, "calledDirectoryNumber": called,
                "autoOriginate": True,
            })
            made[i].append(result["callingDevice"]["callID"])

    def clearCalls(i):
        for callID in made[i]:
            post(connections[i], options.token, "clearCall", {"callToBeCleared": callID})
        made[i].clear()

    makeTimes, clearTimes = [], []
    run(makeCalls)  # warm-up round: connections, TLS, caches
    run(clearCalls)
    for _ in range(options.rounds):
        makeTimes.append(run(makeCalls))
        clearTimes.append(run(clearCalls))
    print(json.dumps({"make": makeTimes, "clear": clearTimes}))


async def server(reactor, options):
    directory = tempfile.mkdtemp(prefix="oso-gserver-rest-")
    try:
        store = MemoryStore()
        model = CallModel(reactor, store)
        phones = VirtualPhones(model, reactor)
        model.registerPort(phones)
        devices = [Device(str(1000 + i), port=phones.name) for i in range(2 * options.pairs)]
        model.loadDevices(devices)
        data = FilePath(directory)
        context = ServerContext(reactor, model, store, data, defaults(), MultiService())
        accounts = Accounts(store, model, reactor)
        site = GServerSite(context, accounts, reactor, None, [rest])
        files = ensureCertificate(data)
        endpoint = serverFromString(
            reactor, "ssl:0:interface=127.0.0.1:" + files.endpointArguments()
        )
        port = await endpoint.listen(site.webSite())
        await accounts.setAdministrator("bench", generatePassword())
        token = await accounts.issueToken(Principal.forAdministrator("bench"), "bench")
        out, err, code = await getProcessOutputAndValue(
            sys.executable,
            [
                __file__, "--client",
                "--port", str(port.getHost().port),
                "--token", token,
                "--certificate", files.certificate.path,
                "--pairs", str(options.pairs),
                "--rounds", str(options.rounds),
                "--threads", str(options.threads),
            ],
            reactor=reactor,
        )
        await port.stopListening()
        if code != 0:
            raise SystemExit(f"client failed ({code}):\n{err.decode()}")
        times = json.loads(out.decode().strip().splitlines()[-1])
        calls = options.pairs
        print(f"REST over HTTPS on loopback: {options.pairs} pairs of virtual phones, "
              f"{options.threads} client connections, {options.rounds} rounds "
              f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
        for name, label in (("make", "MakeCall"), ("clear", "ClearCall")):
            rates = sorted(calls / t for t in times[name])
            print(f"  {label:9} {rates[len(rates) // 2]:8.0f} requests/s median, "
                  f"best {rates[-1]:.0f}, worst {rates[0]:.0f}")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--certificate", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.client:
        client(options)
    else:
        react(lambda reactor: ensureDeferred(server(reactor, options)))


if __name__ == "__main__":
    main()

"""
The CDR crash test: C{twistd -n oso} runs calls continuously with virtual
phones, is killed with SIGKILL at random moments several times and
restarted, and a billing client fetches with the two-phase HTTPS protocol
along the way and at the end.  Every call that ended (its records counted
as written) before a kill has exactly one record per leg; nothing fetched
and acknowledged is ever fetched again.

The calls are made by a test-only drop-in component (C{calldriver}, written
into a temporary plugin folder): three pairs of demo extensions call each
other in a loop, each call tagged with an account code C{<run><n>}; once the
journal has written as many records as the ended calls make, the call's tag
is appended to a side file and fsync'd.  bench/cdr_crash.py runs the same
with more rounds.
"""

import base64
import json
import random
import re
import signal
import ssl
import time
import urllib.error
import urllib.request


#: The drop-in that makes the calls in the server process.
CALL_DRIVER = '''
"""
Test-only: loops calls between demo extensions and writes each ended
call's tag to a side file (fsync'd) once its records are on disk.
"""

import os

from twisted.application.service import Service
from twisted.internet.defer import ensureDeferred
from twisted.internet.task import deferLater
from twisted.logger import Logger
from twisted.plugin import IPlugin
from zope.interface import implementer

from oso.interfaces import IComponent

PAIRS = [("100", "101"), ("102", "103"), ("104", "105")]


class CallDriverService(Service):
    log = Logger()

    def __init__(self, settings, context):
        self.settings = settings
        self.context = context
        self.expected = 0

    def startService(self):
        super().startService()
        self.running = [ensureDeferred(self.loop(i, pair)) for i, pair in enumerate(PAIRS)]

    async def sleep(self, seconds):
        await deferLater(self.context.reactor, seconds, lambda: None)

    async def loop(self, index, pair):
        cdr = self.context.component("cdr")
        while cdr.listener is None or cdr.listener.port is None:
            await self.sleep(0.05)
        base = cdr.journal.core.lastID
        phones = self.context.component("virtual-phones").driver
        model = self.context.callModel
        caller, called = pair
        n = index
        while self.running is not None:
            tag = f"{self.settings['run']}{n:06d}"
            n += len(PAIRS)
            model.makeCall(caller, called, autoOriginate=True, accountCode=tag)
            phones.phone(called).answer()
            await self.sleep(0.002)
            phones.phone(caller).hangUp()
            self.expected += 2
            target = base + self.expected
            while cdr.journal.core.lastID < target:
                await self.sleep(0.002)
            fd = os.open(self.settings["ended-file"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            try:
                os.write(fd, f"{tag} {caller} {called}\\n".encode())
                os.fsync(fd)
            finally:
                os.close(fd)


@implementer(IPlugin, IComponent)
class CallDriver:
    name = "calldriver"
    kind = "feature"
    description = "Test only: calls in a loop."

    def validateConfig(self, section, where):
        return dict(section)

    def makeService(self, settings, context):
        return CallDriverService(settings, context)


calldriver = CallDriver()
'''

PASSWORD = "crash-test"
DOWNLOAD = re.compile(r"CDR download on (https://\S+/cdr)/")


def configuration(ended, run, driver=True):
    components = ["virtual-phones", "cdr"] + (["calldriver"] if driver else [])
    section = f"""
[components.calldriver]
ended-file = "{ended}"
run = {run}
"""
    return f"""
[server]
components = {json.dumps(components)}

[components.cdr]
record-internal = true
https = "ssl:0:interface=127.0.0.1"
https-password = "{PASSWORD}"
format = "jsonl"
""" + (section if driver else "")


class Billing:
    """
    A billing client: the two-phase protocol with urllib, trusting the
    server's self-signed certificate (made at the server's first start).

    @ivar fetched: every record it acknowledged, in order.
    """

    def __init__(self, certificate):
        self.certificate = certificate
        token = base64.b64encode(f"billing:{PASSWORD}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}"}
        self.fetched = []

    def request(self, method, url):
        request = urllib.request.Request(url, method=method, headers=self.headers)
        context = ssl.create_default_context(cafile=str(self.certificate))
        with urllib.request.urlopen(request, context=context, timeout=30) as response:
            return response.status, response.headers, response.read()

    def get(self, url, limit):
        """
        @return: C{(batchID, records)}, C{(None, [])} when none is left.
        """
        status, headers, body = self.request("GET", f"{url}/batch?limit={limit}")
        if status == 204:
            return None, []
        records = [json.loads(line) for line in body.splitlines()]
        assert len(records) == int(headers["X-CDR-Count"])
        return headers["X-CDR-Batch"], records

    def fetch(self, url, limit, acknowledge=True):
        """
        Fetch one batch and, when C{acknowledge}, keep it and acknowledge
        it.

        @return: how many records the batch held.
        """
        batchID, records = self.get(url, limit)
        if batchID is not None and acknowledge:
            self.fetched.extend(records)
            self.request("POST", f"{url}/batch/{batchID}/ack")
        return len(records)


def runCrashTest(tmp_path, twistd, rounds, seed=None):
    """
    Start, run calls, fetch some, SIGKILL, C{rounds} times; then fetch the
    rest and check every ended call's records.
    """
    rng = random.Random(seed)
    plugins = tmp_path / "plugins"
    (plugins / "oso" / "plugins").mkdir(parents=True)
    (plugins / "oso" / "plugins" / "calldriver.py").write_text(CALL_DRIVER)
    ended = tmp_path / "ended.txt"
    billing = Billing(tmp_path / "oso-data" / "tls" / "server.crt")

    def start(run, driver=True):
        (tmp_path / "oso.toml").write_text(configuration(ended, run, driver))
        process = twistd(["-n", "oso", "--config", "oso.toml"], cwd=tmp_path,
                         pythonPath=[plugins])
        url = DOWNLOAD.search(process.waitFor("CDR download on")).group(1)
        return process, url

    for run in range(1, rounds + 1):
        process, url = start(run)
        time.sleep(rng.uniform(0.3, 1.0))
        billing.fetch(url, rng.randint(1, 40))
        billing.fetch(url, rng.randint(1, 40), acknowledge=False)
        time.sleep(rng.uniform(0.0, 0.8))
        process.process.send_signal(signal.SIGKILL)
        assert process.finish() == -signal.SIGKILL

    process, url = start(rounds + 1, driver=False)
    while billing.fetch(url, 500):
        pass
    process.stop()
    assert "Traceback" not in process.output(), process.output()

    ids = [record["recordID"] for record in billing.fetched]
    assert ids == sorted(set(ids)), "a record was fetched twice or out of order"
    legs = {}
    for record in billing.fetched:
        key = (record["accountCode"], record["subscriber"])
        legs[key] = legs.get(key, 0) + 1
    doubled = {key: n for key, n in legs.items() if n != 1}
    assert doubled == {}, f"legs with more than one record: {doubled}"
    calls = [line.split() for line in ended.read_text().splitlines()]
    missing = [
        (tag, number)
        for tag, caller, called in calls
        for number in (caller, called)
        if (tag, number) not in legs
    ]
    assert missing == [], f"ended calls without their record: {missing}"
    runs = {tag[:-6] for tag, _, _ in calls}
    assert runs == {str(run) for run in range(1, rounds + 1)}, "a run made no call"
    return len(calls), len(billing.fetched)


def test_killedServerLosesAndDoublesNoRecord(tmp_path, twistd):
    """
    Three rounds of calls and SIGKILL, fetching along the way: every
    ended call has its two records (caller and called leg), once, and the
    billing client never sees a record twice.
    """
    calls, records = runCrashTest(tmp_path, twistd, rounds=3)
    assert calls > 0 and records >= 2 * calls

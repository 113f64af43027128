"""
Tests for L{oso.service}: the server's start and stop order, its store, and
the demo extensions of a new installation.
"""

import threading
from dataclasses import replace

from twisted.application.service import Service
from twisted.internet import reactor
from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.task import deferLater
from twisted.logger import globalLogPublisher
from twisted.plugin import IPlugin
from twisted.python.filepath import FilePath
from twisted.trial.unittest import TestCase
from zope.interface import implementer
from zope.interface.verify import verifyObject

from oso import config, secrets
from oso.callmodel.devices import Features
from oso.components import configureComponents
from oso.interfaces import IComponent, IServerContext
from oso.service import DEMO_NUMBERS, OsoService
from oso.store import SQLiteStore, StoreError


class RecordedService(Service):
    """
    A component's service that writes what happens to it into a shared
    journal, and at stop checks the store is still open.
    """

    def __init__(self, name, journal, store):
        self.label = name
        self.journal = journal
        self.store = store

    def startService(self):
        super().startService()
        self.journal.append(f"start {self.label}")

    async def _stop(self):
        await self.store.getSetting("still-open")
        self.journal.append(f"stop {self.label}")

    def stopService(self):
        super().stopService()
        return ensureDeferred(self._stop())


@implementer(IPlugin, IComponent)
class RecordedComponent:
    """
    A component whose services are L{RecordedService}s.
    """

    kind = "feature"
    description = "records its start and stop"

    def __init__(self, name, journal):
        self.name = name
        self.journal = journal

    def validateConfig(self, section, where):
        return None

    def makeService(self, settings, context):
        return RecordedService(self.name, self.journal, context.store)


#: The default components' listeners on free loopback ports, so that tests
#: never compete for CSTA's 8800 or the G-Server's 8802.
FREE_PORTS = {
    "csta": {"listen": ["tcp:0:interface=127.0.0.1"]},
    "gserver": {"listen": ["ssl:0:interface=127.0.0.1"]},
}


def onFreePorts(settings):
    """
    @return: C{settings} with the listeners of its default components on
        free loopback ports, unless its sections say otherwise.
    """
    sections = dict(settings.componentSections)
    for name, section in FREE_PORTS.items():
        if name in settings.components:
            sections[name] = {**section, **sections.get(name, {})}
    return replace(settings, componentSections=sections)


def logged(testCase):
    """
    Collect the log events emitted during a test.

    @return: the list they are appended to.
    """
    events = []
    globalLogPublisher.addObserver(events.append)
    testCase.addCleanup(globalLogPublisher.removeObserver, events.append)
    return events


def demoPasswords(events):
    """
    @return: C{{number: password}} from the demo extension log lines.
    """
    return {
        e["number"]: e["password"]
        for e in events
        if e.get("log_format", "").startswith("demo extension {number} password")
    }


class OsoServiceTests(TestCase):
    """
    L{OsoService} with a real SQLite store in a temporary data directory.
    """

    def setUp(self):
        self.dataDirectory = FilePath(self.mktemp())

    def serviceFor(self, settings=None, components=None, failures=None):
        """
        @param components: the components, default the configured ones.
        @param failures: a list the start failures are counted in.
        @return: an L{OsoService} on the test's data directory.
        """
        settings = onFreePorts(settings or config.defaults())
        if components is None:
            components = configureComponents(settings)
        return OsoService(
            settings,
            components,
            self.dataDirectory,
            reactor,
            onStartFailure=None if failures is None else lambda: failures.append(1),
        )

    async def startAndStop(self, service):
        """
        Start C{service}, wait until it is ready, and stop it again.
        """
        service.startService()
        self.assertTrue(await service.whenStarted())
        await service.stopService()

    async def storedDevices(self):
        store = SQLiteStore(self.dataDirectory.child("oso.sqlite").path, reactor)
        await store.open()
        try:
            return {device.number: device for device in await store.loadDevices()}
        finally:
            await store.close()

    def test_noListenerBeforeTheStore(self):
        """
        twistd's privileged start (where listeners bind) starts no
        component: each starts only in C{startService}, after the store is
        open and the devices are loaded.
        """
        journal = []

        class Privileged(RecordedService):
            def privilegedStartService(self):
                self.journal.append("privileged start")

        component = RecordedComponent("listener", journal)
        component.makeService = lambda settings, context: Privileged("listener", journal, context.store)
        service = self.serviceFor(components=[(component, None)])
        service.privilegedStartService()
        self.assertEqual(journal, [])

        async def go():
            await self.startAndStop(service)
            self.assertEqual(journal, ["start listener", "stop listener"])

        return ensureDeferred(go())

    def test_startInOrderStopInReverse(self):
        """
        Components start in configuration order once the store is open and
        stop in reverse order, each while the store is still open; the store
        is closed after the last one.
        """
        journal = []
        settings = config.defaults()
        components = [
            (RecordedComponent("first", journal), None),
            *configureComponents(
                replace(settings, components=("virtual-phones", "call-log"))
            ),
            (RecordedComponent("last", journal), None),
        ]
        service = self.serviceFor(settings, components)
        self.assertEqual(
            [child.name for child in service],
            ["first", "virtual-phones", "call-log", "last"],
        )

        async def go():
            await self.startAndStop(service)
            self.assertEqual(
                journal, ["start first", "start last", "stop last", "stop first"]
            )
            with self.assertRaises(StoreError):
                await service.store.getSetting("closed-now")
            self.assertFalse(any(child.running for child in service))

        return ensureDeferred(go())

    def test_readyAndStoppedLines(self):
        """
        The server logs one line when it is ready, naming its components and
        data directory, and one when it has stopped.
        """
        events = logged(self)
        service = self.serviceFor()

        async def go():
            await self.startAndStop(service)
            lines = [e["log_format"] for e in events if e.get("log_namespace") == "oso.service.OsoService"]
            ready = [e for e in events if e.get("log_format", "").startswith("oso ready")]
            self.assertEqual(len(ready), 1)
            self.assertEqual(ready[0]["components"], "virtual-phones, csta, cdr, gserver")
            self.assertEqual(ready[0]["data"], self.dataDirectory.path)
            self.assertEqual(lines[-1], "oso stopped")

        return ensureDeferred(go())

    def test_readyWaitsForLateComponents(self):
        """
        A component whose start finishes later (C{whenStarted}) holds the
        ready line back until it is done.
        """
        events = logged(self)
        journal = []
        late = Deferred()

        class Late(RecordedService):
            def whenStarted(self):
                return late

        component = RecordedComponent("late", journal)
        component.makeService = lambda settings, context: Late("late", journal, context.store)
        service = self.serviceFor(components=[(component, None)])

        def readyLines():
            return [e for e in events if e.get("log_format", "").startswith("oso ready")]

        async def go():
            service.startService()
            while not journal:
                await deferLater(reactor, 0.01, lambda: None)
            self.assertEqual(readyLines(), [])
            late.callback(None)
            self.assertTrue(await service.whenStarted())
            self.assertEqual(len(readyLines()), 1)
            await service.stopService()

        return ensureDeferred(go())

    def test_passwordsHashedOffTheReactorThread(self):
        """
        The scrypt hashes of the demo passwords are made on the thread
        pool, not the reactor's thread.
        """
        threads = []
        real = secrets.credentialsFor

        def recording(*arguments):
            threads.append(threading.current_thread())
            return real(*arguments)

        self.patch(secrets, "credentialsFor", recording)

        async def go():
            await self.startAndStop(self.serviceFor())
            self.assertEqual(len(threads), len(DEMO_NUMBERS))
            self.assertNotIn(threading.main_thread(), threads)

        return ensureDeferred(go())

    def test_demoExtensionsOnFirstStartOnly(self):
        """
        The first start of a data directory without configured devices
        creates the demo extensions 100-105 on virtual phones, logs each
        generated password once and keeps only hashes; the next start
        reuses them and shows no password.
        """
        events = logged(self)

        async def go():
            await self.startAndStop(self.serviceFor())
            passwords = demoPasswords(events)
            self.assertEqual(sorted(passwords), list(DEMO_NUMBERS))
            self.assertTrue(self.dataDirectory.child("oso.sqlite").isfile())
            stored = await self.storedDevices()
            self.assertEqual(sorted(stored), list(DEMO_NUMBERS))
            for number, password in passwords.items():
                device = stored[number]
                self.assertEqual(device.port, "virtual-phones")
                self.assertTrue(
                    secrets.verifyPassword(password, device.credentials.passwordHash)
                )
                self.assertEqual(
                    device.credentials.ha1For("oso"),
                    secrets.digestHA1(number, "oso", password),
                )

            del events[:]
            second = self.serviceFor()
            await self.startAndStop(second)
            self.assertEqual(demoPasswords(events), {})
            self.assertEqual(await self.storedDevices(), stored)

        return ensureDeferred(go())

    def test_demoExtensionsInCallModel(self):
        """
        The devices of the store are in the call model once the server is
        ready.
        """
        service = self.serviceFor()

        async def go():
            service.startService()
            self.assertTrue(await service.whenStarted())
            try:
                numbers = [device.number for device in service.callModel.devices()]
                self.assertEqual(numbers, list(DEMO_NUMBERS))
            finally:
                await service.stopService()

        return ensureDeferred(go())

    def test_noDemoExtensionsWhenConfigured(self):
        """
        A configuration with devices gets no demo extensions; its devices are
        stored, with the password it gives kept as hashes.
        """
        events = logged(self)
        path = FilePath(self.mktemp())
        path.setContent(
            b'[[devices]]\nnumber = "201"\nname = "Anna"\nport = "virtual-phones"\n'
            b'password = "secret-201"\n'
        )
        settings = config.load(path.path)

        async def go():
            await self.startAndStop(self.serviceFor(settings))
            self.assertEqual(demoPasswords(events), {})
            stored = await self.storedDevices()
            self.assertEqual(sorted(stored), ["201"])
            self.assertEqual(stored["201"].name, "Anna")
            self.assertTrue(
                secrets.verifyPassword("secret-201", stored["201"].credentials.passwordHash)
            )

        return ensureDeferred(go())

    def test_restartKeepsStoredState(self):
        """
        A restart with the same configuration keeps what changed at run time
        (feature state) and the stored credentials; a new password in the
        file replaces the credentials.
        """
        path = FilePath(self.mktemp())
        path.setContent(
            b'[[devices]]\nnumber = "201"\nport = "virtual-phones"\npassword = "one"\n'
        )
        settings = config.load(path.path)

        async def go():
            await self.startAndStop(self.serviceFor(settings))
            first = (await self.storedDevices())["201"]

            service = self.serviceFor(settings)
            service.startService()
            self.assertTrue(await service.whenStarted())
            await service.store.saveFeatures("201", Features(doNotDisturb=True))
            await service.stopService()

            await self.startAndStop(self.serviceFor(settings))
            second = (await self.storedDevices())["201"]
            self.assertEqual(second.credentials, first.credentials)
            self.assertTrue(second.features.doNotDisturb)

            changed = replace(settings, passwords={"201": "two"})
            await self.startAndStop(self.serviceFor(changed))
            third = (await self.storedDevices())["201"]
            self.assertTrue(secrets.verifyPassword("two", third.credentials.passwordHash))
            self.assertTrue(third.features.doNotDisturb)

        return ensureDeferred(go())

    def test_startFailure(self):
        """
        A start that fails (here: the data directory is a file) is logged
        with the reason, calls the start-failure hook once, starts no
        component, and the server still stops cleanly.
        """
        self.dataDirectory.setContent(b"not a directory")
        events = logged(self)
        failures = []
        service = self.serviceFor(failures=failures)

        async def go():
            service.startService()
            self.assertFalse(await service.whenStarted())
            self.assertEqual(failures, [1])
            self.assertFalse(any(child.running for child in service))
            [failed] = [e for e in events if e.get("log_format", "").startswith("oso failed")]
            self.assertIn("is not a directory", failed["reason"])
            self.flushLoggedErrors(OSError)
            await service.stopService()

        return ensureDeferred(go())

    def test_serverContext(self):
        """
        The context handed to components provides L{IServerContext} and finds
        the other components' services by name.
        """
        service = self.serviceFor()
        context = service.context
        self.assertTrue(verifyObject(IServerContext, context))
        self.assertIs(context.callModel, service.callModel)
        self.assertIs(context.store, service.store)
        self.assertEqual(context.dataDirectory, self.dataDirectory)
        self.assertIs(context.component("virtual-phones"), service.getServiceNamed("virtual-phones"))
        self.assertIsNone(context.component("sip"))

"""
Tests for the C{cdr} component (L{oso.plugins.cdr}).
"""

import shutil
import tempfile

from twisted.application.service import IService, MultiService
from twisted.internet import reactor
from twisted.internet.defer import ensureDeferred
from twisted.logger import globalLogPublisher
from twisted.plugin import IPlugin
from twisted.python.filepath import FilePath
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface.verify import verifyObject

from oso.cdr.journal import JournalFull
from oso.cdr.record import Direction, Disposition
from oso.config import ConfigError
from oso.interfaces import IComponent
from oso.plugins.cdr import CDRSettings, cdr
from oso.service import ServerContext
from oso.testing import Exchange

WHERE = "oso.toml: components.cdr"


class ValidateConfigTests(SynchronousTestCase):
    def test_provides(self):
        """
        The component is a plugin providing IComponent, of kind service.
        """
        verifyObject(IPlugin, cdr)
        verifyObject(IComponent, cdr)
        self.assertEqual((cdr.name, cdr.kind), ("cdr", "service"))

    def test_defaults(self):
        """
        An empty section gives the HiPath defaults: incoming and unanswered
        calls recorded, internal ones not, no digits suppressed, warning at
        80 % of capacity, the openscape format.
        """
        settings = cdr.validateConfig({}, WHERE)
        self.assertEqual(settings, CDRSettings())
        r = settings.recorder
        self.assertEqual(
            (r.recordIncoming, r.recordUnanswered, r.recordInternal, r.suppressDigits,
             settings.warnAt, settings.format),
            (True, True, False, 0, 0.8, "openscape"),
        )

    def test_settings(self):
        """
        Every key is taken.
        """
        settings = cdr.validateConfig(
            {"record-incoming": False, "record-unanswered": False,
             "record-internal": True, "suppress-digits": 3, "capacity": 50,
             "warn-at": 0.5, "format": "openscape"},
            WHERE,
        )
        r = settings.recorder
        self.assertEqual(
            (r.recordIncoming, r.recordUnanswered, r.recordInternal, r.suppressDigits,
             settings.capacity, settings.warnAt),
            (False, False, True, 3, 50, 0.5),
        )

    def test_badValues(self):
        """
        Unknown keys and bad values are ConfigErrors naming the key.
        """
        for section, key in [
            ({"colour": 1}, "colour"),
            ({"record-incoming": "yes"}, "record-incoming"),
            ({"record-internal": 1}, "record-internal"),
            ({"suppress-digits": 21}, "suppress-digits"),
            ({"suppress-digits": -1}, "suppress-digits"),
            ({"suppress-digits": True}, "suppress-digits"),
            ({"capacity": 0}, "capacity"),
            ({"warn-at": 0}, "warn-at"),
            ({"warn-at": 1.5}, "warn-at"),
            ({"format": "no-such-format"}, "format"),
        ]:
            with self.assertRaises(ConfigError) as raised:
                cdr.validateConfig(section, WHERE)
            self.assertEqual(raised.exception.where, f"{WHERE}.{key}")


class ServiceTests(TestCase):
    def setUp(self):
        parent = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, parent)
        self.dataDirectory = FilePath(parent)
        self.x = Exchange()
        self.context = ServerContext(
            reactor, self.x.model, self.x.store, self.dataDirectory, None, MultiService()
        )

    def service(self, section):
        service = cdr.makeService(cdr.validateConfig(section, WHERE), self.context)
        verifyObject(IService, service)
        return service

    def test_recordOnDisk(self):
        """
        An internal call (recorded when configured) ends: its records are
        appended to the journal under <data-dir>/cdr and read back from it
        after the service stopped and a new one started.
        """

        async def go():
            service = self.service({"record-internal": True})
            await service.startService()
            self.assertTrue(self.dataDirectory.child("cdr").isdir())
            self.x.call("100", "101")
            self.x.clock.advance(3)
            self.x.phone("101").answer()
            self.x.clock.advance(40)
            self.x.phone("100").hangUp()
            await service.stopService()
            self.x.call("100", "101")
            self.x.phone("100").hangUp()

            again = self.service({})
            await again.startService()
            try:
                records = await again.journal.read(0, 10)
            finally:
                await again.stopService()
            self.assertEqual(
                sorted((r.recordID, r.subscriber, r.externalNumber, r.direction,
                        r.disposition, r.ringSeconds, r.durationSeconds)
                       for r in records),
                [(1, "100", "101", Direction.internal, Disposition.answered, 3, 40),
                 (2, "101", "100", Direction.internal, Disposition.answered, 3, 40)],
            )

        return ensureDeferred(go())

    def test_lostRecordLogged(self):
        """
        A record the journal refuses (full) is logged as an error with the
        record, not dropped silently; the nearly-full warning is logged.
        """
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)

        async def go():
            service = self.service(
                {"record-internal": True, "capacity": 1, "warn-at": 1}
            )
            await service.startService()
            self.x.call("100", "101")
            self.x.phone("101").answer()
            self.x.phone("100").hangUp()
            await service.stopService()
            lost = [e for e in events if "LOST" in e.get("log_format", "")]
            self.assertEqual(len(lost), 1)
            self.assertIn('"subscriber":"101"', lost[0]["record"])
            self.assertTrue(any("nearly full" in e.get("log_format", "")
                                for e in events))
            self.assertEqual(len(self.flushLoggedErrors(JournalFull)), 1)

        return ensureDeferred(go())

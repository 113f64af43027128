"""
Tests for L{oso.cdr.recorder}: call model events in, call records out.
"""

from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from oso.callmodel.devices import Device, DeviceType
from oso.callmodel.dialplan import DID, DialPlan, Route
from oso.cdr.record import Direction, Disposition
from oso.cdr.recorder import CallRecorder, RecorderSettings
from oso.interfaces import IEventObserver
from oso.testing import Exchange


class RecorderTests(SynchronousTestCase):
    def setUp(self):
        self.x = Exchange()
        self.x.model.dialPlan = DialPlan(
            trunkAccessCode="0",
            routes=(Route(pattern="X.", trunkGroup="carrier"),),
            dids=(DID("5551", "101"),),
        )
        self.x.addDevice(
            Device("801", type=DeviceType.trunk, port="virtual-phones", trunkGroup="carrier")
        )
        self.records = []
        self.recorder = CallRecorder(self.x.model, self.records.append)
        self.x.model.addObserver(self.recorder)

    def fields(self, *names):
        return [tuple(getattr(r, n) for n in names) for r in self.records]

    def incoming(self):
        return self.x.model.originate("801", "5551", callingNumber="0301234")

    def test_interface(self):
        """
        The recorder is an event observer.
        """
        verifyObject(IEventObserver, self.recorder)

    def test_outgoing(self):
        """
        An answered outgoing call: one record for the caller, ring time
        until the network answered, duration from then to the hang-up, the
        trunk as line and the dialled external number.
        """
        self.x.call("100", "0301234")
        self.x.clock.advance(5)
        self.x.phone("801").answer()
        self.x.clock.advance(60)
        self.x.phone("100").hangUp()
        [r] = self.records
        self.assertEqual(
            (r.endTime, r.ringSeconds, r.durationSeconds, r.line, r.subscriber,
             r.externalNumber, r.direction, r.disposition),
            (65.0, 5, 60, "801", "100", "301234", Direction.outgoing,
             Disposition.answered),
        )

    def test_incoming(self):
        """
        An answered incoming call: the record bills the answering extension
        with the calling number as external number.
        """
        self.incoming()
        self.x.clock.advance(3)
        self.x.phone("101").answer()
        self.x.clock.advance(30)
        self.x.phone("101").hangUp()
        [r] = self.records
        self.assertEqual(
            (r.endTime, r.ringSeconds, r.durationSeconds, r.line, r.subscriber,
             r.externalNumber, r.direction, r.disposition),
            (33.0, 3, 30, "801", "101", "0301234", Direction.incoming,
             Disposition.answered),
        )

    def test_incomingNotRecorded(self):
        """
        With incoming calls not recorded an incoming call makes no record.
        """
        self.recorder.settings = RecorderSettings(recordIncoming=False)
        self.incoming()
        self.x.phone("101").answer()
        self.x.phone("101").hangUp()
        self.assertEqual(self.records, [])

    def test_incomingNoAnswer(self):
        """
        An incoming call the caller gives up: noAnswer with its ring time,
        unless unanswered calls are not recorded.
        """
        trunk = self.incoming()
        self.x.clock.advance(12)
        self.x.model.clearConnection(trunk.id)
        self.assertEqual(
            self.fields("subscriber", "ringSeconds", "durationSeconds", "disposition"),
            [("101", 12, 0, Disposition.noAnswer)],
        )
        self.recorder.settings = RecorderSettings(recordUnanswered=False)
        self.x.model.clearConnection(self.incoming().id)
        self.assertEqual(len(self.records), 1)

    def test_suppressDigits(self):
        """
        The last N digits of the external number are replaced with C{?}.
        """
        self.recorder.settings = RecorderSettings(suppressDigits=3)
        self.x.call("100", "0301234")
        self.x.phone("801").answer()
        self.x.phone("100").hangUp()
        self.assertEqual(self.fields("externalNumber"), [("301???",)])

    def test_internal(self):
        """
        Internal calls are not recorded by default (as HiPath); when they
        are, each extension has its record naming the other.
        """
        self.x.call("100", "101")
        self.x.phone("101").answer()
        self.x.phone("100").hangUp()
        self.assertEqual(self.records, [])
        self.recorder.settings = RecorderSettings(recordInternal=True)
        self.x.call("100", "101")
        self.x.clock.advance(2)
        self.x.phone("101").answer()
        self.x.clock.advance(10)
        self.x.phone("100").hangUp()
        self.assertEqual(
            sorted(self.fields("subscriber", "externalNumber", "direction",
                               "ringSeconds", "durationSeconds", "disposition")),
            [("100", "101", Direction.internal, 2, 10, Disposition.answered),
             ("101", "100", Direction.internal, 2, 10, Disposition.answered)],
        )

    def test_busy(self):
        """
        An outgoing internal call to a busy extension: the caller's record
        says busy.
        """
        self.recorder.settings = RecorderSettings(recordInternal=True)
        self.x.call("100", "101")
        self.x.call("102", "101")
        self.x.clock.advance(4)
        self.x.phone("102").hangUp()
        self.assertEqual(
            self.fields("subscriber", "externalNumber", "disposition", "endTime"),
            [("102", "101", Disposition.busy, 4.0)],
        )

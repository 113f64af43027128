"""
Tests for L{oso.cdr.recorder}: call model events in, call records out.
"""

from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from oso.callmodel.devices import Device, DeviceType, ForwardingType
from oso.callmodel.ids import ConnectionID
from oso.callmodel.dialplan import DID, DialPlan, Route
from oso.cdr.record import Direction, Disposition
from oso.cdr.recorder import CallRecorder, RecorderSettings
from oso.interfaces import IEventObserver
from oso.testing import Exchange


def recordingExchange(settings=None):
    """
    Virtual phones 100-103, trunk 801 (access code 0, DID 5551 to 101) and
    a recorder observing them.

    @return: C{(exchange, records written, recorder)}.
    """
    x = Exchange()
    x.model.dialPlan = DialPlan(
        trunkAccessCode="0",
        routes=(Route(pattern="X.", trunkGroup="carrier"),),
        dids=(DID("5551", "101"),),
    )
    x.addDevice(Device("801", type=DeviceType.trunk, port="virtual-phones", trunkGroup="carrier"))
    records = []
    arguments = () if settings is None else (settings,)
    recorder = CallRecorder(x.model, records.append, *arguments)
    x.model.addObserver(recorder)
    return x, records, recorder


class RecorderTests(SynchronousTestCase):
    def setUp(self):
        self.x, self.records, self.recorder = recordingExchange()

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
        trunk as line with its trunk group and the dialled external number.
        """
        self.x.call("100", "0301234")
        self.x.clock.advance(5)
        self.x.phone("801").answer()
        self.x.clock.advance(60)
        self.x.phone("100").hangUp()
        [r] = self.records
        self.assertEqual(
            (r.endTime, r.ringSeconds, r.durationSeconds, r.line, r.trunkGroup,
             r.subscriber, r.externalNumber, r.direction, r.disposition),
            (65.0, 5, 60, "801", "carrier", "100", "301234", Direction.outgoing,
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
        says busy, with no ring time.
        """
        self.recorder.settings = RecorderSettings(recordInternal=True)
        self.x.call("100", "101")
        self.x.call("102", "101")
        self.x.clock.advance(4)
        self.x.phone("102").hangUp()
        self.assertEqual(
            self.fields("subscriber", "externalNumber", "disposition", "endTime",
                        "ringSeconds"),
            [("102", "101", Disposition.busy, 4.0, 0)],
        )

    def summary(self):
        return sorted(self.fields(
            "subscriber", "direction", "externalNumber", "disposition", "endTime",
            "ringSeconds", "durationSeconds", "transferredFrom", "transferredTo",
        ))

    def test_forwardingImmediate(self):
        """
        An incoming call to an extension forwarding at once: the record bills
        the destination and names the forwarding extension in
        transferredFrom.
        """
        self.successResultOf(self.x.model.setForwarding(
            "101", ForwardingType.forwardImmediate, True, "102"))
        self.incoming()
        self.x.clock.advance(4)
        self.x.phone("102").answer()
        self.x.clock.advance(20)
        self.x.phone("102").hangUp()
        self.assertEqual(self.summary(), [
            ("102", Direction.incoming, "0301234", Disposition.answered, 24.0,
             4, 20, "101", ""),
        ])

    def test_forwardingNoAnswer(self):
        """
        Forwarding on no answer (after the default 15 s): the extension
        that rang has a forwarded record with its ring time, the destination an answered one naming
        it.
        """
        self.successResultOf(self.x.model.setForwarding(
            "101", ForwardingType.forwardNoAns, True, "102"))
        self.incoming()
        self.x.clock.advance(15)
        self.x.clock.advance(2)
        self.x.phone("102").answer()
        self.x.clock.advance(10)
        self.x.phone("102").hangUp()
        self.assertEqual(self.summary(), [
            ("101", Direction.incoming, "0301234", Disposition.forwarded, 15.0,
             15, 0, "", "102"),
            ("102", Direction.incoming, "0301234", Disposition.answered, 27.0,
             2, 10, "101", ""),
        ])

    def test_pickup(self):
        """
        An incoming call ringing at 101 picked up at 102: one record, for
        the picking extension, disposition pickedUp, ring time from the
        first ring.
        """
        self.incoming()
        self.x.clock.advance(6)
        self.x.model.directedPickupCall("101", "102")
        self.x.clock.advance(40)
        self.x.phone("102").hangUp()
        self.assertEqual(self.summary(), [
            ("102", Direction.incoming, "0301234", Disposition.pickedUp, 46.0,
             6, 40, "", ""),
        ])

    def test_blindTransfer(self):
        """
        SingleStepTransferCall of an incoming call from 101 to 102: 101's
        record covers its own talk and names 102; 102's covers its time and
        names 101; both give 101, the number the caller reached first, as
        dialled number.
        """
        self.incoming()
        self.x.clock.advance(2)
        self.x.phone("101").answer()
        self.x.clock.advance(30)
        self.x.model.singleStepTransferCall(ConnectionID("1", "101"), "102")
        self.x.clock.advance(3)
        self.x.phone("102").answer()
        self.x.clock.advance(50)
        self.x.phone("102").hangUp()
        self.assertEqual(self.summary(), [
            ("101", Direction.incoming, "0301234", Disposition.answered, 32.0,
             2, 30, "", "102"),
            ("102", Direction.incoming, "0301234", Disposition.answered, 85.0,
             3, 50, "101", ""),
        ])
        self.assertEqual(self.fields("dialledNumber"), [("101",), ("101",)])

    def test_consultationTransfer(self):
        """
        100 calls 0301234, consults 101 and transfers: 100's record covers
        its time with the external party up to the transfer, 101's its time
        after it; the internal consultation is not recorded.
        """
        a = self.x.call("100", "0301234")
        self.x.clock.advance(5)
        self.x.phone("801").answer()
        self.x.clock.advance(10)
        held, new = self.x.model.consultationCall(a.id, "101")
        self.x.clock.advance(2)
        self.x.phone("101").answer()
        self.x.clock.advance(5)
        self.x.model.transferCall(held, new)
        self.x.clock.advance(20)
        self.x.phone("101").hangUp()
        self.assertEqual(self.summary(), [
            ("100", Direction.outgoing, "301234", Disposition.answered, 22.0,
             5, 17, "", "101"),
            ("101", Direction.outgoing, "301234", Disposition.answered, 42.0,
             0, 20, "100", ""),
        ])

    def test_conference(self):
        """
        100 calls 0301234, consults 102 and conferences: 100 is billed for
        its whole time in the call, 102 for its time from the conference to
        leaving.
        """
        a = self.x.call("100", "0301234")
        self.x.clock.advance(5)
        self.x.phone("801").answer()
        self.x.clock.advance(10)
        held, new = self.x.model.consultationCall(a.id, "102")
        self.x.clock.advance(2)
        self.x.phone("102").answer()
        self.x.clock.advance(3)
        self.x.model.conferenceCall(held, new)
        self.x.clock.advance(30)
        self.x.phone("102").hangUp()
        self.x.clock.advance(10)
        self.x.phone("100").hangUp()
        self.assertEqual(self.summary(), [
            ("100", Direction.outgoing, "301234", Disposition.answered, 60.0,
             5, 55, "", ""),
            ("102", Direction.outgoing, "301234", Disposition.answered, 50.0,
             0, 30, "", ""),
        ])

    def test_accountCode(self):
        """
        The account code given with MakeCall is in the record, though the
        call is gone by the time the record is made.
        """
        self.x.model.makeCall("100", "0301234", autoOriginate=True, accountCode="4711")
        self.x.phone("801").answer()
        self.x.clock.advance(8)
        self.x.phone("100").hangUp()
        self.assertEqual(
            self.fields("subscriber", "externalNumber", "accountCode", "durationSeconds"),
            [("100", "301234", "4711", 8)],
        )

"""
Call records of a caller who restricted the presentation of its number
(CLIR, SIP privacy): the records of the parties it called do not name it;
the caller's own record still names whom it called.
"""

import json
from dataclasses import replace

from twisted.trial.unittest import SynchronousTestCase

from test_cdr_recorder import recordingExchange

from oso.cdr.record import CallRecord, CDRError, Direction, Disposition
from oso.cdr.recorder import RecorderSettings


class RestrictedCallerTests(SynchronousTestCase):
    def setUp(self):
        self.x, self.records, self.recorder = recordingExchange(
            RecorderSettings(recordInternal=True)
        )

    def fields(self):
        return sorted(
            (r.subscriber, r.externalNumber, r.externalRestricted, r.direction)
            for r in self.records
        )

    def test_incomingRestricted(self):
        """
        An incoming call whose caller withheld its number: the answering
        extension's record has no external number.
        """
        self.x.model.originate("801", "5551", callingNumber="0301234", restricted=True)
        self.x.phone("101").answer()
        self.x.phone("101").hangUp()
        self.assertEqual(self.fields(), [("101", "", True, Direction.incoming)])

    def test_incomingPresented(self):
        """
        The same call without the restriction names the caller.
        """
        self.x.model.originate("801", "5551", callingNumber="0301234")
        self.x.phone("101").answer()
        self.x.phone("101").hangUp()
        self.assertEqual(self.fields(), [("101", "0301234", False, Direction.incoming)])

    def internalCall(self, restricted):
        """
        100 calls 101 (asking for privacy when C{restricted}), 101 answers
        and hangs up.

        @return: the records' fields.
        """
        self.x.model.originate("100", "101", restricted=restricted)
        self.x.phone("101").answer()
        self.x.phone("101").hangUp()
        return self.fields()

    def test_internalRestricted(self):
        """
        An internal call from 100 with its number withheld: 101's record
        does not name 100, 100's record names 101.
        """
        self.assertEqual(
            self.internalCall(restricted=True),
            [("100", "101", False, Direction.internal),
             ("101", "", True, Direction.internal)],
        )

    def test_withheldCallerID(self):
        """
        An extension whose administrator withholds its caller id is left
        out of the called party's record even when its terminal does not
        ask for privacy.
        """
        self.x.addDevice(replace(self.x.model.device("100"), withholdCallerID=True))
        self.assertEqual(
            self.internalCall(restricted=False),
            [("100", "101", False, Direction.internal),
             ("101", "", True, Direction.internal)],
        )

    def test_outgoingRestricted(self):
        """
        An outgoing call with the caller's number withheld from the network
        is still billed to the caller with the number it dialled.
        """
        self.x.model.originate("100", "0301234", restricted=True)
        self.x.phone("801").answer()
        self.x.phone("801").hangUp()
        self.assertEqual(self.fields(), [("100", "301234", False, Direction.outgoing)])

    def test_restrictedSurvivesTheJournalText(self):
        """
        The flag is kept in the record's JSON text; a record written before
        the flag existed reads as not restricted.
        """
        self.x.model.originate("801", "5551", callingNumber="0301234", restricted=True)
        self.x.phone("101").answer()
        self.x.phone("101").hangUp()
        [written] = self.records
        self.assertTrue(CallRecord.fromJSON(written.toJSON()).externalRestricted)
        older = json.loads(written.toJSON())
        del older["externalRestricted"]
        self.assertFalse(CallRecord.fromJSON(json.dumps(older)).externalRestricted)

    def test_restrictedMustBeABool(self):
        """
        A record whose flag is not a bool is refused.
        """
        with self.assertRaises(CDRError):
            CallRecord(callID="1", endTime=0, direction=Direction.incoming,
                       disposition=Disposition.answered, externalRestricted="yes")

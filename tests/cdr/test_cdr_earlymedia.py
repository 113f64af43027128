"""
Early media through the call model between a trunk and a phone, both
ways: the other side's terminal gets it, and the call record still shows
an unanswered call (early media is no answer).
"""

from twisted.trial.unittest import SynchronousTestCase

from oso.cdr.record import Disposition

from test_cdr_recorder import recordingExchange

EARLY = {"announcement": "ringback"}


class EarlyMediaTrunkTests(SynchronousTestCase):
    """
    The same path between a trunk and a phone, both ways, and what the
    call record makes of it.
    """

    def setUp(self):
        self.x, self.records, _ = recordingExchange()

    def test_phoneToNetwork(self):
        """
        A phone called from the network sends early media: the trunk's
        terminal gets it; the caller giving up makes a noAnswer record.
        """
        trunk = self.x.model.originate("801", "5551", callingNumber="0301234")
        (called,) = self.x.phone("101").connections
        self.x.model.earlyMedia(called, EARLY)
        self.assertEqual(self.x.phone("801").earlyRemoteMedia, {trunk: EARLY})
        self.x.model.clearConnection(trunk.id)
        [record] = self.records
        self.assertEqual((record.durationSeconds, record.disposition),
                         (0, Disposition.noAnswer))

    def test_networkToPhone(self):
        """
        The network sends early media on an outgoing call (an announcement
        before the far end answers): the calling phone's terminal gets it,
        and the call stays unanswered.
        """
        caller = self.x.call("100", "0301234")
        (network,) = self.x.phone("801").connections
        self.x.model.earlyMedia(network, EARLY)
        self.assertEqual(self.x.phone("100").earlyRemoteMedia, {caller: EARLY})
        self.assertNotIn("Established", self.x.recorder.names())
        self.x.phone("100").hangUp()
        [record] = self.records
        self.assertNotEqual(record.disposition, Disposition.answered)

"""
Early media through the call model: a called party's terminal that sends
media before it answers (IPortEvents.earlyMedia) has it passed to the
other connections' terminals (ITerminal.earlyMedia); it is no answer, so
no state changes and no event is emitted (tests/cdr/test_cdr_earlymedia.py
has the call records and trunks).
"""

from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from oso.callmodel.states import LocalConnectionState as S
from oso.interfaces import ITerminal
from oso.testing import Exchange

EARLY = {"announcement": "ringback"}


class EarlyMediaTests(SynchronousTestCase):
    def setUp(self):
        self.x = Exchange()

    def ringing(self):
        """
        100 calls 101, which rings.

        @return: C{(caller's connection, called connection)}.
        """
        caller = self.x.call("100", "101")
        (called,) = self.x.phone("101").connections
        return caller, called

    def test_terminalsProvideIt(self):
        verifyObject(ITerminal, self.x.phone("100"))

    def test_passedToTheCaller(self):
        """
        The called phone's early media reaches the calling phone's terminal
        with the caller's connection; the called phone hears nothing of its
        own.
        """
        caller, called = self.ringing()
        self.x.model.earlyMedia(called, EARLY)
        self.assertEqual(self.x.phone("100").earlyRemoteMedia, {caller: EARLY})
        self.assertEqual(self.x.phone("101").earlyRemoteMedia, {})

    def test_noAnswer(self):
        """
        Early media changes no state and emits no event; the answer later
        is the call's answer, as without it.
        """
        caller, called = self.ringing()
        before = self.x.recorder.names()
        self.x.model.earlyMedia(called, EARLY)
        self.assertEqual(self.x.recorder.names(), before)
        self.assertIs(called.state, S.alerting)
        self.assertIsNone(called.call.answered)
        self.x.clock.advance(4)
        self.x.phone("101").answer()
        self.assertEqual(self.x.recorder.names()[len(before):], ["Established"])
        self.assertEqual(called.call.answered, 4)

    def test_ignoredOnceAnswered(self):
        """
        A connected party's "early" media is no early media: ignored (its
        media changes go by mediaOffered).
        """
        caller, called = self.ringing()
        self.x.phone("101").answer()
        self.x.model.earlyMedia(called, EARLY)
        self.assertEqual(self.x.phone("100").earlyRemoteMedia, {})

    def test_ignoredFromTheCaller(self):
        """
        The calling party is no unanswered offer: its report is ignored.
        """
        caller, called = self.ringing()
        self.x.model.earlyMedia(caller, EARLY)
        self.assertEqual(self.x.phone("101").earlyRemoteMedia, {})

    def test_staleIgnored(self):
        """
        A report about a connection that has ended is ignored.
        """
        caller, called = self.ringing()
        self.x.phone("100").hangUp()
        self.x.model.earlyMedia(called, EARLY)
        self.assertEqual(self.x.phone("100").earlyRemoteMedia, {})

"""
Tests for L{oso.gserver.answering}: answering after an await.
"""

from twisted.internet.defer import Deferred
from twisted.logger import globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.server import NOT_DONE_YET
from twisted.web.test.requesthelper import DummyRequest

from oso.gserver.answering import Departure, answerLater


class AnsweringTests(SynchronousTestCase):
    def test_failureIs500AndLogged(self):
        """
        A coroutine that fails is logged, and its request answered 500.
        """
        logged = []
        globalLogPublisher.addObserver(logged.append)
        self.addCleanup(globalLogPublisher.removeObserver, logged.append)
        request = DummyRequest([b""])

        async def broken():
            raise ValueError("boom")

        self.assertIs(answerLater(request, broken(), "the test"), NOT_DONE_YET)
        self.assertEqual((request.responseCode, request.finished), (500, 1))
        self.assertEqual(len(self.flushLoggedErrors(ValueError)), 1)
        self.assertTrue(any(e.get("what") == "the test" for e in logged))

    def test_answers(self):
        request = DummyRequest([b""])
        waiting = Deferred()

        async def answer():
            request.write(await waiting)
            request.finish()

        answerLater(request, answer(), "the test")
        self.assertEqual(request.finished, 0)
        waiting.callback(b"done")
        self.assertEqual((request.written, request.finished), ([b"done"], 1))

    def test_departure(self):
        """
        A departure says whether the client went away, before or after.
        """
        request = DummyRequest([b""])
        departure = Departure(request)
        self.assertFalse(departure.gone)
        request.finish()
        self.assertTrue(departure.gone)
        lost = DummyRequest([b""])
        departure = Departure(lost)
        lost.processingFailed(Exception("gone"))
        self.assertTrue(departure.gone)

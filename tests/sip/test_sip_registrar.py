"""
Tests for L{oso.sip.registrar}: REGISTER handling (RFC 3261 10.3),
expiry on a clock, and bindings kept in the store across a restart.
"""

import shutil
import sqlite3
import tempfile
from dataclasses import replace
from email.utils import formatdate
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase, TestCase

from oso.sip.message import Request, parseMessage
from oso.sip.registrar import Binding, Registrar, RegisterResult, _result
from oso.sip.uri import parseURI
from oso.store import SQLiteStore
from oso.store.memory import MemoryStore

START = 1_700_000_000.0


def register(*contacts, expires=None, callID="call-1", cseq=1):
    """
    @return: a REGISTER for 201, read from bytes as a phone sends it.
    """
    lines = [
        "REGISTER sip:oso.example SIP/2.0",
        "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK" + str(cseq),
        "From: <sip:201@oso.example>;tag=x",
        "To: <sip:201@oso.example>",
        f"Call-ID: {callID}",
        f"CSeq: {cseq} REGISTER",
    ]
    lines += [f"Contact: {contact}" for contact in contacts]
    if expires is not None:
        lines.append(f"Expires: {expires}")
    lines.append("Content-Length: 0")
    return parseMessage(("\r\n".join(lines) + "\r\n\r\n").encode())


def contactExpires(result):
    """
    @return: C{{contact URI text: expires}} from a result's Contact fields.
    """
    found = {}
    for name, value in result.headers:
        if name == "Contact":
            uri, _, params = value.partition(">;")
            found[uri[1:]] = dict(p.split("=") for p in params.split(";"))["expires"]
    return {uri: int(expires) for uri, expires in found.items()}


class RegistrarTests(SynchronousTestCase):
    """
    L{Registrar} with a L{Clock} and a L{MemoryStore}.
    """

    def setUp(self):
        self.clock = Clock()
        self.clock.advance(START)
        self.store = MemoryStore()
        self.changed = []
        self.registrar = Registrar(
            self.clock, self.store, minExpires=60, maxExpires=3600, defaultExpires=1800,
            maxContacts=3, bindingsChanged=self.changed.append,
        )
        self.successResultOf(self.registrar.start())

    def handle(self, request, source=("UDP", "198.51.100.7", 40000)):
        return self.successResultOf(self.registrar.handle(request, "201", source))

    def stored(self):
        return {b.contact: b for b in self.successResultOf(self.store.loadRegistrations())}

    def test_register(self):
        """
        RFC 3261 10.3 steps 7-8: a new contact is bound and the 200 lists it
        with its expires and a Date; it is stored, announced, and routed
        to, with the address the REGISTER came from.
        """
        result = self.handle(register("<sip:201@192.0.2.10:5060>"))
        self.assertEqual((result.status, result.reason), (200, "OK"))
        self.assertEqual(contactExpires(result), {"sip:201@192.0.2.10:5060": 1800})
        self.assertIn("Date", dict(result.headers))
        [binding] = self.registrar.contacts("201")
        self.assertEqual(binding.contact, "sip:201@192.0.2.10:5060")
        self.assertEqual(binding.expires, START + 1800)
        self.assertEqual((binding.transport, binding.host, binding.port),
                         ("UDP", "198.51.100.7", 40000))
        self.assertEqual((binding.callID, binding.cseq), ("call-1", 1))
        self.assertEqual(self.stored(), {binding.contact: binding})
        self.assertEqual(self.changed, ["201"])

    def test_dateFollowsTheClock(self):
        """
        RFC 3261 10.3 step 8: the 200's Date is the registrar's time,
        whole seconds (written once per second).
        """
        self.clock.advance(0.25)
        first = dict(self.handle(register("<sip:a@192.0.2.1>")).headers)["Date"]
        self.assertEqual(first, formatdate(START, usegmt=True))
        self.clock.advance(0.5)
        again = dict(self.handle(register("<sip:a@192.0.2.1>", cseq=2)).headers)["Date"]
        self.assertEqual(again, first)
        self.clock.advance(61)
        later = dict(self.handle(register("<sip:a@192.0.2.1>", cseq=3)).headers)["Date"]
        self.assertEqual(later, formatdate(START + 61, usegmt=True))

    def test_expiresSources(self):
        """
        RFC 3261 10.3 step 7: a contact's expires parameter wins over the
        Expires field, which wins over the registrar's default; a
        malformed value counts as the default (RFC 3261 20.19).
        """
        result = self.handle(register(
            "<sip:a@192.0.2.1>;expires=120", "<sip:b@192.0.2.1>", "<sip:c@192.0.2.1>;expires=x",
            expires=600,
        ))
        self.assertEqual(contactExpires(result),
                         {"sip:a@192.0.2.1": 120, "sip:b@192.0.2.1": 600,
                          "sip:c@192.0.2.1": 1800})

    def test_clampedToMax(self):
        """
        RFC 3261 10.3 step 7: a longer registration than the maximum is
        shortened to it.
        """
        result = self.handle(register("<sip:a@192.0.2.1>", expires=99999999999))
        self.assertEqual(contactExpires(result), {"sip:a@192.0.2.1": 3600})

    def test_intervalTooBrief(self):
        """
        RFC 3261 10.3 step 7, 21.4.17: an interval above 0 but below the
        minimum gets 423 with Min-Expires, and nothing of the request is
        applied.
        """
        result = self.handle(register("<sip:a@192.0.2.1>", "<sip:b@192.0.2.1>;expires=59"))
        self.assertEqual((result.status, result.reason), (423, "Interval Too Brief"))
        self.assertEqual(result.headers, (("Min-Expires", "60"),))
        self.assertEqual(self.registrar.contacts("201"), [])
        self.assertEqual(self.stored(), {})
        self.assertEqual(self.changed, [])
        self.assertEqual(self.handle(register("<sip:a@192.0.2.1>", expires=60)).status, 200)

    def test_unregisterOne(self):
        """
        RFC 3261 10.2.2: expires 0 removes that contact only (no 423),
        from the store too.
        """
        self.handle(register("<sip:a@192.0.2.1>", "<sip:b@192.0.2.1>"))
        result = self.handle(register("<sip:a@192.0.2.1>;expires=0", cseq=2))
        self.assertEqual(result.status, 200)
        self.assertEqual(contactExpires(result), {"sip:b@192.0.2.1": 1800})
        self.assertEqual(list(self.stored()), ["sip:b@192.0.2.1"])
        self.assertEqual(self.changed, ["201", "201"])

    def test_removeAndAddInOneRequest(self):
        """
        A REGISTER that removes one contact and adds another leaves as
        many bindings as before: the added one still gets its expiry
        timer, the removed one loses its own, and the change is announced.
        """
        self.handle(register("<sip:a@192.0.2.1>", "<sip:b@192.0.2.1>", expires=600))
        result = self.handle(
            register("<sip:a@192.0.2.1>;expires=0", "<sip:c@192.0.2.1>;expires=100", cseq=2)
        )
        self.assertEqual(
            contactExpires(result), {"sip:b@192.0.2.1": 600, "sip:c@192.0.2.1": 100}
        )
        self.assertEqual(self.changed, ["201", "201"])
        self.clock.advance(100)
        self.assertEqual([b.contact for b in self.registrar.contacts("201")], ["sip:b@192.0.2.1"])
        self.assertEqual(list(self.stored()), ["sip:b@192.0.2.1"])
        self.assertEqual(self.changed, ["201", "201", "201"])
        self.clock.advance(500)
        self.assertEqual(self.registrar.bindings("201"), ())
        self.assertEqual(self.stored(), {})
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_wildcard(self):
        """
        RFC 3261 10.2.2, 10.3 step 6: C{Contact: *} with C{Expires: 0}
        removes every binding of the address of record, and no other's.
        """
        self.handle(register("<sip:a@192.0.2.1>", "<sip:b@192.0.2.1>"))
        self.successResultOf(self.registrar.handle(register("<sip:c@192.0.2.1>"), "202"))
        result = self.handle(register("*", expires=0, callID="other", cseq=1))
        self.assertEqual(result.status, 200)
        self.assertEqual(contactExpires(result), {})
        self.assertEqual(self.registrar.contacts("201"), [])
        self.assertEqual(list(self.stored()), ["sip:c@192.0.2.1"])
        self.assertEqual(self.changed, ["201", "202", "201"])

    def test_wildcardRefused(self):
        """
        RFC 3261 10.3 step 6: C{*} without C{Expires: 0}, or with other
        contacts, is a 400 and changes nothing.
        """
        self.handle(register("<sip:a@192.0.2.1>"))
        for request in (
            register("*", cseq=2),
            register("*", expires=10, cseq=3),
            # The codec refuses this from the wire; a request built in
            # code reaches the registrar.
            Request("REGISTER", parseURI("sip:oso.example"), [
                ("Via", "SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK4"),
                ("From", "<sip:201@oso.example>;tag=x"), ("To", "<sip:201@oso.example>"),
                ("Call-ID", "call-1"), ("CSeq", "4 REGISTER"), ("Contact", "*"),
                ("Contact", "<sip:b@192.0.2.1>"), ("Expires", "0"),
            ]),
        ):
            result = self.handle(request)
            self.assertEqual(result.status, 400)
            self.assertEqual(len(self.registrar.contacts("201")), 1)

    def test_cseqOrder(self):
        """
        RFC 3261 10.3 step 7: with the same Call-ID, a CSeq not higher
        than the binding's is refused and changes nothing; a new Call-ID
        may start anywhere.
        """
        self.handle(register("<sip:a@192.0.2.1>", cseq=5))
        for cseq in (5, 4):
            result = self.handle(register("<sip:a@192.0.2.1>;expires=0", cseq=cseq))
            self.assertEqual((result.status, result.reason), (400, "CSeq Out Of Order"))
        self.assertEqual(len(self.registrar.contacts("201")), 1)
        wildcard = self.handle(register("*", expires=0, cseq=3))
        self.assertEqual(wildcard.status, 400)
        self.assertEqual(self.handle(register("<sip:a@192.0.2.1>", cseq=6)).status, 200)
        other = self.handle(register("<sip:a@192.0.2.1>", callID="rebooted", cseq=1))
        self.assertEqual(other.status, 200)
        self.assertEqual(self.registrar.contacts("201")[0].callID, "rebooted")

    def test_listsRemaining(self):
        """
        RFC 3261 10.3 step 8: the 200 lists every current binding, those
        of earlier requests too, with the seconds each has left; a
        REGISTER without Contact only asks for that list.
        """
        self.handle(register("<sip:a@192.0.2.1>", expires=1000))
        self.clock.advance(300)
        result = self.handle(register("<sip:b@192.0.2.1>", expires=1000, callID="c2"))
        self.assertEqual(contactExpires(result),
                         {"sip:a@192.0.2.1": 700, "sip:b@192.0.2.1": 1000})
        self.clock.advance(0.5)
        query = self.handle(register(callID="c3"))
        self.assertEqual(contactExpires(query),
                         {"sip:a@192.0.2.1": 700, "sip:b@192.0.2.1": 1000})
        self.assertEqual(self.changed, ["201", "201"])

    def test_expiry(self):
        """
        RFC 3261 10.2.1: a binding not refreshed vanishes at its expiry:
        from routing and the store, announced.
        """
        self.handle(register("<sip:a@192.0.2.1>", expires=100))
        self.clock.advance(99)
        self.assertEqual(len(self.registrar.contacts("201")), 1)
        self.clock.advance(1)
        self.assertEqual(self.registrar.contacts("201"), [])
        self.assertEqual(self.registrar.bindings("201"), ())
        self.assertEqual(self.stored(), {})
        self.assertEqual(self.changed, ["201", "201"])

    def test_refreshPostponesExpiry(self):
        """
        RFC 3261 10.2.4: a refresh starts the interval again, and is not
        announced (the set of contacts is the same).
        """
        self.handle(register("<sip:a@192.0.2.1>", expires=100))
        self.clock.advance(90)
        self.handle(register("<sip:a@192.0.2.1>", expires=100, cseq=2))
        self.clock.advance(50)
        self.assertEqual(len(self.registrar.contacts("201")), 1)
        self.assertEqual(self.stored()["sip:a@192.0.2.1"].cseq, 2)
        self.clock.advance(50)
        self.assertEqual(self.registrar.contacts("201"), [])
        self.assertEqual(self.changed, ["201", "201"])

    def test_refreshKeepsItsTimer(self):
        """
        A refresh to a later expiry leaves the binding's timer alone (it
        waits again when it runs at the old expiry: no timer churn per
        REGISTER); a refresh to an earlier expiry moves it earlier. The
        binding ends at its latest expiry either way, stored and announced.
        """
        self.handle(register("<sip:a@192.0.2.1>", expires=600))
        [first] = self.clock.getDelayedCalls()
        self.clock.advance(100)
        self.handle(register("<sip:a@192.0.2.1>", expires=600, cseq=2))
        self.assertEqual(self.clock.getDelayedCalls(), [first])
        self.clock.advance(500)
        self.assertEqual(len(self.registrar.contacts("201")), 1)
        [second] = self.clock.getDelayedCalls()
        self.assertEqual(second.getTime(), START + 700)
        self.handle(register("<sip:a@192.0.2.1>", expires=60, cseq=3))
        [third] = self.clock.getDelayedCalls()
        self.assertEqual(third.getTime(), START + 660)
        self.clock.advance(59)
        self.assertEqual(len(self.registrar.contacts("201")), 1)
        self.clock.advance(1)
        self.assertEqual(self.registrar.contacts("201"), [])
        self.assertEqual(self.stored(), {})
        self.assertEqual(self.changed, ["201", "201"])
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_sameURIWrittenOtherwise(self):
        """
        RFC 3261 10.3 step 7, 19.1.4: a contact equal to a bound one by
        URI comparison refreshes it (the store keeps only the new
        spelling).
        """
        self.handle(register("<sip:a@Example.COM>"))
        self.handle(register("<sip:a@example.com>", cseq=2))
        self.assertEqual([b.contact for b in self.registrar.contacts("201")],
                         ["sip:a@example.com"])
        self.assertEqual(list(self.stored()), ["sip:a@example.com"])

    def test_routingOrder(self):
        """
        RFC 3261 10.2.1.2, 16.6: contacts are tried by q, highest first
        (none counts as 1.0), and the newest first among equals.
        """
        self.handle(register("<sip:low@192.0.2.1>;q=0.1", "<sip:old@192.0.2.1>"))
        self.clock.advance(1)
        self.handle(register("<sip:new@192.0.2.1>;q=1.0", callID="c2"))
        self.assertEqual(
            [b.contact for b in self.registrar.contacts("201")],
            ["sip:new@192.0.2.1", "sip:old@192.0.2.1", "sip:low@192.0.2.1"],
        )
        result = self.handle(register(callID="c3"))
        self.assertIn(("Contact", "<sip:low@192.0.2.1>;expires=1799;q=0.1"), result.headers)

    def test_badQ(self):
        """
        RFC 3261 20.10: a q outside the qvalue grammar is a 400.
        """
        result = self.handle(register("<sip:a@192.0.2.1>;q=1.5"))
        self.assertEqual(result.status, 400)
        self.assertEqual(self.registrar.contacts("201"), [])

    def test_tooManyContacts(self):
        """
        A REGISTER that would bind more than the maximum number of
        contacts is refused with 403, and changes nothing.
        """
        self.handle(register("<sip:a@192.0.2.1>", "<sip:b@192.0.2.1>"))
        result = self.handle(register("<sip:c@192.0.2.1>", "<sip:d@192.0.2.1>", cseq=2))
        self.assertEqual(result.status, 403)
        self.assertEqual(len(self.registrar.contacts("201")), 2)
        replaced = self.handle(register("<sip:a@192.0.2.1>;expires=0", "<sip:c@192.0.2.1>",
                                        "<sip:d@192.0.2.1>", cseq=3))
        self.assertEqual(replaced.status, 200)
        self.assertEqual(len(self.registrar.contacts("201")), 3)

    def test_instanceReplaces(self):
        """
        RFC 5626 6: a contact with the +sip.instance and reg-id of a bound
        one replaces it, whatever its URI (a phone with a new address).
        """
        instance = '+sip.instance="<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>";reg-id=1'
        self.handle(register(f"<sip:201@192.0.2.1>;{instance}"))
        self.handle(register(f"<sip:201@192.0.2.2>;{instance}", callID="c2"))
        [binding] = self.registrar.contacts("201")
        self.assertEqual(binding.contact, "sip:201@192.0.2.2")
        self.assertEqual(binding.regID, 1)
        self.assertEqual(binding.instance, '"<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>"')
        self.assertEqual(list(self.stored()), ["sip:201@192.0.2.2"])

    def test_observerErrorContained(self):
        """
        An exception from bindingsChanged is logged and does not stop the
        registration.
        """

        def broken(aor):
            raise RuntimeError("observer bug")

        registrar = Registrar(self.clock, self.store, bindingsChanged=broken)
        result = self.successResultOf(registrar.handle(register("<sip:a@192.0.2.1>"), "201"))
        self.assertEqual(result.status, 200)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    def test_storeFailure(self):
        """
        When the store cannot take the change, the answer is 500 (no 200
        for bindings that are not on disk).
        """
        registrar = Registrar(self.clock, SQLiteStore("never-opened.sqlite", reactor))
        result = self.successResultOf(registrar.handle(register("<sip:a@192.0.2.1>"), "201"))
        self.assertEqual(result.status, 500)
        self.assertTrue(self.flushLoggedErrors())

    def test_stop(self):
        """
        Once stopped, the registrar ends no binding: they stay in the store
        for the next start.
        """
        self.handle(register("<sip:a@192.0.2.1>", expires=100))
        self.registrar.stop()
        self.clock.advance(200)
        self.assertEqual(list(self.stored()), ["sip:a@192.0.2.1"])
        self.assertEqual(self.clock.getDelayedCalls(), [])


class HeldStore(MemoryStore):
    """
    A L{MemoryStore} whose registration transactions reach the "disk" only
    when the test releases them, in order: the group commit seen from the
    store's side.
    """

    def __init__(self):
        super().__init__()
        self.batches = []

    def replaceRegistrations(self, bindings):
        held = Deferred()
        self.batches.append((dict(bindings), held))
        return held

    def registrations(self):
        """
        @return: the bindings on the "disk".
        """
        return self.loadRegistrations().result

    def release(self, failure=None):
        """
        Write the oldest held transaction (or fail it with C{failure}).
        """
        bindings, held = self.batches.pop(0)
        if failure is not None:
            held.errback(failure)
            return
        super().replaceRegistrations(bindings)
        held.callback(None)


class GroupCommitTests(SynchronousTestCase):
    """
    The registrar's writes: one transaction at a time; what changes while
    one is on its way goes, coalesced, into the next.
    """

    def setUp(self):
        self.clock = Clock()
        self.clock.advance(START)
        self.store = HeldStore()
        self.registrar = Registrar(self.clock, self.store, defaultExpires=600)
        self.successResultOf(self.registrar.start())

    def test_groupCommit(self):
        """
        REGISTERs that come while a transaction is in flight are answered
        after the next one, which writes each address of record once, as
        it is by then; no answer comes before its change is on disk.
        """
        first = self.registrar.handle(register("<sip:a@192.0.2.1>"), "201")
        self.assertEqual(len(self.store.batches), 1)
        second = self.registrar.handle(register("<sip:b@192.0.2.1>", cseq=2), "201")
        third = self.registrar.handle(
            register("<sip:c@192.0.2.1>", callID="other", cseq=1), "202")
        fourth = self.registrar.handle(register("<sip:a@192.0.2.1>", expires=0, cseq=3), "201")
        # Only the first transaction is on its way; nothing is answered.
        self.assertEqual(len(self.store.batches), 1)
        for pending in (first, second, third, fourth):
            self.assertNoResult(pending)
        self.store.release()
        self.assertEqual(self.successResultOf(first).status, 200)
        for pending in (second, third, fourth):
            self.assertNoResult(pending)
        [(batch, _)] = self.store.batches
        self.assertEqual(
            {aor: [b.contact for b in bindings] for aor, bindings in batch.items()},
            {"201": ["sip:b@192.0.2.1"], "202": ["sip:c@192.0.2.1"]},
        )
        self.store.release()
        for done in (second, third, fourth):
            self.assertEqual(self.successResultOf(done).status, 200)
        self.assertEqual(
            sorted(b.contact for b in self.successResultOf(self.store.loadRegistrations())),
            ["sip:b@192.0.2.1", "sip:c@192.0.2.1"],
        )
        self.assertEqual(self.store.batches, [])

    def test_failedCommit(self):
        """
        A transaction that fails gets every REGISTER waiting for it a 500;
        the next one is written again.
        """
        first = self.registrar.handle(register("<sip:a@192.0.2.1>"), "201")
        second = self.registrar.handle(register("<sip:b@192.0.2.1>", cseq=2), "201")
        self.store.release(Failure(RuntimeError("disk full")))
        self.assertEqual(self.successResultOf(first).status, 500)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        self.store.release()
        self.assertEqual(self.successResultOf(second).status, 200)

    def test_registerAnswersOnce(self):
        """
        L{Registrar.register} calls its answer once: a change when it is
        on disk, a refusal before it returns.
        """
        answers = []
        self.registrar.register(register("<sip:a@192.0.2.1>"), "201", None, answers.append)
        self.assertEqual(answers, [])
        self.store.release()
        self.assertEqual([(a.status, [b.contact for b in a.bindings]) for a in answers],
                         [(200, ["sip:a@192.0.2.1"])])
        self.registrar.register(
            register("<sip:a@192.0.2.1>;expires=5", cseq=2), "201", None, answers.append
        )
        self.assertEqual([a.status for a in answers], [200, 423])
        self.assertEqual(self.store.batches, [])

    def test_unchangedNotWritten(self):
        """
        A REGISTER that only lists the bindings writes nothing and is
        answered at once.
        """
        self.registrar.handle(register("<sip:a@192.0.2.1>"), "201")
        self.store.release()
        query = self.registrar.handle(register(cseq=2), "201")
        self.assertEqual(self.successResultOf(query).status, 200)
        self.assertEqual(self.store.batches, [])

    def test_closeRefreshNotWritten(self):
        """
        A refresh that moves nothing but the expiry (and the Call-ID,
        CSeq and registration time), by at most a tenth of the interval,
        is answered at once and not written; one that moves it further
        is written, as is one from another address; L{Registrar.stop}
        writes the refreshes left unwritten.
        """
        self.registrar.handle(register("<sip:a@192.0.2.1>"), "201")
        self.store.release()
        [written] = self.store.registrations()
        self.clock.advance(60)
        close = self.registrar.handle(register("<sip:a@192.0.2.1>", callID="c2"), "201")
        self.assertEqual(self.successResultOf(close).status, 200)
        self.assertEqual(self.store.batches, [])
        self.assertEqual(self.store.registrations(), [written])
        [refreshed] = self.registrar.bindings("201")
        self.assertEqual((refreshed.expires, refreshed.callID), (START + 660, "c2"))

        self.clock.advance(1)
        far = self.registrar.handle(register("<sip:a@192.0.2.1>", callID="c3"), "201")
        self.assertNoResult(far)
        self.store.release()
        self.assertEqual(self.successResultOf(far).status, 200)
        self.assertEqual(self.store.registrations(), list(self.registrar.bindings("201")))

        moved = self.registrar.handle(
            register("<sip:a@192.0.2.1>", callID="c4"), "201", ("UDP", "192.0.2.9", 5060))
        self.assertNoResult(moved)
        self.store.release()

        self.registrar.handle(register("<sip:a@192.0.2.1>", callID="c5"), "201",
                              ("UDP", "192.0.2.9", 5060))
        self.assertEqual(self.store.batches, [])
        stopped = self.registrar.stop()
        self.assertNoResult(stopped)
        self.store.release()
        self.successResultOf(stopped)
        [last] = self.store.registrations()
        self.assertEqual((last.callID, last.host), ("c5", "192.0.2.9"))
        self.assertEqual(self.store.registrations(), list(self.registrar.bindings("201")))

    def test_stopWaitsForTheWriteInFlight(self):
        """
        L{Registrar.stop} with nothing unwritten but a write on its way
        fires once that write is done.
        """
        self.registrar.handle(register("<sip:a@192.0.2.1>"), "201")
        stopped = self.registrar.stop()
        self.assertNoResult(stopped)
        self.store.release()
        self.successResultOf(stopped)
        self.successResultOf(self.registrar.stop())

    def test_expiryWritten(self):
        """
        A binding that expires is removed from the store by a transaction
        of its own.
        """
        self.registrar.handle(register("<sip:a@192.0.2.1>", expires=60), "201")
        self.store.release()
        self.clock.advance(60)
        [(batch, _)] = self.store.batches
        self.assertEqual(batch, {"201": ()})
        self.store.release()
        self.assertEqual(self.successResultOf(self.store.loadRegistrations()), [])


class PersistenceTests(TestCase):
    """
    Bindings in an SQLite file outlive a restart of the server.
    """

    def setUp(self):
        folder = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, folder)
        self.path = str(Path(folder) / "oso.sqlite")
        self.clock = Clock()
        self.clock.advance(START)
        self.stores = []

    async def start(self):
        """
        Start a store and a registrar on the file, as the server does.
        """
        store = SQLiteStore(self.path, reactor)
        self.addCleanup(store.close)
        await store.open()
        self.changed = []
        registrar = Registrar(self.clock, store, bindingsChanged=self.changed.append)
        self.addCleanup(registrar.stop)
        await registrar.start()
        return store, registrar

    async def test_restart(self):
        """
        After a restart, bindings still alive are routed to with their
        expiry and source and announced; expired ones are dropped from
        the store.
        """
        store, registrar = await self.start()
        first = await registrar.handle(register("<sip:a@192.0.2.1>", expires=600),
                                       "201", ("TCP", "198.51.100.7", 40000))
        self.assertEqual(first.status, 200)
        # The 200 comes only once the binding is on disk.
        other = sqlite3.connect(self.path)
        self.addCleanup(other.close)
        self.assertEqual(other.execute("SELECT contact FROM registrations").fetchall(),
                         [("sip:a@192.0.2.1",)])
        await registrar.handle(register("<sip:b@192.0.2.1>", expires=60, callID="c2"), "202")
        registrar.stop()
        await store.close()

        self.clock.advance(120)
        store, registrar = await self.start()
        [binding] = registrar.contacts("201")
        self.assertEqual(binding, Binding(
            aor="201", contact="sip:a@192.0.2.1", expires=START + 600, updated=START,
            callID="call-1", cseq=1, transport="TCP", host="198.51.100.7", port=40000))
        self.assertEqual(registrar.contacts("202"), [])
        self.assertEqual(self.changed, ["201"])
        self.assertEqual([b.aor for b in await store.loadRegistrations()], ["201"])
        query = await registrar.handle(register(callID="c3"), "201")
        self.assertEqual(contactExpires(query), {"sip:a@192.0.2.1": 480})

        self.clock.advance(480)
        self.assertEqual(registrar.contacts("201"), [])
        self.assertEqual(self.changed, ["201", "201"])

    async def test_restartAfterCloseRefresh(self):
        """
        A refresh answered without a write is on disk once the registrar
        has stopped: the next start restores its expiry and Call-ID.
        """
        store, registrar = await self.start()
        await registrar.handle(register("<sip:a@192.0.2.1>", expires=600), "201")
        self.clock.advance(30)
        await registrar.handle(register("<sip:a@192.0.2.1>", expires=600, callID="c2"), "201")
        [row] = await store.loadRegistrations()
        self.assertEqual((row.expires, row.callID), (START + 600, "call-1"))
        await registrar.stop()
        await store.close()

        store, registrar = await self.start()
        [binding] = registrar.contacts("201")
        self.assertEqual((binding.expires, binding.callID), (START + 630, "c2"))

    async def test_wildcardOnDisk(self):
        """
        RFC 3261 10.3 step 6: an unregistration with C{*} is on disk
        before its 200.
        """
        store, registrar = await self.start()
        await registrar.handle(register("<sip:a@192.0.2.1>", "<sip:b@192.0.2.1>"), "201")
        result = await registrar.handle(register("*", expires=0, cseq=2), "201")
        self.assertEqual(result.status, 200)
        self.assertEqual(await store.loadRegistrations(), [])


steps = st.lists(
    st.tuples(
        st.lists(st.sampled_from(["a", "b", "c", "d", "*"]), max_size=3),
        st.sampled_from([None, "0", "30", "60", "600", "x"]),
        st.sampled_from(["call-1", "call-2"]),
        st.integers(1, 4),
        st.sampled_from([0, 1, 59, 600]),
    ),
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(steps)
def test_storeMirrorsMemory(actions):
    """
    Whatever REGISTERs come and whatever time passes, the store holds
    the bindings routing sees, each alive, never more than the maximum,
    exactly but for refreshes not written (their stored expiry earlier by
    at most a tenth of the interval granted, their registration time,
    Call-ID and CSeq older), and exactly once the registrar is stopped;
    a request refused changes nothing.
    """
    clock = Clock()
    clock.advance(START)
    store = MemoryStore()
    registrar = Registrar(clock, store, maxContacts=3)
    for contacts, expires, callID, cseq, advance in actions:
        values = [c if c == "*" else f"<sip:{c}@192.0.2.1>" for c in contacts]
        request = Request("REGISTER", parseURI("sip:oso.example"), [
            ("Via", "SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK1"),
            ("From", "<sip:201@oso.example>;tag=x"), ("To", "<sip:201@oso.example>"),
            ("Call-ID", callID), ("CSeq", f"{cseq} REGISTER"),
        ] + [("Contact", value) for value in values]
          + ([] if expires is None else [("Expires", expires)]))
        before = registrar.bindings("201")
        result = registrar.handle(request, "201").result
        if result.status != 200:
            assert registrar.bindings("201") == before
        clock.advance(advance)
        now = clock.seconds()
        live = registrar.contacts("201")
        stored = {b.contact: b for b in store.loadRegistrations().result}
        assert sorted(stored) == sorted(b.contact for b in live)
        for binding in live:
            older = stored[binding.contact]
            lag = binding.expires - older.expires
            assert 0 <= lag <= (binding.expires - binding.updated) / 10
            assert older == replace(binding, expires=older.expires, updated=older.updated,
                                    callID=older.callID, cseq=older.cseq)
        assert set(registrar.bindings("201")) == set(live)
        assert all(binding.expires > now for binding in live)
        assert len(live) <= 3
    registrar.stop()
    live = registrar.contacts("201")
    assert sorted(store.loadRegistrations().result, key=repr) == sorted(live, key=repr)



class _Forgetting(dict):
    """
    A registrar's C{_repeats} that keeps nothing: every REGISTER is
    decided in full, as before repeats were recognised.
    """

    def __setitem__(self, key, value):
        pass


CONTACTS = {
    "a": "<sip:a@192.0.2.1>",
    "A": "<sip:a@192.0.2.1;transport=udp>;expires=120",
    "b": "<sip:b@192.0.2.1>;q=0.5",
    "f1": '<sip:f1@192.0.2.1>;+sip.instance="<urn:uuid:1>";reg-id=1',
    "f2": '<sip:f2@192.0.2.1>;+sip.instance="<urn:uuid:1>";reg-id=1',
    "z": "<sip:z@192.0.2.1>;expires=0",
    "*": "*",
}

repeats = st.lists(
    st.tuples(
        # Few sets of Contacts, so that REGISTERs repeat.
        st.sampled_from([(), ("a",), ("a", "b"), ("b", "a"), ("A",), ("f1",), ("f1", "f2"),
                         ("z", "a"), ("a", "b", "f1"), ("*",)]),
        st.sampled_from([None, "0", "600"]),
        st.sampled_from(["call-1", "call-2"]),
        st.integers(1, 3),
        st.sampled_from([0, 1, 30, 200, 700]),
        st.sampled_from([("UDP", "198.51.100.7", 40000), ("UDP", "198.51.100.8", 40000)]),
        st.booleans(),
    ),
    max_size=14,
)


def _state(clock, store, registrar, changed, answers):
    """
    @return: all a registrar has done that can be seen: its answers, the
        changes announced, its bindings, its timers running (contact and
        time), what the store has and what it was asked to write.
    """
    timers = sorted(
        (str(key), timer.getTime())
        for (_, key), timer in registrar._timers.items()
        if timer.active()
    )
    return (answers, changed, registrar.bindings("201"), timers, store.registrations(),
            [batch for batch, _ in store.batches], registrar._behind)


# A time at which an expiry is rounded: an interval added to it and taken
# away again is not the interval (the remaining time of a binding just
# refreshed is then one second more or less than its interval).
ROUNDING = 2**31 - 400 + 3 * 2**-22


@settings(max_examples=200, deadline=None)
@given(repeats, st.sampled_from([START, ROUNDING]))
def test_repeatsAsDecidedInFull(actions, start):
    """
    A registrar that answers repeats of a REGISTER from what the last
    one left (L{Registrar._repeat}) answers, binds, arms timers and
    writes exactly as one that decides every REGISTER in full, whatever
    REGISTERs come, whatever time passes and whenever the store commits,
    with expiries exact or rounded.
    """
    assert ROUNDING + 600 - ROUNDING != 600
    twins = []
    for forgetting in (False, True):
        clock = Clock()
        clock.advance(start)
        changed = []
        store = HeldStore()
        registrar = Registrar(clock, store, maxContacts=3, bindingsChanged=changed.append)
        if forgetting:
            registrar._repeats = _Forgetting()
        twins.append((clock, store, registrar, changed, []))
    for contacts, expires, callID, cseq, advance, source, release in actions:
        for clock, store, registrar, changed, answers in twins:
            request = register(*[CONTACTS[c] for c in contacts], expires=expires,
                               callID=callID, cseq=cseq)
            registrar.register(request, "201", source, answers.append)
            if release and store.batches:
                store.release()
            clock.advance(advance)
        assert _state(*twins[0]) == _state(*twins[1])


class RepeatTests(SynchronousTestCase):
    """
    A REGISTER that repeats the one before but for its Call-ID and CSeq
    is answered from what that one left, without deciding in full.
    """

    def setUp(self):
        self.clock = Clock()
        self.clock.advance(START)
        self.registrar = Registrar(self.clock, MemoryStore())
        self.decided = []
        decide = self.registrar._decide

        def counted(*args):
            self.decided.append(args[0])
            return decide(*args)

        self.registrar._decide = counted

    def handle(self, request, source=("UDP", "198.51.100.7", 40000)):
        return self.successResultOf(self.registrar.handle(request, "201", source))

    def test_repeat(self):
        """
        The same Contacts, Expires and source again: refreshed without
        L{Registrar._decide}, answered as in full.
        """
        contacts = ("<sip:a@192.0.2.1>;q=0.5", "<sip:b@192.0.2.1>")
        self.handle(register(*contacts, expires=600, callID="c", cseq=1))
        self.clock.advance(10)
        result = self.handle(register(*contacts, expires=600, callID="c", cseq=2))
        self.assertEqual(len(self.decided), 1)
        self.assertEqual(result.status, 200)
        self.assertEqual(
            [value for name, value in result.headers if name == "Contact"],
            ["<sip:a@192.0.2.1>;expires=600;q=0.5", "<sip:b@192.0.2.1>;expires=600"],
        )
        self.assertEqual(
            sorted((b.contact, b.expires, b.cseq) for b in self.registrar.bindings("201")),
            [("sip:a@192.0.2.1", START + 610, 2), ("sip:b@192.0.2.1", START + 610, 2)],
        )

    def test_repeatOfContactsAskedFor(self):
        """
        A repeat whose Contacts were asked for before it reached the
        registrar (each then a value of the request's own, untouched) is
        still one; a Contact changed meanwhile is decided in full, as
        changed.
        """
        self.handle(register("<sip:a@192.0.2.1>", callID="c", cseq=1))
        asked = register("<sip:a@192.0.2.1>", callID="c", cseq=2)
        self.assertEqual(len(asked.contacts), 1)
        self.assertEqual(self.handle(asked).status, 200)
        self.assertEqual(len(self.decided), 1)
        changed = register("<sip:a@192.0.2.1>", callID="c", cseq=3)
        changed.contacts[0].uri.port = 5999
        self.assertEqual(self.handle(changed).status, 200)
        self.assertEqual(len(self.decided), 2)
        self.assertIn(
            "sip:a@192.0.2.1:5999", [b.contact for b in self.registrar.bindings("201")]
        )

    def test_badContactList(self):
        """
        Contacts that cannot be split into values are refused with 400
        (Bad Contact), whether or not a repeat was kept.
        """
        self.handle(register("<sip:a@192.0.2.1>", callID="c", cseq=1))
        bad = register("<sip:a@192.0.2.1>", callID="c", cseq=2)
        bad.headers._fields.append(("contact", "Contact", "<sip:b@192.0.2.1>,,"))
        bad.headers._split = tuple(key for key in bad.headers._split if key != "contact")
        result = self.handle(bad)
        self.assertEqual((result.status, result.reason), (400, "Bad Contact"))

    def test_outOfOrder(self):
        """
        A repeat with a CSeq not above the last one's is decided in full,
        and refused.
        """
        self.handle(register("<sip:a@192.0.2.1>", callID="c", cseq=2))
        result = self.handle(register("<sip:a@192.0.2.1>", callID="c", cseq=2))
        self.assertEqual((result.status, len(self.decided)), (400, 2))

    def test_otherwise(self):
        """
        Another Expires, another source, or a Contact written otherwise
        is decided in full.
        """
        self.handle(register("<sip:a@192.0.2.1>", callID="c1"))
        self.handle(register("<sip:a@192.0.2.1>", expires=600, callID="c2"))
        self.handle(register("<sip:a@192.0.2.1>", expires=600, callID="c3"),
                    ("UDP", "198.51.100.8", 5060))
        self.handle(register("<sip:A@192.0.2.1>", expires=600, callID="c4"))
        self.assertEqual(len(self.decided), 4)

    def test_flowsNotRepeated(self):
        """
        Two Contacts of one flow (RFC 5626): a second such REGISTER binds
        only the last one, as decided in full.
        """
        contacts = ('<sip:f1@192.0.2.1>;+sip.instance="<urn:uuid:1>";reg-id=1',
                    '<sip:f2@192.0.2.1>;+sip.instance="<urn:uuid:1>";reg-id=1')
        self.handle(register(*contacts, callID="c", cseq=1))
        self.handle(register(*contacts, callID="c", cseq=2))
        self.assertEqual(len(self.decided), 2)
        self.assertEqual([b.contact for b in self.registrar.bindings("201")],
                         ["sip:f2@192.0.2.1"])

    def test_afterExpiry(self):
        """
        Once its binding expired, a repeat is decided in full and binds
        again.
        """
        self.handle(register("<sip:a@192.0.2.1>", expires=600, callID="c", cseq=1))
        self.clock.advance(700)
        self.assertEqual(self.registrar.bindings("201"), ())
        result = self.handle(register("<sip:a@192.0.2.1>", expires=600, callID="c", cseq=2))
        self.assertEqual((result.status, len(self.decided)), (200, 2))
        self.assertEqual([b.expires for b in self.registrar.bindings("201")], [START + 1300])

    def test_afterTimerWaitsAgain(self):
        """
        Once a binding's timer ran and found a later expiry (it waits
        again), a repeat is decided in full; then repeats are recognised
        again.
        """
        contact = "<sip:a@192.0.2.1>"
        self.handle(register(contact, expires=600, callID="c", cseq=1))
        self.clock.advance(100)
        self.handle(register(contact, expires=600, callID="c", cseq=2))
        self.assertEqual(len(self.decided), 1)
        self.clock.advance(550)
        self.handle(register(contact, expires=600, callID="c", cseq=3))
        self.assertEqual(len(self.decided), 2)
        self.handle(register(contact, expires=600, callID="c", cseq=4))
        self.assertEqual(len(self.decided), 2)
        self.assertEqual([c.getTime() for c in self.clock.getDelayedCalls()], [START + 700])

    def test_roundedExpiry(self):
        """
        A repeat lists each Contact with its remaining time as the
        binding has it, whether the interval added to the time and taken
        away again is the interval (here one second more) or not.
        """
        self.clock.advance(ROUNDING - START)
        contact = "<sip:a@192.0.2.1>"
        listed = []
        for cseq, advance in ((1, 0), (2, 0), (3, 700), (4, 0)):
            self.clock.advance(advance)
            result = self.handle(register(contact, callID="c", cseq=cseq))
            listed.extend(value for name, value in result.headers if name == "Contact")
        self.assertEqual(len(self.decided), 1)
        self.assertEqual(listed, [f"<sip:a@192.0.2.1>;expires={s}" for s in (3601, 3601, 3600, 3600)])

    def test_afterStop(self):
        """
        Once stopped, a repeat is decided in full: its timers are gone.
        """
        self.handle(register("<sip:a@192.0.2.1>", callID="c", cseq=1))
        self.registrar.stop()
        self.handle(register("<sip:a@192.0.2.1>", callID="c", cseq=2))
        self.assertEqual(len(self.decided), 2)
        self.assertEqual(len(self.clock.getDelayedCalls()), 1)


def test_refreshed():
    """
    L{Binding.refreshed} gives what L{dataclasses.replace} would: an
    equal, frozen L{Binding}.
    """
    binding = Binding("201", "sip:a@192.0.2.1", 1.0, 0.5, 0.5, "c", 1, "UDP", "192.0.2.1",
                      5060, "<urn:uuid:1>", 1)
    refreshed = binding.refreshed(2.0, 1.5, "d", 2)
    assert type(refreshed) is Binding
    assert refreshed == replace(binding, expires=2.0, updated=1.5, callID="d", cseq=2)
    assert hash(refreshed) == hash(replace(binding, expires=2.0, updated=1.5, callID="d", cseq=2))
    try:
        refreshed.expires = 3.0
    except AttributeError:
        pass
    else:
        raise AssertionError("a refreshed binding can be changed")


def test_result():
    """
    L{_result} gives what L{RegisterResult} would: an equal, frozen
    L{RegisterResult}.
    """
    binding = Binding("201", "sip:a@192.0.2.1", 1.0)
    headers = (("Contact", "<sip:a@192.0.2.1>;expires=1"),)
    result = _result(200, "OK", headers, (binding,))
    assert type(result) is RegisterResult
    assert result == RegisterResult(200, "OK", headers, (binding,))
    assert hash(result) == hash(RegisterResult(200, "OK", headers, (binding,)))
    try:
        result.status = 500
    except AttributeError:
        pass
    else:
        raise AssertionError("a result can be changed")

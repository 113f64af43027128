"""
The registrar (RFC 3261 section 10.3), sans-I/O: the contacts bound to
each address of record, their expiry on a clock, and their persistence in
the store so that a restart keeps phones reachable until their expiry.

What 10.3 leaves to the caller happens before L{Registrar.handle}: the
Request-URI's domain (step 1), Require (2), authentication (3, see
L{oso.sip.digest}), authorisation (4) and the address of record from To
(5), which the caller hands in as a plain key (the extension's number).
The registrar does steps 6 to 8 and returns what the response holds; the
caller writes it with the Via, From, To (with a tag), Call-ID and CSeq of
the request.
"""

import math
import re
from dataclasses import dataclass
from email.utils import formatdate

from twisted.internet.defer import Deferred, gatherResults, succeed
from twisted.logger import Logger
from twisted.python.failure import Failure

from oso.sip.headers import NameAddress
from oso.sip.uri import SIPParseError, parseURI

_QVALUE_RE = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")
_MAX_DELTA = 2**32 - 1
# A timer may run a rounding error before the expiry it was set for.
_SLACK = 1e-6
# A refresh is not written while the stored expiry lags the new one by at
# most this share of the interval granted (see L{Registrar}).
_LAG = 0.1


@dataclass(frozen=True, slots=True)
class Binding:
    """
    One contact bound to an address of record.

    @ivar aor: the address of record (the key the caller chose).
    @ivar contact: the contact URI, as text.
    @ivar expires: when it ends, in seconds since the epoch.
    @ivar updated: when it was last registered, in seconds since the
        epoch (the newer of two equal-q contacts is tried first).
    @ivar q: the q parameter (RFC 3261 20.10), or C{None}.
    @ivar callID: the Call-ID of the REGISTER that made or refreshed it.
    @ivar cseq: that REGISTER's CSeq number.
    @ivar transport: the transport the REGISTER came in on (C{"UDP"},
        C{"TCP"}, C{"TLS"}), or C{None}.
    @ivar host: the address it came from, or C{None}; with C{port}, where
        to send requests to a phone behind NAT.
    @ivar port: the port it came from, or C{None}.
    @ivar instance: the C{+sip.instance} parameter (RFC 5626 4.1), or
        C{None}.
    @ivar regID: the C{reg-id} parameter (RFC 5626 4.2), or C{None}.
    """

    aor: str
    contact: str
    expires: float
    updated: float = 0.0
    q: float | None = None
    callID: str = ""
    cseq: int = 0
    transport: str | None = None
    host: str | None = None
    port: int | None = None
    instance: str | None = None
    regID: int | None = None

    def remaining(self, now):
        """
        @return: the whole seconds left at C{now}, rounded up (0 once
            expired).
        """
        return max(0, math.ceil(self.expires - now))

    def refreshed(self, expires, updated, callID, cseq):
        """
        @return: this binding with another C{expires}, C{updated},
            C{callID} and C{cseq}, as a refresh makes it: the same as
            C{dataclasses.replace} gives, about five times cheaper (see
            L{_unfrozen}).
        """
        binding = _Unfrozen()
        binding.aor = self.aor
        binding.contact = self.contact
        binding.expires = expires
        binding.updated = updated
        binding.q = self.q
        binding.callID = callID
        binding.cseq = cseq
        binding.transport = self.transport
        binding.host = self.host
        binding.port = self.port
        binding.instance = self.instance
        binding.regID = self.regID
        binding.__class__ = Binding
        return binding


def _unfrozen(frozen):
    """
    A class with the slots of the frozen dataclass C{frozen} but without
    its frozen C{__setattr__}: filled in with plain assignments and then
    made a C{frozen} (C{__class__} may be assigned between classes of the
    same slots). A frozen dataclass sets each field through
    C{object.__setattr__}, a call that costs more than a dozen of these
    assignments; a refresh, the most common REGISTER, makes one binding
    and one result.
    """
    return type(f"_Unfrozen{frozen.__name__}", (), {"__slots__": frozen.__slots__})


_Unfrozen = _unfrozen(Binding)


@dataclass(frozen=True, slots=True)
class RegisterResult:
    """
    What a REGISTER is answered with.

    @ivar status: the status code (200, 400, 403, 423, 500).
    @ivar reason: the reason phrase.
    @ivar headers: C{(name, value)} pairs to add to the response: for a
        200 a Contact per current binding with its C{expires} and a Date
        (RFC 3261 10.3 step 8); Min-Expires for a 423.
    @ivar bindings: the current bindings of the address of record.
    """

    status: int
    reason: str
    headers: tuple = ()
    bindings: tuple = ()


_UnfrozenResult = _unfrozen(RegisterResult)


def _result(status, reason, headers, bindings):
    """
    @return: C{RegisterResult(status, reason, headers, bindings)}, made
        as L{Binding.refreshed} makes a binding (L{_unfrozen}): a third
        of what the frozen class's C{__init__} costs.
    """
    result = _UnfrozenResult()
    result.status = status
    result.reason = reason
    result.headers = headers
    result.bindings = bindings
    result.__class__ = RegisterResult
    return result


class _Refusal(Exception):
    def __init__(self, status, reason, headers=()):
        self.status = status
        self.reason = reason
        self.headers = headers


def _delta(text):
    """
    @return: a delta-seconds value (RFC 3261 25.1), at most 2**32-1, or
        C{None} when C{text} is not one.
    """
    if text is None or not (text.isdigit() and text.isascii()):
        return None
    return min(int(text), _MAX_DELTA)


def _checkOrder(binding, callID, cseq):
    """
    RFC 3261 10.3 step 7: the same Call-ID with a CSeq not higher is an
    old request overtaken by a newer one.

    @raise _Refusal: for such a request.
    """
    if binding.callID == callID and cseq <= binding.cseq:
        raise _Refusal(400, "CSeq Out Of Order")


def _writeQ(q):
    return f"{q:.3f}".rstrip("0").rstrip(".")


def _pieces(binding):
    """
    @return: the text of C{binding}'s Contact in a 200 (RFC 3261 10.3
        step 8) before and after its remaining time.
    """
    tail = "" if binding.q is None else f";q={_writeQ(binding.q)}"
    return f"<{binding.contact}>;expires=", tail


def _contactFields(pieces, bindings, now):
    """
    @param pieces: the text of each binding's Contact (L{_pieces}).
    @return: a Contact field for each of C{bindings} with its remaining
        time at C{now}, in a 200 (RFC 3261 10.3 step 8).
    """
    fields = []
    for (head, tail), binding in zip(pieces, bindings):
        fields.append(("Contact", f"{head}{binding.remaining(now)}{tail}"))
    return tuple(fields)


class _Repeat:
    """
    What the REGISTER that last set an address of record's bindings
    leaves for a repeat of it (see L{Registrar._repeat}): a REGISTER with
    the same Contact values (the very values the codec shares between the
    messages with the same text), Expires and source, whose bindings are
    then the same but for their expiry, registration time, Call-ID and
    CSeq.

    @ivar knowns: the L{oso.sip.headers.KnownAddress} of each Contact, in
        order.
    @ivar expiresText: the Expires field's text, or C{None}.
    @ivar source: the C{source} given to L{Registrar.register}.
    @ivar keys: the parsed contact URI of each binding, in the order of
        the address of record's bindings.
    @ivar intervals: the interval each binding is granted.
    @ivar pieces: each binding's Contact text in the 200 (L{_pieces}).
    @ivar fireAt: when each binding's expiry timer runs. The timers run
        while the repeat is kept: L{Registrar._expire} and
        L{Registrar.stop} forget it, and every other change of the
        bindings makes or forgets another.
    @ivar bindings: the bindings now (each repeat sets them).
    @ivar listed: the Contact fields of the 200 while each binding's
        remaining time is its interval (made by the first repeat), or
        C{None}.
    @ivar matched: the stored bindings known to match these but for
        their expiry, registration time, Call-ID and CSeq, or C{None}.
    @ivar bounds: with C{matched}, C{(low, high)} for each binding: while
        its remaining time is its interval, the store is close enough to
        it (see L{Registrar._storedCloseEnough}) when its expiry is
        within them.
    """

    __slots__ = (
        "knowns", "expiresText", "source", "keys", "intervals", "pieces", "fireAt",
        "bindings", "listed", "matched", "bounds",
    )  # fmt: skip

    def __init__(self, knowns, expiresText, source, keys, intervals, pieces, fireAt, bindings):
        self.knowns = knowns
        self.expiresText = expiresText
        self.source = source
        self.keys = keys
        self.intervals = intervals
        self.pieces = pieces
        self.fireAt = fireAt
        self.bindings = bindings
        self.listed = None
        self.matched = None
        self.bounds = None


class Registrar:
    """
    Bindings of contacts to addresses of record, answering REGISTER.

    The bindings in memory are the truth that routing reads
    (L{contacts}); every change is also written to the store, and
    L{handle}'s answer waits for that write, so a 200 is sent only for
    bindings that are on disk (or, for a mere refresh, close enough to
    those on disk: below).

    Writes are committed in groups: while one transaction is on its way to
    the disk, the addresses of record changed meanwhile are collected, and
    the next transaction writes the bindings each of them has then (only
    the latest state of an address of record changed many times). One
    REGISTER waits at most for the transaction in flight and its own; under
    load, one commit (and one fsync) serves many REGISTERs.

    A mere refresh is not written while the store is close enough: when a
    REGISTER changes nothing of an address of record's bindings as stored
    but their expiry, registration time, Call-ID and CSeq, and moves each
    expiry later by at most a tenth of the interval it grants (a phone
    refreshing far more often than its interval asks, or a load test), it
    is answered at once and the store keeps the older expiry. A phone
    that refreshes at half its interval, as most do, is written every time.
    L{stop} writes what was left unwritten, so that a restart restores
    every binding as it was; after a crash a binding comes back with an
    expiry at most a tenth of its interval early (the phone, refreshing
    that often, registers again long before), the Call-ID, CSeq and
    registration time of its last written REGISTER.

    A phone's refreshes repeat its REGISTER but for the Call-ID and CSeq:
    such a repeat refreshes the bindings from what the REGISTER before
    it left (L{_repeat}), as deciding it in full would.
    """

    log = Logger()

    def __init__(
        self,
        clock,
        store,
        minExpires=60,
        maxExpires=3600,
        defaultExpires=3600,
        maxContacts=10,
        bindingsChanged=None,
    ):
        """
        @param clock: an L{IReactorTime}, whose C{seconds()} are epoch
            seconds.
        @param store: an L{oso.interfaces.IStore}.
        @param minExpires: the shortest registration granted; shorter ones
            (but not 0) get 423 (RFC 3261 10.3 step 7).
        @param maxExpires: longer registrations are shortened to this.
        @param defaultExpires: for a contact with neither an C{expires}
            parameter nor an Expires field, or with a malformed one
            (RFC 3261 20.19).
        @param maxContacts: the most contacts one address of record may
            have; a REGISTER that would pass it gets 403.
        @param bindingsChanged: called with an address of record whenever
            its set of contacts changes (added, removed, expired; not on a
            mere refresh), after the change is visible in L{contacts}: the
            hook for a line's in and out of service.
        """
        self._clock = clock
        self._store = store
        self.minExpires = minExpires
        self.maxExpires = maxExpires
        self.defaultExpires = defaultExpires
        self.maxContacts = maxContacts
        self._bindingsChanged = bindingsChanged
        # aor -> {parsed contact URI: Binding}
        self._aors = {}
        # (aor, parsed contact URI) -> DelayedCall ending that binding
        self._timers = {}
        # Group commit: the addresses of record to write in the next
        # transaction, the Deferreds waiting for it, and whether one is on
        # its way to the disk.
        self._unwritten = set()
        self._waiting = []
        self._writing = False
        # The bindings of each address of record as the store has them
        # (written and committed), those being written, and the addresses
        # of record with refreshes not written (for L{stop}).
        self._stored = {}
        self._inFlight = {}
        self._behind = set()
        # aor -> the _Repeat of the REGISTER that last set its bindings,
        # while they are the ones it set.
        self._repeats = {}
        # The last Date field written: (second, (name, value)).
        self._written = (None, None)

    def start(self):
        """
        Load the stored bindings: those still alive are bound again (and
        announced to C{bindingsChanged}), expired or unreadable ones are
        deleted from the store.

        @return: a L{Deferred} that fires when that is done.
        """

        def loaded(bindings):
            now = self._clock.seconds()
            deletions = []
            changed = set()
            for binding in bindings:
                try:
                    uri = parseURI(binding.contact)
                except SIPParseError:
                    uri = None
                if uri is None or binding.expires <= now:
                    deletions.append(self._store.deleteRegistration(binding.aor, binding.contact))
                    continue
                self._aors.setdefault(binding.aor, {})[uri] = binding
                self._arm(binding.aor, uri, binding, now)
                changed.add(binding.aor)
            for aor in sorted(changed):
                self._stored[aor] = self.bindings(aor)
                self._announce(aor)
            return gatherResults(deletions, consumeErrors=True).addCallback(lambda _: None)

        return self._store.loadRegistrations().addCallback(loaded)

    def stop(self):
        """
        Stop the expiry timers (the bindings stay in the store), and write
        the refreshes not written yet.

        @return: a L{Deferred} that fires (with C{None}, whether or not
            the store took them) once every write asked for is done.
        """
        for timer in self._timers.values():
            if timer.active():
                timer.cancel()
        self._timers.clear()
        # A repeat's timers run while it is kept (L{_Repeat.fireAt}).
        self._repeats.clear()
        self._unwritten |= self._behind
        self._behind = set()
        if not self._writing and not self._unwritten:
            return succeed(None)
        flushed = Deferred()

        def stored(failure):
            if failure is not None:
                self.log.failure("registrar: bindings not stored at stop", failure)
            flushed.callback(None)

        self._waiting.append(stored)
        self._commit()
        return flushed

    def bindings(self, aor):
        """
        @return: the current bindings of C{aor}, in no particular order.
        """
        return tuple(self._aors.get(aor, {}).values())

    def contacts(self, aor):
        """
        Where to route a request for C{aor}: highest q first (a contact
        without q counts as 1), and among equal q the most recently
        registered first.

        @return: a list of L{Binding}s.
        """
        now = self._clock.seconds()
        live = [b for b in self._aors.get(aor, {}).values() if b.expires > now]
        if len(live) > 1:
            live.sort(key=lambda b: (-(1.0 if b.q is None else b.q), -b.updated))
        return live

    def unbind(self, aor):
        """
        Remove every binding of C{aor} (its extension was deleted), from
        the store too.

        @return: a L{Deferred} that fires once that is on disk.
        """
        current = dict(self._aors.get(aor, {}))
        if not self._apply(aor, current, {}, self._clock.seconds()):
            return succeed(None)
        written = Deferred()

        def stored(failure):
            if failure is None:
                written.callback(None)
            else:
                written.errback(failure)

        self._persist(aor, stored)
        return written

    def handle(self, request, aor, source=None):
        """
        Apply a REGISTER to the bindings of C{aor} (see L{register}).

        @return: a L{Deferred} firing with the L{RegisterResult}.
        """
        answered = Deferred()
        self.register(request, aor, source, answered.callback)
        return answered

    def register(self, request, aor, source, answer):
        """
        Apply a REGISTER to the bindings of C{aor} (RFC 3261 10.3 steps 6
        to 8): add, refresh or remove its contacts, or remove them all
        with C{Contact: *}; only list them without any Contact.

        The answer is a plain call rather than a L{Deferred}: most
        REGISTERs are answered at once (refused, or nothing to write), the
        others when their group commit is on disk, and a Deferred and its
        callbacks per REGISTER were a good part of the cost.

        @param request: the REGISTER, an L{oso.sip.message.Request},
            already authenticated and authorised for C{aor}.
        @param aor: the address of record.
        @param source: C{(transport, host, port)} the request came from,
            kept with its bindings, or C{None}.
        @param answer: called once, with the L{RegisterResult}, once the
            changes are on disk (a 500 if the store failed: the bindings
            stay changed in memory, and the phone registers again), or at
            once for a refresh the store is close enough to (see
            L{Registrar}); it may be called before this returns, and must
            not raise.
        """
        now = self._clock.seconds()
        current = self._aors.get(aor, {})
        try:
            expiresText = request.headers.get("expires")
            callID = request.callID
            cseq = request.cseq.number
            repeat = self._repeats.get(aor)
            refreshed = None
            try:
                # As held: a repeat is told by its Contacts' shared values,
                # without the copy of each that request.contacts makes,
                # which only a REGISTER decided in full needs.
                held = request.headers.held("contact")
                if repeat is not None:
                    refreshed = self._repeat(
                        repeat, aor, current, held, expiresText, callID, cseq, source, now
                    )
                if refreshed is None:
                    contacts = request.contacts
            except SIPParseError as e:
                raise _Refusal(400, "Bad Contact") from e
            if refreshed is None:
                updated, knowns, grants = self._decide(
                    contacts, expiresText, callID, cseq, aor, source, current, now
                )
        except _Refusal as refusal:
            answer(
                _result(refusal.status, refusal.reason, tuple(refusal.headers), self.bindings(aor))
            )
            return
        if refreshed is None:
            dirty = self._apply(aor, current, updated, now)
            bindings = tuple(updated.values())
            pieces = [_pieces(binding) for binding in bindings]
            result = _result(
                200, "OK", self._listing(_contactFields(pieces, bindings, now), now), bindings
            )
            if not dirty:
                answer(result)
                return
            repeat = self._remember(aor, updated, pieces, knowns, grants, expiresText, source)
            close = self._storedCloseEnough(aor, bindings, now, repeat)
        else:
            result, close = refreshed
        # The bindings changed: answered at once when the store is close
        # enough to them, otherwise once they are written.
        if close:
            self._behind.add(aor)
            answer(result)
        else:
            self._answerWhenStored(aor, result, answer)

    def _answerWhenStored(self, aor, result, answer):
        """
        Have the bindings of C{aor} written and answer a REGISTER that
        changed them with C{result} once they are (with a 500 if the
        store failed).
        """

        def stored(failure):
            if failure is None:
                answer(result)
                return
            self.log.failure("registrar: bindings of {aor} not stored", failure, aor=aor)
            answer(_result(500, "Server Internal Error", (), result.bindings))

        self._persist(aor, stored)

    def _repeat(self, repeat, aor, current, contacts, expiresText, callID, cseq, source, now):
        """
        Apply a repeat of the REGISTER that left C{repeat}: one whose
        Contacts are the very values it had (the codec shares the value of
        a text read before, and a value is never changed: the same URIs
        and parameters, so the same intervals granted and the same
        bindings matched), with the same Expires and source, as the
        bindings of its address of record are still the ones it made.
        Such a REGISTER changes only the expiry, registration time,
        Call-ID and CSeq of each binding, as L{_decide} and L{_apply}
        would, without reading the Contacts' parameters again or hashing
        their URIs more than once; and while each binding's remaining
        time is its interval (always, but for rounding), its 200 lists
        the same Contacts as the repeat before and the store is close
        enough to it by the same bounds, both kept with C{repeat}.

        @param contacts: the request's Contacts as held
            (L{oso.sip.message.Headers.held}).
        @param current: the bindings of C{aor}, changed in place (or, for
            one binding, replaced by a new dictionary of the same key).
        @return: the 200's L{RegisterResult} and whether the store is
            close enough to the new bindings (L{_storedCloseEnough});
            or C{None} when the request is not such a repeat, or is out
            of order (RFC 3261 10.3 step 7: L{_decide} refuses it), or a
            binding's timer would have to run sooner (L{_arm} sets a new
            one): then nothing has changed.
        """
        if (
            expiresText != repeat.expiresText
            or source != repeat.source
            or len(contacts) != len(repeat.knowns)
        ):
            return None
        for contact, known in zip(contacts, repeat.knowns):
            if contact is not known and (
                type(contact) is not NameAddress or contact.shared() is not known
            ):
                return None
        # Each binding checked and its refreshed copy made in one pass;
        # nothing changes until all are. C{exact}: each remaining time is
        # the interval (C{Binding.remaining} of the refreshed binding).
        refreshed = []
        exact = True
        for binding, interval, fireAt in zip(repeat.bindings, repeat.intervals, repeat.fireAt):
            expires = now + interval
            if (binding.callID == callID and cseq <= binding.cseq) or fireAt > expires:
                return None
            if expires - now != interval:
                exact = False
            refreshed.append(binding.refreshed(expires, now, callID, cseq))
        bindings = tuple(refreshed)
        if len(bindings) == 1:
            # The one key of C{current} is the binding's: C{dict.fromkeys}
            # of a dict takes its keys' hashes as they are, where storing
            # the binding would hash the URI again (L{SIPURI.__hash__}).
            self._aors[aor] = dict.fromkeys(current, bindings[0])
        else:
            for key, binding in zip(repeat.keys, bindings):
                current[key] = binding
        repeat.bindings = bindings
        if not exact:
            listed = _contactFields(repeat.pieces, bindings, now)
        else:
            listed = repeat.listed
            if listed is None:
                listed = repeat.listed = _contactFields(repeat.pieces, bindings, now)
        result = _result(200, "OK", self._listing(listed, now), bindings)
        if (
            not exact
            or repeat.matched is None
            or repeat.matched is not self._stored.get(aor)
            or aor in self._unwritten
            or aor in self._inFlight
        ):
            return result, self._storedCloseEnough(aor, bindings, now, repeat)
        for (low, high), binding in zip(repeat.bounds, bindings):
            if not low <= binding.expires <= high:
                return result, False
        return result, True

    def _remember(self, aor, updated, pieces, knowns, grants, expiresText, source):
        """
        Keep what a repeat of a REGISTER that changed the bindings of
        C{aor} to C{updated} needs (L{_repeat}), when a repeat of it
        would be one: each of its Contacts made one of the bindings there
        are now, in their order, and no two of them are one flow (RFC
        5626: the second would remove the first).

        @param knowns: the shared value of each Contact, or C{None}.
        @param grants: C{(binding, interval)} for each binding the
            REGISTER made, in the order of its Contacts.
        @return: the L{_Repeat} kept, or C{None}.
        """
        if knowns is None or len(grants) != len(knowns) or len(updated) != len(grants):
            return None
        intervals = []
        fireAt = []
        flows = set()
        for (key, binding), (made, interval) in zip(updated.items(), grants):
            if binding is not made:
                return None
            if binding.instance is not None and binding.regID is not None:
                flow = (binding.instance, binding.regID)
                if flow in flows:
                    return None
                flows.add(flow)
            intervals.append(interval)
            fireAt.append(self._timers[aor, key].getTime())
        repeat = _Repeat(
            tuple(knowns), expiresText, source, tuple(updated), tuple(intervals), tuple(pieces),
            tuple(fireAt), tuple(updated.values()),
        )  # fmt: skip
        self._repeats[aor] = repeat
        return repeat

    def _decide(self, contacts, expiresText, callID, cseq, aor, source, current, now):
        """
        @return: the bindings C{aor} will have, keyed by parsed contact
            URI; the shared value of each Contact (C{None} if one has
            none, or for the wildcard); and C{(binding, interval)} for
            each binding made (for L{_remember}).
        @raise _Refusal: when the request must be refused; nothing has
            changed then (RFC 3261 10.3 step 7: all or nothing).
        """
        if "*" in contacts:
            # RFC 3261 10.3 step 6.
            if len(contacts) != 1 or _delta(expiresText) != 0:
                raise _Refusal(400, "Wildcard Contact Needs Expires 0 Alone")
            for binding in current.values():
                _checkOrder(binding, callID, cseq)
            return {}, None, []
        headerExpires = _delta(expiresText)
        if headerExpires is None:
            headerExpires = self.defaultExpires
        transport, host, port = (None, None, None) if source is None else source
        updated = dict(current)
        knowns = []
        grants = []
        for contact in contacts:
            # An untouched Contact is a view of the codec's value shared
            # by every message with its text (L{oso.sip.headers.KnownAddress}):
            # read that, which the registrar never changes, rather than
            # copies of its URI and parameters.
            known = contact.shared()
            if known is None:
                knowns = None
            else:
                contact = known.address
                if knowns is not None:
                    knowns.append(known)
            params = contact.params
            if "expires" in params:
                expires = _delta(params["expires"])
                if expires is None:
                    expires = self.defaultExpires
            else:
                expires = headerExpires
            if 0 < expires < self.minExpires:
                raise _Refusal(
                    423, "Interval Too Brief", [("Min-Expires", str(self.minExpires))]
                )
            if expires > self.maxExpires:
                expires = self.maxExpires
            q = params.get("q")
            if q is not None:
                if not _QVALUE_RE.fullmatch(q):
                    raise _Refusal(400, "Bad Contact q")
                q = float(q)
            instance = params.get("+sip.instance")
            regID = params.get("reg-id")
            if regID is not None:
                regID = _delta(regID)
            key = contact.uri
            existing = current.get(key)
            if existing is not None:
                _checkOrder(existing, callID, cseq)
            if instance is not None and regID is not None:
                # RFC 5626 6: the same instance and reg-id is the same
                # flow, whatever its contact URI now.
                for other, binding in current.items():
                    if binding.instance == instance and binding.regID == regID and other != key:
                        _checkOrder(binding, callID, cseq)
                        updated.pop(other, None)
            if expires == 0:
                updated.pop(key, None)
                continue
            # Every field in order, without keywords: a quarter cheaper.
            binding = updated[key] = Binding(
                aor, str(key), now + expires, now, q, callID, cseq,
                transport, host, port, instance, regID,
            )
            grants.append((binding, expires))
        if len(updated) > self.maxContacts:
            raise _Refusal(403, "Too Many Contacts")
        return updated, knowns, grants

    def _apply(self, aor, current, updated, now):
        """
        Make C{updated} the bindings of C{aor}: in memory and on the
        timers.

        @return: whether anything changed, so that the bindings are to
            be written to the store (L{_persist}).
        """
        # Whether a contact was added or removed (not merely refreshed),
        # and whether anything changed at all. One look-up per contact
        # bound before (each hashes its URI): those it leaves out of
        # C{updated} are removed; C{updated} holds others only when it is
        # longer than what is left of C{current}.
        self._repeats.pop(aor, None)
        changed = dirty = False
        kept = 0
        for key, existing in current.items():
            binding = updated.get(key)
            if binding is None:
                self._disarm(aor, key)
                changed = dirty = True
            else:
                kept += 1
                if binding is not existing:
                    self._arm(aor, key, binding, now)
                    dirty = True
        if len(updated) > kept:
            for key, binding in updated.items():
                if key not in current:
                    self._arm(aor, key, binding, now)
                    changed = dirty = True
        if updated:
            self._aors[aor] = updated
        else:
            self._aors.pop(aor, None)
        if changed:
            self._announce(aor)
        return dirty

    def _storedCloseEnough(self, aor, bindings, now, repeat):
        """
        Whether the store's bindings of C{aor} may stay as they are,
        C{bindings} being its bindings now: the same contacts, in the same
        order, each a mere refresh of the stored one (see L{Registrar}),
        and no write of C{aor} waiting or on its way.

        @param repeat: the L{_Repeat} that C{bindings} are those of, or
            C{None}. All but the expiry, registration time, Call-ID and
            CSeq of its bindings stays the same from one repeat to the
            next: once compared with the stored bindings, they are not
            compared again.
        """
        if aor in self._unwritten or aor in self._inFlight:
            return False
        stored = self._stored.get(aor)
        if stored is None or len(stored) != len(bindings):
            return False
        matched = repeat is not None and repeat.matched is stored
        for old, new in zip(stored, bindings):
            if not (
                old.expires <= new.expires <= old.expires + (new.expires - now) * _LAG
                and (
                    matched
                    or (
                        old.contact == new.contact
                        and old.q == new.q
                        and old.transport == new.transport
                        and old.host == new.host
                        and old.port == new.port
                        and old.instance == new.instance
                        and old.regID == new.regID
                    )
                )
            ):
                return False
        if repeat is not None and not matched:
            repeat.matched = stored
            repeat.bounds = tuple(
                (old.expires, old.expires + interval * _LAG)
                for old, interval in zip(stored, repeat.intervals)
            )
        return True

    def _persist(self, aor, stored):
        """
        Have the bindings C{aor} has now written in the next transaction.

        @param stored: called once they (or newer ones) are on disk, with
            C{None}, or with the store's L{Failure}; it must not raise.
        """
        self._unwritten.add(aor)
        self._waiting.append(stored)
        self._commit()

    def _commit(self):
        """
        Start the next group commit, unless one is on its way or there is
        nothing to write.
        """
        if self._writing:
            return
        if not self._unwritten:
            # Only L{stop}'s wait, with nothing left to write.
            waiting, self._waiting = self._waiting, []
            for stored in waiting:
                stored(None)
            return
        batch = {aor: self.bindings(aor) for aor in sorted(self._unwritten)}
        waiting = self._waiting
        self._unwritten, self._waiting = set(), []
        self._behind -= batch.keys()
        self._writing = True
        self._inFlight = batch

        def done(result):
            self._writing = False
            self._inFlight = {}
            failure = result if isinstance(result, Failure) else None
            for aor, bindings in batch.items():
                if failure is None and bindings:
                    self._stored[aor] = bindings
                else:
                    self._stored.pop(aor, None)
            for stored in waiting:
                stored(failure)
            self._commit()

        self._store.replaceRegistrations(batch).addBoth(done)

    def _listing(self, contacts, now):
        """
        RFC 3261 10.3 step 8: C{contacts} (L{_contactFields}) and a Date
        (RFC 3261 20.17), the Date written once per second.
        """
        second = int(now)
        if self._written[0] != second:
            self._written = (second, ("Date", formatdate(second, usegmt=True)))
        return (*contacts, self._written[1])

    def _arm(self, aor, key, binding, now):
        """
        Have the timer that ends the binding C{key} of C{aor} run by
        C{binding}'s expiry. A refresh that moves the expiry later leaves
        the running timer alone (it finds the later expiry when it fires
        and waits again): under load a phone's REGISTER costs no timer
        cancelled and no timer made.
        """
        timer = self._timers.get((aor, key))
        if timer is not None and timer.active():
            if timer.getTime() <= binding.expires:
                return
            timer.cancel()
        self._timers[aor, key] = self._clock.callLater(
            max(0, binding.expires - now), self._expire, aor, key
        )

    def _disarm(self, aor, key):
        timer = self._timers.pop((aor, key), None)
        if timer is not None and timer.active():
            timer.cancel()

    def _expire(self, aor, key):
        """
        A binding's timer ran: the binding vanishes, from the store too,
        unless a refresh moved its expiry later (the timer waits again).
        Either way the bindings' repeat is forgotten: its timer ran.
        """
        self._timers.pop((aor, key), None)
        self._repeats.pop(aor, None)
        bindings = self._aors.get(aor, {})
        binding = bindings.get(key)
        if binding is None:
            return
        now = self._clock.seconds()
        if binding.expires - now > _SLACK:
            self._arm(aor, key, binding, now)
            return
        del bindings[key]
        if not bindings:
            del self._aors[aor]
        def stored(failure):
            if failure is not None:
                self.log.failure(
                    "registrar: expired binding {contact} of {aor} not deleted",
                    failure,
                    aor=aor,
                    contact=binding.contact,
                )

        self._persist(aor, stored)
        self._announce(aor)

    def _announce(self, aor):
        if self._bindingsChanged is None:
            return
        try:
            self._bindingsChanged(aor)
        except Exception:
            self.log.failure("registrar: bindingsChanged({aor}) failed", aor=aor)

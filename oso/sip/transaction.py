"""
What every SIP transaction shares (RFC 3261 section 17): the timer
values, the table-driven state machine engine, and building a response
to a request (8.2.6).

A transaction is a small table of C{(state, input) -> (actions, new
state)}, in the manner of h11 and h2: inputs are messages from the network
(C{"1xx"}, C{"request"}, ...), messages from the transaction user
(C{"tu2xx"}, ...), timers firing (C{"timerA"}, ...) and C{"transportError"}.
A network input the table lacks is absorbed (a late response, a stray
retransmission); a transaction user input the table lacks is a misuse and
raises L{TransactionError} (Terminated has no transitions at all).

Timers run on an injected L{twisted.internet.interfaces.IReactorTime},
through the layer's L{oso.sip.timerlanes.TimerLanes} (one clock call per
timer duration, not one per timer). A timer whose value is zero (Timers D, I, J and K on a reliable
transport) fires at once, after the transition that started it.
"""

import hashlib

from twisted.logger import Logger

from oso.randompool import pool
from oso.sip.message import REASONS, Response
from oso.sip.sent import writtenResponse
from oso.sip.uri import SIPParseError

#: RFC 3261 8.1.1.7: every branch made by an RFC 3261 element starts so.
MAGIC_COOKIE = "z9hG4bK"
#: Transports that lose messages, so that requests and responses are
#: retransmitted (RFC 3261 17.1.1.2, 17.1.2.2, 17.2.1).
UNRELIABLE = frozenset({"UDP"})


class TransactionError(Exception):
    """
    The transaction user asked a transaction for something its state does
    not allow (a response after the final one, a second final response).
    """


def newBranch():
    """
    @return: a new, random Via branch with the magic cookie (RFC 3261
        8.1.1.7).
    """
    return MAGIC_COOKIE + pool.hex(8)


def isReliable(transport):
    """
    @param transport: a Via transport name (C{"UDP"}, C{"TCP"}, C{"TLS"}).
    @return: C{True} unless the transport may lose messages.
    """
    return transport.upper() not in UNRELIABLE


class TimerConfig:
    """
    The timer values of RFC 3261 Table 4, from T1, T2 and T4, plus Timers L
    and M of RFC 6026 and the 200 ms after which an INVITE server
    transaction sends 100 Trying itself (17.2.1). Timer C belongs to
    proxies (16.6 step 11) and is not kept here: oso is a UA.

    @ivar t1: the round-trip time estimate, seconds (500 ms).
    @ivar t2: the longest interval between non-INVITE retransmissions (4 s).
    @ivar t4: how long a message may stay in the network (5 s).
    @ivar timerD: Timer D on an unreliable transport (at least 32 s).
    @ivar trying: the delay before an automatic 100 Trying.
    """

    def __init__(self, t1=0.5, t2=4.0, t4=5.0, timerD=32.0, trying=0.2):
        self.t1 = t1
        self.t2 = t2
        self.t4 = t4
        self.timerD = timerD
        self.trying = trying

    def duration(self, name, reliable):
        """
        @param name: a timer name, C{"A"} to C{"M"} or C{"Trying"}.
        @param reliable: whether the transaction runs over a reliable
            transport.
        @return: the timer's first value in seconds, or C{None} when the
            timer does not run on such a transport (retransmission timers
            A, E and G on a reliable one).
        """
        # Timer J first: every non-INVITE server transaction starts one.
        if name == "J":
            return 0 if reliable else 64 * self.t1
        if name in ("A", "E", "G"):
            return None if reliable else self.t1
        if name in ("B", "F", "H", "L", "M"):
            return 64 * self.t1
        if name == "D":
            return 0 if reliable else self.timerD
        if name in ("I", "K"):
            return 0 if reliable else self.t4
        if name == "Trying":
            return self.trying
        raise KeyError(name)


#: L{statelessTag}'s hash, keyed with this process's random key (the tags
#: stay unguessable, RFC 3261 19.3, while each request gets the same one
#: every time); copied for each tag, which costs less than keying anew.
_STATELESS_HASH = hashlib.blake2b(digest_size=6, key=pool.bytes(16))


def statelessTag(request):
    """
    The To tag of a response sent statelessly (RFC 3261 8.2.7): the same
    for every copy of the same request, so that the responses to a
    request and to its retransmissions carry one tag, yet made without
    keeping anything. A keyed hash of the top Via branch, the Call-ID and
    From with its tag, as long as L{oso.sip.dialog.newTag}'s. From is taken as the text
    the codec writes (the same for every copy of a request), which the
    response copies and writes anyway, rather than as an address of the
    request's own (L{oso.sip.message.Headers.getParsed} would copy the
    codec's shared value, and the response would then write the copy).

    @return: a tag of twelve hexadecimal digits.
    """
    headers = request.headers
    try:
        # The top Via is parsed on reading; its properties cost a call each.
        branch = headers.getParsed("via").params.get("branch") or ""
    except SIPParseError:
        # The 400 refusing a malformed top Via is tagged all the same.
        branch = ""
    seed = f"{branch}\n{headers.get('call-id') or ''}\n{headers.get('from') or ''}"
    digest = _STATELESS_HASH.copy()
    digest.update(seed.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


#: The fields a response copies from its request, in order (8.2.6.2).
_COPIED = ("via", "from", "to", "call-id", "cseq")


def makeResponse(request, status, reason=None, toTag=None, *, tagged=True):
    """
    Build a response to C{request} (RFC 3261 8.2.6.2): every Via in order,
    From, To, Call-ID and CSeq copied, a To tag added when To has none,
    and for 100 Trying the Timestamp (8.2.6.1).

    @param reason: the reason phrase, by default RFC 3261's.
    @param toTag: the To tag, when To has none: a dialog's local tag for
        responses that make one (oso's provisional responses all do).
        Without it a final response gets L{statelessTag} (8.2.6.2 wants a
        tag on every response but 100 Trying), the same for a request and
        its retransmissions.
    @param tagged: C{False} to copy To as it is, for the refusal of a
        request whose To is too malformed to take a tag.
    @return: a new L{oso.sip.message.Response}.
    @raise SIPParseError: when To is to be tagged and is malformed.
    """
    response = Response(status, reason)
    headers = response.headers
    headers.copyFrom(request.headers, _COPIED)
    if tagged:
        if toTag is not None:
            headers.addTag("to", toTag)
        elif status >= 200:
            # The copied To's tag is looked at without making a value of
            # the request's own; the hash is made only when there is none.
            headers.addTag("to", lambda: statelessTag(request))
    if status == 100 and "timestamp" in request.headers:
        headers.add("timestamp", request.headers.get("timestamp"))
    return response


def sentResponse(request, status, reason=None, toTag=None, fields=()):
    """
    A final response to C{request} as L{makeResponse} makes it, with
    C{fields} (C{(name, value)} pairs) added, written at once and held
    only in its sent form (L{oso.sip.sent}): for a response its
    transaction user does not change once made, about half what making
    it and then writing it costs (a REGISTER's 401 and 200 are most of a
    registrar's work).

    @raise ValueError: for a provisional C{status}.
    @raise SIPParseError: when To is malformed.
    """
    if status < 200:
        raise ValueError(f"{status} is not a final response")
    tag = toTag if toTag is not None else (lambda: statelessTag(request))
    if reason is None:
        reason = REASONS.get(status, "")
    return writtenResponse(request, status, reason, _COPIED, tag, fields)


#: The timers restarted with a longer interval (L{Transaction._backoff}).
_BACKOFF = frozenset({"A", "E", "G"})


class Transaction:
    """
    The engine of the four transaction state machines: a subclass gives
    its C{TABLE}, the timers alive in each state (C{TIMERS}, every other
    timer is cancelled on entering a state), the inputs that come from the
    transaction user (C{TU_INPUTS}), and one method C{_name} per action.
    Actions C{startX} start timer X; C{backoffX} restarts it with the
    next interval. Each class reads its table once, into C{_PLAN}: the
    same transitions with every action as the function it calls and its
    argument, so that a step looks no action name up.

    Once in a state of C{FINISHED} the transaction can no longer reach
    its transaction user with anything the user acts on: it then
    forgets its request and the responses it received, and keeps what it
    may send again in its sent form (L{oso.sip.sent}), so that what waits
    for Timers D, I, J, K and L is small.

    @ivar request: the request that began the transaction; C{None} once
        C{FINISHED}.
    @ivar method: the request's method.
    @ivar state: the current state's name.
    @ivar reliable: C{True} when the transport does not lose messages.
    @ivar destination: where messages of the transaction go, as the
        transport adapter understands it.
    @ivar transport: the transport name, C{"UDP"}, C{"TCP"}, C{"TLS"}.
    @ivar lastResponse: a server transaction's last response (its final
        ones in their sent form); a client transaction keeps none.
    """

    TABLE = {}
    TIMERS = {}
    TU_INPUTS = frozenset()
    INITIAL = None
    FINISHED = frozenset()
    _key = None
    _intervals = None
    _pending = None
    _PLAN = {}
    #: The name of a timer the transaction is the lane entry of itself
    #: (L{oso.sip.timerlanes.LaneEntry}, whose methods its class then
    #: has), rather than of a lane timer made for it: one that starts at
    #: most once in the transaction's life, alone in its state.
    _OWN_TIMER = None
    _log = Logger()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._PLAN = {
            key: (tuple(cls._planned(action) for action in actions), state)
            for key, (actions, state) in cls.TABLE.items()
        }
        # Each timer's running L{oso.sip.timerlanes.LaneTimer} is an
        # attribute of its own (None when it does not run), rather than an
        # entry of a table made per transaction: a transaction waiting for
        # Timer J then keeps no table (one object less for the collector
        # to walk, doc/sip.md "Eighth pass"). _STOPS: the attributes that
        # entering each state stops.
        names = set().union(*cls.TIMERS.values()) if cls.TIMERS else set()
        cls._TIMER_FIELDS = {name: "_timer" + name for name in names}
        for field in cls._TIMER_FIELDS.values():
            setattr(cls, field, None)
        states = {state for state, _ in cls.TABLE} | {state for _, state in cls.TABLE.values()}
        cls._STOPS = {
            state: tuple(
                sorted(cls._TIMER_FIELDS[name] for name in names - cls.TIMERS.get(state, set()))
            )
            for state in states
        }

    @classmethod
    def _planned(cls, action):
        """
        @return: C{(function, argument)} for an action of C{TABLE}: the
            function is called with the transaction and the argument, or
            the input's message when the argument is C{None}.
        """
        if action.startswith("start"):
            return (Transaction._startTimer, action[5:])
        if action.startswith("backoff"):
            return (Transaction._backoff, action[7:])
        return (getattr(cls, "_" + action), None)

    def __init__(self, layer, request, destination, transport, reliable=None):
        """
        @param layer: the L{oso.sip.transactions.TransactionLayer} that
            holds the clock, the C{send} callable, the timer values and the
            transaction user's callbacks.
        @param reliable: by default from the transport (L{isReliable}).
        """
        self._layer = layer
        self.request = request
        self.method = request.method
        self.destination = destination
        self.transport = transport
        self.reliable = isReliable(transport) if reliable is None else reliable
        self.state = self.INITIAL
        self.lastResponse = None
        self._running = False

    def __repr__(self):
        return f"<{type(self).__name__} {self.method} {self.state}>"

    def _feed(self, event, message=None):
        """
        Apply an input, and then those that its actions caused (a transport
        error, a timer of zero), each to the state the previous one left.
        An input given while another is being applied (a response the TU
        sends from within C{deliverRequest}) waits for it to finish.

        @raise TransactionError: at once, when a transaction user input is
            not allowed in the current state.
        """
        if event in self.TU_INPUTS and (self.state, event) not in self.TABLE:
            raise TransactionError(f"{self!r} cannot take {event}")
        if self._running:
            self._queue(event, message)
            return
        self._running = True
        try:
            if self._pending:
                # Left by an input whose step raised: this one waits.
                self._queue(event, message)
            else:
                self._step(event, message)
            while self._pending:
                self._step(*self._pending.pop(0))
            self._pending = None
        finally:
            self._running = False

    def _queue(self, event, message=None):
        """
        Apply an input after the current one (the queue is made only when
        needed: most inputs cause none).
        """
        if self._pending is None:
            self._pending = []
        self._pending.append((event, message))

    def _step(self, event, message):
        transition = self._PLAN.get((self.state, event))
        if transition is None:
            # A retransmission or a late response; or a TU input that was
            # allowed when given but that an earlier input made moot.
            self._log.debug("{transaction} absorbs {event}", transaction=self, event=event)
            return
        actions, state = transition
        for function, argument in actions:
            function(self, message if argument is None else argument)
        current = self.state
        if current != state and current != "Terminated":
            # (Terminated here: an action ended the transaction, a stateless
            # answer given while the request was passed up.) A transition
            # back to its own state enters nothing: its actions start only
            # timers that state keeps, and what entering it did (the timers
            # of other states stopped, the transaction user's objects
            # forgotten) holds still, so a retransmission absorbed and a
            # non-INVITE request's start cost one call less.
            self._enter(state)

    def _enter(self, state):
        self.state = state
        for field in self._STOPS[state]:
            call = getattr(self, field)
            if call is not None:
                setattr(self, field, None)
                call.cancel()
        if state in self.FINISHED:
            self._finish()
        if state == "Terminated":
            if self._pending is not None:
                self._pending.clear()
            self._layer._ended(self)

    def _finish(self):
        """
        Forget what the transaction user is done with (see the class
        docstring).
        """
        self.request = None

    def _startTimer(self, name, interval=None):
        if interval is None:
            interval = self._layer.config.duration(name, self.reliable)
            if interval is None:
                return
        if interval == 0:
            self._queue("timer" + name)
            return
        if name in _BACKOFF:
            if self._intervals is None:
                self._intervals = {}
            self._intervals[name] = interval
        lanes = self._layer.lanes
        if name == self._OWN_TIMER:
            timer = lanes.place(self, interval)
        else:
            timer = lanes.ownerTimer(interval, self, name)
        setattr(self, self._TIMER_FIELDS[name], timer)

    def timerExpired(self, name):
        """
        Timer C{name} fired (L{oso.sip.timerlanes.TimerLanes.ownerTimer}).
        """
        setattr(self, self._TIMER_FIELDS[name], None)
        self._feed("timer" + name)

    def _backoff(self, name):
        """
        Restart a retransmission timer with twice its interval: without
        bound for Timer A (17.1.1.2), at most T2 for Timers E and G
        (17.1.2.2, 17.2.1); Timer E in Proceeding restarts at T2 outright
        (the C{backoffE2} action).
        """
        t2 = self._layer.config.t2
        if name == "E2":
            self._startTimer("E", t2)
            return
        interval = 2 * self._intervals[name]
        self._startTimer(name, interval if name == "A" else min(interval, t2))

    def _transmit(self, message):
        """
        Hand a message to the transport; an C{OSError} from it is the
        transport error of RFC 3261 17.1.4 / 17.2.4, applied after the
        current transition.
        """
        try:
            self._layer.send(message, self.destination, self.transport)
        except OSError as error:
            self._log.info(
                "{transaction}: transport error: {error}", transaction=self, error=error
            )
            self._queue("transportError")

    def _reportTimeout(self, message):
        self._layer.failed(self, "timeout")

    def _reportTransportError(self, message):
        self._layer.failed(self, "transport")

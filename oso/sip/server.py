"""
Server transactions (RFC 3261 17.2): the INVITE server transaction
(17.2.1, with the Accepted state of RFC 6026 7.1) and the non-INVITE
server transaction (17.2.2), each one table.

RFC 6026 replaces the INVITE server transaction's end on a 2xx with an
Accepted state held for Timer L (64*T1): retransmissions of the INVITE are
absorbed instead of reaching the transaction user as new requests, the
transaction user's retransmissions of the 2xx (13.3.1.4) pass through it,
and an ACK that matches it is passed up.

Either transaction may instead end at once with one final non-2xx
response sent statelessly (RFC 3261 8.2.7, 26.1.5): the digest
challenges, so that a flood of unauthenticated requests leaves no
transaction, kept response or timer behind
(L{ServerTransaction.respondStatelessly}).
"""

from oso.sip.timerlanes import LaneEntry
from oso.sip.transaction import Transaction, TransactionError, makeResponse

_INVITE_TABLE = {
    ("Proceeding", "start"): (("passUp", "awaitAnswer"), "Proceeding"),
    ("Proceeding", "timerTrying"): (("sendTrying",), "Proceeding"),
    ("Proceeding", "request"): (("resendLast",), "Proceeding"),
    ("Proceeding", "tu1xx"): (("sendResponse",), "Proceeding"),
    ("Proceeding", "tu2xx"): (("sendResponse", "startL"), "Accepted"),
    ("Proceeding", "tuFinal"): (("sendResponse", "startG", "startH"), "Completed"),
    ("Proceeding", "tuStateless"): (("transmit",), "Terminated"),
    ("Proceeding", "transportError"): (("reportTransportError",), "Terminated"),
    ("Accepted", "request"): ((), "Accepted"),
    ("Accepted", "ack"): (("passUp",), "Accepted"),
    ("Accepted", "tu2xx"): (("sendResponse",), "Accepted"),
    ("Accepted", "transportError"): (("reportTransportError",), "Accepted"),
    ("Accepted", "timerL"): ((), "Terminated"),
    ("Completed", "request"): (("resendLast",), "Completed"),
    ("Completed", "timerG"): (("resendLast", "backoffG"), "Completed"),
    ("Completed", "timerH"): (("reportTimeout",), "Terminated"),
    ("Completed", "ack"): (("startI",), "Confirmed"),
    ("Completed", "transportError"): (("reportTransportError",), "Terminated"),
    ("Confirmed", "ack"): ((), "Confirmed"),
    ("Confirmed", "request"): ((), "Confirmed"),
    ("Confirmed", "timerI"): ((), "Terminated"),
}

_NON_INVITE_TABLE = {
    ("Trying", "start"): (("passUp",), "Trying"),
    ("Trying", "request"): ((), "Trying"),
    ("Trying", "tu1xx"): (("sendResponse",), "Proceeding"),
    ("Trying", "tuFinal"): (("sendResponse", "startJ"), "Completed"),
    ("Trying", "tuStateless"): (("transmit",), "Terminated"),
    ("Proceeding", "request"): (("resendLast",), "Proceeding"),
    ("Proceeding", "tu1xx"): (("sendResponse",), "Proceeding"),
    ("Proceeding", "tuFinal"): (("sendResponse", "startJ"), "Completed"),
    ("Proceeding", "transportError"): (("reportTransportError",), "Terminated"),
    ("Completed", "request"): (("resendLast",), "Completed"),
    ("Completed", "transportError"): (("reportTransportError",), "Terminated"),
    ("Completed", "timerJ"): ((), "Terminated"),
}


class ServerTransaction(Transaction):
    """
    What both server transactions share: passing the request up, sending
    the transaction user's responses (or one stateless answer that ends
    the transaction), re-sending the last one for a retransmitted request.

    @ivar source: where the request came from; responses go there (the
        transport adapter applies RFC 3261 18.2.2 and RFC 3581).
    @ivar cancelledBy: for an INVITE, the CANCEL server transaction that
        cancels it, else C{None}.
    @ivar cancels: for a CANCEL, the INVITE server transaction it
        cancels (RFC 3261 9.2), or C{None} when none matched.
    """

    TU_INPUTS = frozenset({"tu1xx", "tu2xx", "tuFinal", "tuStateless"})
    cancels = None

    @property
    def source(self):
        return self.destination

    def respond(self, response):
        """
        Send a response from the transaction user.

        @param response: a L{oso.sip.message.Response} to C{request}
            (L{oso.sip.transaction.makeResponse}).
        @raise oso.sip.transaction.TransactionError: when the state
            allows no such response (a second final response).
        """
        raise NotImplementedError()

    def respondStatelessly(self, response):
        """
        Send a final non-2xx response as a stateless UAS would (RFC 3261
        8.2.7): once, to where C{respond} would send it, and end the
        transaction at once. Nothing is kept and no timer runs: a
        retransmission of the request is a new request (and gets a new
        response), an ACK to it matches no transaction. Meant for the
        digest challenges, which a flood of unauthenticated requests
        would otherwise turn into as many transactions (26.1.5).

        @param response: a response of 300 to 699 to C{request}, whose To
            tag (if any) the same request always gets
            (L{oso.sip.transaction.statelessTag}).
        @raise oso.sip.transaction.TransactionError: for a 1xx or 2xx, or
            when a response was sent or is waiting to be.
        """
        if response.status < 300 or self.lastResponse is not None or self._pending:
            raise TransactionError(f"{self!r} cannot answer {response.status} statelessly")
        if self._running:
            # Given while the request is passed up (the only input during
            # which the transaction user is called with nothing sent yet):
            # sent and ended at once, rather than queued for after the
            # start, so that a challenge costs no more of the engine than
            # passing its request up (the start then stops, see _step).
            self._transmit(response)
            self._enter("Terminated")
            return
        self._feed("tuStateless", response)

    def _finish(self):
        """
        Also keep where the responses go as a plain tuple: the transports
        may have handed the source as a tuple subclass that tells them
        more for the first sends (L{oso.sip.listeners._ReturnAddress}),
        which the cyclic collector, unlike a tuple of strings and numbers,
        would go on walking while the transaction waits for its timer
        (about 1 us more collector time per REGISTER under load). A
        retransmission then finds its way as from any other source.
        """
        # Transaction._finish's one line here: a call (and super) less.
        self.request = None
        self.destination = tuple(self.destination)

    def _receive(self, request):
        """
        Take a request matched to this transaction (17.2.3): a
        retransmission, or for an INVITE its ACK.
        """
        self._feed("ack" if request.method == "ACK" else "request", request)

    def _passUp(self, request):
        self._layer.deliverRequest(request, self)

    def _sendResponse(self, response):
        if response.status >= 200:
            response = self._layer.kept(response)
        self.lastResponse = response
        self._transmit(response)

    def _resendLast(self, request):
        if self.lastResponse is not None:
            self._transmit(self.lastResponse)


class ServerInviteTransaction(ServerTransaction):
    """
    RFC 3261 17.2.1 (Figure 7) with RFC 6026's Accepted state: 100 Trying
    after 200 ms unless the transaction user answered; a non-2xx final
    response is retransmitted on Timer G (doubling up to T2) until its ACK
    or Timer H; after the ACK, retransmitted ACKs are absorbed until Timer
    I.
    """

    TABLE = _INVITE_TABLE
    TIMERS = {
        "Proceeding": {"Trying"},
        "Accepted": {"L"},
        "Completed": {"G", "H"},
        "Confirmed": {"I"},
    }
    INITIAL = "Proceeding"
    FINISHED = frozenset({"Accepted", "Completed", "Confirmed"})
    cancelledBy = None

    def respond(self, response):
        """
        Send a response from the transaction user.  A provisional one
        given while the INVITE is being passed up, with nothing else
        waiting, goes out at once rather than after the transition: the
        100 Trying a B2BUA sends before it forks reaches the caller before
        the forked INVITEs leave (RFC 3261 17.2.1: a 1xx in Proceeding
        changes nothing but the last response).
        """
        status = response.status
        if status < 200:
            if self._running and not self._pending and self.state == "Proceeding":
                self._sendResponse(response)
                return
            self._feed("tu1xx", response)
        else:
            self._feed("tu2xx" if status < 300 else "tuFinal", response)

    def _awaitAnswer(self, request):
        """
        Start the 200 ms after which 100 Trying goes out (17.2.1), unless
        the transaction user answered while the INVITE was passed up: a
        response it gave then has gone out or waits to, so the timer
        would only be cancelled (or send nothing); a stateless one ended
        the transaction.
        """
        if self.lastResponse is None and not self._pending and self.state != "Terminated":
            self._startTimer("Trying")

    def _sendTrying(self, message):
        """
        RFC 3261 17.2.1: 100 Trying, unless the transaction user has
        answered within the 200 ms.
        """
        if self.lastResponse is None:
            self._sendResponse(makeResponse(self.request, 100))

    def _resendLast(self, request):
        """
        RFC 3261 17.2.1: a retransmitted INVITE gets the last provisional
        response again, or 100 Trying at once when there has been none.
        """
        if self.lastResponse is None:
            self._sendResponse(makeResponse(self.request, 100))
        else:
            self._transmit(self.lastResponse)


class ServerNonInviteTransaction(ServerTransaction, LaneEntry):
    """
    RFC 3261 17.2.2 (Figure 8): retransmitted requests are absorbed while
    Trying and answered with the last response afterwards, until Timer J.

    The transaction is the lane entry of its Timer J itself (its only
    timer, started once, on entering Completed): what waits for it over
    UDP, 32 s for every answered REGISTER under load, is the transaction
    and its response's sent form, without a lane timer beside them.
    """

    TABLE = _NON_INVITE_TABLE
    TIMERS = {"Completed": {"J"}}
    INITIAL = "Trying"
    FINISHED = frozenset({"Completed"})
    _OWN_TIMER = "J"
    _lane = None
    deadline = None

    def _expire(self):
        self.timerExpired("J")

    def respond(self, response):
        """
        Send a response from the transaction user (see
        L{ServerTransaction.respond}).
        """
        self._feed("tu1xx" if response.status < 200 else "tuFinal", response)

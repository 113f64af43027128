"""
Client transactions (RFC 3261 17.1): the INVITE client transaction
(17.1.1, with the Accepted state of RFC 6026 7.2) and the non-INVITE
client transaction (17.1.2), each one table.

RFC 6026 replaces the INVITE client transaction's jump to Terminated on
a 2xx with an Accepted state held for Timer M (64*T1): retransmissions of
the 2xx (and the 2xx of other forks) still match the transaction and are
passed up to the transaction user, which sends the ACK for 2xx itself
(13.2.2.4), instead of arriving as strays.
"""

from oso.sip.message import Request
from oso.sip.transaction import Transaction

_INVITE_TABLE = {
    ("Calling", "start"): (("transmitRequest", "startA", "startB"), "Calling"),
    ("Calling", "timerA"): (("transmitRequest", "backoffA"), "Calling"),
    ("Calling", "timerB"): (("reportTimeout",), "Terminated"),
    ("Calling", "transportError"): (("reportTransportError",), "Terminated"),
    ("Calling", "1xx"): (("passUp", "sendRequestedCancel"), "Proceeding"),
    ("Calling", "2xx"): (("passUp", "startM"), "Accepted"),
    ("Calling", "final"): (("passUp", "sendAck", "startD"), "Completed"),
    ("Proceeding", "1xx"): (("passUp",), "Proceeding"),
    ("Proceeding", "2xx"): (("passUp", "startM"), "Accepted"),
    ("Proceeding", "final"): (("passUp", "sendAck", "startD"), "Completed"),
    ("Accepted", "2xx"): (("passUp",), "Accepted"),
    ("Accepted", "timerM"): ((), "Terminated"),
    ("Completed", "final"): (("resendAck",), "Completed"),
    ("Completed", "transportError"): (("reportTransportError",), "Terminated"),
    ("Completed", "timerD"): ((), "Terminated"),
}

_NON_INVITE_TABLE = {
    ("Trying", "start"): (("transmitRequest", "startE", "startF"), "Trying"),
    ("Trying", "timerE"): (("transmitRequest", "backoffE"), "Trying"),
    ("Trying", "timerF"): (("reportTimeout",), "Terminated"),
    ("Trying", "transportError"): (("reportTransportError",), "Terminated"),
    ("Trying", "1xx"): (("passUp",), "Proceeding"),
    ("Trying", "final"): (("passUp", "startK"), "Completed"),
    ("Proceeding", "timerE"): (("transmitRequest", "backoffE2"), "Proceeding"),
    ("Proceeding", "timerF"): (("reportTimeout",), "Terminated"),
    ("Proceeding", "transportError"): (("reportTransportError",), "Terminated"),
    ("Proceeding", "1xx"): (("passUp",), "Proceeding"),
    ("Proceeding", "final"): (("passUp", "startK"), "Completed"),
    ("Completed", "timerK"): ((), "Terminated"),
}


def makeAck(request, response):
    """
    The ACK for a non-2xx final response (RFC 3261 17.1.1.3): the
    INVITE's Request-URI, Call-ID, From, CSeq number, Route fields and only
    its top Via; the To of the response (with its tag); CSeq method ACK.

    @return: a new L{oso.sip.message.Request}.
    """
    ack = Request("ACK", request.uri)
    headers = ack.headers
    headers.add("via", request.headers.get("via"))
    headers.add("max-forwards", "70")
    for name in ("from", "call-id"):
        headers.add(name, request.headers.get(name))
    headers.add("to", response.headers.get("to"))
    headers.add("cseq", f"{request.cseq.number} ACK")
    for route in request.headers.getAll("route"):
        headers.add("route", route)
    return ack


class ClientTransaction(Transaction):
    """
    What both client transactions share: sending the request, passing
    responses up, telling responses apart.
    """

    TU_INPUTS = frozenset({"start"})

    def _start(self):
        self._feed("start")

    def _receive(self, response):
        """
        Take a response matched to this transaction (17.1.3).
        """
        self._feed(self._classify(response.status), response)

    def _classify(self, status):
        raise NotImplementedError()

    def _transmitRequest(self, message):
        self._transmit(self.request)

    def _passUp(self, response):
        # A client transaction keeps no response: it never sends one
        # again, and a 2xx kept for Timer M (RFC 6026 7.2) would only hold
        # its parsed fields.
        self._layer.deliverResponse(response, self)


class ClientInviteTransaction(ClientTransaction):
    """
    RFC 3261 17.1.1 (Figure 5) with RFC 6026's Accepted state: the INVITE
    is retransmitted on Timer A, doubling each time, until a response or
    Timer B; a non-2xx final response is answered with an ACK made here,
    and that ACK again for each retransmission of it until Timer D.

    @ivar ack: the ACK sent for a non-2xx final response, or C{None}.
    @ivar cancelRequested: C{True} when the TU asked to cancel before any
        provisional response (L{oso.sip.transactions.TransactionLayer.cancel}).
    @ivar cancelTransaction: the CANCEL's client transaction once sent.
    @ivar cancelReason: the C{Reason} (RFC 3326) the TU wants the CANCEL
        to carry, set before it cancels, or C{None}.
    """

    TABLE = _INVITE_TABLE
    TIMERS = {"Calling": {"A", "B"}, "Accepted": {"M"}, "Completed": {"D"}}
    INITIAL = "Calling"
    FINISHED = frozenset({"Completed"})
    ack = None
    cancelRequested = False
    cancelTransaction = None
    cancelReason = None

    def _classify(self, status):
        if status < 200:
            return "1xx"
        return "2xx" if status < 300 else "final"

    def _sendAck(self, response):
        self.ack = self._layer.kept(makeAck(self.request, response))
        self._transmit(self.ack)

    def _sendRequestedCancel(self, response):
        """
        RFC 3261 9.1: a CANCEL asked for in Calling goes out with the first
        provisional response.
        """
        if self.cancelRequested:
            self._layer._sendCancel(self)

    def _resendAck(self, response):
        self._transmit(self.ack)


class ClientNonInviteTransaction(ClientTransaction):
    """
    RFC 3261 17.1.2 (Figure 6): the request is retransmitted on Timer E,
    doubling up to T2 while Trying and every T2 once Proceeding, until a
    final response or Timer F; response retransmissions are absorbed in
    Completed until Timer K.
    """

    TABLE = _NON_INVITE_TABLE
    TIMERS = {"Trying": {"E", "F"}, "Proceeding": {"E", "F"}, "Completed": {"K"}}
    INITIAL = "Trying"
    FINISHED = frozenset({"Completed"})

    def _classify(self, status):
        return "1xx" if status < 200 else "final"

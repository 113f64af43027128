"""
The transaction layer (RFC 3261 section 17): the table of live
transactions, matching each incoming message to one (17.1.3, 17.2.3),
and the CANCEL helpers of section 9.

It is sans-I/O: the transport adapter hands it what arrived
(L{TransactionLayer.receive}) and gives it a C{send(message, destination,
transport)} callable, which may raise C{OSError} for a transport error
(17.1.4, 17.2.4); the transaction user (the UA core) is three callables,
C{deliverRequest(request, serverTransaction)}, C{deliverResponse(response,
clientTransaction)} and C{failed(transaction, reason)}. A request that
belongs to no transaction (an ACK for a 2xx, 17.2.3 / 13.3.1.4) reaches
C{deliverRequest} with C{None}; so does a response that matches no client
transaction reach C{deliverResponse} (18.1.2: a stray 2xx retransmission
is the UA core's to acknowledge).
"""

from twisted.logger import Logger

from oso.sip.client import (
    ClientInviteTransaction,
    ClientNonInviteTransaction,
    ClientTransaction,
)
from oso.sip.message import Request
from oso.sip.sent import sentForm
from oso.sip.server import ServerInviteTransaction, ServerNonInviteTransaction
from oso.sip.timerlanes import TimerLanes
from oso.sip.transaction import MAGIC_COOKIE, TimerConfig, makeResponse


def clientKey(message):
    """
    RFC 3261 17.1.3: a response matches the client transaction whose
    request had the same top Via branch and CSeq method.
    """
    via = message.via
    return (via.branch if via is not None else None, message.cseq.method)


def serverKey(request, method=None):
    """
    RFC 3261 17.2.3: the key of the server transaction a request belongs
    to. With a magic-cookie branch: the branch, the sent-by of the top Via
    and the method (ACK counting as INVITE). Without (RFC 2543): the
    Request-URI, To tag, From tag, Call-ID, CSeq number, top Via and
    method; for an INVITE and its ACK the To tag is left out of the key and
    the ACK's is checked against the response sent instead
    (L{TransactionLayer._ackMatches}).

    @param method: the method to look for instead of the request's (a
        CANCEL looks for the INVITE it cancels, 9.2).
    """
    method = method or request.method
    if method == "ACK":
        method = "INVITE"
    via = request.via
    # The branch read from the parameters: the property costs a call.
    branch = via.params.get("branch") or ""
    if branch.startswith(MAGIC_COOKIE):
        return (branch, via.host.lower(), via.port, method)
    # An ACK's To tag is the response's, so INVITE keys leave To out.
    toTag = None if method == "INVITE" else request.toAddress.tag
    return (
        "2543",
        str(request.uri),
        toTag,
        request.fromAddress.tag,
        request.callID,
        request.cseq.number,
        str(via),
        method,
    )


def userFor(table, transaction, response):
    """
    What a transaction user keeps with a client transaction of its own in
    C{table} (a L{weakref.WeakKeyDictionary}: the leg a port sent the
    request for), for a response the transaction passed up. The entry is
    taken out with the last response the transaction passes up, a final
    one other than a 2xx to an INVITE (whose retransmissions RFC 6026 7.2
    passes up too), so that what it names does not live on with the
    finished transaction for Timers D and K.

    @param transaction: the client transaction, or C{None} (a response
        that matched none).
    @return: the value, or C{None}.
    """
    if transaction is None:
        return None
    status = response.status
    if status >= 200 and (status >= 300 or transaction.method != "INVITE"):
        return table.pop(transaction, None)
    return table.get(transaction)


def makeCancel(request):
    """
    The CANCEL for a client request (RFC 3261 9.1): the request's
    Request-URI, Call-ID, From, To (without a tag it got since), CSeq
    number and Route fields, only its top Via (the same branch, so that it
    reaches the same server transaction), CSeq method CANCEL.

    @return: a new L{oso.sip.message.Request}.
    """
    cancel = Request("CANCEL", request.uri)
    headers = cancel.headers
    headers.add("via", request.headers.get("via"))
    headers.add("max-forwards", "70")
    for name in ("from", "to", "call-id"):
        headers.add(name, request.headers.get(name))
    headers.add("cseq", f"{request.cseq.number} CANCEL")
    for route in request.headers.getAll("route"):
        headers.add("route", route)
    return cancel


def answerCancel(cancel, toTag):
    """
    Answer a CANCEL at the server (RFC 3261 9.2): 481 when it matched no
    INVITE; else 200 to the CANCEL and, when the INVITE has not had a final
    response yet, 487 Request Terminated to the INVITE.

    @param cancel: the CANCEL's L{ServerNonInviteTransaction}.
    @param toTag: the To tag of the INVITE's responses (the dialog's local
        tag) for the 487.
    @return: C{True} when the INVITE was terminated.
    """
    invite = cancel.cancels
    if invite is None:
        cancel.respond(makeResponse(cancel.request, 481))
        return False
    cancel.respond(makeResponse(cancel.request, 200, toTag=toTag))
    if invite.state != "Proceeding":
        return False
    invite.respond(makeResponse(invite.request, 487, toTag=toTag))
    return True


class TransactionLayer:
    """
    The live client and server transactions of one UA, matched by key.

    @ivar clock: the L{twisted.internet.interfaces.IReactorTime}.
    @ivar lanes: the L{TimerLanes} on C{clock} the transactions' timers
        run on.
    @ivar config: the L{TimerConfig}.
    @ivar send: C{send(message, destination, transport)}.
    @ivar deliverRequest: C{deliverRequest(request, serverTransaction)}.
    @ivar deliverResponse: C{deliverResponse(response, clientTransaction)}.
    @ivar failed: C{failed(transaction, reason)}, C{reason} being
        C{"timeout"} or C{"transport"}.
    """

    _log = Logger()

    def __init__(self, clock, send, deliverRequest, deliverResponse, failed, config=None):
        self.clock = clock
        self.lanes = TimerLanes(clock)
        self.send = send
        self.deliverRequest = deliverRequest
        self.deliverResponse = deliverResponse
        self.failed = failed
        self.config = TimerConfig() if config is None else config
        self._clients = {}
        self._servers = {}

    @property
    def transactions(self):
        """
        The live transactions, clients first.
        """
        return list(self._clients.values()) + list(self._servers.values())

    def request(self, request, destination, transport, reliable=None):
        """
        Start a client transaction and send its request.

        @param request: a request other than ACK (an ACK for a 2xx is sent
            by the UA core without a transaction), whose top Via carries a
            branch (L{oso.sip.transaction.newBranch}).
        @param reliable: by default from C{transport}.
        @return: the L{ClientInviteTransaction} or
            L{ClientNonInviteTransaction}.
        @raise ValueError: for an ACK, a request without a branch or one
            whose transaction is already live.
        """
        if request.method == "ACK":
            raise ValueError("an ACK has no client transaction (RFC 3261 17.1.1.3)")
        if request.via is None or not request.via.branch:
            raise ValueError("the request needs a top Via with a branch")
        key = clientKey(request)
        if key in self._clients:
            raise ValueError(f"a client transaction for {key} is live")
        kind = ClientInviteTransaction if request.method == "INVITE" else ClientNonInviteTransaction
        transaction = kind(self, request, destination, transport, reliable)
        transaction._key = key
        self._clients[key] = transaction
        transaction._start()
        return transaction

    def cancel(self, transaction):
        """
        Cancel a client INVITE transaction (RFC 3261 9.1): the CANCEL
        (L{makeCancel}) goes to the same destination over the same
        transport, at once when a provisional response has arrived, else
        upon the first one (a CANCEL must not overtake the INVITE); nothing
        is sent once a final response has arrived. The CANCEL's client
        transaction is then the INVITE transaction's C{cancelTransaction};
        its responses reach C{deliverResponse} like any other.

        @param transaction: a L{ClientInviteTransaction}.
        """
        if transaction.state == "Calling":
            transaction.cancelRequested = True
        elif transaction.state == "Proceeding":
            self._sendCancel(transaction)

    def _sendCancel(self, transaction):
        if transaction.cancelTransaction is None:
            cancel = makeCancel(transaction.request)
            if transaction.cancelReason is not None:
                cancel.headers.add("reason", str(transaction.cancelReason))
            transaction.cancelTransaction = self.request(
                cancel,
                transaction.destination,
                transaction.transport,
                transaction.reliable,
            )

    #: C{kept(message)}: what a transaction keeps of a final response or
    #: ACK it sends and may send again: its sent form (L{oso.sip.sent}),
    #: so that what waits for Timers D to L is a few objects instead of
    #: the parsed message. The function itself, not a method calling it:
    #: one call less for every final response.
    kept = staticmethod(sentForm)

    def receive(self, message, source, transport):
        """
        Take a message from the transport: a response goes to its client
        transaction (one with more than one Via is dropped, RFC 3261
        8.1.3.3), a request to its server transaction or to a new one.

        @param source: where it came from; responses to a request go there.
        @raise oso.sip.uri.SIPParseError: when a field that matching reads
            (To, From, CSeq) is malformed; the transport adapter answers a
            request so refused with 400 and drops such a response.
        """
        if isinstance(message, Request):
            self._receiveRequest(message, source, transport)
            return
        if len(message.vias) > 1:
            # RFC 3261 8.1.3.3: a UA's response has one Via; more means it
            # was meant for a proxy.
            self._log.info("dropped {response} with several Vias", response=message)
            return
        transaction = self._clients.get(clientKey(message))
        if transaction is None:
            self.deliverResponse(message, None)
        else:
            transaction._receive(message)

    @staticmethod
    def _ackMatches(request, transaction):
        """
        Whether an ACK whose key found C{transaction} belongs to it: an
        RFC 2543 key leaves the To tag out, so the ACK's is checked
        against the response sent (L{serverKey}).
        """
        return not (
            transaction._key[0] == "2543"
            and transaction.lastResponse is not None
            and transaction.lastResponse.toAddress.tag != request.toAddress.tag
        )

    def _receiveRequest(self, request, source, transport):
        method = request.method
        key = serverKey(request, method)
        transaction = self._servers.get(key)
        if method == "ACK":
            if transaction is not None and self._ackMatches(request, transaction):
                transaction._receive(request)
            else:
                self.deliverRequest(request, None)
            return
        if transaction is not None:
            transaction._receive(request)
            return
        invite = method == "INVITE"
        kind = ServerInviteTransaction if invite else ServerNonInviteTransaction
        transaction = kind(self, request, source, transport)
        transaction._key = key
        if invite:
            # Its 1xx leave while it is passed up, and what they cause (a
            # CANCEL) must find it.
            self._servers[key] = transaction
        elif method == "CANCEL":
            cancelled = self._servers.get(serverKey(request, "INVITE"))
            if cancelled is not None:
                transaction.cancels = cancelled
                cancelled.cancelledBy = transaction
        transaction._feed("start", request)
        # A non-INVITE transaction joins the table once its request has
        # been passed up, and only if it is still live: one answered
        # statelessly meanwhile (a challenge), or ended at once on a
        # reliable transport, is never entered and taken out again. Nothing
        # can look it up before: nothing of it leaves while its request is
        # passed up (its responses wait for the start to end; a stateless
        # one ends it), so nothing it causes can come back to match it.
        if not invite and transaction.state != "Terminated":
            self._servers[key] = transaction

    def _ended(self, transaction):
        table = self._clients if isinstance(transaction, ClientTransaction) else self._servers
        if table.get(transaction._key) is transaction:
            del table[transaction._key]

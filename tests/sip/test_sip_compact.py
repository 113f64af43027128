"""
Compact transactions: once a transaction can no longer reach its
transaction user, it keeps only what RFC 3261 17 still needs (its key, the
bytes of the final response or ACK it may send again, its timers), not the
parsed messages; and the ports forget which leg a client transaction was
for with its last response, so that Timers D, J and K keep no
leg/dialog/call graph alive. What goes on the wire is the same.
"""

import gc
import types
import weakref
from weakref import WeakKeyDictionary

from twisted.internet.task import Clock

from oso.sip.headers import NameAddress
from oso.sip.message import Headers, Request, Response, parseMessage
from oso.sip.sent import SentRequest, SentResponse, sentForm
from oso.sip.transaction import makeResponse
from oso.sip.transactions import TransactionLayer, userFor

from sip_lines_harness import OSO, SIPExchange
from test_sip_transactions import request

CLIENT = ("192.0.2.1", 5060)
SERVER = ("192.0.2.2", 5060)


class Leg:
    """
    What a port keeps for a client transaction (weakly referable).
    """


class CompactEnd:
    """
    A transaction layer on a L{Clock}, recording the bytes it
    sends; its transaction user finds the leg of a client transaction as
    the ports do (L{userFor}).
    """

    def __init__(self):
        self.clock = Clock()
        self.sent = []
        self.requests = []
        self.responses = []
        self.legs = WeakKeyDictionary()
        self.layer = TransactionLayer(
            self.clock,
            lambda message, destination, transport: self.sent.append(message),
            lambda message, transaction: self.requests.append((message, transaction)),
            self._response,
            lambda transaction, reason: None,
        )

    def _response(self, response, transaction):
        self.responses.append((response, userFor(self.legs, transaction, response)))

    def data(self):
        return [message.serialise() for message in self.sent]

    def send(self, request):
        """
        Send C{request} for a leg only the port's table holds.

        @return: the client transaction and a weak reference to the leg.
        """
        transaction = self.layer.request(request, SERVER, "UDP")
        leg = self.legs[transaction] = Leg()
        return transaction, weakref.ref(leg)


def reachable(root, *stops):
    """
    @return: the types of the objects reachable from C{root} without
        passing through C{stops}, classes, modules or functions.
    """
    seen = {id(stop) for stop in stops}
    found = set()
    todo = [root]
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, (type, types.ModuleType, types.FunctionType)):
            continue
        seen.add(id(obj))
        found.add(type(obj))
        todo.extend(gc.get_referents(obj))
    return found


PARSED = {Request, Response, Headers, NameAddress}


def test_sentFormIsTheMessageAsSent():
    """
    The sent form of a response gives the same bytes, status, reason, top
    Via (with the received and rport the response goes to) and fields; of
    a request the same bytes, method and URI; a sent form is its own.
    """
    invite = request(extra=("Via: SIP/2.0/UDP proxy.example;branch=z9hG4bKp",))
    invite.via.received = "192.0.2.7"
    invite.via.params["rport"] = "5099"
    response = makeResponse(invite, 486, toTag="b1")
    sent = sentForm(response)
    assert isinstance(sent, Response) and isinstance(sent, SentResponse)
    assert sent.serialise() == response.serialise()
    assert (sent.status, sent.reason) == (486, "Busy Here")
    assert (sent.via.received, sent.via.rport, sent.via.branch) == ("192.0.2.7", 5099, "z9hG4bKinv1")
    assert sent.headers == response.headers
    assert sent.toAddress.tag == "b1"
    assert sent.body == b""
    assert sentForm(sent) is sent
    ack = request("ACK", toTag="b1")
    sentAck = sentForm(ack)
    assert isinstance(sentAck, Request) and isinstance(sentAck, SentRequest)
    assert (sentAck.method, str(sentAck.uri)) == ("ACK", "sip:bob@b.example")
    assert sentAck.serialise() == ack.serialise()
    assert PARSED.isdisjoint(reachable(sent))


def test_serverNonInviteKeepsOnlyTheResponseBytes():
    """
    RFC 3261 17.2.2: in Completed the transaction answers a retransmitted
    request with its final response again, the same bytes, though it no
    longer holds the request or any parsed message.
    """
    end = CompactEnd()
    end.layer.receive(request("OPTIONS"), CLIENT, "UDP")
    ((options, transaction),) = end.requests
    assert transaction.request is options
    transaction.respond(makeResponse(options, 200, toTag="b1"))
    assert transaction.state == "Completed"
    assert transaction.request is None
    assert PARSED.isdisjoint(reachable(transaction, end.layer, end.clock))
    end.layer.receive(request("OPTIONS"), CLIENT, "UDP")
    end.clock.advance(10)
    end.layer.receive(request("OPTIONS"), CLIENT, "UDP")
    assert len(end.requests) == 1
    first, *again = end.data()
    assert first.startswith(b"SIP/2.0 200 OK\r\n")
    assert again == [first, first]
    end.clock.advance(22)
    assert transaction.state == "Terminated"
    assert end.layer.transactions == []


def test_serverInviteCompletedRetransmitsTheSameBytesUntilItsAck():
    """
    RFC 3261 17.2.1: Timer G and a retransmitted INVITE send the non-2xx
    final response again byte for byte; its ACK (an RFC 2543 one matched
    by the To tag of the response sent) confirms the transaction.
    """
    end = CompactEnd()
    branch = "1234"  # no magic cookie: RFC 2543 matching
    end.layer.receive(request(branch=branch), CLIENT, "UDP")
    ((invite, transaction),) = end.requests
    transaction.respond(makeResponse(invite, 486, toTag="b1"))
    assert (transaction.state, transaction.request) == ("Completed", None)
    assert PARSED.isdisjoint(reachable(transaction, end.layer, end.clock))
    end.clock.advance(0.5)
    end.layer.receive(request(branch=branch), CLIENT, "UDP")
    first, *again = end.data()
    assert first.startswith(b"SIP/2.0 486 Busy Here\r\n")
    assert again == [first, first]
    end.layer.receive(request("ACK", branch=branch, toTag="other"), CLIENT, "UDP")
    assert transaction.state == "Completed"
    end.layer.receive(request("ACK", branch=branch, toTag="b1"), CLIENT, "UDP")
    assert transaction.state == "Confirmed"
    assert [m.method for m, _ in end.requests] == ["INVITE", "ACK"]


def test_clientNonInviteLetsItsLegGo():
    """
    RFC 3261 17.1.2.2: the final response reaches the leg; the port's
    entry goes with it, so the leg dies while the transaction, Completed
    for Timer K, still absorbs the retransmitted response.
    """
    end = CompactEnd()
    bye = request("BYE")
    transaction, gone = end.send(bye)
    end.layer.receive(makeResponse(bye, 100), SERVER, "UDP")
    assert end.responses[-1][1] is gone()
    ok = makeResponse(bye, 200)
    end.layer.receive(ok, SERVER, "UDP")
    assert end.responses[-1] == (ok, gone())
    end.responses.clear()
    gc.collect()
    assert gone() is None
    assert (transaction.state, transaction.request, transaction.lastResponse) == (
        "Completed", None, None)
    end.layer.receive(makeResponse(bye, 200), SERVER, "UDP")
    assert end.responses == []
    assert [m.method for m in end.sent] == ["BYE"]


def test_clientInviteResendsTheSameAckWithoutItsLeg():
    """
    RFC 3261 17.1.1.2: a non-2xx final response is acknowledged by the
    transaction, and each retransmission of it with the same ACK bytes
    until Timer D, after the leg (told of the response) is gone.
    """
    end = CompactEnd()
    invite = request()
    transaction, gone = end.send(invite)
    busy = makeResponse(invite, 486, toTag="b1")
    end.layer.receive(busy, SERVER, "UDP")
    end.responses.clear()
    gc.collect()
    assert gone() is None
    assert (transaction.state, transaction.request) == ("Completed", None)
    assert PARSED.isdisjoint(reachable(transaction, end.layer, end.clock))
    end.clock.advance(5)
    end.layer.receive(makeResponse(invite, 486, toTag="b1"), SERVER, "UDP")
    invited, ack, again = end.data()
    assert ack.startswith(b"ACK sip:bob@b.example SIP/2.0\r\n")
    assert again == ack
    assert end.responses == []
    end.clock.advance(27)
    assert transaction.state == "Terminated"


def test_clientInviteAcceptedKeepsItsRequestAndLeg():
    """
    RFC 6026 7.2: a 2xx moves the INVITE transaction to Accepted, where
    retransmissions of the 2xx still reach the leg, which reads the
    transaction's request: both stay (no response is kept).
    """
    end = CompactEnd()
    invite = request()
    transaction = end.layer.request(invite, SERVER, "UDP")
    leg = end.legs[transaction] = Leg()
    for _ in range(2):
        end.layer.receive(makeResponse(invite, 200, toTag="b1"), SERVER, "UDP")
    assert transaction.state == "Accepted"
    assert transaction.request is invite
    assert transaction.lastResponse is None
    assert [found for _, found in end.responses] == [leg, leg]


def test_busyMemberLegDiesWhileItsInviteWaitsForTimerD():
    """
    Through the sip-lines port: the called phone
    refuses oso's INVITE with 486; the outbound leg, the dialog and the
    call are freed at once, while the INVITE's client transaction, in
    Completed for Timer D, answers a retransmitted 486 with the very ACK
    bytes it sent first.
    """
    x = SIPExchange()
    x.register("200", "201")
    a, b = x.sip("200"), x.sip("201")
    a.call("201")
    x.run()
    (leg,) = set(x.lines._transactions.values())
    gone = weakref.ref(leg)
    (transaction,) = [t for t in x.lines._transactions if t.method == "INVITE"]
    del leg
    b.refuse(486)
    x.run()
    assert a.statuses()[-1] == 486
    assert x.model.calls() == []
    gc.collect()
    assert gone() is None
    assert (transaction.state, transaction.request) == ("Completed", None)

    def fromOso(start):
        return [data for source, to, data in x.network.log
                if source == OSO and to == b.address and data.startswith(start)]

    (busy,) = [data for source, to, data in x.network.log
               if source == b.address and data.startswith(b"SIP/2.0 486")]
    x.ua.layer.receive(parseMessage(busy), b.address, "UDP")
    first, again = fromOso(b"ACK ")
    assert again == first

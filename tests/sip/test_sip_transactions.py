"""
SIP transactions (RFC 3261 section 17, RFC 6026): the four state machines
with their timers on a L{Clock}, matching, the ACK for a non-2xx, CANCEL,
and a client and a server layer talking over a lossy in-memory network.
"""

import gc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.task import Clock

from oso.sip import parseMessage
from oso.sip.client import ClientInviteTransaction, ClientNonInviteTransaction
from oso.sip.server import ServerInviteTransaction, ServerNonInviteTransaction
from oso.sip.timerlanes import LaneTimer
from oso.sip.transaction import (
    TimerConfig,
    Transaction,
    TransactionError,
    makeResponse,
    newBranch,
    statelessTag,
)
from oso.sip.transactions import TransactionLayer, answerCancel, makeCancel

CLIENT = ("192.0.2.1", 5060)
SERVER = ("192.0.2.2", 5060)


def request(method="INVITE", branch="z9hG4bKinv1", transport="UDP", extra=(), toTag=None):
    """
    A request from alice to bob with the mandatory fields.
    """
    to = "<sip:bob@b.example>" + (f";tag={toTag}" if toTag else "")
    text = "\r\n".join(
        [
            f"{method} sip:bob@b.example SIP/2.0",
            f"Via: SIP/2.0/{transport} a.example:5060;branch={branch}",
            "Max-Forwards: 70",
            "From: <sip:alice@a.example>;tag=a1",
            f"To: {to}",
            "Call-ID: call1@a.example",
            f"CSeq: 7 {method}",
            *extra,
            "Content-Length: 0",
            "",
            "",
        ]
    )
    return parseMessage(text.encode())


class End:
    """
    One UA's transaction layer on a L{Clock}, recording what it sends and
    what it gives its transaction user.
    """

    def __init__(self, clock=None, config=None, fail=False):
        self.clock = Clock() if clock is None else clock
        self.sent = []
        self.requests = []
        self.responses = []
        self.failures = []
        self.fail = fail
        self.layer = TransactionLayer(
            self.clock,
            self._send,
            lambda message, transaction: self.requests.append((message, transaction)),
            lambda message, transaction: self.responses.append((message, transaction)),
            lambda transaction, reason: self.failures.append((transaction, reason)),
            config,
        )

    def _send(self, message, destination, transport):
        if self.fail:
            raise ConnectionRefusedError("no route")
        self.sent.append((self.clock.seconds(), message))

    def times(self):
        """
        @return: when each message was sent.
        """
        return [when for when, message in self.sent]

    def last(self):
        return self.sent[-1][1]


def wait(clock, seconds):
    """
    Advance C{clock} by C{seconds}, stopping at each delayed call's time so
    that calls scheduled by calls run when they are due.
    """
    end = clock.seconds() + seconds
    while True:
        due = [call.getTime() for call in clock.getDelayedCalls()]
        if not due or min(due) > end:
            break
        clock.advance(max(min(due) - clock.seconds(), 0))
    clock.advance(end - clock.seconds())


def intervals(times):
    return [round(b - a, 6) for a, b in zip(times, times[1:])]


# INVITE client transaction (RFC 3261 17.1.1, RFC 6026 7.2)


def test_inviteClientTimerADoublesWithoutBoundUntilTimerB():
    """
    RFC 3261 17.1.1.2: over UDP the INVITE is retransmitted on Timer A,
    starting at T1 and doubling without the T2 cap, until Timer B (64*T1)
    ends the transaction with a timeout reported to the TU.
    """
    end = End()
    transaction = end.layer.request(request(), SERVER, "UDP")
    wait(end.clock, 31.9)
    assert intervals(end.times()) == [0.5, 1, 2, 4, 8, 16]
    assert end.failures == []
    wait(end.clock, 0.1)
    assert end.failures == [(transaction, "timeout")]
    assert transaction.state == "Terminated"
    assert end.layer.transactions == []
    assert end.clock.getDelayedCalls() == []


def test_inviteClientReliableSendsOnce():
    """
    RFC 3261 17.1.1.2: over a reliable transport Timer A is not started;
    Timer B still times the transaction out.
    """
    end = End()
    end.layer.request(request(transport="TCP"), SERVER, "TCP")
    wait(end.clock, 31.9)
    assert len(end.sent) == 1
    wait(end.clock, 0.1)
    assert [reason for _, reason in end.failures] == ["timeout"]


def test_inviteClientTimerValuesFollowT1():
    """
    RFC 3261 17.1.1.2: Timers A and B scale with a configured T1.
    """
    end = End(config=TimerConfig(t1=0.1))
    end.layer.request(request(), SERVER, "UDP")
    wait(end.clock, 6.39)
    assert intervals(end.times()) == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2]
    assert end.failures == []
    wait(end.clock, 0.02)
    assert len(end.failures) == 1


def test_inviteClientProvisionalStopsRetransmissionsAndTimerB():
    """
    RFC 3261 17.1.1.2: a 1xx in Calling moves to Proceeding and is passed
    up; the INVITE is no longer retransmitted and Timer B no longer runs
    (Timer C is a proxy's: oso has none); further 1xx are passed up too.
    """
    end = End()
    invite = request()
    transaction = end.layer.request(invite, SERVER, "UDP")
    ringing = makeResponse(invite, 180, toTag="b1")
    end.layer.receive(ringing, SERVER, "UDP")
    end.layer.receive(ringing, SERVER, "UDP")
    assert transaction.state == "Proceeding"
    assert end.responses == [(ringing, transaction), (ringing, transaction)]
    wait(end.clock, 100)
    assert len(end.sent) == 1
    assert end.failures == []


@pytest.mark.parametrize("provisional", [False, True])
def test_inviteClient2xxAccepted(provisional):
    """
    RFC 6026 7.2: a 2xx in Calling or Proceeding moves to Accepted and is
    passed up; no ACK is made by the transaction (the ACK for a 2xx is the
    TU's, 13.2.2.4); retransmitted 2xx are passed up while Timer M
    (64*T1) runs; after it a 2xx is a stray for the UA core.
    """
    end = End()
    invite = request()
    transaction = end.layer.request(invite, SERVER, "UDP")
    if provisional:
        end.layer.receive(makeResponse(invite, 183, toTag="b1"), SERVER, "UDP")
    ok = makeResponse(invite, 200, toTag="b1")
    end.layer.receive(ok, SERVER, "UDP")
    assert transaction.state == "Accepted"
    end.layer.receive(ok, SERVER, "UDP")
    assert end.responses[-2:] == [(ok, transaction), (ok, transaction)]
    wait(end.clock, 10)
    assert [m.method for _, m in end.sent] == ["INVITE"]
    wait(end.clock, 22)
    assert transaction.state == "Terminated"
    end.layer.receive(ok, SERVER, "UDP")
    assert end.responses[-1] == (ok, None)
    assert end.failures == []


@pytest.mark.parametrize("provisional", [False, True])
def test_inviteClientNon2xxIsAcknowledgedInside(provisional):
    """
    RFC 3261 17.1.1.2 and 17.1.1.3: a 300-699 in Calling or Proceeding is
    passed up and answered with an ACK made by the transaction: the
    INVITE's Request-URI, top Via only, From, Call-ID, CSeq number and
    Route, the response's To (with tag), CSeq method ACK.
    """
    end = End()
    invite = request(
        extra=("Via: SIP/2.0/UDP proxy.example;branch=z9hG4bKp", "Route: <sip:p1.example;lr>")
    )
    transaction = end.layer.request(invite, SERVER, "UDP")
    top = invite.headers.getAll("via")[0]
    if provisional:
        ringing = makeResponse(invite, 180, toTag="b1")
        ringing.headers.set("via", top)
        end.layer.receive(ringing, SERVER, "UDP")
    busy = makeResponse(invite, 486, toTag="b1")
    busy.headers.set("via", top)
    end.layer.receive(busy, SERVER, "UDP")
    assert transaction.state == "Completed"
    assert end.responses[-1] == (busy, transaction)
    ack = end.last()
    assert (ack.method, ack.uri) == ("ACK", invite.uri)
    assert ack.headers.getAll("via") == ["SIP/2.0/UDP a.example:5060;branch=z9hG4bKinv1"]
    assert ack.headers.get("from") == invite.headers.get("from")
    assert ack.headers.get("call-id") == invite.callID
    assert ack.toAddress.tag == "b1"
    assert str(ack.cseq) == "7 ACK"
    assert ack.headers.getAll("route") == ["<sip:p1.example;lr>"]
    assert transaction.ack is ack


def test_inviteClientCompletedResendsAckUntilTimerD():
    """
    RFC 3261 17.1.1.2: in Completed each retransmission of the final
    response is answered with the ACK again and not passed up; Timer D
    (32 s on UDP) ends the transaction.
    """
    end = End()
    invite = request()
    transaction = end.layer.request(invite, SERVER, "UDP")
    busy = makeResponse(invite, 486, toTag="b1")
    end.layer.receive(busy, SERVER, "UDP")
    wait(end.clock, 10)
    end.layer.receive(busy, SERVER, "UDP")
    assert [m.method for _, m in end.sent] == ["INVITE", "ACK", "ACK"]
    assert end.sent[1][1] is end.sent[2][1]
    assert len(end.responses) == 1
    wait(end.clock, 21.9)
    assert transaction.state == "Completed"
    wait(end.clock, 0.1)
    assert transaction.state == "Terminated"
    assert end.layer.transactions == []


def test_inviteClientReliableTimerDIsZero():
    """
    RFC 3261 17.1.1.2: over a reliable transport Timer D is zero: the
    transaction ends as soon as it has sent the ACK.
    """
    end = End()
    invite = request(transport="TCP")
    transaction = end.layer.request(invite, SERVER, "TCP")
    end.layer.receive(makeResponse(invite, 603, toTag="b1"), SERVER, "TCP")
    assert transaction.state == "Terminated"
    assert [m.method for _, m in end.sent] == ["INVITE", "ACK"]
    assert end.clock.getDelayedCalls() == []


def test_inviteClientTransportError():
    """
    RFC 3261 17.1.1.2 and 17.1.4: a transport error while sending the
    INVITE ends the transaction and is reported to the TU.
    """
    end = End(fail=True)
    transaction = end.layer.request(request(), SERVER, "UDP")
    assert end.failures == [(transaction, "transport")]
    assert transaction.state == "Terminated"
    assert end.clock.getDelayedCalls() == []


def test_inviteClientTransportErrorOnAck():
    """
    RFC 3261 17.1.4: a transport error while sending the ACK in Completed
    ends the transaction and is reported.
    """
    end = End()
    invite = request()
    transaction = end.layer.request(invite, SERVER, "UDP")
    end.fail = True
    end.layer.receive(makeResponse(invite, 486, toTag="b1"), SERVER, "UDP")
    assert end.failures == [(transaction, "transport")]
    assert transaction.state == "Terminated"


# Non-INVITE client transaction (RFC 3261 17.1.2)


def test_nonInviteClientTimerECappedAtT2UntilTimerF():
    """
    RFC 3261 17.1.2.2: Timer E starts at T1 and doubles up to T2 (4 s)
    while Trying; Timer F (64*T1) times the transaction out.
    """
    end = End()
    transaction = end.layer.request(request("OPTIONS"), SERVER, "UDP")
    wait(end.clock, 31.9)
    assert intervals(end.times()) == [0.5, 1, 2, 4, 4, 4, 4, 4, 4, 4]
    wait(end.clock, 0.1)
    assert end.failures == [(transaction, "timeout")]
    assert end.clock.getDelayedCalls() == []


def test_nonInviteClientT2Configurable():
    """
    RFC 3261 17.1.2.2: the cap on Timer E is the configured T2.
    """
    end = End(config=TimerConfig(t2=1.0))
    end.layer.request(request("OPTIONS"), SERVER, "UDP")
    wait(end.clock, 4)
    assert intervals(end.times()) == [0.5, 1, 1, 1]


def test_nonInviteClientProceedingRetransmitsEveryT2():
    """
    RFC 3261 17.1.2.2: after a 1xx (passed up) the request is still
    retransmitted, Timer E restarting at T2 each time it fires; Timer F
    still runs.
    """
    end = End()
    options = request("OPTIONS")
    transaction = end.layer.request(options, SERVER, "UDP")
    wait(end.clock, 0.2)
    trying = makeResponse(options, 100)
    end.layer.receive(trying, SERVER, "UDP")
    assert transaction.state == "Proceeding"
    end.layer.receive(trying, SERVER, "UDP")
    assert end.responses == [(trying, transaction), (trying, transaction)]
    wait(end.clock, 31.7)
    assert intervals(end.times()) == [0.5, 4, 4, 4, 4, 4, 4, 4]
    wait(end.clock, 0.1)
    assert end.failures == [(transaction, "timeout")]


@pytest.mark.parametrize("provisional", [False, True])
def test_nonInviteClientFinalThenTimerK(provisional):
    """
    RFC 3261 17.1.2.2: a final response (2xx too) in Trying or Proceeding
    is passed up and moves to Completed, where retransmissions are
    absorbed and nothing is resent; Timer K (T4 on UDP) ends it.
    """
    end = End()
    options = request("OPTIONS")
    transaction = end.layer.request(options, SERVER, "UDP")
    if provisional:
        end.layer.receive(makeResponse(options, 100), SERVER, "UDP")
    ok = makeResponse(options, 200, toTag="b1")
    end.layer.receive(ok, SERVER, "UDP")
    end.layer.receive(ok, SERVER, "UDP")
    assert transaction.state == "Completed"
    assert end.responses[-1] == (ok, transaction)
    assert len(end.responses) == 1 + provisional
    wait(end.clock, 4.9)
    assert len(end.sent) == 1
    assert transaction.state == "Completed"
    wait(end.clock, 0.1)
    assert transaction.state == "Terminated"


def test_nonInviteClientReliable():
    """
    RFC 3261 17.1.2.2: over TCP Timer E is not started and Timer K is zero.
    """
    end = End()
    options = request("OPTIONS", transport="TCP")
    transaction = end.layer.request(options, SERVER, "TCP")
    wait(end.clock, 20)
    assert len(end.sent) == 1
    end.layer.receive(makeResponse(options, 404, toTag="b1"), SERVER, "TCP")
    assert transaction.state == "Terminated"
    assert end.clock.getDelayedCalls() == []


@pytest.mark.parametrize("provisional", [False, True])
def test_nonInviteClientTransportError(provisional):
    """
    RFC 3261 17.1.2.2 and 17.1.4: a transport error on a retransmission in
    Trying or Proceeding ends the transaction and is reported.
    """
    end = End()
    options = request("OPTIONS")
    transaction = end.layer.request(options, SERVER, "UDP")
    if provisional:
        end.layer.receive(makeResponse(options, 100), SERVER, "UDP")
    end.fail = True
    wait(end.clock, 0.5)
    assert end.failures == [(transaction, "transport")]
    assert transaction.state == "Terminated"


def test_clientRequestChecks():
    """
    RFC 3261 17.1.1.3, 8.1.1.7: an ACK has no client transaction, a
    request needs a branch, and one branch and method make one
    transaction.
    """
    end = End()
    with pytest.raises(ValueError):
        end.layer.request(request("ACK"), SERVER, "UDP")
    noBranch = request()
    noBranch.headers.set("via", "SIP/2.0/UDP a.example")
    with pytest.raises(ValueError):
        end.layer.request(noBranch, SERVER, "UDP")
    end.layer.request(request(), SERVER, "UDP")
    with pytest.raises(ValueError):
        end.layer.request(request(), SERVER, "UDP")


# INVITE server transaction (RFC 3261 17.2.1, RFC 6026 7.1)


def serverInvite(end, message=None, transport="UDP"):
    message = request(transport=transport) if message is None else message
    end.layer.receive(message, CLIENT, transport)
    return end.requests[-1][1]


def test_inviteServerSendsTryingAfter200ms():
    """
    RFC 3261 17.2.1: the INVITE is passed up and, when the TU has not
    answered within 200 ms, the transaction sends 100 Trying (no To tag,
    Timestamp copied, 8.2.6.1).
    """
    end = End()
    invite = request(extra=("Timestamp: 54",))
    transaction = serverInvite(end, invite)
    assert isinstance(transaction, ServerInviteTransaction)
    assert end.requests == [(invite, transaction)]
    wait(end.clock, 0.19)
    assert end.sent == []
    wait(end.clock, 0.01)
    trying = end.last()
    assert (trying.status, trying.toAddress.tag) == (100, None)
    assert trying.headers.get("timestamp") == "54"
    assert transaction.state == "Proceeding"


def test_inviteServerNoTryingWhenTheTUAnswers():
    """
    RFC 3261 17.2.1: no 100 Trying when the TU sent a provisional response
    within 200 ms; further provisional responses pass through.
    """
    end = End()
    transaction = serverInvite(end)
    ringing = makeResponse(transaction.request, 180, toTag="b1")
    transaction.respond(ringing)
    transaction.respond(ringing)
    wait(end.clock, 1)
    assert [m for _, m in end.sent] == [ringing, ringing]


def test_inviteServerProvisionalBeforeTheTUGoesOn():
    """
    A provisional response the TU gives while the INVITE is passed up goes
    out at once, before what the TU sends next (a B2BUA's 100 Trying
    before its forked INVITEs); the automatic 100 Trying is not sent.
    """
    end = End()
    order = []

    def deliver(message, transaction):
        transaction.respond(makeResponse(message, 100))
        order.append([m.status for _, m in end.sent])
        end.layer.request(request(branch="z9hG4bKfork1"), SERVER, "UDP")

    end.layer.deliverRequest = deliver
    end.layer.receive(request(), CLIENT, "UDP")
    assert order == [[100]]
    wait(end.clock, 1)
    sent = [getattr(m, "status", None) or m.method for _, m in end.sent]
    assert sent[:2] == [100, "INVITE"]
    assert sent.count(100) == 1


def test_inviteServerFinalInPassUpStillQueued():
    """
    A final response given while the INVITE is passed up is applied after
    the transition, as before; a provisional one given after it waits its
    turn behind it (and is then absorbed).
    """
    end = End()

    def deliver(message, transaction):
        transaction.respond(makeResponse(message, 486, toTag="b1"))
        transaction.respond(makeResponse(message, 180, toTag="b1"))
        assert end.sent == []

    end.layer.deliverRequest = deliver
    end.layer.receive(request(), CLIENT, "UDP")
    assert [m.status for _, m in end.sent] == [486]


def test_inviteServerAbsorbsRetransmittedInvite():
    """
    RFC 3261 17.2.1: a retransmitted INVITE is not passed up again; in
    Proceeding it gets the last provisional response again, or 100
    Trying at once when there has been none.
    """
    end = End()
    transaction = serverInvite(end)
    end.layer.receive(request(), CLIENT, "UDP")
    assert end.last().status == 100
    ringing = makeResponse(transaction.request, 180, toTag="b1")
    transaction.respond(ringing)
    end.layer.receive(request(), CLIENT, "UDP")
    assert end.last() is ringing
    assert len(end.requests) == 1


def test_inviteServerTimerGDoublesToT2UntilTimerH():
    """
    RFC 3261 17.2.1: a 300-699 moves to Completed; over UDP Timer G
    resends it starting at T1, doubling up to T2; Timer H (64*T1) without
    an ACK ends the transaction with a timeout reported.
    """
    end = End()
    transaction = serverInvite(end)
    busy = makeResponse(transaction.request, 486, toTag="b1")
    transaction.respond(busy)
    assert transaction.state == "Completed"
    wait(end.clock, 31.9)
    assert all(m.serialise() == busy.serialise() for _, m in end.sent)
    assert intervals(end.times()) == [0.5, 1, 2, 4, 4, 4, 4, 4, 4, 4]
    wait(end.clock, 0.1)
    assert end.failures == [(transaction, "timeout")]
    assert end.clock.getDelayedCalls() == []


def test_inviteServerCompletedResendsOnRetransmittedInvite():
    """
    RFC 3261 17.2.1: in Completed a retransmitted INVITE gets the final
    response again.
    """
    end = End(config=TimerConfig())
    transaction = serverInvite(end, request(transport="TCP"), "TCP")
    busy = makeResponse(transaction.request, 486, toTag="b1")
    transaction.respond(busy)
    end.layer.receive(request(transport="TCP"), CLIENT, "TCP")
    assert [m.serialise() for _, m in end.sent] == [busy.serialise()] * 2
    wait(end.clock, 20)
    assert len(end.sent) == 2


def test_inviteServerAckConfirmsThenTimerI():
    """
    RFC 3261 17.2.1: the ACK (matching the INVITE transaction, 17.2.3)
    moves Completed to Confirmed and is not passed up; Timer G stops;
    retransmitted ACKs are absorbed; Timer I (T4 on UDP) ends it.
    """
    end = End()
    transaction = serverInvite(end)
    busy = makeResponse(transaction.request, 486, toTag="b1")
    transaction.respond(busy)
    end.layer.receive(request("ACK", toTag="b1"), CLIENT, "UDP")
    assert transaction.state == "Confirmed"
    end.layer.receive(request("ACK", toTag="b1"), CLIENT, "UDP")
    end.layer.receive(request(), CLIENT, "UDP")
    assert len(end.requests) == 1
    wait(end.clock, 4.9)
    assert len(end.sent) == 1
    assert transaction.state == "Confirmed"
    wait(end.clock, 0.1)
    assert transaction.state == "Terminated"


def test_inviteServerReliableTimerIZero():
    """
    RFC 3261 17.2.1: over TCP Timer G does not run and Timer I is zero.
    """
    end = End()
    transaction = serverInvite(end, request(transport="TCP"), "TCP")
    transaction.respond(makeResponse(transaction.request, 486, toTag="b1"))
    wait(end.clock, 10)
    assert len(end.sent) == 1
    end.layer.receive(request("ACK", transport="TCP", toTag="b1"), CLIENT, "TCP")
    assert transaction.state == "Terminated"


def test_inviteServer2xxAccepted():
    """
    RFC 6026 7.1: a 2xx moves to Accepted; retransmitted INVITEs are
    absorbed (neither passed up nor answered), the TU's retransmissions of
    the 2xx pass through, an ACK matching the transaction is passed up,
    and Timer L (64*T1) ends it; an ACK with a new branch (13.2.2.4) is
    passed up without a transaction.
    """
    end = End()
    transaction = serverInvite(end)
    ok = makeResponse(transaction.request, 200, toTag="b1")
    transaction.respond(ok)
    assert transaction.state == "Accepted"
    end.layer.receive(request(), CLIENT, "UDP")
    assert len(end.sent) == 1
    assert len(end.requests) == 1
    transaction.respond(ok)
    assert len(end.sent) == 2
    sameBranch = request("ACK", toTag="b1")
    end.layer.receive(sameBranch, CLIENT, "UDP")
    newBranchAck = request("ACK", branch="z9hG4bKack2", toTag="b1")
    end.layer.receive(newBranchAck, CLIENT, "UDP")
    assert end.requests[1:] == [(sameBranch, transaction), (newBranchAck, None)]
    wait(end.clock, 31.9)
    assert transaction.state == "Accepted"
    wait(end.clock, 0.1)
    assert transaction.state == "Terminated"
    assert end.failures == []


def test_inviteServerRefusesASecondFinalResponse():
    """
    RFC 3261 17.2.1: after a non-2xx final response the TU can send no
    other; a response after the transaction ended is refused too.
    """
    end = End()
    transaction = serverInvite(end, request(transport="TCP"), "TCP")
    invite = transaction.request
    transaction.respond(makeResponse(invite, 486, toTag="b1"))
    with pytest.raises(TransactionError):
        transaction.respond(makeResponse(invite, 200, toTag="b1"))
    end.layer.receive(request("ACK", transport="TCP", toTag="b1"), CLIENT, "TCP")
    with pytest.raises(TransactionError):
        transaction.respond(makeResponse(invite, 180, toTag="b1"))


@pytest.mark.parametrize("status", [180, 486])
def test_inviteServerTransportError(status):
    """
    RFC 3261 17.2.1 and 17.2.4: a transport error while sending a response
    in Proceeding (or on Completed's first send) ends the transaction and
    is reported to the TU.
    """
    end = End()
    transaction = serverInvite(end)
    end.fail = True
    transaction.respond(makeResponse(transaction.request, status, toTag="b1"))
    assert end.failures == [(transaction, "transport")]
    assert transaction.state == "Terminated"
    assert end.clock.getDelayedCalls() == []


def test_inviteServerTransportErrorInAcceptedIsReported():
    """
    RFC 6026 7.1: a transport error in Accepted is reported; the
    transaction stays until Timer L.
    """
    end = End()
    transaction = serverInvite(end)
    end.fail = True
    transaction.respond(makeResponse(transaction.request, 200, toTag="b1"))
    assert end.failures == [(transaction, "transport")]
    assert transaction.state == "Accepted"


# Non-INVITE server transaction (RFC 3261 17.2.2)


def test_nonInviteServerStates():
    """
    RFC 3261 17.2.2: the request is passed up once; in Trying a
    retransmission is absorbed silently, in Proceeding and Completed it
    gets the last response again; a final response moves to Completed and
    Timer J (64*T1 on UDP) ends it; no 100 Trying is sent by itself.
    """
    end = End()
    options = request("OPTIONS")
    end.layer.receive(options, CLIENT, "UDP")
    transaction = end.requests[0][1]
    assert isinstance(transaction, ServerNonInviteTransaction)
    end.layer.receive(request("OPTIONS"), CLIENT, "UDP")
    wait(end.clock, 1)
    assert end.sent == []
    trying = makeResponse(options, 100)
    transaction.respond(trying)
    transaction.respond(trying)
    assert transaction.state == "Proceeding"
    end.layer.receive(request("OPTIONS"), CLIENT, "UDP")
    assert [m for _, m in end.sent] == [trying, trying, trying]
    ok = makeResponse(options, 200, toTag="b1")
    transaction.respond(ok)
    assert transaction.state == "Completed"
    end.layer.receive(request("OPTIONS"), CLIENT, "UDP")
    assert end.last().serialise() == ok.serialise()
    assert len(end.requests) == 1
    wait(end.clock, 31.9)
    assert transaction.state == "Completed"
    wait(end.clock, 0.1)
    assert transaction.state == "Terminated"
    with pytest.raises(TransactionError):
        transaction.respond(ok)


def test_nonInviteServerAnsweredWhilePassedUp():
    """
    A final response the TU gives while a non-INVITE request is passed up
    is applied once the request has been taken: what the TU sends after it
    from the same call leaves first, a second response given meanwhile is
    absorbed rather than refused, and the transaction is Trying, with
    nothing sent, until the TU returns. Then it is in the layer's table
    and absorbs the request's retransmission with the response again; a
    request answered statelessly meanwhile leaves nothing in the table.
    """
    end = End()
    seen = []

    def deliver(message, transaction):
        if message.method == "MESSAGE":
            transaction.respondStatelessly(makeResponse(message, 401))
            return
        transaction.respond(makeResponse(message, 200, toTag="b1"))
        end.layer.request(request("NOTIFY", branch="z9hG4bKn1"), CLIENT, "UDP")
        transaction.respond(makeResponse(message, 500, toTag="b1"))
        seen.append((transaction.state, transaction.lastResponse, list(end.layer.transactions)))

    end.layer.deliverRequest = deliver
    end.layer.receive(request("OPTIONS"), CLIENT, "UDP")
    notify = end.layer.transactions[0]
    assert seen == [("Trying", None, [notify])]
    assert [getattr(m, "status", None) or m.method for _, m in end.sent] == ["NOTIFY", 200]
    options = end.layer.transactions[1]
    assert (type(options), options.state) == (ServerNonInviteTransaction, "Completed")
    end.layer.receive(request("OPTIONS"), CLIENT, "UDP")
    assert [getattr(m, "status", None) or m.method for _, m in end.sent] == ["NOTIFY", 200, 200]
    end.layer.receive(request("MESSAGE", branch="z9hG4bKm1"), CLIENT, "UDP")
    assert end.sent[-1][1].status == 401
    assert end.layer.transactions == [notify, options]


def test_finishedServerKeepsItsDestinationAsAPlainTuple():
    """
    A source handed in as a tuple subclass (the transports' note that the
    responses go there) is where the responses go while the transaction
    user answers, and a plain tuple of the same address once the
    transaction only waits for Timer J, which retransmissions still reach.
    """

    class Noted(tuple):
        __slots__ = ()

    end = End()
    destinations = []
    send = end.layer.send
    end.layer.send = lambda message, destination, transport: (
        destinations.append(destination), send(message, destination, transport)
    )
    options = request("OPTIONS")
    end.layer.receive(options, Noted(CLIENT), "UDP")
    transaction = end.requests[0][1]
    transaction.respond(makeResponse(options, 100))
    transaction.respond(makeResponse(options, 200, toTag="b1"))
    end.layer.receive(request("OPTIONS"), CLIENT, "UDP")
    assert [(type(d), d) for d in destinations] == [(Noted, CLIENT)] * 2 + [(tuple, CLIENT)]
    assert type(transaction.destination) is tuple


def test_nonInviteServerFinalFromTryingReliable():
    """
    RFC 3261 17.2.2: a final response straight from Trying moves to
    Completed; over TCP Timer J is zero; a second final one is refused.
    """
    end = End()
    options = request("OPTIONS", transport="TCP")
    end.layer.receive(options, CLIENT, "TCP")
    transaction = end.requests[0][1]
    ok = makeResponse(options, 200, toTag="b1")
    transaction.respond(ok)
    assert transaction.state == "Terminated"
    assert end.layer.transactions == []


def test_nonInviteServerIsItsOwnTimerJ():
    """
    A finished non-INVITE server transaction waits for Timer J in its
    lane as itself, with no lane timer made for it (one object fewer for
    the collector while it waits); a transport error re-sending its
    response in Completed ends it and stops the timer, leaving no clock
    call.
    """
    end = End()
    options = request("OPTIONS")
    end.layer.receive(options, CLIENT, "UDP")
    transaction = end.requests[0][1]
    transaction.respond(makeResponse(options, 200, toTag="b1"))
    assert (transaction.active(), transaction.getTime()) == (True, 32)
    assert not [o for o in gc.get_referents(transaction) if isinstance(o, LaneTimer)]
    assert len(end.clock.getDelayedCalls()) == 1
    wait(end.clock, 1)
    end.fail = True
    end.layer.receive(request("OPTIONS"), CLIENT, "UDP")
    assert (transaction.state, transaction.active()) == ("Terminated", False)
    assert end.failures == [(transaction, "transport")]
    assert end.clock.getDelayedCalls() == []


@pytest.mark.parametrize("provisional", [False, True])
def test_nonInviteServerTransportError(provisional):
    """
    RFC 3261 17.2.2 and 17.2.4: a transport error sending a response ends
    the transaction and is reported.
    """
    end = End()
    options = request("OPTIONS")
    end.layer.receive(options, CLIENT, "UDP")
    transaction = end.requests[0][1]
    end.fail = True
    transaction.respond(makeResponse(options, 100 if provisional else 200, toTag="b1"))
    assert end.failures == [(transaction, "transport")]
    assert transaction.state == "Terminated"


# The tables themselves


@pytest.mark.parametrize(
    "kind",
    [
        ClientInviteTransaction,
        ClientNonInviteTransaction,
        ServerInviteTransaction,
        ServerNonInviteTransaction,
    ],
)
def test_everyTimerStartedHasATransition(kind):
    """
    RFC 3261 17: every timer a transition starts is alive in the state it
    leads to and has a transition there when it fires, and every action
    names a method; Terminated has no transitions.
    """
    for (state, _), (actions, target) in kind.TABLE.items():
        assert state != "Terminated"
        for action in actions:
            if action.startswith("start"):
                name = action[5:]
                assert name in kind.TIMERS[target]
                assert (target, "timer" + name) in kind.TABLE
            elif not action.startswith("backoff"):
                assert callable(getattr(kind, "_" + action))


# Stateless answers (RFC 3261 8.2.7, 26.1.5)


def answeringStatelessly(end, status):
    """
    Make C{end}'s transaction user answer every request but an ACK with
    C{status} statelessly, from within C{deliverRequest}.
    """

    def deliver(message, transaction):
        end.requests.append((message, transaction))
        if transaction is not None:
            transaction.respondStatelessly(makeResponse(message, status, toTag="b1"))

    end.layer.deliverRequest = deliver


@pytest.mark.parametrize("method, status", [("INVITE", 407), ("REGISTER", 401)])
def test_statelessAnswerLeavesNothing(method, status):
    """
    RFC 3261 8.2.7: a response sent statelessly goes out once, as given
    (not kept in its sent form), from within C{deliverRequest} with no 100
    Trying before it; the transaction ends at once, leaving no timer.
    """
    end = End()
    answeringStatelessly(end, status)
    end.layer.receive(request(method), CLIENT, "UDP")
    (message, transaction), = end.requests
    (_, answer), = end.sent
    assert (answer.status, answer.toAddress.tag) == (status, "b1")
    assert transaction.state == "Terminated"
    assert transaction.lastResponse is None
    assert end.layer.transactions == []
    assert end.clock.getDelayedCalls() == []
    wait(end.clock, 64)
    assert len(end.sent) == 1
    assert end.failures == []


@pytest.mark.parametrize("method, status", [("INVITE", 407), ("REGISTER", 401)])
def test_statelessAnswerRetransmissionIsANewRequest(method, status):
    """
    RFC 3261 8.2.7: with nothing kept, a retransmitted request is passed
    up again as a new one and gets a new response.
    """
    end = End()
    answeringStatelessly(end, status)
    end.layer.receive(request(method), CLIENT, "UDP")
    end.layer.receive(request(method), CLIENT, "UDP")
    first, second = [transaction for _, transaction in end.requests]
    assert first is not second
    assert [m.status for _, m in end.sent] == [status, status]
    assert end.layer.transactions == []


def test_statelessAnswerAckAndCancelMatchNothing():
    """
    RFC 3261 17.2.3: the ACK to an INVITE's stateless answer matches no
    transaction (it reaches the TU with none, and the layer sends
    nothing); a CANCEL of that INVITE cancels no INVITE (9.2: the TU's
    481).
    """
    end = End()
    answeringStatelessly(end, 407)
    end.layer.receive(request(), CLIENT, "UDP")
    end.layer.receive(request("ACK", toTag="b1"), CLIENT, "UDP")
    assert end.requests[-1][1] is None
    assert len(end.sent) == 1
    end.layer.deliverRequest = lambda message, transaction: end.requests.append(
        (message, transaction)
    )
    end.layer.receive(request("CANCEL"), CLIENT, "UDP")
    cancel = end.requests[-1][1]
    assert cancel.cancels is None
    answerCancel(cancel, "b1")
    assert end.last().status == 481


def test_statelessAnswerAfterPassUpCancelsTrying():
    """
    An INVITE answered statelessly after it was passed up (before its 100
    Trying) ends with no Trying timer left and no 100 sent.
    """
    end = End()
    transaction = serverInvite(end)
    assert end.clock.getDelayedCalls() != []
    transaction.respondStatelessly(makeResponse(transaction.request, 407, toTag="b1"))
    assert [m.status for _, m in end.sent] == [407]
    assert end.clock.getDelayedCalls() == []
    assert end.layer.transactions == []


def test_statelessAnswerInPassUpGoesOutAtOnce():
    """
    A stateless answer given while the request is passed up is sent
    before C{deliverRequest} returns (there is nothing for it to wait
    for), and what the TU does after it finds the transaction ended.
    """
    end = End()
    seen = []

    def deliver(message, transaction):
        transaction.respondStatelessly(makeResponse(message, 401, toTag="b1"))
        seen.append(([m.status for _, m in end.sent], transaction.state))
        with pytest.raises(TransactionError):
            transaction.respond(makeResponse(message, 200, toTag="b1"))

    end.layer.deliverRequest = deliver
    end.layer.receive(request("REGISTER"), CLIENT, "UDP")
    assert seen == [([401], "Terminated")]
    assert len(end.sent) == 1
    assert end.layer.transactions == []


def test_nonInviteStatelessAnswerAfterPassUp():
    """
    A non-INVITE answered statelessly after it was passed up (a TU that
    decided later): retransmissions meanwhile are absorbed, the answer
    goes out once and the transaction ends with nothing left.
    """
    end = End()
    end.layer.receive(request("REGISTER"), CLIENT, "UDP")
    end.layer.receive(request("REGISTER"), CLIENT, "UDP")
    (message, transaction), = end.requests
    transaction.respondStatelessly(makeResponse(message, 401, toTag="b1"))
    assert [m.status for _, m in end.sent] == [401]
    assert transaction.state == "Terminated"
    assert end.layer.transactions == []
    assert end.clock.getDelayedCalls() == []


def test_statelessAnswerTransportErrorIsOnlyLogged():
    """
    A stateless answer the transport refuses ends the transaction like
    any other (there is nothing to retry and no TU waiting for it).
    """
    end = End(fail=True)
    answeringStatelessly(end, 401)
    end.layer.receive(request("REGISTER"), CLIENT, "UDP")
    assert end.requests[0][1].state == "Terminated"
    assert end.failures == []
    assert end.layer.transactions == []


def test_statelessAnswerRefusals():
    """
    Only a final non-2xx response, and only while no response was sent:
    a 1xx or 2xx, an INVITE that had its 100 Trying, a non-INVITE that had
    a provisional response, a transaction with its final response raise
    L{TransactionError}.
    """
    end = End()
    invite = serverInvite(end)
    for status in (180, 200):
        with pytest.raises(TransactionError):
            invite.respondStatelessly(makeResponse(invite.request, status, toTag="b1"))
    wait(end.clock, 0.2)
    with pytest.raises(TransactionError):
        invite.respondStatelessly(makeResponse(invite.request, 407, toTag="b1"))
    end.layer.receive(request("OPTIONS", branch="z9hG4bKopt1"), CLIENT, "UDP")
    message, options = end.requests[-1]
    options.respond(makeResponse(message, 183, toTag="b1"))
    with pytest.raises(TransactionError):
        options.respondStatelessly(makeResponse(message, 401, toTag="b1"))
    options.respond(makeResponse(message, 200, toTag="b1"))
    with pytest.raises(TransactionError):
        options.respondStatelessly(makeResponse(message, 401, toTag="b1"))
    assert [m.status for _, m in end.sent] == [100, 183, 200]


def test_inviteServerAnsweredInPassUpStartsNoTryingTimer():
    """
    RFC 3261 17.2.1: the 100 Trying timer is not started for an INVITE the
    TU answered while it was passed up (it could only be cancelled or
    send nothing).
    """
    end = End()
    end.layer.deliverRequest = lambda message, transaction: transaction.respond(
        makeResponse(message, 180, toTag="b1")
    )
    end.layer.receive(request(transport="TCP"), CLIENT, "TCP")
    assert [m.status for _, m in end.sent] == [180]
    assert end.clock.getDelayedCalls() == []


# Matching (RFC 3261 17.1.3, 17.2.3)


def test_clientMatchingUsesBranchAndMethod():
    """
    RFC 3261 17.1.3 and 9.1: a CANCEL shares its INVITE's branch; each
    response goes to the transaction of its CSeq method; a response of an
    unknown branch is a stray for the UA core.
    """
    end = End()
    invite = request()
    inviteTransaction = end.layer.request(invite, SERVER, "UDP")
    end.layer.receive(makeResponse(invite, 180, toTag="b1"), SERVER, "UDP")
    cancel = makeCancel(invite)
    cancelTransaction = end.layer.request(cancel, SERVER, "UDP")
    cancelled = makeResponse(cancel, 200, toTag="b1")
    end.layer.receive(cancelled, SERVER, "UDP")
    assert end.responses[-1] == (cancelled, cancelTransaction)
    assert inviteTransaction.state == "Proceeding"
    other = makeResponse(request(branch="z9hG4bKother"), 200)
    end.layer.receive(other, SERVER, "UDP")
    assert end.responses[-1] == (other, None)


def test_serverMatchingNeedsTheSameSentBy():
    """
    RFC 3261 17.2.3: with a magic-cookie branch, the same branch from
    another sent-by is another transaction, and so is another method.
    """
    end = End()
    end.layer.receive(request(), CLIENT, "UDP")
    elsewhere = request()
    elsewhere.headers.set("via", "SIP/2.0/UDP c.example;branch=z9hG4bKinv1")
    end.layer.receive(elsewhere, CLIENT, "UDP")
    end.layer.receive(request("INFO"), CLIENT, "UDP")
    assert len({id(transaction) for _, transaction in end.requests}) == 3


def test_rfc2543Matching():
    """
    RFC 3261 17.2.3: a branch without the magic cookie is matched on
    Request-URI, tags, Call-ID, CSeq and top Via: a retransmission is
    absorbed; an ACK matches when its To tag is that of the response sent,
    and is otherwise passed up without a transaction.
    """
    end = End()
    invite = request(branch="old1")
    transaction = serverInvite(end, invite)
    end.layer.receive(request(branch="old1"), CLIENT, "UDP")
    assert len(end.requests) == 1
    otherCSeq = request(branch="old1")
    otherCSeq.headers.set("cseq", "8 INVITE")
    end.layer.receive(otherCSeq, CLIENT, "UDP")
    assert len(end.requests) == 2
    transaction.respond(makeResponse(invite, 486, toTag="b1"))
    wrong = request("ACK", branch="old1", toTag="zz")
    end.layer.receive(wrong, CLIENT, "UDP")
    assert end.requests[-1] == (wrong, None)
    end.layer.receive(request("ACK", branch="old1", toTag="b1"), CLIENT, "UDP")
    assert transaction.state == "Confirmed"


def test_rfc2543MatchingWithoutBranch():
    """
    RFC 3261 17.2.3: a request with no branch at all is matched the RFC
    2543 way.
    """
    end = End()
    message = request()
    message.headers.set("via", "SIP/2.0/UDP a.example")
    end.layer.receive(message, CLIENT, "UDP")
    again = request()
    again.headers.set("via", "SIP/2.0/UDP a.example")
    end.layer.receive(again, CLIENT, "UDP")
    assert len(end.requests) == 1


# Responses and CANCEL (RFC 3261 8.2.6, 9)


def test_makeResponse():
    """
    RFC 3261 8.2.6.2: a response copies every Via in order, From, To,
    Call-ID and CSeq, and adds the To tag given; a To that has a tag
    keeps it.
    """
    invite = request(extra=("Via: SIP/2.0/UDP p.example;branch=z9hG4bKp",))
    response = makeResponse(invite, 404, toTag="t9")
    assert (response.status, response.reason) == (404, "Not Found")
    assert response.headers.getAll("via") == invite.headers.getAll("via")
    assert response.fromAddress.tag == "a1"
    assert response.toAddress.tag == "t9"
    assert (response.callID, str(response.cseq)) == (invite.callID, "7 INVITE")
    assert "timestamp" not in response.headers
    tagged = makeResponse(request(toTag="old"), 200, "Fine", toTag="new")
    assert (tagged.reason, tagged.toAddress.tag) == ("Fine", "old")


def test_makeResponseTagsEveryFinalResponse():
    """
    RFC 3261 8.2.6.2: a final response to a request whose To has no tag
    gets one even when none is given, the same for the request's
    retransmissions and another for another request; 100 Trying gets
    none, and a To that has a tag keeps it.
    """
    invite = request()
    refused = makeResponse(invite, 486)
    assert refused.toAddress.tag == statelessTag(invite)
    assert makeResponse(request(), 486).toAddress.tag == refused.toAddress.tag
    assert makeResponse(request(branch="z9hG4bKother"), 486).toAddress.tag != refused.toAddress.tag
    assert makeResponse(invite, 100).toAddress.tag is None
    assert makeResponse(request(toTag="old"), 481).toAddress.tag == "old"


def test_makeCancel():
    """
    RFC 3261 9.1: a CANCEL copies the INVITE's Request-URI, top Via (same
    branch), From, To, Call-ID, CSeq number and Route; its CSeq method is
    CANCEL.
    """
    invite = request(extra=("Route: <sip:p1.example;lr>", "Via: SIP/2.0/UDP x;branch=z9hG4bKx"))
    cancel = makeCancel(invite)
    assert (cancel.method, cancel.uri) == ("CANCEL", invite.uri)
    assert cancel.headers.getAll("via") == [invite.headers.getAll("via")[0]]
    assert str(cancel.cseq) == "7 CANCEL"
    assert cancel.headers.get("to") == invite.headers.get("to")
    assert cancel.headers.get("from") == invite.headers.get("from")
    assert cancel.headers.getAll("route") == ["<sip:p1.example;lr>"]


def test_answerCancel():
    """
    RFC 3261 9.2: a CANCEL matching a pending INVITE is linked to it and
    answered 200, the INVITE 487; a CANCEL for an INVITE already answered
    gets 200 and leaves the INVITE; one matching nothing gets 481.
    """
    end = End()
    invite = serverInvite(end)
    end.layer.receive(makeCancel(invite.request), CLIENT, "UDP")
    cancel = end.requests[-1][1]
    assert (cancel.cancels, invite.cancelledBy) == (invite, cancel)
    assert answerCancel(cancel, "b1") is True
    assert [(m.status, m.cseq.method) for _, m in end.sent] == [(200, "CANCEL"), (487, "INVITE")]
    assert end.last().toAddress.tag == "b1"
    assert invite.state == "Completed"
    end.layer.receive(makeCancel(request(branch="z9hG4bKlate")), CLIENT, "UDP")
    assert answerCancel(end.requests[-1][1], "b1") is False
    assert end.last().status == 481


def test_answerCancelAfterFinal():
    """
    RFC 3261 9.2: a CANCEL for an INVITE that has its final response
    changes nothing but gets 200.
    """
    end = End()
    invite = serverInvite(end)
    sent = invite.request
    invite.respond(makeResponse(sent, 200, toTag="b1"))
    end.layer.receive(makeCancel(sent), CLIENT, "UDP")
    assert answerCancel(end.requests[-1][1], "b1") is False
    assert [m.status for _, m in end.sent] == [200, 200]
    assert invite.state == "Accepted"


def test_newBranchHasTheMagicCookie():
    """
    RFC 3261 8.1.1.7: branches start with z9hG4bK and are unique.
    """
    branches = {newBranch() for _ in range(50)}
    assert len(branches) == 50
    assert all(branch.startswith("z9hG4bK") for branch in branches)


# A client and a server over a lossy network


class Network:
    """
    Two L{End}s on one clock, each's sends delivered to the other after
    C{delay} unless C{drop(message)} says to lose it (h11's ConnectionPair,
    with loss).
    """

    def __init__(self, drop, delay=0.01):
        self.clock = Clock()
        self.client = End(self.clock)
        self.server = End(self.clock)
        self.lost = []
        self.client.layer.send = self._carry(self.server, CLIENT)
        self.server.layer.send = self._carry(self.client, SERVER)
        self.drop = drop
        self.delay = delay

    def _carry(self, to, source):
        sender = self.client if to is self.server else self.server

        def send(message, destination, transport):
            sender.sent.append((self.clock.seconds(), message))
            wire = message.serialise()
            if self.drop(message):
                self.lost.append(message)
                return
            self.clock.callLater(
                self.delay, to.layer.receive, parseMessage(wire), source, transport
            )

        return send


def dropFirst(**counts):
    """
    @return: a drop policy losing the first C{n} messages of each kind
        (C{INVITE=1}, C{r486=2}: a method or C{r} and a status).
    """
    left = dict(counts)

    def drop(message):
        kind = getattr(message, "method", None) or f"r{message.status}"
        if left.get(kind, 0) > 0:
            left[kind] -= 1
            return True
        return False

    return drop


def test_pairInviteRejectedRecoversFromLoss():
    """
    RFC 3261 17.1.1.2 and 17.2.1 over UDP: the first INVITE, the first
    two 486 and the first ACK are lost; Timer A resends the INVITE, Timer
    G the 486, the client resends its ACK for each 486 it hears; both ends
    finish with the 486 delivered once and the server Confirmed then
    Terminated.
    """
    net = dropFirst(INVITE=1, r486=2, ACK=1)
    network = Network(net)
    invite = request()
    client = network.client.layer.request(invite, SERVER, "UDP")
    wait(network.clock, 0.6)
    assert [m.method for m, _ in network.server.requests] == ["INVITE"]
    server = network.server.requests[0][1]
    server.respond(makeResponse(server.request, 486, toTag="b1"))
    wait(network.clock, 5)
    assert [m.status for m, _ in network.client.responses] == [486]
    assert [getattr(m, "method", None) for m in network.lost] == ["INVITE", None, None, "ACK"]
    assert server.state == "Confirmed"
    assert client.state == "Completed"
    wait(network.clock, 40)
    assert (client.state, server.state) == ("Terminated", "Terminated")
    assert network.client.failures == network.server.failures == []
    assert network.clock.getDelayedCalls() == []


def test_pairNonInviteRecoversFromLoss():
    """
    RFC 3261 17.1.2.2 and 17.2.2 over UDP: the first OPTIONS and the
    first 200 are lost; Timer E resends the request, the server answers
    the retransmission with its 200 again, and the client gets it once.
    """
    network = Network(dropFirst(OPTIONS=1, r200=1))
    options = request("OPTIONS")
    client = network.client.layer.request(options, SERVER, "UDP")
    wait(network.clock, 0.6)
    server = network.server.requests[0][1]
    server.respond(makeResponse(server.request, 200, toTag="b1"))
    wait(network.clock, 1.0)
    assert [m.status for m, _ in network.client.responses] == [200]
    assert len(network.server.requests) == 1
    assert client.state == "Completed"
    wait(network.clock, 40)
    assert network.client.layer.transactions == network.server.layer.transactions == []


def test_pairInviteAcceptedAndCancelRace():
    """
    RFC 3261 9 and RFC 6026 over UDP: the client CANCELs after 180 but
    the server has already sent 200; the CANCEL gets 200, the INVITE is
    not terminated, and the lost first 200 reaches the client through the
    TU's retransmission via the Accepted server transaction.
    """
    network = Network(dropFirst(r200=1))
    invite = request()
    client = network.client.layer.request(invite, SERVER, "UDP")
    wait(network.clock, 0.05)
    server = network.server.requests[0][1]
    ok = makeResponse(server.request, 200, toTag="b1")
    server.respond(ok)
    network.client.layer.request(makeCancel(invite), SERVER, "UDP")
    wait(network.clock, 0.05)
    answerCancel(network.server.requests[-1][1], "b1")
    wait(network.clock, 0.05)
    assert [m.cseq.method for m, _ in network.client.responses] == ["CANCEL"]
    server.respond(ok)
    wait(network.clock, 0.05)
    assert [(m.status, m.cseq.method) for m, _ in network.client.responses][-1] == (200, "INVITE")
    assert client.state == "Accepted"


def test_cancelWaitsForAProvisionalResponse():
    """
    RFC 3261 9.1: a CANCEL asked for while Calling is held until the first
    provisional response, then sent once (same branch, to the INVITE's
    destination); asked for again it is not sent twice.
    """
    end = End()
    invite = request()
    transaction = end.layer.request(invite, SERVER, "UDP")
    end.layer.cancel(transaction)
    assert [m.method for _, m in end.sent] == ["INVITE"]
    end.layer.receive(makeResponse(invite, 180, toTag="b1"), SERVER, "UDP")
    cancel = end.last()
    assert (cancel.method, cancel.via.branch) == ("CANCEL", invite.via.branch)
    assert transaction.cancelTransaction.request is cancel
    end.layer.cancel(transaction)
    assert [m.method for _, m in end.sent] == ["INVITE", "CANCEL"]


def test_cancelAfterAFinalResponseSendsNothing():
    """
    RFC 3261 9.1: once the INVITE has a final response there is nothing to
    cancel; a CANCEL asked for in Proceeding goes at once.
    """
    end = End()
    invite = request()
    transaction = end.layer.request(invite, SERVER, "UDP")
    end.layer.receive(makeResponse(invite, 100), SERVER, "UDP")
    end.layer.cancel(transaction)
    assert end.last().method == "CANCEL"
    end.layer.receive(makeResponse(invite, 200, toTag="b1"), SERVER, "UDP")
    other = end.layer.request(request(branch="z9hG4bKinv2"), SERVER, "UDP")
    end.layer.receive(makeResponse(other.request, 486, toTag="b2"), SERVER, "UDP")
    end.layer.cancel(other)
    end.layer.cancel(transaction)
    assert [m.method for _, m in end.sent] == ["INVITE", "CANCEL", "INVITE", "ACK"]


def test_rfc2543AckForReInvite():
    """
    RFC 3261 17.2.3: in the RFC 2543 way, the ACK of an INVITE that had a
    To tag (a re-INVITE) matches its transaction too.
    """
    end = End()
    reinvite = request(branch="old2", toTag="b1")
    transaction = serverInvite(end, reinvite)
    transaction.respond(makeResponse(reinvite, 488))
    end.layer.receive(request("ACK", branch="old2", toTag="b1"), CLIENT, "UDP")
    assert transaction.state == "Confirmed"
    assert len(end.requests) == 1


def test_tuAnsweringFromWithinDeliverRequest():
    """
    RFC 3261 17.2.1: a TU that answers from within C{deliverRequest} has
    its responses sent in order once the INVITE has been taken (and no
    100 Trying follows); a 200 given while the 486 still waited is dropped
    once the 486 has made it moot; a response the state does not allow
    raises L{TransactionError} to the TU at once.
    """
    end = End()
    errors = []

    def answer(message, transaction):
        end.requests.append((message, transaction))
        transaction.respond(makeResponse(message, 180, toTag="b1"))
        transaction.respond(makeResponse(message, 486, toTag="b1"))
        try:
            transaction.respond(makeResponse(message, 200, toTag="b1"))
        except TransactionError as error:
            errors.append(error)

    end.layer.deliverRequest = answer
    end.layer.receive(request(transport="TCP"), CLIENT, "TCP")
    assert [m.status for _, m in end.sent] == [180, 486]
    assert errors == []
    invite, transaction = end.requests[0]
    with pytest.raises(TransactionError):
        transaction.respond(makeResponse(invite, 200, toTag="b1"))
    wait(end.clock, 1)
    assert [m.status for _, m in end.sent] == [180, 486]


@settings(max_examples=150, deadline=None)
@given(
    method=st.sampled_from(["INVITE", "OPTIONS"]),
    status=st.sampled_from([200, 486]),
    losses=st.lists(st.booleans(), max_size=30),
)
def test_pairUnderArbitraryLoss(method, status, losses):
    """
    RFC 3261 17 over UDP, whatever messages the network loses (C{losses}
    says for each message in turn): the server's TU gets the request at
    most once, the client's TU the final response at most once and a
    timeout only without it, and within a few minutes every transaction on
    both sides has ended and no timer is left.
    """
    pending = list(losses)
    network = Network(lambda message: pending.pop(0) if pending else False)

    def answer(message, transaction):
        network.server.requests.append((message, transaction))
        if transaction is not None:
            transaction.respond(makeResponse(message, status, toTag="b1"))

    network.server.layer.deliverRequest = answer
    client = network.client.layer.request(request(method), SERVER, "UDP")
    wait(network.clock, 300)
    finals = [m for m, t in network.client.responses if m.status >= 200 and t is client]
    assert len([t for _, t in network.server.requests if t is not None]) <= 1
    assert len(finals) <= 1
    assert bool(finals) != bool(network.client.failures)
    assert network.client.layer.transactions == network.server.layer.transactions == []
    assert network.clock.getDelayedCalls() == []


def test_responseWithSeveralViasIsDropped():
    """
    RFC 3261 8.1.3.3: a response with more than one Via is not for a UA
    and is discarded.
    """
    end = End()
    invite = request(extra=("Via: SIP/2.0/UDP p.example;branch=z9hG4bKp",))
    transaction = end.layer.request(invite, SERVER, "UDP")
    end.layer.receive(makeResponse(invite, 180, toTag="b1"), SERVER, "UDP")
    assert (end.responses, transaction.state) == ([], "Calling")


def test_everyTransitionIsExercised(monkeypatch):
    """
    RFC 3261 17 and RFC 6026: the scenarios of this file, run again here
    with every transition recorded, take each entry of the four tables.
    """
    taken = set()
    step = Transaction._step

    def recording(self, event, message):
        if (self.state, event) in self.TABLE:
            taken.add((type(self), self.state, event))
        step(self, event, message)

    monkeypatch.setattr(Transaction, "_step", recording)
    for name, test in list(globals().items()):
        if not name.startswith("test_") or name == "test_everyTransitionIsExercised":
            continue
        if hasattr(test, "hypothesis"):
            continue
        marks = [mark for mark in getattr(test, "pytestmark", []) if mark.name == "parametrize"]
        if marks:
            argument, values = marks[0].args
            names = [name.strip() for name in argument.split(",")]
            for value in values:
                test(**dict(zip(names, value if len(names) > 1 else (value,))))
        else:
            test()
    kinds = [
        ClientInviteTransaction,
        ClientNonInviteTransaction,
        ServerInviteTransaction,
        ServerNonInviteTransaction,
    ]
    missing = [
        (kind.__name__, state, event)
        for kind in kinds
        for state, event in kind.TABLE
        if (kind, state, event) not in taken
    ]
    assert missing == []

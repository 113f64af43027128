"""
Reliable provisional responses (RFC 3262), sans-I/O.

- L{ReliableSender}: the UAS side of one INVITE. Each reliable provisional
  response gets C{Require: 100rel} and the next RSeq, and is passed to the
  transaction again on a clock, T1 apart and doubling, until a PRACK with
  a matching RAck acknowledges it; after 64*T1 without one the INVITE
  should be refused with a 5xx (RFC 3262 3). One is in flight at a time:
  the next waits for the PRACK of the one before.
- L{ReliableReceiver}: the UAC side of one INVITE. It keeps the early
  dialog of each To tag that sent a reliable provisional, tells new
  responses from retransmissions by their RSeq, holds back one that comes
  out of order until the missing ones arrive (RFC 3262 4), and builds the
  PRACK (with RAck) of each response it lets through.
- L{optionTags} and L{unsupported}: the option tags of Supported and
  Require, and what a request requires that we lack (for the 420).
"""

import secrets

from twisted.logger import Logger

from oso.sip.dialog import Dialog
from oso.sip.transaction import makeResponse

#: The option tag of RFC 3262.
OPTION = "100rel"

_log = Logger()


def optionTags(message, name):
    """
    The option tags of the C{name} fields (C{"supported"}, C{"require"})
    of a message, lowercased.
    """
    return frozenset(tag.strip().lower() for tag in message.headers.getAll(name) if tag.strip())


def unsupported(request, supported):
    """
    RFC 3261 8.2.2.3: the option tags a request requires that are not
    among C{supported}, sorted (empty when it can be served).
    """
    required = optionTags(request, "require")
    if not required:
        return []
    return sorted(required - {tag.lower() for tag in supported})


def badExtension(request, supported):
    """
    RFC 3261 8.2.2.3: the C{420 Bad Extension} (with C{Unsupported}) for a
    request that requires option tags not among C{supported}, or C{None}
    when it can be served.
    """
    missing = unsupported(request, supported)
    if not missing:
        return None
    response = makeResponse(request, 420)
    response.headers.add("unsupported", ", ".join(missing))
    return response


def wantsReliable(invite):
    """
    Whether the UAC of C{invite} takes reliable provisional responses
    (C{100rel} in its Supported or Require).
    """
    return OPTION in optionTags(invite, "supported") | optionTags(invite, "require")


def isReliable(response):
    """
    Whether a provisional response asks to be acknowledged: C{Require:
    100rel} and an RSeq (RFC 3262 7.1), on a 1xx other than 100.
    """
    return (
        100 < response.status < 200
        and OPTION in optionTags(response, "require")
        and rseqOf(response) is not None
    )


def rseqOf(response):
    """
    The RSeq number of a response (1 to 2**32-1), or C{None} when it has
    none that reads as one.
    """
    value = (response.headers.get("rseq") or "").strip()
    if not value.isdigit() or not 0 < int(value) < 2**32:
        return None
    return int(value)


def parseRAck(request):
    """
    The RAck of a PRACK (RFC 3262 7.2): C{(rseq, cseq, method)}, or
    C{None} when it has none that reads as one.
    """
    parts = (request.headers.get("rack") or "").split()
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    return int(parts[0]), int(parts[1]), parts[2]


class ReliableSender:
    """
    The reliable provisional responses of one INVITE, as its UAS sends
    them (RFC 3262 3).

    @ivar pending: the response sent and not yet acknowledged, or C{None}.
    """

    def __init__(self, clock, t1, invite, send, expired, firstRSeq=None):
        """
        @param clock: an C{IReactorTime}.
        @param t1: RFC 3261's T1, seconds.
        @param invite: the INVITE the responses answer.
        @param send: called with each response to pass to the transaction
            (first sending and retransmissions).
        @param expired: called with the unacknowledged response once 64*T1
            passed without its PRACK: the INVITE should now be refused.
        @param firstRSeq: the first RSeq (random below 2**31 when
            C{None}, leaving room to count up, RFC 3262 3).
        """
        self.clock = clock
        self.t1 = t1
        self.invite = invite
        self._send = send
        self._expired = expired
        self._next = firstRSeq if firstRSeq is not None else secrets.randbelow(2**31 - 2**16) + 1
        self._queue = []
        self.pending = None
        self._timer = None

    def send(self, response):
        """
        Send C{response} reliably now, or after the PRACK of the one in
        flight.
        """
        response.headers.set("require", OPTION)
        self._queue.append(response)
        if self.pending is None:
            self._sendNext()

    def _sendNext(self):
        if not self._queue:
            return
        response = self.pending = self._queue.pop(0)
        response.headers.set("rseq", str(self._next))
        self._next += 1
        self._interval = self.t1
        self._deadline = self.clock.seconds() + 64 * self.t1
        self._send(response)
        self._schedule()

    def _schedule(self):
        now = self.clock.seconds()
        delay = min(self._interval, self._deadline - now)
        self._timer = self.clock.callLater(max(delay, 0), self._fire)

    def _fire(self):
        self._timer = None
        response = self.pending
        if self.clock.seconds() >= self._deadline:
            _log.info(
                "no PRACK for the {status} of {call}", status=response.status, call=self.invite.callID
            )
            self.stop()
            self._expired(response)
            return
        self._send(response)
        self._interval *= 2
        self._schedule()

    def prack(self, request):
        """
        A PRACK arrived: acknowledge the pending response when its RAck
        names it (RSeq, and the INVITE's CSeq number and method).

        @return: the response it acknowledged, or C{None} when it matches
            none unacknowledged (the PRACK's 481, RFC 3262 3).
        """
        rack = parseRAck(request)
        response = self.pending
        if response is None or rack != (
            int(response.headers.get("rseq")),
            self.invite.cseq.number,
            self.invite.cseq.method,
        ):
            _log.info(
                "PRACK of {call} with RAck {rack!r} matches nothing unacknowledged",
                call=self.invite.callID, rack=request.headers.get("rack"),
            )
            return None
        self._cancelTimer()
        self.pending = None
        self._sendNext()
        return response

    def holdsOffer(self):
        """
        Whether a reliable provisional response with a session description
        is unacknowledged (sent or waiting): a 2xx must wait until it is
        (RFC 3262 3).
        """
        return any(r.body for r in ([self.pending] if self.pending else []) + self._queue)

    def stop(self):
        """
        The INVITE got its final response (or is over): no more
        retransmissions, nothing more to send.
        """
        self._cancelTimer()
        self._queue = []

    def _cancelTimer(self):
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None


class ReliableReceiver:
    """
    The reliable provisional responses to one INVITE of ours, as its UAC
    takes them (RFC 3262 4): one early dialog and one RSeq count for each
    To tag.
    """

    def __init__(self, invite, contact):
        """
        @param invite: our INVITE.
        @param contact: our Contact URI for the early dialogs.
        """
        self.invite = invite
        self.contact = contact
        self.dialogs = {}
        self._last = {}
        self._held = {}

    def receive(self, response):
        """
        A reliable provisional response (L{isReliable}) arrived.

        @return: the responses to act on now, in order, each to be
            acknowledged with L{prack}: none for a retransmission or one
            out of order; more than one when it filled a gap.
        """
        tag = response.toAddress.tag
        if tag is None:
            _log.info("reliable {status} without a To tag dropped", status=response.status)
            return []
        rseq = rseqOf(response)
        last = self._last.get(tag)
        if last is not None and rseq <= last:
            return []
        if last is not None and rseq > last + 1:
            # Out of order: kept until the ones before it come.
            self._held.setdefault(tag, {})[rseq] = response
            return []
        if tag not in self.dialogs:
            self.dialogs[tag] = Dialog.fromResponse(self.invite, response, self.contact)
        ready = [response]
        self._last[tag] = rseq
        held = self._held.get(tag, {})
        while self._last[tag] + 1 in held:
            self._last[tag] += 1
            ready.append(held.pop(self._last[tag]))
        return ready

    def prack(self, response):
        """
        The PRACK of a response L{receive} let through (no Via yet), in its
        early dialog.
        """
        dialog = self.dialogs[response.toAddress.tag]
        request = dialog.createRequest("PRACK")
        cseq = self.invite.cseq
        request.headers.add("rack", f"{rseqOf(response)} {cseq.number} {cseq.method}")
        return request

    def confirmed(self, response):
        """
        The dialog a 2xx to the INVITE confirms: the early dialog of its To
        tag, made final (its CSeq count goes on after the PRACKs), or a new
        one.
        """
        self._held.clear()
        dialog = self.dialogs.get(response.toAddress.tag)
        if dialog is None:
            return Dialog.fromResponse(self.invite, response, self.contact)
        dialog.receiveResponse(self.invite, response)
        return dialog

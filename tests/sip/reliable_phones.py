"""
Scripted phones for the PRACK and UPDATE scenarios on the in-memory
sip-lines network (L{sip_lines_harness}): a phone that asks for or takes
reliable provisional responses (RFC 3262), answers with a reliable 183
carrying SDP, PRACKs what it is sent reliably, and sends and answers
UPDATE (RFC 3311), in early dialogs too. Everything it does is written out
here with the plain dialog and transaction layer, not with oso's own
reliable-provisional code.
"""

from oso.sip.dialog import Dialog, makeDialogResponse
from oso.sip.transaction import makeResponse

from sip_lines_harness import Phone, SIPExchange

ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, PRACK, UPDATE"


class RelPhone(Phone):
    """
    A L{Phone} with 100rel and UPDATE.

    @ivar fields: more fields of its INVITEs (Supported, Require, Allow).
    @ivar prack: whether it PRACKs reliable provisional responses.
    @ivar allow: the Allow of its responses, or C{None} for none.
    @ivar heldUpdates: UPDATEs it was sent and has not answered, when
        C{answerUpdates} is off: C{(request, transaction)}.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields = [("supported", "100rel"), ("allow", ALLOW)]
        self.prack = True
        self.allow = ALLOW
        self.answerUpdates = True
        self.heldUpdates = []
        self.early = {}
        self.rseq = 1

    def _new(self, method, number):
        request = super()._new(method, number)
        if method == "INVITE":
            for name, value in self.fields:
                request.headers.add(name, value)
        return request

    def reliables(self):
        """
        The reliable provisional responses it got, in order.
        """
        return [m for m in self.received if getattr(m, "status", 0) in (180, 183)
                and m.headers.get("rseq")]

    def requests(self, method):
        return [m for m in self.received if getattr(m, "method", None) == method]

    # As the caller: PRACK every reliable provisional response.

    def _response(self, response, tx):
        request = tx.request if tx is not None else None
        if (
            request is not None
            and request.method == "INVITE"
            and 100 < response.status < 200
            and response.headers.get("rseq")
        ):
            self.received.append(response)
            if response.callID not in self.early:
                self.early[response.callID] = Dialog.fromResponse(request, response, self.uri)
            if self.prack:
                self.sendPrack(response)
            return
        if request is not None and request.method == "INVITE" and 200 <= response.status < 300:
            early = self.early.pop(response.callID, None)
            if early is not None and response.callID not in self.dialogs:
                # The confirmed dialog goes on from the early one's CSeq.
                early.receiveResponse(request, response)
                self.dialogs[response.callID] = early
        super()._response(response, tx)

    def sendPrack(self, response, rack=None):
        dialog = self.early[response.callID]
        prack = dialog.createRequest("PRACK")
        cseq = response.cseq
        prack.headers.add("rack", rack or f"{response.headers.get('rseq')} {cseq.number} {cseq.method}")
        return self._send(dialog, prack)

    def update(self, callID=None, dir=None, body=True):
        """
        Send an UPDATE (with a new offer, or none) in the early or
        confirmed dialog.
        """
        callID = callID or next(iter(self.dialogs or self.early))
        dialog = self._either(callID)
        request = dialog.createRequest("UPDATE")
        if body:
            self.version += 1
            request.body = self.sdp(dir)
            request.headers.add("content-type", "application/sdp")
        return self._send(dialog, request)

    # As the called phone: a reliable 183 with the answer, PRACKs and
    # UPDATEs in the early dialog.

    def progress(self, callID=None, rseq=None, send=True):
        """
        Answer the offer in a reliable 183 (RSeq counting from 1, or
        C{rseq}).

        @return: the 183 (sent only when C{send}).
        """
        if callID is None:
            (callID,) = self.incoming
        request, tx, tag = self.incoming[callID]
        response = self._withAnswer(makeDialogResponse(request, 183, tag, self.uri), request)
        response.headers.add("require", "100rel")
        if rseq is None:
            rseq, self.rseq = self.rseq, self.rseq + 1
        response.headers.add("rseq", str(rseq))
        if self.allow:
            response.headers.add("allow", self.allow)
        if callID not in self.dialogs:
            self.dialogs[callID] = Dialog.fromRequest(request, tag, self.uri, early=True)
        if send:
            tx.respond(response)
        return response

    def answer(self, callID=None):
        if callID is None:
            (callID,) = self.incoming
        request, tx, tag = self.incoming.pop(callID)
        dialog = self.dialogs.get(callID)
        response = makeDialogResponse(request, 200, tag, self.uri)
        if dialog is None:
            dialog = Dialog.fromRequest(request, tag, self.uri)
            self._withAnswer(response, request)
        # else the answer went in a reliable 183 (RFC 3262 5): none here.
        dialog.early = False
        self.dialogs[callID] = dialog
        if self.allow:
            response.headers.add("allow", self.allow)
        tx.respond(response)

    def _request(self, request, tx):
        if request.method == "PRACK":
            self.received.append(request)
            dialog = self.dialogs.get(request.callID)
            tx.respond(makeResponse(request, 200 if dialog else 481))
            return
        if request.method == "UPDATE":
            self.received.append(request)
            dialog = self._either(request.callID)
            if dialog is None:
                tx.respond(makeResponse(request, 481))
                return
            dialog.receiveRequest(request)
            if not self.answerUpdates:
                self.heldUpdates.append((request, tx))
                return
            self.answerUpdate(request, tx)
            return
        super()._request(request, tx)

    def _either(self, callID):
        """
        The confirmed or early dialog of a call.
        """
        return self.dialogs.get(callID) or self.early.get(callID)

    def answerUpdate(self, request, tx, status=200):
        dialog = self._either(request.callID)
        response = makeDialogResponse(request, status, dialog.localTag, self.uri)
        if status == 200 and request.body:
            self._withAnswer(response, request)
        tx.respond(response)


def exchange(numbers=("200", "201", "202")):
    """
    A L{SIPExchange} whose SIP phones are L{RelPhone}s, registered.
    """
    x = SIPExchange(sip=numbers)
    for number in numbers:
        old = x.sipPhones[number]
        x.sipPhones[number] = RelPhone(x.network, number, old.password, old.host)
    x.register(*numbers)
    return x

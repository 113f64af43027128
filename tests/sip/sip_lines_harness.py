"""
An in-memory SIP network for the sip-lines scenario tests: oso's port on
one transaction layer, and scripted phones, each a user agent made of the
same stack (transactions, dialogs), all on one fake clock.  Every message
is written to bytes and parsed again on its way, as on a wire.
"""

from zope.interface import implementer

from oso import secrets
from oso.callmodel.devices import Credentials, Device
from oso.interfaces.sip import IUserAgent
from oso.sip.dialog import Dialog, makeDialogResponse, newTag
from oso.sip.digest import DigestAuthenticator, digestResponse
from oso.sip.headers import NameAddress, Via
from oso.sip.message import Request, parseMessage
from oso.sip.offeranswer import answerDirection, direction, setDirection
from oso.sip.registrar import Registrar
from oso.sip.sdp import parseSDP
from oso.sip.transaction import TimerConfig, makeResponse, newBranch
from oso.sip.transactions import TransactionLayer, answerCancel
from oso.sip.uri import SIPURI, parseURI
from oso.testing import Exchange

REALM = "oso.test"
OSO = ("127.0.0.1", 5060)


def sdp(host, port, session=1, version=1, dir=None):
    """
    A phone's audio description.
    """
    lines = [
        "v=0",
        f"o=phone {session} {version} IN IP4 {host}",
        "s=-",
        f"c=IN IP4 {host}",
        "t=0 0",
        f"m=audio {port} RTP/AVP 0 8 101",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:101 telephone-event/8000",
    ]
    if dir:
        lines.append(f"a={dir}")
    return ("\r\n".join(lines) + "\r\n").encode()


class Network:
    """
    Delivers what each end sends to the end at the destination address,
    written and parsed again, when L{flush} runs (or at once).
    """

    def __init__(self, clock):
        self.clock = clock
        self.ends = {}
        self.queue = []
        self.log = []

    def send(self, source, message, destination, transport):
        data = message.serialise()
        self.log.append((source, destination, data))
        self.queue.append((source, data, destination, transport))

    def flush(self):
        while self.queue:
            source, data, destination, transport = self.queue.pop(0)
            end = self.ends.get(tuple(destination))
            if end is not None:
                end.layer.receive(parseMessage(data), source, transport)

    def run(self, seconds=0.0):
        """
        Deliver everything, then let C{seconds} pass (delivering again).
        """
        self.flush()
        if seconds:
            steps = max(1, int(seconds / 0.05))
            for _ in range(steps):
                self.clock.advance(seconds / steps)
                self.flush()
        else:
            self.clock.advance(0)
            self.flush()


def _source(request, transaction):
    if transaction is not None:
        return tuple(transaction.source)
    return (request.via.host, request.via.port or 5060)


@implementer(IUserAgent)
class OsoUA:
    """
    The sip component's user agent core as the port sees it
    (L{oso.interfaces.sip.IUserAgent}), over one transaction layer on the
    in-memory network.
    """

    def __init__(self, network, registrar, authenticator, address=OSO):
        self.clock = network.clock
        self.registrar = registrar
        self.authenticator = authenticator
        self.timers = TimerConfig()
        self.network = network
        self.address = address
        self.lines = None
        self.layer = TransactionLayer(
            self.clock,
            lambda m, d, t: network.send(address, m, d, t),
            lambda r, tx: self.lines.requestReceived(r, tx, ("UDP",) + _source(r, tx)),
            lambda r, tx: self.lines.responseReceived(r, tx),
            lambda tx, reason: self.lines.transactionFailed(tx, reason),
        )
        network.ends[address] = self

    def via(self, transport):
        return Via(transport, self.address[0], self.address[1], {"branch": newBranch(), "rport": None})

    def contact(self, transport):
        return SIPURI(self.address[0], port=self.address[1])

    def request(self, request, destination, transport, owner=None):
        return self.layer.request(request, destination, transport)

    def sendAck(self, ack, destination, transport):
        self.network.send(self.address, ack, destination, transport)

    def cancel(self, transaction):
        self.layer.cancel(transaction)

    def attach(self, application, fallback=False):
        self.lines = application

    def detach(self, application):
        self.lines = None


class Phone:
    """
    A scripted SIP phone: registers, calls (answering a 407 with its
    password), rings, answers, refuses, holds and hangs up, and keeps
    every message it got.

    @ivar received: C{(message)} list, oldest first.
    @ivar calls: its dialogs' state by Call-ID.
    """

    def __init__(self, network, number, password, host, port=5060, autoRing=True):
        self.network = network
        self.number = number
        self.password = password
        self.address = (host, port)
        self.host = host
        self.autoRing = autoRing
        self.received = []
        self.incoming = {}
        self.dialogs = {}
        self.outgoing = None
        self.busy = False
        self.answerWith = None
        self.mediaPort = 4000 + int(number) % 1000 * 2
        self.version = 1
        self.layer = TransactionLayer(
            network.clock,
            lambda m, d, t: network.send(self.address, m, d, t),
            self._request,
            self._response,
            lambda tx, reason: self.received.append(("failed", reason)),
        )
        network.ends[self.address] = self

    # Helpers.

    @property
    def uri(self):
        return SIPURI(self.host, user=self.number, port=self.address[1])

    def sdp(self, dir=None):
        return sdp(self.host, self.mediaPort, 10 + int(self.number), self.version, dir)

    def _via(self):
        return Via("UDP", self.host, self.address[1], {"branch": newBranch(), "rport": None})

    def _new(self, method, number):
        request = Request(method, SIPURI(OSO[0], user=number))
        h = request.headers
        h.add("via", self._via())
        h.add("max-forwards", "70")
        h.add("from", NameAddress(SIPURI(OSO[0], user=self.number), params={"tag": newTag()}))
        h.add("to", NameAddress(SIPURI(OSO[0], user=number)))
        h.add("call-id", newTag() + "@" + self.host)
        h.add("cseq", "1 " + method)
        h.add("contact", NameAddress(self.uri))
        return request

    def statuses(self):
        return [m.status for m in self.received if hasattr(m, "status")]

    def sent(self):
        """
        @return: every message this phone sent, parsed, oldest first.
        """
        return [parseMessage(data) for source, _, data in self.network.log if source == self.address]

    def methods(self):
        return [m.method for m in self.received if hasattr(m, "method")]

    # Registering.

    def register(self, registrar, q=None, contact=None):
        request = self._new("REGISTER", self.number)
        request.uri = SIPURI(OSO[0])
        if contact is not None:
            request.headers.set("contact", NameAddress(contact))
        result = registrar.handle(request, self.number, ("UDP",) + self.address)
        return result

    # Calling.

    def call(self, number, body=True):
        request = self._new("INVITE", number)
        if body:
            request.body = self.sdp()
            request.headers.add("content-type", "application/sdp")
        self.outgoing = request
        self.outTx = self.layer.request(request, OSO, "UDP")
        return request

    def _authorised(self, request, challenge):
        params = challenge.params
        again = Request(request.method, request.uri)
        for name, value in request.headers.items():
            if name.lower() not in ("via", "cseq", "proxy-authorization"):
                again.headers.add(name, value)
        again.headers.add("via", self._via(), first=True)
        again.headers.add("cseq", f"{request.cseq.number + 1} {request.method}")
        ha1 = secrets.digestHA1(self.number, params["realm"], self.password)
        uri = str(request.uri)
        response = digestResponse(ha1, request.method, uri, params["nonce"], "auth", "00000001", "c0ffee")
        again.headers.add(
            "proxy-authorization",
            f'Digest username="{self.number}", realm="{params["realm"]}", '
            f'nonce="{params["nonce"]}", uri="{uri}", response="{response}", '
            f'algorithm=MD5, qop=auth, nc=00000001, cnonce="c0ffee", opaque="{params["opaque"]}"',
        )
        again.body = request.body
        return again

    def cancel(self):
        self.layer.cancel(self.outTx)

    def hangUp(self, callID=None):
        dialog = self._dialog(callID)
        self._send(dialog, dialog.createRequest("BYE"))

    def hold(self, callID=None, dir="sendonly"):
        dialog = self._dialog(callID)
        self.version += 1
        request = dialog.createRequest("INVITE")
        request.body = self.sdp(dir)
        request.headers.add("content-type", "application/sdp")
        self._send(dialog, request)

    def resume(self, callID=None):
        self.hold(callID, None)

    def _dialog(self, callID):
        if callID is None:
            (callID,) = self.dialogs
        return self.dialogs[callID]

    def _send(self, dialog, request):
        request.headers.add("via", self._via(), first=True)
        if request.method == "ACK":
            self.network.send(self.address, request, OSO, "UDP")
            return None
        return self.layer.request(request, OSO, "UDP")

    def _response(self, response, tx):
        self.received.append(response)
        request = tx.request if tx is not None else None
        if response.status == 407 and request is not None:
            challenge = response.headers.getParsed("proxy-authenticate")
            again = self._authorised(request, challenge)
            self.outgoing = again
            self.outTx = self.layer.request(again, OSO, "UDP")
            return
        if request is None or request.method != "INVITE" or not 200 <= response.status < 300:
            return
        dialog = self.dialogs.get(response.callID)
        if dialog is None:
            dialog = self.dialogs[response.callID] = Dialog.fromResponse(request, response, self.uri)
        ack = dialog.createAck(request)
        if not request.body and response.body:
            self._withAnswer(ack, response)
        self._send(dialog, ack)

    # Being called.

    def _request(self, request, tx):
        self.received.append(request)
        method = request.method
        if method == "ACK":
            return
        if method == "CANCEL":
            entry = self.incoming.pop(tx.cancels.request.callID, None) if tx.cancels else None
            answerCancel(tx, entry[2] if entry else None)
            return
        dialog = self.dialogs.get(request.callID)
        if method == "INVITE" and dialog is None:
            tag = newTag()
            if self.busy:
                tx.respond(makeResponse(request, 486, toTag=tag))
                return
            self.incoming[request.callID] = (request, tx, tag)
            if self.autoRing:
                tx.respond(makeDialogResponse(request, 180, tag, self.uri))
            return
        if dialog is None:
            tx.respond(makeResponse(request, 481))
            return
        dialog.receiveRequest(request)
        if method == "BYE":
            tx.respond(makeResponse(request, 200))
            del self.dialogs[request.callID]
        elif method == "INVITE":
            tx.respond(self._withAnswer(makeDialogResponse(request, 200, dialog.localTag, self.uri), request))
        else:
            tx.respond(makeResponse(request, 200))

    def _withAnswer(self, response, offer):
        body = self.sdp()
        if offer.body:
            offered = parseSDP(offer.body)
            mine = parseSDP(body)
            setDirection(mine.media[0], answerDirection(direction(offered, 0)))
            body = mine.serialise()
        response.body = body
        response.headers.add("content-type", "application/sdp")
        return response

    def answer(self, callID=None):
        if callID is None:
            (callID,) = self.incoming
        request, tx, tag = self.incoming.pop(callID)
        self.dialogs[callID] = Dialog.fromRequest(request, tag, self.uri)
        tx.respond(self._withAnswer(makeDialogResponse(request, 200, tag, self.uri), request))

    def refuse(self, status=486, callID=None):
        if callID is None:
            (callID,) = self.incoming
        request, tx, tag = self.incoming.pop(callID)
        tx.respond(makeResponse(request, status, toTag=tag))


class SIPExchange(Exchange):
    """
    The call model with virtual phones 100-101 and SIP extensions, the
    sip-lines port on an in-memory network, and phones to drive.
    """

    def __init__(self, sip=("200", "201", "202"), stations=("100", "101")):
        super().__init__(stations)
        from oso.ports.sip_lines import SIPLines

        self.network = Network(self.clock)
        self.registrar = Registrar(self.clock, self.store)
        self.authenticator = DigestAuthenticator(REALM, b"k" * 32, self.clock)
        self.ua = OsoUA(self.network, self.registrar, self.authenticator)
        self.lines = SIPLines(self.model, self.ua)
        self.ua.attach(self.lines, fallback=True)
        self.model.registerPort(self.lines)
        self.model.addObserver(self.lines)
        self.sipPhones = {}
        for index, number in enumerate(sip):
            password = f"pw{number}"
            self.addDevice(
                Device(number, name=f"Phone {number}", port="sip-lines",
                       credentials=Credentials(
                           digestHA1=((REALM, secrets.digestHA1(number, REALM, password)),)))
            )
            self.sipPhones[number] = Phone(self.network, number, password, f"127.0.1.{index + 1}")

    def sip(self, number):
        return self.sipPhones[number]

    def register(self, *numbers):
        for number in numbers:
            self.sip(number).register(self.registrar)
        self.network.run()

    def run(self, seconds=0.0):
        self.network.run(seconds)

    def answeredCall(self, caller="200", called="201"):
        """
        The registered phone C{caller} calls C{called}, which answers.

        @return: the two phones.
        """
        a, b = self.sip(caller), self.sip(called)
        a.call(called)
        self.run()
        b.answer()
        self.run()
        return a, b

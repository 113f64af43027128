"""
Tests for the C{sip} component (L{oso.plugins.sip}) on real loopback
sockets: UDP, TCP and TLS, IPv4 and IPv6; REGISTER with a digest
challenge and its answer, OPTIONS, methods nobody takes, malformed
requests, CRLF keep-alives, and a request to a peer reusing its
connection.
"""

import socket
from types import SimpleNamespace

from twisted.application.service import MultiService
from twisted.internet import reactor, ssl
from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.task import deferLater
from twisted.internet.endpoints import HostnameEndpoint, serverFromString, wrapClientTLS
from twisted.internet.protocol import DatagramProtocol, Factory, Protocol
from twisted.plugin import IPlugin
from twisted.python.filepath import FilePath
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface import implementer
from zope.interface.verify import verifyObject

from oso import secrets
from oso.callmodel.devices import Credentials, Device
from oso.certificates import ensureCertificate, escapeEndpoint
from oso.config import ConfigError
from oso.interfaces import IComponent
from oso.interfaces.sip import ISIPApplication, IUserAgent
from oso.plugins.sip import sip
from oso.service import ServerContext
from oso.sip.digest import digestResponse
from oso.sip.framing import StreamFramer
from oso.sip.listeners import ListenSpec
from oso.sip.message import Request, parseMessage
from oso.sip.transaction import makeResponse, newBranch
from oso.sip.transport import hostReference
from oso.sip.uri import SIPURI
from oso.testing import Exchange
from sip_loopback import hasIPv6

WHERE = "oso.toml: components.sip"
REALM = "oso.test"
PASSWORD = "secret-200"


class ValidateConfigTests(SynchronousTestCase):
    def test_provides(self):
        """
        The component is a plugin providing IComponent, of kind protocol.
        """
        verifyObject(IPlugin, sip)
        verifyObject(IComponent, sip)
        self.assertEqual((sip.name, sip.kind), ("sip", "protocol"))

    def test_defaults(self):
        """
        By default SIP listens on UDP and TCP 5060 and TLS 5061, with RFC
        3261's timers.
        """
        settings = sip.validateConfig({}, WHERE)
        self.assertEqual(
            settings["listen"],
            [ListenSpec("UDP", 5060), ListenSpec("TCP", 5060), ListenSpec("TLS", 5061)],
        )
        self.assertEqual((settings["t1"], settings["t2"], settings["t4"]), (0.5, 4.0, 5.0))

    def test_interfaces(self):
        """
        A listener may name its interface, IPv4 or IPv6.
        """
        settings = sip.validateConfig(
            {"listen": ["udp:5070:interface=127.0.0.1", "tls:0:interface=::1"]}, WHERE
        )
        self.assertEqual(
            settings["listen"], [ListenSpec("UDP", 5070, "127.0.0.1"), ListenSpec("TLS", 0, "::1")]
        )

    def test_badValues(self):
        """
        Unknown keys and bad values are ConfigErrors naming the key.
        """
        for section, key in [
            ({"colour": 1}, "colour"),
            ({"listen": "udp:5060"}, "listen"),
            ({"listen": []}, "listen"),
            ({"listen": ["sctp:5060"]}, "listen[0]"),
            ({"listen": ["udp:5060", "tcp:x"]}, "listen[1]"),
            ({"listen": ["udp:99999"]}, "listen[0]"),
            ({"listen": ["udp:5060:interface=somewhere"]}, "listen[0]"),
            ({"listen": ["udp:5060:backlog=5"]}, "listen[0]"),
            ({"t1": 0}, "t1"),
            ({"t2": "4"}, "t2"),
            ({"min-expires": 0}, "min-expires"),
            ({"max-contacts": 1.5}, "max-contacts"),
            ({"min-expires": 600, "max-expires": 300}, "min-expires"),
            ({"address": 5}, "address"),
        ]:
            with self.assertRaises(ConfigError) as raised:
                sip.validateConfig(section, WHERE)
            self.assertTrue(str(raised.exception).startswith(f"{WHERE}.{key}:"), section)


@implementer(ISIPApplication)
class Recorder:
    """
    An application that records what reaches it and answers every
    request with 200.
    """

    methods = frozenset({"INVITE", "ACK", "BYE", "CANCEL", "MESSAGE"})

    def __init__(self):
        self.requests = []
        self.responses = []
        self.failures = []
        self.changes = []

    def requestReceived(self, request, transaction, source):
        self.requests.append((request, source))
        if transaction is not None:
            transaction.respond(makeResponse(request, 200, toTag="app"))

    def responseReceived(self, response, transaction):
        self.responses.append(response)

    def transactionFailed(self, transaction, reason):
        self.failures.append(reason)

    def bindingsChanged(self, aor):
        self.changes.append(aor)


class _Datagrams(DatagramProtocol):
    def __init__(self, peer):
        self.peer = peer

    def datagramReceived(self, data, address):
        self.peer.arrived(data)


class _Stream(Protocol):
    def __init__(self, peer):
        self.peer = peer
        self.framer = StreamFramer()

    def connectionMade(self):
        self.peer.stream = self

    def dataReceived(self, data):
        for item in self.framer.feed(data):
            self.peer.arrived(item)

    def connectionLost(self, reason):
        self.peer.arrived(None)


class Peer:
    """
    A SIP phone's sockets: one UDP port or one TCP/TLS connection to the
    server, what arrives queued, as bytes.
    """

    def __init__(self, transport, host, server):
        self.transport = transport
        self.host = host
        self.server = server
        self.queue = []
        self.waiting = []
        self.stream = None
        self.advertised = None

    async def open(self):
        if self.transport == "UDP":
            self.port = reactor.listenUDP(0, _Datagrams(self), interface=self.host)
            self.local = self.port.getHost()
        else:
            endpoint = HostnameEndpoint(reactor, *self.server)
            if self.transport == "TLS":
                endpoint = wrapClientTLS(ssl.CertificateOptions(), endpoint)
            protocol = await endpoint.connect(Factory.forProtocol(lambda: _Stream(self)))
            self.local = protocol.transport.getHost()
        return self

    def close(self):
        if self.transport == "UDP":
            return self.port.stopListening()
        self.stream.transport.loseConnection()

    @property
    def sentBy(self):
        """
        The address it writes in Via and Contact: its own, or the port it
        C{advertised}.
        """
        return f"{hostReference(self.local.host)}:{self.advertised or self.local.port}"

    def send(self, data):
        if self.transport == "UDP":
            self.port.write(data, self.server)
        else:
            self.stream.transport.write(data)

    def arrived(self, data):
        if self.waiting:
            self.waiting.pop(0).callback(data)
        else:
            self.queue.append(data)

    def next(self, timeout=5):
        """
        @return: a L{Deferred} firing with the next bytes that arrive.
        """
        if self.queue:
            d = Deferred()
            d.callback(self.queue.pop(0))
            return d
        d = Deferred()
        self.waiting.append(d)
        d.addTimeout(timeout, reactor)
        return d

    async def exchange(self, data):
        self.send(data)
        return parseMessage(await self.next(), self.transport == "UDP")

    def request(self, method, user="200", cseq=1, callID="call-1", extra=(), uri=None):
        host = hostReference(self.server[0])
        uri = uri or f"sip:{host}"
        lines = [
            f"{method} {uri} SIP/2.0",
            f"Via: SIP/2.0/{self.transport} {self.sentBy};branch={newBranch()};rport",
            "Max-Forwards: 70",
            f"From: <sip:{user}@{host}>;tag=peer{cseq}",
            f"To: <sip:{user}@{host}>",
            f"Call-ID: {callID}",
            f"CSeq: {cseq} {method}",
            f"Contact: <sip:{user}@{self.sentBy};transport={self.transport.lower()}>",
            *extra,
            "Content-Length: 0",
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()


def authorization(challenge, uri, user="200", password=PASSWORD, method="REGISTER"):
    params = challenge.params
    ha1 = secrets.digestHA1(user, params["realm"], password)
    response = digestResponse(ha1, method, uri, params["nonce"], "auth", "00000001", "c0ffee")
    return (
        f'Authorization: Digest username="{user}", realm="{params["realm"]}", '
        f'nonce="{params["nonce"]}", uri="{uri}", response="{response}", algorithm=MD5, '
        f'qop=auth, nc=00000001, cnonce="c0ffee", opaque="{params["opaque"]}"'
    )


class LiveTests(TestCase):
    """
    The component on real loopback sockets, one listener of each kind.
    """

    host = "127.0.0.1"

    def setUp(self):
        self.x = Exchange(stations=())
        self.x.addDevice(
            Device(
                "200",
                port="sip-lines",
                credentials=Credentials(
                    digestHA1=((REALM, secrets.digestHA1("200", REALM, PASSWORD)),)
                ),
            )
        )
        self.services = MultiService()
        context = ServerContext(
            reactor, self.x.model, self.x.store, FilePath(self.mktemp()),
            SimpleNamespace(realm=REALM), self.services,
        )
        context.dataDirectory.makedirs()
        settings = sip.validateConfig(
            {"listen": [f"{kind}:0:interface={self.host}" for kind in ("udp", "tcp", "tls")]},
            WHERE,
        )
        self.service = sip.makeService(settings, context)
        self.service.setName("sip")
        self.service.setServiceParent(self.services)
        self.services.startService()
        self.addCleanup(self.services.stopService)

    def address(self, transport):
        return self.service.transports.addresses[transport]

    async def peer(self, transport):
        peer = await Peer(transport, self.host, self.address(transport)).open()
        self.addCleanup(peer.close)
        return peer

    def test_userAgent(self):
        """
        The service is the user agent core other components attach to.
        """
        verifyObject(IUserAgent, self.service)
        self.assertEqual(str(self.service.contact("TLS")).split(":")[0], "sips")
        via = self.service.via("TCP")
        self.assertEqual((via.transport, via.port), ("TCP", self.address("TCP")[1]))
        self.assertIn("rport", via.params)

    async def _register(self, transport):
        peer = await self.peer(transport)
        challenge = await peer.exchange(peer.request("REGISTER"))
        self.assertEqual(challenge.status, 401)
        uri = f"sip:{hostReference(self.host)}"
        answer = await peer.exchange(
            peer.request(
                "REGISTER", cseq=2,
                extra=[authorization(challenge.headers.getParsed("www-authenticate"), uri),
                       "Expires: 600"],
            )
        )
        self.assertEqual(answer.status, 200, answer.reason)
        (contact,) = answer.contacts
        self.assertEqual(contact.uri.port, peer.local.port)
        (binding,) = self.service.registrar.contacts("200")
        self.assertEqual((binding.transport, binding.port), (transport, peer.local.port))
        # RFC 3581: the response says where the request came from.
        via = answer.via
        self.assertEqual((via.received, via.rport), (self.host, peer.local.port))
        return peer

    def test_registerUDP(self):
        return ensureDeferred(self._register("UDP"))

    def test_registerTCP(self):
        return ensureDeferred(self._register("TCP"))

    def test_registerTLS(self):
        return ensureDeferred(self._register("TLS"))

    def test_wrongPassword(self):
        """
        A REGISTER with the wrong password gets 403; one for another
        extension's AOR too (with 200's own credentials); one that requires
        an extension 420.
        """

        async def run():
            peer = await self.peer("UDP")
            challenge = await peer.exchange(peer.request("REGISTER"))
            params = challenge.headers.getParsed("www-authenticate")
            uri = f"sip:{hostReference(self.host)}"
            refused = await peer.exchange(
                peer.request("REGISTER", cseq=2, extra=[authorization(params, uri, password="x")])
            )
            self.assertEqual(refused.status, 403)
            self.assertEqual(self.service.registrar.contacts("200"), [])
            challenge = await peer.exchange(peer.request("REGISTER", user="201", cseq=3))
            params = challenge.headers.getParsed("www-authenticate")
            other = peer.request("REGISTER", user="201", cseq=4, extra=[authorization(params, uri)])
            refused = await peer.exchange(other)
            self.assertEqual((refused.status, refused.reason),
                             (403, "Forbidden (not your address of record)"))
            self.assertEqual(self.service.registrar.contacts("201"), [])
            required = await peer.exchange(peer.request("REGISTER", cseq=5, extra=["Require: gruu"]))
            self.assertEqual((required.status, required.headers.get("unsupported")), (420, "gruu"))

        return ensureDeferred(run())

    def test_options(self):
        """
        OPTIONS outside a dialog gets 200 with Allow, Accept and Supported.
        """

        async def run():
            peer = await self.peer("TCP")
            answer = await peer.exchange(peer.request("OPTIONS"))
            self.assertEqual(answer.status, 200)
            self.assertEqual(answer.headers.getAll("allow"), ["OPTIONS", "REGISTER"])
            self.assertEqual(answer.headers.get("accept"), "application/sdp")
            self.assertIn("supported", answer.headers)
            self.assertIsNotNone(answer.toAddress.tag)

        return ensureDeferred(run())

    def test_methodsNobodyTakes(self):
        """
        Without an application INVITE gets 405 with Allow; an unknown
        method 501.
        """

        async def run():
            peer = await self.peer("UDP")
            invite = await peer.exchange(peer.request("INVITE", uri=f"sip:201@{hostReference(self.host)}"))
            self.assertEqual((invite.status, invite.headers.getAll("allow")), (405, ["OPTIONS", "REGISTER"]))
            unknown = await peer.exchange(peer.request("FROBNICATE", cseq=2))
            self.assertEqual(unknown.status, 501)

        return ensureDeferred(run())

    def test_malformed(self):
        """
        A malformed request gets 400 whose reason phrase says what is
        wrong, over UDP and over TCP; a malformed response is dropped; the
        server goes on answering.
        """

        async def run():
            for transport in ("UDP", "TCP"):
                peer = await self.peer(transport)
                bad = peer.request("OPTIONS").replace(b"Max-Forwards: 70", b"Max-Forwards: many")
                answer = await peer.exchange(bad)
                self.assertEqual(answer.status, 400)
                self.assertIn("Max-Forwards", answer.reason)
                peer.send(b"SIP/2.0 200 OK\r\nVia: nonsense\r\nContent-Length: 0\r\n\r\n")
                answer = await peer.exchange(peer.request("OPTIONS", cseq=3))
                self.assertEqual(answer.status, 200)

        return ensureDeferred(run())

    def test_uncuttableStream(self):
        """
        A stream whose Content-Length is not a number cannot be cut into
        messages any more: the server closes it.
        """

        async def run():
            peer = await self.peer("TCP")
            peer.send(peer.request("OPTIONS").replace(b"Content-Length: 0", b"Content-Length: x"))
            self.assertIsNone(await peer.next())

        return ensureDeferred(run())

    def test_keepAlive(self):
        """
        A CRLFCRLF ping on a stream gets a CRLF pong (RFC 5626 3.5.1).
        """

        async def run():
            for transport in ("TCP", "TLS"):
                peer = await self.peer(transport)
                peer.send(b"\r\n\r\n")
                self.assertEqual(await peer.next(), b"\r\n")

        return ensureDeferred(run())

    def test_connectionReuse(self):
        """
        A request to a peer that registered over TCP goes over the
        connection it registered on; the attached application gets the
        peer's response, and requests of its methods.
        """

        async def run():
            application = Recorder()
            self.service.attach(application, fallback=True)
            self.addCleanup(self.service.detach, application)
            peer = await self._register("TCP")
            self.assertEqual(application.changes, ["200"])
            (binding,) = self.service.registrar.contacts("200")
            request = Request("MESSAGE", SIPURI(hostReference(self.host), user="200", port=binding.port))
            request.headers.add("via", self.service.via("TCP"))
            for name, value in [
                ("max-forwards", "70"), ("from", "<sip:oso@oso.test>;tag=x"),
                ("to", "<sip:200@oso.test>"), ("call-id", "reuse-1"),
                ("cseq", "1 MESSAGE"),
            ]:
                request.headers.add(name, value)
            self.service.request(request, (binding.host, binding.port), "TCP")
            received = parseMessage(await peer.next(), False)
            self.assertEqual((received.method, received.callID), ("MESSAGE", "reuse-1"))
            peer.send(
                b"SIP/2.0 200 OK\r\nVia: " + str(received.via).encode()
                + b"\r\nFrom: <sip:oso@x>;tag=x\r\nTo: <sip:200@x>;tag=y\r\n"
                b"Call-ID: reuse-1\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n"
            )
            answer = await peer.exchange(
                peer.request("BYE", cseq=9, extra=["Allow: INVITE"])
            )
            self.assertEqual(answer.status, 200)
            self.assertEqual([r.status for r in application.responses], [200])
            ((bye, source),) = application.requests
            self.assertEqual(source, ("TCP", self.host, peer.local.port))
            self.assertEqual(len(self.service.transports._connections), 1)

        return ensureDeferred(run())


    def message(self, port, callID, transport="TCP"):
        request = Request("MESSAGE", SIPURI(hostReference(self.host), user="200", port=port))
        request.headers.add("via", self.service.via(transport))
        for name, value in [
            ("max-forwards", "70"), ("from", "<sip:oso@oso.test>;tag=x"),
            ("to", "<sip:200@oso.test>"), ("call-id", callID), ("cseq", "1 MESSAGE"),
        ]:
            request.headers.add(name, value)
        return request

    def test_viaAlias(self):
        """
        A phone on TCP whose Via and Contact name the port it listens on,
        not the connection's: requests to that address go over its
        connection.
        """

        async def run():
            peer = await self.peer("TCP")
            peer.advertised = 5999
            self.assertEqual((await peer.exchange(peer.request("OPTIONS"))).status, 200)
            self.service.request(self.message(5999, "alias-1"), (self.host, 5999), "TCP")
            received = parseMessage(await peer.next(), False)
            self.assertEqual(received.callID, "alias-1")

        return ensureDeferred(run())

    async def _connectionMade(self, transport):
        application = Recorder()
        self.service.attach(application, fallback=True)
        self.addCleanup(self.service.detach, application)
        accepted = []

        class Listener(_Stream):
            def connectionMade(self):
                accepted.append(self)

        description = f"tcp:0:interface={escapeEndpoint(self.host)}"
        if transport == "TLS":
            files = ensureCertificate(FilePath(self.mktemp()))
            description = "ssl" + description[3:] + ":" + files.endpointArguments()
        port = await serverFromString(reactor, description).listen(
            Factory.forProtocol(lambda: Listener(peer))
        )
        self.addCleanup(port.stopListening)
        peer = Peer(transport, self.host, None)
        number = port.getHost().port
        for callID in ("made-1", "made-2"):
            request = self.message(number, callID, transport)
            self.service.request(request, (self.host, number), transport)
            received = parseMessage(await peer.next(), False)
            self.assertEqual(received.callID, callID)
        self.assertEqual(len(accepted), 1)
        for stream in accepted:
            self.addCleanup(stream.transport.loseConnection)
        with socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET) as s:
            s.bind((self.host, 0))
            closed = s.getsockname()[1]
        request = self.message(closed, "nobody", transport)
        self.service.request(request, (self.host, closed), transport)
        while not application.failures:
            await deferLater(reactor, 0.05)
        self.assertEqual(application.failures, ["transport"])

    def test_connectionMadeTCP(self):
        """
        A request to a peer with no connection open makes one; the next
        request reuses it; a peer where nothing listens is a transport
        failure of the transaction.
        """
        return ensureDeferred(self._connectionMade("TCP"))

    def test_connectionMadeTLS(self):
        """
        The same over TLS.
        """
        return ensureDeferred(self._connectionMade("TLS"))


class LiveIPv6Tests(LiveTests):
    """
    The same over IPv6 (::1).
    """

    host = "::1"

    def setUp(self):
        if not hasIPv6():
            self.skipTest("this machine has no IPv6 loopback")
        super().setUp()

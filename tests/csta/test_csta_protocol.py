"""
Tests for L{oso.csta.protocol} and the C{csta} component
(L{oso.plugins.csta}).
"""

import pytest
from twisted.internet import defer, protocol, ssl
from twisted.internet.endpoints import TCP4ClientEndpoint, wrapClientTLS
from twisted.python.filepath import FilePath
from twisted.internet.testing import MemoryReactor, StringTransport
from twisted.trial.unittest import TestCase
from zope.interface.verify import verifyObject

from oso.callmodel.devices import Credentials, Device
from oso.config import ConfigError
from oso.csta import ber
from oso.csta import messages as m
from oso.csta.framing import BERFramer, XMLFramer, frameXML
from oso.csta.protocol import CSTAFactory
from oso.csta.xml import Edition, modelCodec
from oso.interfaces import IComponent
from oso.plugins.csta import csta, passwordChecker
from oso.secrets import hashPassword
from oso.testing import Exchange

CODEC = modelCodec()
AARQ = ber.encode(m.AssociationRequest(applicationContextName="1.3.12.0.285.200"))


def connect(factory):
    """
    Connect a protocol of C{factory} to a L{StringTransport}.
    """
    proto = factory.buildProtocol(None)
    transport = StringTransport()
    proto.makeConnection(transport)
    return proto, transport


def test_linkLimit():
    """
    The factory admits C{maxLinks} links; one more gets an AARE reject
    saying why and is closed, and a closed link frees its place.
    """
    exchange = Exchange()
    factory = CSTAFactory(exchange.clock, exchange.model, maxLinks=1)
    first, firstTransport = connect(factory)
    first.dataReceived(AARQ)
    assert ber.decode(BERFramer().feed(firstTransport.value())[0]).result is m.AssociateResult.accepted
    second, secondTransport = connect(factory)
    second.dataReceived(AARQ)
    [aare] = [ber.decode(f) for f in BERFramer().feed(secondTransport.value())]
    assert aare.result is m.AssociateResult.rejectedTransient
    assert aare.privateData == (b"CSTA link limit of 1 reached",)
    assert secondTransport.disconnecting
    second.connectionLost(None)
    first.connectionLost(None)
    third, thirdTransport = connect(factory)
    third.dataReceived(AARQ)
    assert ber.decode(BERFramer().feed(thirdTransport.value())[0]).result is m.AssociateResult.accepted


def test_component():
    """
    The component provides L{IComponent}; its defaults listen on TCP 8800
    with four links.
    """
    verifyObject(IComponent, csta)
    settings = csta.validateConfig({}, "oso.toml: components.csta")
    assert settings == {
        "listen": ["tcp:8800"], "max-links": 4, "heartbeat-timeout": 120.0, "require-auth": False,
        "event-limit": 10000,
    }


@pytest.mark.parametrize(
    "section, where, message",
    [
        ({"listen": ["tcp:8800", "nonsense:1"]}, "listen[1]", "not an endpoint description"),
        ({"listen": ["ssl:eighty"]}, "listen[0]", "not an endpoint description"),
        ({"listen": ["ssl:8801:privateKey=/nonexistent.pem"]}, "listen[0]", "not an endpoint description"),
        ({"max-links": 0}, "max-links", "expected a whole number >= 1"),
        ({"event-limit": True}, "event-limit", "expected a whole number >= 1"),
        ({"heartbeat-timeout": -1}, "heartbeat-timeout", "expected seconds (a number > 0)"),
        ({"require-auth": "yes"}, "require-auth", "expected true or false"),
        ({"port": 8800}, "port", "unknown key"),
    ],
)
def test_badConfig(section, where, message):
    """
    Bad settings are a L{ConfigError} naming the key.
    """
    with pytest.raises(ConfigError) as raised:
        csta.validateConfig(section, "oso.toml: components.csta")
    assert str(raised.value) == f"oso.toml: components.csta.{where}: {message}"


class Context:
    def __init__(self, reactor, exchange, dataDirectory=None):
        self.reactor = reactor
        self.callModel = exchange.model
        self.dataDirectory = dataDirectory


def test_makeServiceListensOnEach():
    """
    makeService listens on every configured endpoint.
    """
    reactor = MemoryReactor()
    settings = csta.validateConfig({"listen": ["tcp:8800", "tcp:8801:interface=127.0.0.1"]}, "x")
    service = csta.makeService(settings, Context(reactor, Exchange()))
    service.startService()
    assert [(port, interface) for port, _, _, interface in reactor.tcpServers] == [(8800, ""), (8801, "127.0.0.1")]
    service.stopService()


def test_sharedCertificateListener(tmp_path):
    """
    An C{ssl:} description without key files is served with the server
    certificate, made in the data directory's C{tls} folder; one with its
    own files is used as written.
    """
    reactor = MemoryReactor()
    data = FilePath(str(tmp_path))
    settings = csta.validateConfig({"listen": ["ssl:8801:interface=127.0.0.1", "tcp:8800"]}, "x")
    service = csta.makeService(settings, Context(reactor, Exchange(), data))
    service.startService()
    [(port, _, contextFactory, _, interface), ] = reactor.sslServers
    assert (port, interface) == (8801, "127.0.0.1")
    made = ssl.Certificate.loadPEM(data.child("tls").child("server.crt").getContent())
    assert contextFactory.certificate.digest("sha256") == made.original.digest("sha256")
    assert [port for port, _, _, _ in reactor.tcpServers] == [8800]
    service.stopService()


class Client(protocol.Protocol):
    """
    A test client: collects what the server sends; C{arrived} fires once
    C{want} frames came.
    """

    def __init__(self, framer, want):
        self.framer = framer
        self.want = want
        self.frames = []
        self.arrived = defer.Deferred()
        self.closed = defer.Deferred()

    def dataReceived(self, data):
        self.frames += self.framer.feed(data)
        if len(self.frames) >= self.want and not self.arrived.called:
            self.arrived.callback(self.frames)

    def connectionLost(self, reason):
        self.closed.callback(None)


def hangUp(client):
    """
    Close a test client's connection.

    @return: a L{Deferred} that fires once it is closed (a TLS close takes
        a round trip).
    """
    client.transport.loseConnection()
    return client.closed


class LoopbackTests(TestCase):
    """
    The component on a real loopback TCP listener.
    """

    def test_berAndXMLOnOnePort(self):
        """
        A BER client and an XML client associate on the same port and each
        gets SystemStatus (normal); a third client over the limit of two is
        refused and closed.
        """
        from twisted.internet import reactor

        return defer.ensureDeferred(self.session(reactor, "tcp:0:interface=127.0.0.1", lambda e: e))

    def test_berAndXMLOverTLS(self):
        """
        The same through an C{ssl:} listener with the server certificate:
        real TLS clients that trust it and check the name 127.0.0.1.
        """
        from twisted.internet import reactor

        data = FilePath(self.mktemp())

        def overTLS(endpoint):
            certificate = data.child("tls").child("server.crt").getContent()
            trust = ssl.Certificate.loadPEM(certificate)
            return wrapClientTLS(ssl.optionsForClientTLS("127.0.0.1", trustRoot=trust), endpoint)

        return defer.ensureDeferred(self.session(reactor, "ssl:0:interface=127.0.0.1", overTLS, data))

    async def session(self, reactor, listen, wrap, dataDirectory=None):
        """
        Run the clients against a component listening on C{listen}, each
        connecting through C{wrap(TCP endpoint)}.
        """
        settings = csta.validateConfig({"listen": [listen], "max-links": 2}, "x")
        service = csta.makeService(settings, Context(reactor, Exchange(), dataDirectory))
        service.startService()
        self.addCleanup(service.stopService)
        port = await list(service)[0]._waitingForPort
        endpoint = wrap(TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port))

        berClient = await endpoint.connect(protocol.Factory.forProtocol(lambda: Client(BERFramer(), 2)))
        self.addCleanup(hangUp, berClient)
        berClient.transport.write(AARQ)
        aare, status = [ber.decode(f) for f in (await berClient.arrived)]
        self.assertEqual(aare.result, m.AssociateResult.accepted)
        self.assertEqual(status.argument, m.SystemStatus(systemStatus=m.SystemStatusValue.normal))

        xmlClient = await endpoint.connect(protocol.Factory.forProtocol(lambda: Client(XMLFramer(), 2)))
        self.addCleanup(hangUp, xmlClient)
        xmlClient.transport.write(frameXML(1, CODEC.encode(m.RequestSystemStatus(), Edition.ED3)))
        (_, response), (_, status) = [(i, CODEC.decode(d)[1]) for i, d in (await xmlClient.arrived)]
        self.assertEqual(response, m.RequestSystemStatusResponse(systemStatus=m.SystemStatusValue.normal))
        self.assertEqual(status, m.SystemStatus(systemStatus=m.SystemStatusValue.normal))

        refused = await endpoint.connect(protocol.Factory.forProtocol(lambda: Client(BERFramer(), 1)))
        refused.transport.write(AARQ)
        [aare] = [ber.decode(f) for f in (await refused.arrived)]
        self.assertEqual(aare.result, m.AssociateResult.rejectedTransient)
        await refused.closed


def test_componentAuthenticatesDevices():
    """
    The component checks credentials against the call model: a device
    number and the password its credentials hold.
    """
    exchange = Exchange(stations=())
    exchange.addDevice(Device("200", credentials=Credentials(passwordHash=hashPassword("s3cret"))))
    check = passwordChecker(exchange.model)
    assert check("200", "s3cret")
    assert not check("200", "wrong")
    assert not check("999", "s3cret")
    factory = CSTAFactory(exchange.clock, exchange.model, authenticate=check, requireAuth=True)
    proto, transport = connect(factory)
    proto.dataReceived(
        ber.encode(
            m.AssociationRequest(applicationContextName="1.3.12.0.285.200", privateData=(b"user=200,passwd=s3cret",))
        )
    )
    assert ber.decode(BERFramer().feed(transport.value())[0]).result is m.AssociateResult.accepted

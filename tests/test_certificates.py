"""
Tests for L{oso.certificates}: the self-signed certificate made on first
start, kept afterwards, and usable by a real TLS listener.
"""

import os
import stat

from twisted.internet import defer, endpoints, protocol, reactor, ssl
from twisted.trial.unittest import TestCase
from twisted.python.filepath import FilePath

from oso.certificates import ensureCertificate, escapeEndpoint


class _Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


class _Collect(protocol.Protocol):
    def __init__(self):
        self.received = b""
        self.done = defer.Deferred()

    def connectionMade(self):
        self.transport.write(b"ping")

    def dataReceived(self, data):
        self.received += data
        if self.received == b"ping":
            self.transport.loseConnection()

    def connectionLost(self, reason):
        self.done.callback(self.received)


class EnsureCertificateTests(TestCase):
    def setUp(self):
        self.data = FilePath(self.mktemp())

    def test_madeOnFirstUse(self):
        """
        The first call makes a key readable only by the owner and a
        certificate naming the loopback addresses, in C{<data>/tls}.
        """
        files = ensureCertificate(self.data)
        self.assertEqual(files.key.parent(), self.data.child("tls"))
        self.assertTrue(files.certificate.exists())
        self.assertEqual(stat.S_IMODE(os.stat(files.key.path).st_mode), 0o600)
        certificate = ssl.Certificate.loadPEM(files.certificate.getContent())
        self.assertIsNotNone(certificate.getPublicKey())

    def test_keptAfterwards(self):
        """
        Later calls keep the existing files, so an administrator's own
        certificate in their place is used as it is.
        """
        first = ensureCertificate(self.data).certificate.getContent()
        second = ensureCertificate(self.data).certificate.getContent()
        self.assertEqual(first, second)

    def test_escapeEndpoint(self):
        self.assertEqual(escapeEndpoint("C:\\a=b"), "C\\:\\\\a\\=b")

    @defer.inlineCallbacks
    def test_realHandshake(self):
        """
        A TLS listener made from the endpoint arguments completes a real
        handshake with a client that trusts the certificate and checks
        the name 127.0.0.1.
        """
        files = ensureCertificate(self.data)
        server = endpoints.serverFromString(
            reactor, "ssl:0:interface=127.0.0.1:" + files.endpointArguments()
        )
        port = yield server.listen(protocol.Factory.forProtocol(_Echo))
        self.addCleanup(port.stopListening)
        authority = ssl.Certificate.loadPEM(files.certificate.getContent())
        options = ssl.optionsForClientTLS("127.0.0.1", trustRoot=authority)
        client = endpoints.wrapClientTLS(
            options,
            endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port),
        )
        collector = _Collect()
        yield client.connect(protocol.Factory.forProtocol(lambda: collector))
        received = yield collector.done
        self.assertEqual(received, b"ping")

    @defer.inlineCallbacks
    def test_contextFactory(self):
        """
        The context factory serves the same certificate to a listener made
        without an endpoint string.
        """
        files = ensureCertificate(self.data)
        port = reactor.listenSSL(
            0, protocol.Factory.forProtocol(_Echo), files.contextFactory(),
            interface="127.0.0.1",
        )
        self.addCleanup(port.stopListening)
        authority = ssl.Certificate.loadPEM(files.certificate.getContent())
        options = ssl.optionsForClientTLS("localhost", trustRoot=authority)
        client = endpoints.wrapClientTLS(
            options,
            endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port),
        )
        collector = _Collect()
        yield client.connect(protocol.Factory.forProtocol(lambda: collector))
        self.assertEqual((yield collector.done), b"ping")

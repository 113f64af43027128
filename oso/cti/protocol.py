"""
The Twisted adapter of the CSTA client: a L{Protocol} per connection that
hands bytes to an L{oso.cti.client.CSTAClientLink}, a one-shot L{connect}
from an endpoint string, and L{clientService}, a
L{twisted.application.internet.ClientService} that keeps a link associated,
reconnecting with backoff when it drops.
"""

from twisted.application.internet import ClientService, backoffPolicy
from twisted.internet.endpoints import clientFromString
from twisted.internet.protocol import Factory, Protocol

from oso.cti.client import ClientSettings, CSTAClientLink


class CSTAClientProtocol(Protocol):
    """
    One CSTA client connection.

    @ivar link: its L{CSTAClientLink}, from C{connectionMade} on.
    """

    link = None

    def connectionMade(self):
        self.link = CSTAClientLink(
            self.factory.clock, self.transport.write, self.transport.loseConnection, self.factory.settings
        )
        self.link.connectionMade()

    def dataReceived(self, data):
        self.link.dataReceived(data)

    def connectionLost(self, reason):
        if self.link is not None:
            self.link.connectionLost()


class CSTAClientFactory(Factory):
    """
    Makes L{CSTAClientProtocol}s speaking as C{settings} say.
    """

    protocol = CSTAClientProtocol

    def __init__(self, clock, settings=ClientSettings()):
        """
        @param clock: the L{IReactorTime} of heartbeats and invoke timeouts.
        @param settings: the L{ClientSettings} of every link.
        """
        self.clock = clock
        self.settings = settings


def connect(reactor, description, settings=ClientSettings()):
    """
    Connect to a CSTA server and associate.

    @param reactor: the reactor (its clock runs the link's timers).
    @param description: a client endpoint string (C{tcp:pbx:8800},
        C{tls:pbx:8801}).
    @param settings: the L{ClientSettings}.
    @return: a L{Deferred} firing with the associated
        L{oso.interfaces.cti.ICSTAClient}, or failing with the connection's
        or the association's error.
    """
    endpoint = clientFromString(reactor, description)
    connected = endpoint.connect(CSTAClientFactory(reactor, settings))
    return connected.addCallback(lambda protocol: protocol.link.whenAssociated())


def clientService(
    reactor, description, settings=ClientSettings(), onAssociated=None, retryPolicy=None
):
    """
    A service that keeps one CSTA link associated: when the connection or
    the association fails, or the link drops, it connects again after a
    backoff delay.

    C{service.whenConnected()} fires with the L{CSTAClientProtocol} of an
    associated link (its C{link} is the client); C{onAssociated} is the
    place to start monitors again on each new link.

    @param onAssociated: called with each newly associated link before
        C{whenConnected} sees it; may return a L{Deferred}. Its failure
        drops the link, which is then made again.
    @param retryPolicy: C{attempt -> seconds}; by default
        L{backoffPolicy}'s exponential backoff with jitter.
    @return: a L{ClientService}, not yet started.
    """

    def prepare(protocol):
        link = protocol.link
        associated = link.whenAssociated()
        if onAssociated is not None:
            associated.addCallback(onAssociated).addErrback(_dropping, link)
        return associated

    return ClientService(
        clientFromString(reactor, description),
        CSTAClientFactory(reactor, settings),
        retryPolicy=retryPolicy or backoffPolicy(),
        clock=reactor,
        prepareConnection=prepare,
    )


def _dropping(failure, link):
    """
    Close a link its preparation failed on, so that the service makes
    another, and pass the failure on.
    """
    link.abort()
    return failure

"""
The Twisted adapter of the CSTA client: a L{Protocol} per connection that
hands bytes to an L{oso.cti.client.CSTAClientLink}, a one-shot L{connect}
from an endpoint string, and L{CSTAClientService}, a
L{twisted.application.internet.ClientService} that keeps a link associated,
reconnecting with backoff when it drops.
"""

from twisted.application.internet import ClientService, backoffPolicy
from twisted.internet.defer import Deferred, maybeDeferred, succeed
from twisted.internet.endpoints import clientFromString
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger

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
        self.factory.linkMade(self.link)
        self.link.connectionMade()

    def dataReceived(self, data):
        self.link.dataReceived(data)

    def connectionLost(self, reason):
        if self.link is not None:
            self.link.connectionLost()


class CSTAClientFactory(Factory):
    """
    Makes L{CSTAClientProtocol}s speaking as C{settings} say, and keeps
    track of their associations: the one associated link, the waiters for
    one, and how many links in a row closed before associating.

    @ivar link: the associated link now open, or L{None}.
    @ivar refusals: links in a row that closed unassociated.
    """

    protocol = CSTAClientProtocol
    log = Logger()

    def __init__(self, clock, settings=ClientSettings(), onAssociated=None):
        """
        @param clock: the L{IReactorTime} of heartbeats and invoke timeouts.
        @param settings: the L{ClientSettings} of every link.
        @param onAssociated: called with each newly associated link before
            L{whenAssociated} waiters see it; may return a L{Deferred}. If
            it fails, the link is aborted.
        """
        self.clock = clock
        self.settings = settings
        self.onAssociated = onAssociated
        self.link = None
        self.refusals = 0
        self._waiters = []

    def linkMade(self, link):
        """
        Follow a new link until it is associated or closed.
        """
        link.whenAssociated().addCallbacks(self._associated, self._refused)
        link.whenClosed(lambda: self._lost(link))

    def whenAssociated(self):
        """
        @return: a L{Deferred} firing with the associated link, now or when
            the next one is ready.
        """
        if self.link is not None:
            return succeed(self.link)
        waiter = Deferred()
        self._waiters.append(waiter)
        return waiter

    def _associated(self, link):
        self.refusals = 0
        prepared = maybeDeferred(self.onAssociated or (lambda _: None), link)
        prepared.addCallbacks(lambda _: self._ready(link), self._unprepared, errbackArgs=(link,))

    def _ready(self, link):
        if link.closed:
            return
        self.link = link
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.callback(link)

    def _unprepared(self, failure, link):
        self.log.failure("preparing an associated CSTA link failed", failure)
        link.abort()

    def _refused(self, failure):
        self.refusals += 1
        self.log.warn("CSTA link not associated: {why}", why=failure.getErrorMessage())

    def _lost(self, link):
        if self.link is link:
            self.link = None


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


class CSTAClientService(ClientService):
    """
    A service that keeps one CSTA link associated: when the connection
    fails, the association is refused or the link drops, it connects again
    after a backoff delay that grows with each failure in a row.

    Association happens on the connection, not in the service's
    C{prepareConnection}: a link that closes while C{ClientService}
    prepares it is an input its state machine refuses (Twisted 26.10).

    @ivar clientFactory: the L{CSTAClientFactory}.
    """

    def __init__(
        self, reactor, description, settings=ClientSettings(), onAssociated=None, retryPolicy=None
    ):
        """
        @param reactor: the reactor.
        @param description: a client endpoint string.
        @param settings: the L{ClientSettings}.
        @param onAssociated: see L{CSTAClientFactory}: the place to start
            monitors again on each new link.
        @param retryPolicy: C{failures -> seconds}; by default
            L{backoffPolicy}'s exponential backoff with jitter.
        """
        self.clientFactory = CSTAClientFactory(reactor, settings, onAssociated)
        policy = retryPolicy or backoffPolicy()
        super().__init__(
            clientFromString(reactor, description),
            self.clientFactory,
            retryPolicy=lambda attempt: policy(max(attempt, self.clientFactory.refusals)),
            clock=reactor,
        )

    def whenAssociated(self):
        """
        @return: a L{Deferred} firing with the associated
            L{oso.interfaces.cti.ICSTAClient}, now or once the service has
            made one.
        """
        return self.clientFactory.whenAssociated()

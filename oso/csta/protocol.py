"""
The Twisted adapter of the CSTA link: a L{Protocol} per TCP connection
that hands bytes to an L{oso.csta.link.CSTALink}, and a L{Factory} that
keeps the link limit.

CSTA links are licensed per link on the OpenScape Office MX: the factory
admits at most C{maxLinks} at once; one more is still given a link, told to
refuse the client's first message with a reason (an AARE reject for BER, a
CSTAErrorCode for XML) and closed.

Each connection writes through an L{OutboundQueue} it feeds as the
transport's push producer, so a client that reads slowly holds frames in
its own bounded queue, never in the call model or another link.
"""

from twisted.internet.interfaces import IPushProducer
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger
from zope.interface import implementer

from oso.csta.link import DEFAULT_EVENT_LIMIT, DEFAULT_HEARTBEAT_TIMEOUT, CSTALink, EventCounts
from oso.csta.outbound import OutboundQueue
from oso.csta.services import ServiceRegistry

#: Links open at once when the configuration says nothing.
DEFAULT_MAX_LINKS = 4


@implementer(IPushProducer)
class CSTAProtocol(Protocol):
    """
    One CSTA connection.

    @ivar link: its L{CSTALink}, from C{connectionMade} on.
    @ivar outbound: its L{OutboundQueue}.
    """

    link = None

    def connectionMade(self):
        refusal = self.factory.admit(self)
        # Answers and events are small and wanted at once: no Nagle delay.
        noDelay = getattr(self.transport, "setTcpNoDelay", None)
        if noDelay is not None:
            noDelay(True)
        self.outbound = OutboundQueue(self.transport.write)
        self.transport.registerProducer(self, True)
        self.link = CSTALink(
            self.factory.clock,
            self.factory.callModel,
            self.outbound.push,
            self._close,
            heartbeatTimeout=self.factory.heartbeatTimeout,
            authenticate=self.factory.authenticate,
            requireAuth=self.factory.requireAuth,
            refusal=refusal,
            services=self.factory.services,
            backlog=self.outbound.__len__,
            eventLimit=self.factory.eventLimit,
            counts=self.factory.counts,
        )

    def dataReceived(self, data):
        self.link.dataReceived(data)

    def connectionLost(self, reason):
        if self.link is not None:
            self.outbound.clear()
            self.link.connectionLost()
        self.factory.release(self)

    def _close(self):
        """
        Close after what waits for the client: a producer still registered
        would hold the connection (TLS) open.
        """
        self.transport.unregisterProducer()
        self.outbound.resume()
        self.transport.loseConnection()

    def pauseProducing(self):
        self.outbound.pause()

    def resumeProducing(self):
        self.outbound.resume()

    def stopProducing(self):
        self.outbound.clear()


class CSTAFactory(Factory):
    """
    Makes L{CSTAProtocol}s and counts the admitted links.

    @ivar links: the admitted protocols now connected.
    @ivar counts: the L{EventCounts} of every link it made.
    """

    protocol = CSTAProtocol
    log = Logger()

    def __init__(
        self,
        clock,
        callModel,
        maxLinks=DEFAULT_MAX_LINKS,
        heartbeatTimeout=DEFAULT_HEARTBEAT_TIMEOUT,
        authenticate=None,
        requireAuth=False,
        services=None,
        eventLimit=DEFAULT_EVENT_LIMIT,
    ):
        """
        @param clock: the L{IReactorTime} for the links' silence timers.
        @param callModel: the L{oso.interfaces.ICallModel} served.
        @param maxLinks: how many links may be open at once.
        @param heartbeatTimeout: seconds of silence that close a link.
        @param authenticate: C{(user, password) -> bool}, or L{None}.
        @param requireAuth: whether a client must authenticate.
        @param services: the L{oso.csta.services.ServiceRegistry} every link
            serves from; a new empty one by default.
        @param eventLimit: frames that may wait for one slow client before
            its events overflow.
        """
        self.clock = clock
        self.callModel = callModel
        self.maxLinks = maxLinks
        self.heartbeatTimeout = heartbeatTimeout
        self.authenticate = authenticate
        self.requireAuth = requireAuth
        self.services = ServiceRegistry() if services is None else services
        self.eventLimit = eventLimit
        self.links = set()
        self.counts = EventCounts()

    def admit(self, protocol):
        """
        Count a new connection in, if the limit allows.

        @return: L{None} when admitted, else the reason it is refused.
        """
        if len(self.links) >= self.maxLinks:
            peer = protocol.transport.getPeer()
            self.log.warn(
                "CSTA link from {peer} refused: {limit} links already open",
                peer=str(peer),
                limit=self.maxLinks,
            )
            return f"CSTA link limit of {self.maxLinks} reached"
        self.links.add(protocol)
        return None

    def release(self, protocol):
        """
        Count a closed connection out.
        """
        self.links.discard(protocol)

"""
STUN on a trunk's own UDP socket: the Twisted side of L{oso.sip.stun}.

The public address that matters is the one of the socket SIP uses toward
the provider, so the binding requests go out of that very socket and their
responses come back into it, among the SIP messages. L{StunClient} writes
through any UDP transport and is offered each datagram first
(L{StunClient.datagramReceived} says whether it took it);
L{StunDemultiplexer} wraps a SIP C{DatagramProtocol} so that STUN goes to
the client and everything else to SIP, told apart by the first octet (a SIP
message starts with a letter or CR) and the length field (RFC 7983).
L{StunRefresher} is a service asking again at an interval, so that a NAT
binding that changed (or expired) is noticed.
"""

from twisted.application.service import Service
from twisted.internet.defer import CancelledError, ensureDeferred
from twisted.internet.protocol import DatagramProtocol
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from oso.sip.stun import (
    BindingTransaction,
    StunError,
    StunErrorResponse,
    StunTimeout,
    decode,
    looksLikeSTUN,
)

log = Logger()


class StunClient:
    """
    Binding requests to one STUN server over a UDP transport shared with
    other traffic.
    """

    def __init__(self, transport, server, clock):
        """
        @param transport: an L{IUDPTransport} (the SIP socket's).
        @param server: the STUN server's C{(ip, port)}.
        @param clock: an L{IReactorTime}.
        """
        self._transport = transport
        self._server = server
        self._clock = clock
        self._pending = {}

    def discover(self):
        """
        Ask the server for this socket's reflexive address.

        @return: a L{Deferred} firing with a L{oso.sip.stun.BindingResult},
            or failing as L{BindingTransaction.done} does.
        """
        transaction = BindingTransaction(self._clock, self._write)
        self._pending[transaction.transactionID] = transaction

        def forget(outcome):
            self._pending.pop(transaction.transactionID, None)
            return outcome

        transaction.done.addBoth(forget)
        transaction.start()
        return transaction.done

    def publicAddress(self):
        """
        Ask for this socket's public address.

        @return: a L{Deferred} firing with C{(host, port)}.
        """
        return self.discover().addCallback(lambda result: (result.mapped.host, result.mapped.port))

    def _write(self, data):
        self._transport.write(data, self._server)

    def datagramReceived(self, data, source):
        """
        Offer a datagram that arrived on the shared socket.

        @return: C{True} when it is STUN (taken here: a response to one of
            our requests, or dropped with a log line), C{False} when it is
            for the other protocol.
        """
        if not looksLikeSTUN(data):
            return False
        try:
            message = decode(data)
        except StunError as error:
            log.warn("Malformed STUN datagram from {source}: {error}", source=source, error=error)
            return True
        transaction = self._pending.get(message.transactionID)
        if transaction is None or not transaction.receive(message):
            log.debug(
                "STUN message 0x{type:04x} from {source} matches no request", type=message.messageType, source=source
            )
        return True

    def stop(self):
        """
        Abandon the requests in flight.
        """
        for transaction in list(self._pending.values()):
            transaction.cancel()


class StunDemultiplexer(DatagramProtocol):
    """
    A C{DatagramProtocol} in front of another (SIP's): STUN datagrams go
    to L{stun}, all others to the wrapped protocol, which shares the port's
    transport.

    @ivar stun: the L{StunClient}, made when the port starts.
    """

    def __init__(self, inner, server, clock):
        """
        @param inner: the wrapped C{DatagramProtocol}.
        @param server: the STUN server's C{(ip, port)}.
        @param clock: an L{IReactorTime}.
        """
        self.inner = inner
        self._server = server
        self._clock = clock
        self.stun = None

    def startProtocol(self):
        self.stun = StunClient(self.transport, self._server, self._clock)
        self.inner.makeConnection(self.transport)

    def stopProtocol(self):
        self.stun.stop()
        self.inner.doStop()

    def datagramReceived(self, data, address):
        if not self.stun.datagramReceived(data, address):
            self.inner.datagramReceived(data, address)

    def connectionRefused(self):
        self.inner.connectionRefused()


class StunRefresher(Service):
    """
    Keeps the reflexive address of a socket current: asks at start and
    every C{interval} seconds after.

    @ivar address: the last reflexive address, C{(host, port)}, or
        C{None} before the first answer.
    """

    def __init__(self, client, clock, interval=300, changed=None):
        """
        @param client: a L{StunClient}.
        @param clock: an L{IReactorTime}.
        @param interval: seconds between requests (under the NAT's UDP
            binding lifetime, often a few minutes).
        @param changed: called with the new C{(host, port)} each time it
            differs from the last one.
        """
        self._client = client
        self._changed = changed
        self.address = None
        self._loop = LoopingCall(self._refresh)
        self._loop.clock = clock
        self._interval = interval

    def startService(self):
        super().startService()
        self._loop.start(self._interval, now=True)

    def stopService(self):
        super().stopService()
        if self._loop.running:
            self._loop.stop()
        self._client.stop()

    def _refresh(self):
        return ensureDeferred(self._ask())

    async def _ask(self):
        try:
            address = await self._client.publicAddress()
        except CancelledError:
            return
        except (StunTimeout, StunErrorResponse, StunError) as error:
            log.warn("STUN refresh failed: {error!r}", error=error)
            return
        if address != self.address:
            self.address = address
            log.info("STUN reflexive address {address}", address=address)
            if self._changed is not None:
                self._changed(address)

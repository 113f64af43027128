"""
SIP's sockets: UDP ports, TCP and TLS listeners and connections, IPv4 and
IPv6, as thin Twisted adapters around L{oso.sip.transport} and
L{oso.sip.framing}.

A listener is configured as C{udp:5060}, C{tcp:5060} or C{tls:5061}, with
an optional C{:interface=ADDRESS} (an IPv6 address as it is, C{::1}).  TCP
and TLS listeners become Twisted endpoint descriptions (C{tcp:},
C{ssl:} with the server certificate); UDP has none, so it is
C{reactor.listenUDP}.

Every open TCP or TLS connection, accepted or made, is in one table keyed
by C{(transport, host, port)} of the peer, and also by the sent-by address
of the Via of requests that came on it, so that responses and new
requests to a peer reuse its connection (RFC 3261 18.2.2, 18.1.1).
"""

import ipaddress
import socket
from dataclasses import dataclass
from functools import lru_cache

from twisted.internet import ssl
from twisted.internet.endpoints import HostnameEndpoint, serverFromString, wrapClientTLS
from twisted.internet.protocol import DatagramProtocol, Factory, Protocol
from twisted.logger import Logger
from twisted.python.failure import Failure

from oso.certificates import escapeEndpoint
from oso.sip.datagrams import ResponseBatch
from oso.sip.framing import PING, StreamFramer
from oso.sip.message import Request, Response
from oso.sip.transport import (
    DEFAULT_PORTS,
    bare,
    readMessage,
    responseDestination,
    viaDestination,
)
from oso.sip.uri import SIPParseError

log = Logger()

#: The receive buffer a UDP port asks for, octets.
UDP_BUFFER = 4 * 1024 * 1024

#: What a UDP port reads at most of one datagram: a whole one (RFC 3261
#: 18.1.1: a message up to the largest datagram must be handled; Twisted's
#: ports read 8,192 octets and drop the rest).
LARGEST_DATAGRAM = 65_535

_KINDS = {"udp": "UDP", "tcp": "TCP", "tls": "TLS"}


@dataclass(frozen=True, slots=True)
class ListenSpec:
    """
    One configured listener.

    @ivar transport: C{"UDP"}, C{"TCP"} or C{"TLS"}.
    @ivar port: the port (0 for any free one).
    @ivar interface: the address to listen on, or C{""} for all (IPv4).
    """

    transport: str
    port: int
    interface: str = ""

    def endpoint(self, tlsArguments=None):
        """
        The Twisted endpoint description of a TCP or TLS listener.

        @param tlsArguments: the C{privateKey=...:certKey=...} of the
            server certificate, for TLS.
        """
        interface = f":interface={escapeEndpoint(self.interface)}" if self.interface else ""
        if self.transport == "TLS":
            return f"ssl:{self.port}{interface}:{tlsArguments}"
        return f"tcp:{self.port}{interface}"


def parseListen(description):
    """
    Read a listener description: C{KIND:PORT[:interface=ADDRESS]}.

    @return: a L{ListenSpec}.
    @raise ValueError: saying what is wrong.
    """
    kind, _, rest = description.partition(":")
    transport = _KINDS.get(kind.strip().lower())
    if transport is None:
        raise ValueError(f"{description!r}: the kind must be udp, tcp or tls")
    port, _, options = rest.partition(":")
    if not (port.isdigit() and port.isascii() and int(port) <= 65535):
        raise ValueError(f"{description!r}: expected a port number after {kind}:")
    interface = ""
    if options:
        name, equals, value = options.partition("=")
        if name != "interface" or not equals:
            raise ValueError(f"{description!r}: the only option is interface=ADDRESS")
        interface = value.replace("\\", "")
        try:
            ipaddress.ip_address(interface)
        except ValueError:
            raise ValueError(f"{description!r}: {interface!r} is not an IP address") from None
    return ListenSpec(transport, int(port), interface)


@lru_cache(maxsize=1024)
def _family(host):
    try:
        return ipaddress.ip_address(host).version
    except ValueError:
        return None


class _ReturnAddress(tuple):
    """
    The C{(host, port)} a UDP request came from, when its responses go back
    to that very address (RFC 3261 18.2.2, RFC 3581 4: its top Via names
    no C{maddr}, and its C{received} and C{rport}, or its sent-by, are the
    source, as they are for most clients).  L{SIPTransports.arrived} finds
    it out from the request's Via, which the codec parsed already (and
    L{readMessage} hands over as it stamped it: C{Arrival.via}); the
    server transaction keeps the source as where its responses go and
    hands it back to L{SIPTransports.send}, which then sends there without
    reading the response's top Via again (a response copies its request's
    Vias as text, and a final one is kept in its sent form: each send would
    parse that Via, 3 to 4 us each, two sends per REGISTER).  Anything
    else is a plain tuple (or an L{_OtherPort}), for which C{send} reads
    the response's Via as before.
    """

    __slots__ = ()


class _OtherPort(tuple):
    """
    The C{(host, port)} a UDP request came from, when it came on a UDP
    port that is not the first of its address family (the one
    L{SIPTransports.send} takes by the family): its responses go out on
    the port it came on, so that they come from the address and port the
    client sent to (RFC 3581 4), and through the network of that port's
    interface.  Its responses' destination is read from their Via.

    @ivar batch: that port's L{ResponseBatch}.
    @ivar family: that port's address family, 4 or 6: a response whose Via
        sends it to an address of the other family goes out on that
        family's first port.
    """

    def __new__(cls, source, batch, family):
        address = super().__new__(cls, source)
        address.batch = batch
        address.family = family
        return address


class _UDP(DatagramProtocol):
    """
    One UDP port: datagrams in to the transports, out from them.
    """

    def __init__(self, transports):
        self.transports = transports
        #: The port's L{ResponseBatch}, once it listens.
        self.batch = None

    def datagramReceived(self, data, address):
        transports = self.transports
        if transports.datagramTaps and any(tap(data, address) for tap in transports.datagramTaps):
            return
        # (arrived takes the host and port out of an IPv6 address's four.)
        transports.arrived(data, "UDP", address, self.batch)


class _Stream(Protocol):
    """
    One TCP or TLS connection: cut into messages, keep-alives answered
    (a CRLFCRLF ping gets a CRLF pong, RFC 5626 3.5.1).
    """

    def __init__(self, transports, kind):
        self.transports = transports
        self.kind = kind
        self.framer = StreamFramer()
        self.key = None

    def connectionMade(self):
        peer = self.transport.getPeer()
        self.key = (self.kind, peer.host, peer.port)
        self.transports.connected(self)

    def dataReceived(self, data):
        try:
            items = self.framer.feed(data)
        except SIPParseError as e:
            log.info("SIP {kind} stream from {peer} cut off: {error}",
                     kind=self.kind, peer=self.key[1:], error=e.message)
            self.transport.loseConnection()
            return
        for item in items:
            if item == PING:
                self.transport.write(b"\r\n")
            elif item != b"\r\n":
                self.transports.arrived(item, self.kind, self.key[1:], self.transport, self)

    def connectionLost(self, reason):
        self.transports.disconnected(self)


class _Connecting:
    """
    A connection being made: what is sent meanwhile waits here.
    """

    def __init__(self):
        self.queue = []

    def write(self, data):
        self.queue.append(data)


class SIPTransports:
    """
    The listeners and connections of one SIP server, and sending by
    C{(message, destination, transport)} as the transaction layer does.

    @ivar addresses: C{transport -> (host, port)} each listener really got
        (the first of each transport).
    @ivar datagramTaps: C{tap(data, address) -> bool} callables offered
        each UDP datagram before SIP; one that returns C{True} took it
        (a STUN client on the SIP socket, see L{oso.sip.trunkstun}).
    """

    def __init__(self, reactor, deliver, tlsArguments=None, connectionFailed=None):
        """
        @param deliver: C{deliver(message, source, transport)} for each
            well-formed message, C{source} being C{(host, port)}.
        @param tlsArguments: the C{privateKey=...:certKey=...} endpoint
            arguments of the server certificate, for TLS listeners.
        @param connectionFailed: C{connectionFailed(transport, host, port)}
            when a connection we made could not be made.
        """
        self.reactor = reactor
        self.deliver = deliver
        self.tlsArguments = tlsArguments
        self.connectionFailed = connectionFailed
        self.addresses = {}
        self._ports = []
        self._udp = {}
        # The ResponseBatch of each UDP port that is not the first of its
        # family -> that family.
        self._otherPorts = {}
        self._connections = {}
        self.datagramTaps = []

    # Listening.

    def listen(self, spec):
        """
        Open the listener C{spec}, at once (so that a port in use stops
        the start).  Each listener serves one address family: IPv4 unless
        its interface is an IPv6 address.

        @return: the address it listens on, C{(host, port)}.
        @raise twisted.internet.error.CannotListenError: when it cannot.
        """
        if spec.transport == "UDP":
            protocol = _UDP(self)
            port = self.reactor.listenUDP(
                spec.port, protocol, interface=spec.interface, maxPacketSize=LARGEST_DATAGRAM
            )
            batch = protocol.batch = ResponseBatch(port, self.reactor)
            # Bursts of requests overflow the default buffer (a few hundred
            # KB) and cost 500 ms retransmissions.
            port.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_BUFFER)
            family = 6 if ":" in spec.interface else 4
            if self._udp.setdefault(family, batch) is not batch:
                self._otherPorts[batch] = family
        else:
            factory = Factory.forProtocol(lambda: _Stream(self, spec.transport))
            endpoint = serverFromString(self.reactor, spec.endpoint(self.tlsArguments))
            # TCP and SSL endpoints listen synchronously: the Deferred has
            # fired already.
            outcome = []
            endpoint.listen(factory).addBoth(outcome.append)
            if isinstance(outcome[0], Failure):
                outcome[0].raiseException()
            port = outcome[0]
        self._ports.append(port)
        host = port.getHost()
        address = (host.host, host.port)
        self.addresses.setdefault(spec.transport, address)
        return address

    async def stop(self):
        """
        Close every listener and connection.
        """
        for connection in set(self._connections.values()):
            if isinstance(connection, _Stream):
                connection.transport.abortConnection()
        self._connections.clear()
        for batch in [*self._udp.values(), *self._otherPorts]:
            batch.close()
        for port in self._ports:
            await port.stopListening()
        self._ports = []
        self._udp = {}
        self._otherPorts = {}

    def udpPort(self, host):
        """
        @return: the UDP port that sends to C{host} (of its address
            family; its C{write(data, address)} sends a datagram), or
            C{None}.
        """
        batch = self._udp.get(_family(host))
        return None if batch is None else batch.port

    # Receiving.

    def arrived(self, data, transport, source, link, stream=None):
        """
        Bytes of one message from C{source} over C{transport}: refused
        with the answer C{readMessage} made, or delivered.

        @param link: for UDP the L{ResponseBatch} of the port it came on,
            else the Twisted transport it came on.
        @param stream: the L{_Stream} it came on, C{None} for UDP.
        """
        source = (source[0], source[1])
        arrival = readMessage(data, source, stream is None)
        if arrival.problem is not None:
            log.info("SIP {transport} from {source}: {problem}",
                     transport=transport, source=source, problem=arrival.problem)
        if arrival.reply is not None:
            data = arrival.reply.serialise()
            if stream is None:
                link.add(data, source)
            else:
                link.write(data)
        message = arrival.message
        if message is None:
            return
        if isinstance(message, Request):
            if stream is not None:
                self._alias(stream, message.via)
            elif message.method != "ACK":
                family = self._otherPorts.get(link) if self._otherPorts else None
                if family is not None:
                    source = _OtherPort(source, link, family)
                elif viaDestination(arrival.via, transport) == source:
                    source = _ReturnAddress(source)
        self.deliver(message, source, transport)

    # Connections.

    def connected(self, stream):
        current = self._connections.get(stream.key)
        self._connections[stream.key] = stream
        if isinstance(current, _Connecting):
            for data in current.queue:
                stream.transport.write(data)

    def disconnected(self, stream):
        for key in [k for k, c in self._connections.items() if c is stream]:
            del self._connections[key]

    def _alias(self, stream, via):
        """
        A peer's requests on a connection name its own address in their
        Via (where it listens, or says it does): requests to that address
        reuse the connection too, when the Via's host is the peer's
        address (a phone's Contact is usually its Via's sent-by).
        """
        host = bare(via.host)
        port = via.port or DEFAULT_PORTS[stream.kind]
        key = (stream.kind, host, port)
        if host == stream.key[1] and not isinstance(self._connections.get(key), _Stream):
            self._connections[key] = stream

    def _connect(self, transport, host, port):
        """
        Make a connection to C{(host, port)}; sends wait for it.
        """
        key = (transport, host, port)
        pending = self._connections[key] = _Connecting()
        endpoint = HostnameEndpoint(self.reactor, host, port)
        if transport == "TLS":
            # Phones present self-signed certificates: encrypted, not
            # verified.
            endpoint = wrapClientTLS(ssl.CertificateOptions(), endpoint)

        def made(stream):
            # Its peer address may be spelt another way than the key.
            if stream.key != key:
                self._connections[key] = stream
                for data in pending.queue:
                    stream.transport.write(data)
                pending.queue = []
            return stream

        def failed(failure):
            if self._connections.get(key) is pending:
                del self._connections[key]
            log.info("SIP {transport} connection to {host}:{port} failed: {error}",
                     transport=transport, host=host, port=port, error=failure.getErrorMessage())
            if self.connectionFailed is not None:
                self.connectionFailed(transport, host, port)

        factory = Factory.forProtocol(lambda: _Stream(self, transport))
        endpoint.connect(factory).addCallbacks(made, failed)
        return pending

    # Sending.

    def send(self, message, destination, transport):
        """
        Send a message (the transaction layer's C{send}): a response over
        UDP to where its Via says (RFC 3261 18.2.2, RFC 3581), with the
        port's other responses of this turn (L{oso.sip.datagrams}), over a
        stream on the connection its request came on or, when that is
        gone, on one to the Via's address; a request to C{destination},
        on an open connection to it when there is one.

        @param destination: C{(host, port)}; for a response, its request's
            source (a L{_ReturnAddress} when the responses go there, an
            L{_OtherPort} when they go out on the port it came on).
        @raise OSError: when it cannot be sent (no UDP socket of the
            destination's family, a host name over UDP); a UDP response
            that waited and then could not be sent is logged instead, as a
            lost datagram.
        """
        data = message.serialise()
        host, port = destination[0], destination[1]
        if transport == "UDP":
            response = isinstance(message, Response)
            if not response:
                address = (host, port)
            elif type(destination) is _ReturnAddress:
                # The (host, port) itself: no copy of it made to send to.
                address = destination
            else:
                address = responseDestination(message, transport)
                host = address[0]
            family = _family(host)
            if type(destination) is _OtherPort and destination.family == family:
                batch = destination.batch
            else:
                batch = self._udp.get(family)
            if batch is None:
                raise OSError(f"no UDP socket to send to {host!r}")
            if response:
                batch.add(data, address)
            else:
                batch.now(data, address)
            return
        port = port or DEFAULT_PORTS[transport]
        connection = self._connections.get((transport, host, port))
        if connection is None and isinstance(message, Response):
            host, port = responseDestination(message, transport)
            connection = self._connections.get((transport, host, port))
        if connection is None:
            connection = self._connect(transport, host, port)
        if isinstance(connection, _Stream):
            connection.transport.write(data)
        else:
            connection.write(data)

    def connection(self, transport, host, port):
        """
        @return: the open connection's protocol to a peer, or C{None}.
        """
        connection = self._connections.get((transport, host, port))
        return connection if isinstance(connection, _Stream) else None

"""
The transport layer's rules (RFC 3261 section 18, RFC 3581), sans-I/O:
reading what arrived into a message or a refusal, stamping the top Via of
a request with where it really came from, where a response goes, and when
a request too large for UDP goes over TCP instead.  The sockets are in
L{oso.sip.listeners}.
"""

import ipaddress
from functools import lru_cache
from typing import NamedTuple

from oso.sip.message import Request, parseMessage
from oso.sip.transaction import makeResponse
from oso.sip.uri import SIPParseError

#: The size over which a UDP request goes over TCP when the path MTU is
#: unknown (RFC 3261 18.1.1: "larger than 1300 bytes").
UDP_LIMIT = 1300

#: The default port of each transport (RFC 3261 19.1.2).
DEFAULT_PORTS = {"UDP": 5060, "TCP": 5060, "TLS": 5061}


def bare(host):
    """
    @return: C{host} without the brackets of an IPv6 reference.
    """
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


@lru_cache(maxsize=1024)
def hostReference(host):
    """
    @return: C{host} as written in a Via or URI: an IPv6 address in
        brackets (RFC 3261 25.1), anything else as it is. (Cached: the
        same few hosts are written into every message.)
    """
    try:
        address = ipaddress.ip_address(bare(host))
    except ValueError:
        return host
    return f"[{address.compressed}]" if address.version == 6 else address.compressed


@lru_cache(maxsize=1024)
def _sameHost(written, address):
    try:
        return ipaddress.ip_address(bare(written)) == ipaddress.ip_address(address)
    except ValueError:
        return False


class Arrival(NamedTuple):
    """
    What the bytes of one datagram or one framed stream message amount to.
    (A named tuple: one is made for every message read, and a frozen
    dataclass's C{__init__} sets each field through C{object.__setattr__},
    about 2,700 instructions more.)

    @ivar message: the L{Request} or L{Response}, or C{None} when refused.
    @ivar reply: a L{Response} to send back to the source (a 400 for a
        malformed request), or C{None}.
    @ivar problem: what was wrong, for the log, or C{None}.
    @ivar via: a request's top Via, as stamped (L{stampVia}), or C{None}:
        where its responses go is read from it (L{viaDestination}) without
        the message's accessor (a call from C into Python and a walk of
        the fields, about 2,300 instructions: once for every UDP request).
    """

    message: object = None
    reply: object = None
    problem: str | None = None
    via: object = None


def reasonFor(error):
    """
    The reason phrase of the answer to a malformed request: the parser's
    reason and what it found, on one line of printable text.
    """
    detail = " ".join(str(error.message).split())[:160]
    text = f"{error.reason} ({detail})"
    return "".join(c if c.isprintable() else "?" for c in text)


def readMessage(data, source, datagram):
    """
    Read what arrived from C{source} (RFC 3261 18.2.1, 18.1.2).

    A request gets its top Via stamped (L{stampVia}).  A malformed request
    is answered (400 or the parser's status, its reason phrase naming the
    fault) when enough of it is readable to build a response; a malformed
    response is only dropped.

    @param source: C{(host, port)}.
    @param datagram: C{True} for UDP, C{False} for a message a
        L{oso.sip.framing.StreamFramer} cut from a stream.
    @return: an L{Arrival}.
    """
    via = None
    try:
        message = parseMessage(data, datagram)
        if isinstance(message, Request):
            via = stampVia(message, source)
    except SIPParseError as error:
        partial = error.partial
        if not isinstance(partial, Request) or "via" not in partial.headers:
            return Arrival(problem=f"dropped: {error.message}")
        reason = reasonFor(error)
        try:
            try:
                reply = makeResponse(partial, error.statusCode, reason)
            except SIPParseError:
                # A To too malformed to take a tag is copied as it came.
                reply = makeResponse(partial, error.statusCode, reason, tagged=False)
            reply.serialise()
        except (SIPParseError, ValueError):
            return Arrival(problem=f"dropped, unanswerable: {error.message}")
        return Arrival(reply=reply, problem=f"refused {error.statusCode}: {error.message}")
    # The named tuple made without its __new__, a Python function taking
    # keywords: one is made for every message read.
    return tuple.__new__(Arrival, (message, None, None, via))


def stampVia(request, source):
    """
    Record where a request came from in its top Via (RFC 3261 18.2.1, RFC
    3581 4): C{received} when the sent-by host is not the source address,
    and when the client asked for C{rport}, its value and C{received}
    always.

    @param source: C{(host, port)}, the host an IP address.
    @return: the top Via.
    """
    via = request.via
    host, port = source
    if "rport" in via.params:
        via.rport = port
        via.received = host
    elif not _sameHost(via.host, host):
        via.received = host
    return via


def responseDestination(response, transport):
    """
    Where a response goes over an unreliable transport, or when the
    connection its request came on is gone (RFC 3261 18.2.2, RFC 3581 4):
    to C{maddr}, else to C{received} and C{rport} (UDP only; else the
    sent-by port), else to the sent-by address.

    @return: C{(host, port)}.
    """
    return viaDestination(response.via, transport)


def viaDestination(via, transport):
    """
    L{responseDestination} of a response whose top Via is C{via}.
    """
    # The parameters read from their dict, not through the Via's
    # properties (each a call from C into Python): this runs for every
    # request that arrives over UDP (SIPTransports.arrived).
    params = via.params
    port = via.port or DEFAULT_PORTS.get(transport, 5060)
    maddr = params.get("maddr")
    if maddr:
        return bare(maddr), port
    received = params.get("received")
    if received:
        # RFC 3581 4: rport counts for an unreliable transport only; over
        # a stream whose connection is gone, the sent-by port is where the
        # client listens.
        return bare(received), (via.rport if transport == "UDP" else None) or port
    return bare(via.host), port


def viaTransport(message, transport):
    """
    The transport a request goes over (RFC 3261 18.1.1): a UDP request
    over L{UDP_LIMIT} octets goes over TCP instead.

    @param message: the serialised request, C{bytes}.
    @return: the transport to use.
    """
    if transport == "UDP" and len(message) > UDP_LIMIT:
        return "TCP"
    return transport

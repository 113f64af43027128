"""
SDP through the media relay, sans-I/O: the addresses a party's
description names for each stream (L{streamTargets}), and the same
description with the relay's addresses in their place (L{anchored}).

Only transport addresses change: C{c=} (session and media level), the
m-line's port and C{a=rtcp} (RFC 3605).  ICE attributes go (their
candidates are the other party's, which no one reaches through the
relay); codecs, directions and everything else pass as they are, so the
offer/answer between the two parties is theirs.  The origin stays too:
each leg stamps its own (L{oso.sip.offeranswer.LegOrigin}), and a
description sent again unchanged is rewritten the same, so its session
version does not move.
"""

import dataclasses

from oso.media.relay import UNSPECIFIED
from oso.sip.sdp import Connection

#: Attributes that describe the describing party's transport (RFC 3605,
#: RFC 8839): they do not hold for the relay's sockets.
TRANSPORT_ATTRIBUTES = (
    "rtcp", "candidate", "remote-candidates", "ice-ufrag", "ice-pwd", "ice-options",
    "ice-lite", "ice-mismatch", "end-of-candidates",
)


def rtcpAddress(description, index, rtp):
    """
    The RTCP address of stream C{index}: its C{a=rtcp} (RFC 3605: a port,
    and optionally an address), else the RTP port + 1 (RFC 3550 11).
    """
    value = description.media[index].attribute("rtcp")
    if value:
        fields = value.split()
        if fields[0].isdigit():
            host = fields[3] if len(fields) >= 4 else rtp[0]
            return host, int(fields[0])
    return rtp[0], rtp[1] + 1


def streamTargets(description):
    """
    Where a party wants each of its streams: C{(rtp, rtcp)} addresses per
    m-line, C{None} for a rejected stream (port 0).  A held stream names
    the unspecified address.
    """
    targets = []
    for index, media in enumerate(description.media):
        connection = description.mediaConnection(index)
        if media.isRejected or connection is None:
            targets.append(None)
            continue
        rtp = (connection.address, media.port)
        targets.append((rtp, rtcpAddress(description, index, rtp)))
    return targets


def _connection(host):
    return Connection("IN", "IP6" if ":" in host else "IP4", host)


def anchored(description, local):
    """
    A copy of C{description} naming the relay's sockets.

    @param local: per m-line, the relay's C{(rtp, rtcp)} addresses the
        stream is to be sent to, or C{None} when it has none (the stream
        is then rejected: port 0).
    """
    out = description.copy()
    own = [local[i] if i < len(local) else None for i in range(len(out.media))]
    active = [i for i, media in enumerate(out.media) if not media.isRejected]
    held = {i for i in active
            if (c := description.mediaConnection(i)) is not None and c.address in UNSPECIFIED}
    first = next((own[i][0][0] for i in active if own[i] is not None), None)
    if out.connection is not None and first is not None:
        if out.connection.address in UNSPECIFIED:
            out.connection = _connection("::" if ":" in first else "0.0.0.0")
        else:
            out.connection = _connection(first)
    out.removeAttributes(*TRANSPORT_ATTRIBUTES)
    for index in active:
        media = out.media[index]
        media.removeAttributes(*TRANSPORT_ATTRIBUTES)
        if own[index] is None:
            media.mediaLine = dataclasses.replace(media.mediaLine, port=0, portCount=None)
            continue
        (host, port), (rtcpHost, rtcpPort) = own[index]
        media.mediaLine = dataclasses.replace(media.mediaLine, port=port, portCount=None)
        if index in held:
            host = "::" if ":" in host else "0.0.0.0"
        session = out.connection
        if media.connection is not None or session is None or session.address != host:
            media.connection = _connection(host)
        if rtcpPort != port + 1 or rtcpHost != own[index][0][0]:
            family = "IP6" if ":" in rtcpHost else "IP4"
            media.addAttribute("rtcp", f"{rtcpPort} IN {family} {rtcpHost}")
    return out

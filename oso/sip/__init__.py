"""
The SIP stack (RFC 3261), sans-I/O: the message codec first.
"""

from oso.sip.framing import PING, PONG, StreamFramer
from oso.sip.headers import (
    CSeq,
    Challenge,
    Credentials,
    NameAddress,
    Via,
    parseNameAddress,
    splitList,
)
from oso.sip.message import Headers, Request, Response, parseMessage
from oso.sip.uri import AbsoluteURI, SIPParseError, SIPURI, TelURI, parseURI

__all__ = [
    "AbsoluteURI",
    "CSeq",
    "Challenge",
    "Credentials",
    "Headers",
    "NameAddress",
    "PING",
    "PONG",
    "Request",
    "Response",
    "SIPParseError",
    "SIPURI",
    "StreamFramer",
    "TelURI",
    "Via",
    "parseMessage",
    "parseNameAddress",
    "parseURI",
    "splitList",
]

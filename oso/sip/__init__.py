"""
The SIP stack (RFC 3261), sans-I/O: the message codec, transactions,
dialogs, digest authentication, the registrar, and SDP with the
offer/answer model.
"""

from oso.sip.dialog import Dialog, DialogID, dialogIDOf, makeDialogResponse, newTag
from oso.sip.digest import AuthOutcome, AuthResult, DigestAuthenticator
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
from oso.sip.offeranswer import (
    INACTIVE,
    RECVONLY,
    SENDONLY,
    SENDRECV,
    LegOrigin,
    OfferAnswerError,
    answerDirection,
    conformAnswer,
    conformOffer,
    direction,
    holdOffer,
    isHold,
    resumeOffer,
    setDirection,
)
from oso.sip.registrar import Binding, RegisterResult, Registrar
from oso.sip.sdp import (
    Attribute,
    Connection,
    MediaDescription,
    MediaLine,
    Origin,
    SDPParseError,
    SessionDescription,
    parseSDP,
)
from oso.sip.transaction import TimerConfig, TransactionError, makeResponse, newBranch
from oso.sip.transactions import TransactionLayer, answerCancel, makeCancel
from oso.sip.uri import AbsoluteURI, SIPParseError, SIPURI, TelURI, parseURI

__all__ = [
    "AbsoluteURI",
    "answerCancel",
    "answerDirection",
    "Attribute",
    "AuthOutcome",
    "AuthResult",
    "Binding",
    "Challenge",
    "conformAnswer",
    "conformOffer",
    "Connection",
    "Credentials",
    "CSeq",
    "Dialog",
    "DialogID",
    "dialogIDOf",
    "DigestAuthenticator",
    "direction",
    "Headers",
    "holdOffer",
    "INACTIVE",
    "isHold",
    "LegOrigin",
    "makeCancel",
    "makeDialogResponse",
    "makeResponse",
    "MediaDescription",
    "MediaLine",
    "NameAddress",
    "newBranch",
    "newTag",
    "OfferAnswerError",
    "Origin",
    "parseMessage",
    "parseNameAddress",
    "parseSDP",
    "parseURI",
    "PING",
    "PONG",
    "RECVONLY",
    "RegisterResult",
    "Registrar",
    "Request",
    "Response",
    "resumeOffer",
    "SDPParseError",
    "SENDONLY",
    "SENDRECV",
    "SessionDescription",
    "setDirection",
    "SIPParseError",
    "SIPURI",
    "splitList",
    "StreamFramer",
    "TelURI",
    "TimerConfig",
    "TransactionError",
    "TransactionLayer",
    "Via",
]

"""
The SIP stack (RFC 3261), sans-I/O: the message codec, transactions,
dialogs, digest authentication and the registrar.
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
from oso.sip.registrar import Binding, RegisterResult, Registrar
from oso.sip.transaction import TimerConfig, TransactionError, makeResponse, newBranch
from oso.sip.transactions import TransactionLayer, answerCancel, makeCancel
from oso.sip.uri import AbsoluteURI, SIPParseError, SIPURI, TelURI, parseURI

__all__ = [
    "AbsoluteURI",
    "answerCancel",
    "AuthOutcome",
    "AuthResult",
    "Binding",
    "Challenge",
    "Credentials",
    "CSeq",
    "Dialog",
    "DialogID",
    "dialogIDOf",
    "DigestAuthenticator",
    "Headers",
    "makeCancel",
    "makeDialogResponse",
    "makeResponse",
    "NameAddress",
    "newBranch",
    "newTag",
    "parseMessage",
    "parseNameAddress",
    "parseURI",
    "PING",
    "PONG",
    "RegisterResult",
    "Registrar",
    "Request",
    "Response",
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

"""
The C{Replaces} header field of RFC 3891, sans-I/O: reading and writing it,
and the rules (section 3) by which a UAS accepts or refuses an INVITE that
asks to replace one of its dialogs.

A C{Replaces} value names a dialog as its recipient sees it: the
C{to-tag} is the recipient's local tag and the C{from-tag} the remote
one, whichever side sent the dialog's first INVITE (RFC 3891 6.1).  So the
L{DialogID} it names is C{(callID, toTag, fromTag)} in the recipient's own
terms, the key a B2BUA files its dialogs under.
"""

import re
from dataclasses import dataclass

from oso.sip.dialog import DialogID
from oso.sip.headers import parseParams
from oso.sip.uri import SIPParseError

# RFC 3261 25.1: callid = word [ "@" word ].
_WORD = r"[A-Za-z0-9\-.!%*_+`'~()<>:\\\"/\[\]?{}]+"
_CALL_ID_RE = re.compile(rf"[ \t]*({_WORD}(?:@{_WORD})?)[ \t]*")


@dataclass(frozen=True, slots=True)
class Replaces:
    """
    One C{Replaces} value.

    @ivar callID: the Call-ID of the dialog to replace.
    @ivar toTag: the recipient's local tag of that dialog.
    @ivar fromTag: the recipient's remote tag of that dialog.
    @ivar earlyOnly: C{early-only}: replace the dialog only while it is
        early.
    """

    callID: str
    toTag: str
    fromTag: str
    earlyOnly: bool = False

    @property
    def dialogID(self):
        """
        The L{DialogID} of the named dialog, seen from the recipient.
        """
        return DialogID(self.callID, self.toTag, self.fromTag)

    def __str__(self):
        text = f"{self.callID};to-tag={self.toTag};from-tag={self.fromTag}"
        return text + (";early-only" if self.earlyOnly else "")


def parseReplaces(text):
    """
    Read a C{Replaces} value (RFC 3891 6.1: C{callid *(SEMI replaces-param)}
    with exactly one C{to-tag} and one C{from-tag}).

    @return: a L{Replaces}.
    @raise SIPParseError: when it is not one.
    """
    match = _CALL_ID_RE.match(text)
    if match is None:
        raise SIPParseError(f"malformed Replaces: {text!r}", reason="Bad Replaces")
    params = parseParams(text, match.end(), "Replaces")
    toTag, fromTag = params.get("to-tag"), params.get("from-tag")
    if not toTag or not fromTag:
        raise SIPParseError(
            f"Replaces without to-tag and from-tag: {text!r}", reason="Bad Replaces"
        )
    return Replaces(match.group(1), toTag, fromTag, "early-only" in params)


def replacesOf(request):
    """
    The C{Replaces} of a request, if it has one.

    @return: a L{Replaces} or C{None}.
    @raise SIPParseError: when it has several (RFC 3891 3: 400) or a
        malformed one.
    """
    values = request.headers.getAll("replaces")
    if not values:
        return None
    if len(values) > 1:
        raise SIPParseError("more than one Replaces", reason="Bad Replaces")
    return parseReplaces(values[0])


@dataclass(frozen=True, slots=True)
class ReplacedDialog:
    """
    What a UAS knows of the dialog a C{Replaces} matched.

    @ivar early: the dialog is early (no 2xx yet).
    @ivar initiatedHere: this UA sent the dialog's INVITE.
    @ivar ended: the dialog is over.
    """

    early: bool
    initiatedHere: bool
    ended: bool = False


def refusal(replaces, dialog):
    """
    RFC 3891 3: whether an INVITE carrying C{replaces} is refused, given
    the dialog it matched (C{None}: none, or more than one).

    @return: C{(status, reason)} of the refusal, or C{None} when the INVITE
        may replace the dialog (a confirmed one is then ended with a BYE,
        an early one with a CANCEL).
    """
    if dialog is None:
        return 481, "Call/Transaction Does Not Exist (no dialog to replace)"
    if dialog.ended:
        return 603, "Decline (the dialog to replace has ended)"
    if dialog.early:
        if not dialog.initiatedHere:
            # A UAS cannot end an early dialog it did not start.
            return 481, "Call/Transaction Does Not Exist (early dialog not ours)"
        return None
    if replaces.earlyOnly:
        return 486, "Busy Here (early-only, the dialog is confirmed)"
    return None

"""
Who a call is from, as SIP says it, sans-I/O: the network asserted
identity of RFC 3325 (C{P-Asserted-Identity}, C{P-Preferred-Identity}) and
the privacy requests of RFC 3323 (C{Privacy}, the anonymous From).

Reading: L{incomingIdentity} gives the L{CallerIdentity} a request carries
(its C{P-Asserted-Identity} counts only from a trusted peer, RFC 3325 5);
L{preferredIdentity} checks a phone's C{P-Preferred-Identity} against the
identities its extension may present.  Writing: L{applyIdentity} puts an identity
into a request toward a peer by that peer's trust: the asserted identity
and the privacy wish toward a trusted one, an anonymous From (and no
C{P-Asserted-Identity}) toward an untrusted one when the identity is
restricted.  A C{P-Preferred-Identity} is never forwarded.

A port (sip-lines, a sip-trunk) decides which peers are trusted; this
module only reads and writes headers.
"""

from dataclasses import dataclass

from twisted.logger import Logger

from oso.sip.headers import NameAddress, isToken
from oso.sip.uri import SIPParseError, SIPURI, TelURI

#: RFC 3323 4.1.1.3: the From of a request whose originator is hidden.
ANONYMOUS_HOST = "anonymous.invalid"
ANONYMOUS_USER = "anonymous"
ANONYMOUS_DISPLAY = "Anonymous"

#: RFC 3323 4.2 and RFC 3325 7: the privacy values that hide the caller's
#: identity ("user" is the user's own anonymisation, which says the same).
_HIDING = frozenset({"id", "header", "user"})

log = Logger()


@dataclass(frozen=True, slots=True)
class CallerIdentity:
    """
    The identity of a caller as a port hands it to the call model or
    takes it from there.

    @ivar number: the caller's number (the user part of a SIP URI, the
        number of a tel URI), or C{None} when it is not known (an
        anonymous From from an untrusted peer).
    @ivar display: the display name, or C{None}.
    @ivar restricted: the caller asked not to be shown (RFC 3323 privacy,
        CLIR): the number may be known inside the trust domain, but is not
        presented.
    """

    number: str | None
    display: str | None = None
    restricted: bool = False


def numberOf(uri):
    """
    @return: the number a URI names: the user part of a SIP URI (a
        C{;phone-context} or other user parameter cut off), the number of a
        tel URI; C{None} for an anonymous URI or any other kind.
    """
    if isinstance(uri, SIPURI):
        if isAnonymous(uri) or not uri.user:
            return None
        return uri.user.split(";", 1)[0] or None
    if isinstance(uri, TelURI):
        return uri.number
    return None


def isAnonymous(uri):
    """
    Whether C{uri} is an anonymous one (RFC 3323 4.1.1.3:
    C{sip:anonymous@anonymous.invalid}; older peers write C{anonymous} in
    the user part with their own host).
    """
    if not isinstance(uri, SIPURI):
        return False
    return (uri.user or "").lower() == ANONYMOUS_USER or uri.host.lower() == ANONYMOUS_HOST


def privacyOf(message):
    """
    The RFC 3323 privacy values a message asks for, lowercased.

    @return: a C{frozenset} of C{str} (empty without C{Privacy}).
    @raise SIPParseError: when a value is not a token (C{Bad Privacy}).
    """
    values = set()
    for field in message.headers.getAll("privacy"):
        for value in field.split(";"):
            value = value.strip(" \t").lower()
            if not isToken(value):
                raise SIPParseError(f"bad Privacy header field: {field!r}", reason="Bad Privacy")
            values.add(value)
    return frozenset(values)


def hidesIdentity(privacy):
    """
    Whether a set of privacy values asks that the caller's identity be
    withheld: C{id}, C{header} or C{user}, unless C{none} says otherwise
    (RFC 3323 4.2: C{none} wins).
    """
    return "none" not in privacy and not _HIDING.isdisjoint(privacy)


def _firstIdentity(message, name):
    """
    The C{name} identity of a message (RFC 3325 9.1: one SIP or SIPS URI
    and/or one tel URI; the SIP one is read first, a tel URI fills in its
    number when the SIP one has none).

    @return: a L{NameAddress} or C{None}.
    """
    addresses = message.headers.getAllParsed(name)
    chosen = None
    for address in addresses:
        if numberOf(address.uri) is None:
            continue
        if chosen is None or (isinstance(address.uri, SIPURI) and not isinstance(chosen.uri, SIPURI)):
            chosen = address
    return chosen


def incomingIdentity(request, trusted):
    """
    The identity a request from a peer asserts.

    From a trusted peer, its first C{P-Asserted-Identity} names the caller
    (RFC 3325 5); from an untrusted one, or without that field, the From
    does.  An anonymous From names nobody.  The identity is restricted when
    C{Privacy} hides it or the From is anonymous.

    @param trusted: whether the peer is in our trust domain (RFC 3325 2.3).
    @return: a L{CallerIdentity}.
    @raise SIPParseError: when the From, a C{P-Asserted-Identity} or the
        C{Privacy} read is malformed.
    """
    source = request.fromAddress
    asserted = _firstIdentity(request, "p-asserted-identity") if trusted else None
    restricted = hidesIdentity(privacyOf(request)) or isAnonymous(source.uri)
    display = None if isAnonymous(source.uri) else source.displayName or None
    if asserted is not None:
        return CallerIdentity(numberOf(asserted.uri), asserted.displayName or display, restricted)
    return CallerIdentity(numberOf(source.uri), display, restricted)


def preferredIdentity(request, mayUse):
    """
    The identity a phone prefers (RFC 3325 9.2), if it may use it: the
    first C{P-Preferred-Identity} whose number C{mayUse}.

    @param mayUse: C{number -> bool}, whether the phone's extension may
        present a number (its own, its public ones).
    @return: the L{NameAddress} chosen, C{None} when the phone sent none;
    @raise ValueError: when the phone prefers only identities it may not
        use (the caller logs it and asserts the extension's own identity).
    @raise SIPParseError: when a C{P-Preferred-Identity} is malformed.
    """
    offered = request.headers.getAllParsed("p-preferred-identity")
    for address in offered:
        number = numberOf(address.uri)
        if number is not None and mayUse(number):
            return address
    if offered:
        raise ValueError(
            "P-Preferred-Identity names no identity of the extension: "
            + ", ".join(str(a.uri) for a in offered)
        )
    return None


def anonymousAddress(params=None):
    """
    The RFC 3323 anonymous From: C{"Anonymous" <sip:anonymous@anonymous.invalid>}
    with C{params} (the tag).
    """
    return NameAddress(SIPURI(ANONYMOUS_HOST, user=ANONYMOUS_USER), ANONYMOUS_DISPLAY, params)


def identityAddress(identity, domain):
    """
    The address of an identity: C{"display" <sip:number@domain>}.
    """
    return NameAddress(SIPURI(domain, user=identity.number), identity.display or None)


def presentedIdentity(address, restricted, trusted):
    """
    How a request toward a peer names the caller whose own address is
    C{address}: the From and the identity fields to add.

    Toward a trusted peer the caller is asserted (C{P-Asserted-Identity})
    and, when restricted, C{Privacy: id} asks the peer to keep it inside
    the trust domain while the From is anonymous (RFC 3325 7, RFC 3323
    4.1.1.3).  Toward an untrusted peer no identity is asserted; a
    restricted caller leaves only the anonymous From and C{Privacy: id}, an
    unrestricted one is the From.  A caller whose number is not known is
    an anonymous From without a privacy request.

    @param address: the caller's L{NameAddress} in our domain (no tag).
    @param restricted: the caller asked not to be presented.
    @param trusted: whether the peer is in our trust domain.
    @return: C{(fromAddress, [(name, value), ...])}.
    """
    if numberOf(address.uri) is None:
        return anonymousAddress(), []
    fields = [("p-asserted-identity", address.copy())] if trusted else []
    if not restricted:
        return address, fields
    return anonymousAddress(), fields + [("privacy", "id")]


def phoneIdentity(request, number, mayPresent=None):
    """
    The identity an authenticated phone's request gives: the phone is not
    trusted, so what it asserts (C{P-Asserted-Identity}) counts for
    nothing and its extension C{number} is the caller; a
    C{P-Preferred-Identity} naming an identity the extension may present
    chooses it (RFC 3325 9.2), one naming anything else is ignored and
    logged.  C{Privacy} (RFC 3323) restricts it.

    @param mayPresent: C{number -> bool}, whether the extension may
        present a number (L{oso.callmodel.devices.Device.mayPresent});
        without it only C{number} itself.
    @return: a L{CallerIdentity}.
    @raise SIPParseError: on a malformed C{Privacy} or
        C{P-Preferred-Identity}.
    """
    restricted = hidesIdentity(privacyOf(request))
    display = request.fromAddress.displayName or None
    try:
        preferred = preferredIdentity(request, mayPresent or number.__eq__)
    except ValueError as e:
        log.info("extension {number}: {problem}", number=number, problem=e)
        preferred = None
    if preferred is None:
        return CallerIdentity(number, display, restricted)
    return CallerIdentity(numberOf(preferred.uri), preferred.displayName or display, restricted)


def applyIdentity(request, identity, trusted, domain):
    """
    Write C{identity} into a request we send to a peer, by the peer's
    trust (see L{presentedIdentity}).

    Every C{P-Preferred-Identity}, C{P-Asserted-Identity} and C{Privacy}
    the request holds goes first (a preferred identity is for the first
    hop only, RFC 3325 9.2; an asserted one is written anew).  The From
    keeps its tag.

    @param identity: a L{CallerIdentity}.
    @param trusted: whether the peer is in our trust domain.
    @param domain: the host part of the identity's SIP URI (our domain or
        address).
    @return: C{request}.
    """
    headers = request.headers
    for name in ("p-preferred-identity", "p-asserted-identity", "privacy"):
        headers.remove(name)
    address, fields = presentedIdentity(identityAddress(identity, domain), identity.restricted, trusted)
    headers.set("from", NameAddress(address.uri, address.displayName, dict(request.fromAddress.params)))
    for name, value in fields:
        headers.add(name, value)
    return request


__all__ = [
    "ANONYMOUS_DISPLAY",
    "ANONYMOUS_HOST",
    "ANONYMOUS_USER",
    "CallerIdentity",
    "anonymousAddress",
    "applyIdentity",
    "hidesIdentity",
    "identityAddress",
    "incomingIdentity",
    "isAnonymous",
    "numberOf",
    "phoneIdentity",
    "preferredIdentity",
    "presentedIdentity",
    "privacyOf",
]

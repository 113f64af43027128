"""
Digest authentication, the server's side (RFC 2617 as profiled by RFC 3261
22.4): challenges and the check of the credentials a client answers with.

Algorithm MD5 (and MD5-sess) with C{qop=auth}; a response without qop
(RFC 2069, old phones) is accepted too, without nonce-count protection,
which that form does not have.

Nonces need no state to be checked: each is C{<time>.<serial>.<mac>}, the
MAC a keyed BLAKE2b (RFC 7693's MAC mode; a third of HMAC-SHA256's cost)
over the rest under a secret made once per L{DigestAuthenticator}. Only
the nonce counts seen are remembered, and only until their nonce expires
or, under a load that would keep more than a bound of them, until the
oldest are forgotten: a nonce whose count may have been forgotten is then
stale (the phone retries with a new one), never replayable. A fresh
secret at each start of the server is enough: after a restart the
phones' nonces are no longer ours, and a phone that answers one with the
right password gets C{stale=true} and retries with a new nonce, without
asking its user.
"""

import functools
import hashlib
import hmac
import math
import re
from dataclasses import dataclass
from enum import Enum

from oso.randompool import pool
from oso.sip.headers import Challenge
from oso.sip.memo import Memo
from oso.sip.uri import SIPParseError, parseURI

_HEX32_RE = re.compile(r"[0-9a-fA-F]{32}")
_NC_RE = re.compile(r"[0-9a-fA-F]{8}")
# H(A2) by A2 (C{method:uri}): a client sends the same method and uri
# again and again, and RFC 2617 3.2.2.5 holds the uri to the Request-URI.
_HA2 = Memo(256)
# Nonce counts by their text, checked and read once: a client counts
# 00000001, 00000002 and so on for each of its nonces.
_COUNTS = Memo(256)


def _md5(text):
    # surrogateescape gives back the octets a message was read from.
    return hashlib.md5(text.encode("utf-8", "surrogateescape"), usedforsecurity=False).hexdigest()


def digestResponse(ha1, method, uri, nonce, qop=None, nc=None, cnonce=None):
    """
    The C{request-digest} of RFC 2617 3.2.2.1 (or of RFC 2069 when C{qop}
    is C{None}), for C{qop=auth}.

    @param ha1: C{H(A1)} as lower-case hex (for MD5-sess, already combined
        with the nonce and cnonce: see L{sessionHA1}).
    @param method: the request's method.
    @param uri: the C{uri} directive, as the client wrote it.
    @return: 32 lower-case hex digits.
    @raise UnicodeEncodeError: when a value holds a lone surrogate that no
        octets stand for.
    """
    a2 = f"{method}:{uri}"
    ha2 = _HA2.get(a2) or _HA2.keep(a2, _md5(a2))
    if qop is None:
        return _md5(f"{ha1}:{nonce}:{ha2}")
    return _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


def sessionHA1(ha1, nonce, cnonce):
    """
    C{H(A1)} for algorithm MD5-sess (RFC 2617 3.2.2.2), from the stored
    C{H(user:realm:password)}.
    """
    return _md5(f"{ha1}:{nonce}:{cnonce}")


class NonceMint:
    """
    Makes nonces bound to one server: C{<time hex>.<serial hex>.<mac hex>},
    and tells when a nonce it made was made.

    The serial numbers count up from a random start: each nonce a mint
    makes is its own (RFC 2617 3.2.1), and its MAC, which no one without
    the secret can make, is what makes it unforgeable and unpredictable;
    the random start keeps the serials from telling how many challenges
    were made since the server started. The serials go in blocks of four
    made in one second, and one keyed BLAKE2b of 64 bytes over the time
    and the block is the four 16-byte MACs of its serials (each a part
    of a pseudo-random output that no other part tells): one MAC made
    per four nonces under a load, a block left unfinished when the
    second changes.

    The nonces made last are remembered with their time (at most
    C{remembered}, all forgotten at once when there would be more), so
    that the answer to a challenge, which follows it within a round
    trip, is known without its MAC made again; any other nonce is told
    by its MAC, with the same outcome. A flood of unanswered challenges
    only makes the memory forget sooner.
    """

    def __init__(self, secret, clock, remembered=4096):
        """
        @param secret: the key of the MAC, C{bytes} (one longer than
            BLAKE2b's 64-byte key is hashed down to one).
        @param clock: an L{IReactorTime}.
        @param remembered: how many of the nonces made last are known
            without their MAC.
        """
        if len(secret) > hashlib.blake2b.MAX_KEY_SIZE:
            secret = hashlib.blake2b(secret).digest()
        # Keyed once: a copy of this state costs less than keying anew.
        self._keyed = hashlib.blake2b(key=secret, digest_size=64)
        self._clock = clock
        self._serial = int.from_bytes(pool.bytes(8), "big")
        # The second of the block of the last serial, its text and its
        # MACs.
        self._second = None
        self._stamp = ""
        self._block = ()
        self._made = Memo(remembered)

    def _macs(self, issued, block):
        """
        @return: the MACs of the four serials of C{block} made at
            C{issued}, as hex.
        """
        mac = self._keyed.copy()
        mac.update(f"{issued:x}.{block:x}".encode())
        macs = mac.hexdigest()
        return macs[:32], macs[32:64], macs[64:96], macs[96:]

    def make(self):
        """
        @return: a new nonce.
        """
        issued = int(self._clock.seconds())
        serial = self._serial + 1
        if not serial & 3 or issued != self._second:
            # The first serial of a new block, in this second.
            serial = (serial + 3) & ~3
            self._second = issued
            self._stamp = f"{issued:x}."
            self._block = self._macs(issued, serial >> 2)
        self._serial = serial
        nonce = f"{self._stamp}{serial:x}.{self._block[serial & 3]}"
        self._made.keep(nonce, issued)
        return nonce

    def issuedAt(self, nonce):
        """
        @return: the time C{nonce} was made in seconds, or C{None} when
            it was not made here (malformed, tampered with, or made under
            another secret).
        """
        issued = self._made.get(nonce)
        if issued is not None:
            return issued
        # ASCII throughout, so that the nonces compare as text.
        if not nonce.isascii():
            return None
        stamp, _, rest = nonce.partition(".")
        try:
            issued = int(stamp, 16)
            serial = int(rest.partition(".")[0], 16)
        except ValueError:
            return None
        # Only the text made for that time and serial, as make wrote it.
        made = f"{issued:x}.{serial:x}.{self._macs(issued, serial >> 2)[serial & 3]}"
        if not hmac.compare_digest(made, nonce):
            return None
        return issued


class AuthOutcome(Enum):
    """
    What a check of credentials found.

    @cvar ok: the credentials are good; the request may go on.
    @cvar missing: there are none for our realm: challenge.
    @cvar stale: the digest is right but the nonce is expired, not ours
        (made before a restart) or its count was seen: challenge with
        C{stale=true}, so the client retries without asking its user.
    @cvar failed: wrong or malformed: refuse (403), or challenge again.
    """

    ok = "ok"
    missing = "missing"
    stale = "stale"
    failed = "failed"


@dataclass(frozen=True, slots=True)
class AuthResult:
    """
    The result of L{DigestAuthenticator.verify}.

    @ivar outcome: an L{AuthOutcome}.
    @ivar username: the authenticated user name (with C{ok} and C{stale}).
    @ivar reason: why it is not C{ok}, in words for the log.
    """

    outcome: AuthOutcome
    username: str | None = None
    reason: str | None = None

    @property
    def ok(self):
        """
        Whether the outcome is L{AuthOutcome.ok}.
        """
        return self.outcome is AuthOutcome.ok


def _failed(reason, username=None):
    return AuthResult(AuthOutcome.failed, username, reason)


@functools.cache
def _missing(headerName):
    """
    The result for a request without credentials (every first REGISTER),
    made once per field name: results are immutable.
    """
    return AuthResult(AuthOutcome.missing, reason=f"no digest {headerName}")


@functools.lru_cache(maxsize=1024)
def _accepted(username):
    """
    The result for good credentials of C{username}, made once per user
    while it is among the last 1024: results are immutable.
    """
    return AuthResult(AuthOutcome.ok, username)


#: The most nonces whose counts a L{DigestAuthenticator} keeps at once
#: (each about 240 octets): a nonce lives five minutes, so this is a
#: sustained ~800 authenticated first uses of a nonce per second, far
#: beyond a small business's phones, yet a bound under any load.
MAX_COUNTED = 250_000


class DigestAuthenticator:
    """
    Challenges requests and checks their digest credentials, for one
    realm.

    @ivar realm: the realm.
    """

    def __init__(
        self, realm, secret, clock, nonceLifetime=300, opaque=None, mint=None,
        maxCounted=MAX_COUNTED,
    ):  # fmt: skip
        """
        @param realm: the realm the credentials are for.
        @param secret: C{bytes}, random, made once per server start
            (C{os.urandom(32)}).
        @param clock: an L{IReactorTime}.
        @param nonceLifetime: how many seconds a nonce is good for.
        @param opaque: the C{opaque} value of the challenges (by default
            derived from the secret); clients must echo it.
        @param mint: what makes and recognises nonces, by default a
            L{NonceMint} with C{secret}.
        @param maxCounted: the most nonces whose counts are kept at once.
        """
        self.realm = realm
        self._clock = clock
        self._lifetime = nonceLifetime
        if opaque is None:
            opaque = hmac.new(secret, b"opaque", hashlib.sha256).hexdigest()[:32]
        self._opaque = opaque
        self._opaqueOctets = opaque.encode("utf-8", "replace")
        self._mint = NonceMint(secret, clock) if mint is None else mint
        # A challenge as written, around its nonce (all else is the same
        # every time).
        rest = Challenge("Digest", {"opaque": self._opaque, "algorithm": "MD5", "qop": "auth"})
        self._written = (
            f'{Challenge("Digest", {"realm": self.realm})}, nonce=',
            ", " + str(rest).partition(" ")[2],
        )
        # nonce -> (issued, highest nonce count seen), oldest first use
        # first; and when the first one's lifetime ends.
        self._counts = {}
        self._sweepAt = math.inf
        self._maxCounted = maxCounted
        # Nonces issued at or before this may have had their counts
        # forgotten to keep the bound.
        self._forgottenUpTo = -math.inf

    def challenge(self, stale=False):
        """
        A fresh challenge, for a C{WWW-Authenticate} (401) or
        C{Proxy-Authenticate} (407) header field.

        @param stale: whether to say C{stale=true} (the refused request's
            nonce was stale, not its password).
        @return: the field value, text.
        """
        before, after = self._written
        text = f'{before}"{self._mint.make()}"{after}'
        return f"{text}, stale=true" if stale else text

    def verify(self, request, lookupHA1, headerName="Authorization"):
        """
        Check the digest credentials of C{request} for this realm.

        @param request: an L{oso.sip.message.Request}.
        @param lookupHA1: C{username -> HA1 hex or None}: the stored
            C{H(username:realm:password)} for this realm (see
            L{oso.callmodel.devices.Credentials.ha1For}).
        @param headerName: C{"Authorization"} for a registrar or UAS (401),
            C{"Proxy-Authorization"} for a proxy (407).
        @return: an L{AuthResult}; never raises for anything a client sent.
        """
        try:
            fields = request.headers.getAllParsed(headerName)
        except SIPParseError:
            return _failed(f"malformed {headerName}")
        # The first digest field for our realm; without one, whether
        # there was any digest field at all.
        digest = False
        for field in fields:
            if field.scheme.lower() == "digest":
                params = field.params
                if params.get("realm") == self.realm:
                    break
                digest = True
        else:
            return _failed(f"realm is not {self.realm!r}") if digest else _missing(headerName)
        try:
            return self._check(request, params, lookupHA1)
        except UnicodeEncodeError:
            return _failed("unreadable credentials")

    def _check(self, request, params, lookupHA1):
        username = params.get("username")
        nonce = params.get("nonce")
        uri = params.get("uri")
        response = params.get("response")
        if username is None or nonce is None or uri is None or response is None:
            return _failed("username, nonce, uri or response missing")
        if not _HEX32_RE.fullmatch(response):
            return _failed("malformed response", username)
        algorithm = params.get("algorithm", "MD5").upper()
        if algorithm not in ("MD5", "MD5-SESS"):
            return _failed(f"unsupported algorithm {algorithm}", username)
        # The opaque value is in every challenge, no secret: an echo
        # equal to it needs no compare in constant time, and only another
        # one is compared as octets (as before).
        opaque = params.get("opaque", "")
        if opaque != self._opaque and not hmac.compare_digest(
            opaque.encode("utf-8", "replace"), self._opaqueOctets
        ):
            return _failed("opaque not echoed", username)
        requestURI = request.uri
        if uri != str(requestURI) and not _equalURI(uri, requestURI):
            return _failed("uri is not the Request-URI", username)
        qop = params.get("qop")
        nc = params.get("nc")
        cnonce = params.get("cnonce")
        if qop is not None:
            if qop.lower() != "auth":
                return _failed(f"unsupported qop {qop}", username)
            # A count read before is known to be valid.
            count = _COUNTS.get(nc) if cnonce is not None else None
            if count is None:
                if nc is None or cnonce is None or not _NC_RE.fullmatch(nc):
                    return _failed("qop without a valid nc and cnonce", username)
                count = _COUNTS.keep(nc, int(nc, 16))
        elif algorithm == "MD5-SESS":
            return _failed("MD5-sess without qop", username)
        ha1 = lookupHA1(username)
        if ha1 is None:
            return _failed("unknown user", username)
        if algorithm == "MD5-SESS":
            ha1 = sessionHA1(ha1, nonce, cnonce)
        expected = digestResponse(ha1, request.method, uri, nonce, qop, nc, cnonce)
        if not hmac.compare_digest(expected, response.lower()):
            return _failed("wrong response (password)", username)
        # RFC 2617 3.2.1: stale only when the digest is right for the nonce.
        issued = self._mint.issuedAt(nonce)
        now = self._clock.seconds()
        if now > self._sweepAt:
            self._forgetExpired(now)
        if issued is None or not (issued <= now <= issued + self._lifetime):
            return AuthResult(AuthOutcome.stale, username, "nonce expired or not ours")
        if qop is not None:
            counts = self._counts
            seen = counts.get(nonce)
            if seen is None:
                if issued <= self._forgottenUpTo:
                    return AuthResult(AuthOutcome.stale, username, "nonce count forgotten")
                if len(counts) >= self._maxCounted:
                    self._forgetOldest()
                if not counts:
                    self._sweepAt = issued + self._lifetime
            elif count <= seen[1]:
                return AuthResult(AuthOutcome.stale, username, "nonce count replayed")
            counts[nonce] = (issued, count)
        return _accepted(username)

    def _forgetOldest(self):
        """
        Drop the count of the nonce first used longest ago, to keep the
        bound; every nonce issued no later than it is stale from now on
        when it comes without a count kept (it may be one whose count was
        dropped, and could be replayed).
        """
        counts = self._counts
        nonce, (issued, _) = next(iter(counts.items()))
        del counts[nonce]
        if issued > self._forgottenUpTo:
            self._forgottenUpTo = issued
        if counts:
            self._sweepAt = next(iter(counts.values()))[0] + self._lifetime
        else:
            self._sweepAt = math.inf

    def _forgetExpired(self, now):
        """
        Drop the counts of nonces past their lifetime, oldest first use
        first: memory stays bounded by the nonces used in about two
        lifetimes. Called once C{now} is past C{_sweepAt}, the end of the
        lifetime of the first nonce kept, which it moves on.
        """
        counts = self._counts
        lifetime = self._lifetime
        while counts:
            nonce, (issued, _) = next(iter(counts.items()))
            if issued + lifetime >= now:
                self._sweepAt = issued + lifetime
                return
            del counts[nonce]
        self._sweepAt = math.inf


def _equalURI(text, requestURI):
    """
    RFC 2617 3.2.2.5: a C{uri} directive not written as the Request-URI
    still names it when equal to it by the rules of RFC 3261 19.1.4.
    """
    try:
        return parseURI(text) == requestURI
    except SIPParseError:
        return False

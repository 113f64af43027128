"""
Digest authentication, the client's side (RFC 2617 as profiled by RFC 3261
22.2-22.3, and RFC 3310 Digest AKA): answering the 401 and 407 challenges
a provider sends to a trunk's REGISTER and INVITE.

Algorithms MD5, MD5-sess and AKAv1-MD5, with C{qop=auth} or without qop
(RFC 2069). Nonce counts rise per nonce, so a nonce can be reused for the
next request (L{ClientAuthenticator.preauthorize}, as a re-REGISTER does)
without a new challenge round trip.

A client must not loop on a wrong password: L{ClientAuthenticator.authorize}
remembers which credentials it put into which request (by Call-ID and
CSeq), and refuses to answer again when a challenge comes back for a
request that already carried its fresh answer for that realm, unless the
challenge says C{stale=true} (RFC 2617 3.2.1: the password was right, only
the nonce was old) or the answer was an AKA resynchronisation (RFC 3310
3.4: the server sends a new challenge after AUTS). Reused (preauthorised)
credentials refused get one fresh answer, since some servers do not mark
an expired nonce stale.

Sans-I/O: the caller builds the new request (same Call-ID and From tag,
CSeq one higher, a new branch) and sends it.
"""

import base64
import os
from collections import OrderedDict
from dataclasses import dataclass

from oso.secrets import digestHA1
from oso.sip.aka import ALGORITHM as AKA_ALGORITHM
from oso.sip.aka import AKAError, AKAOutcome, parseNonce, passwordHA1
from oso.sip.digest import digestResponse, sessionHA1
from oso.sip.headers import Credentials
from oso.sip.uri import SIPParseError

# How many requests' credentials are remembered for the refusal check.
_REQUESTS_KEPT = 128

_CHALLENGE_FIELDS = {401: ("WWW-Authenticate", "Authorization"),
                     407: ("Proxy-Authenticate", "Proxy-Authorization")}


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """
    What a trunk authenticates with.

    @ivar username: the digest user name (with AKA, the private identity).
    @ivar password: the password, text; unused with AKA.
    @ivar aka: an L{oso.sip.aka.AKAClient} for C{algorithm=AKAv1-MD5}
        challenges, or C{None} (such challenges are then not answered).
    """

    username: str
    password: str
    aka: object = None


@dataclass(slots=True)
class _Nonce:
    """
    What answering one challenge needs again for the next request with
    the same nonce.

    @ivar ha1: H(A1), already combined with nonce and cnonce for MD5-sess.
    @ivar sessionCnonce: the cnonce H(A1) was made with (MD5-sess), which
        later requests repeat; C{None} for the others (a fresh cnonce each).
    @ivar nc: the last nonce count used.
    @ivar auts: the AKA resynchronisation sent with it (base64), or
        C{None}.
    @ivar reusable: whether L{ClientAuthenticator.preauthorize} may use
        it again (not for an AKA answer without RES).
    """

    realm: str
    nonce: str
    algorithm: str
    qop: str | None
    opaque: str | None
    ha1: str
    sessionCnonce: str | None = None
    nc: int = 0
    auts: str | None = None
    reusable: bool = True


class ClientAuthenticator:
    """
    Answers digest challenges for one set of L{ClientCredentials}.
    """

    def __init__(self, credentials, cnonce=None):
        """
        @param credentials: the L{ClientCredentials}.
        @param cnonce: C{() -> str}, a fresh client nonce each call (by
            default 16 random hex digits).
        """
        self.credentials = credentials
        self._cnonce = cnonce if cnonce is not None else (lambda: os.urandom(8).hex())
        # (credentials field name, realm) -> _Nonce, the last challenge of each.
        self._nonces = {}
        # (Call-ID, CSeq number) -> {(field name, realm): kind}, kind being
        # "answer", "resync" or "reuse".
        self._sent = OrderedDict()

    def authorize(self, request, challenge):
        """
        Add credentials answering C{challenge} to C{request}.

        @param request: the new L{oso.sip.message.Request} to send.
        @param challenge: the 401 or 407 L{oso.sip.message.Response} to an
            earlier request.
        @return: whether credentials were added and the request should be
            sent; C{False} when retrying cannot help (no challenge this
            client can answer, or the same credentials were refused).
        """
        names = _CHALLENGE_FIELDS.get(challenge.status)
        if names is None:
            return False
        challengeName, credentialsName = names
        try:
            challenges = [
                c for c in challenge.headers.getAllParsed(challengeName)
                if c.scheme.lower() == "digest"
            ]
            key = (challenge.callID, challenge.cseq.number)
        except (SIPParseError, AttributeError):
            return False
        sentBefore = self._sent.get(key, {})
        answered = {}
        for offer in challenges:
            realm = offer.params.get("realm")
            if realm is None or (credentialsName, realm) in answered:
                continue
            previous = sentBefore.get((credentialsName, realm))
            stale = offer.params.get("stale", "").lower() == "true"
            if previous == "answer" and not stale:
                # Our fresh answer was refused: a wrong password. Answering
                # only the other realms would go round forever.
                return False
            state = self._accept(offer, previous)
            if state is not None:
                answered[(credentialsName, realm)] = state
        if not answered:
            return False
        kinds = {}
        for (name, realm), state in answered.items():
            self._nonces[(name, realm)] = state
            request.headers.add(name, self._credentials(state, request))
            kinds[(name, realm)] = "resync" if state.auts is not None else "answer"
        self._remember(request, kinds)
        return True

    def preauthorize(self, request):
        """
        Add credentials for the last challenge of each realm, with the next
        nonce count: the request then needs no new challenge while the
        nonce is good. Does nothing before any challenge.
        """
        kinds = {}
        for (name, realm), state in self._nonces.items():
            if not state.reusable:
                continue
            request.headers.add(name, self._credentials(state, request))
            kinds[(name, realm)] = "reuse"
        if kinds:
            self._remember(request, kinds)

    def _accept(self, offer, previous):
        """
        A L{_Nonce} answering C{offer}, or C{None} when it cannot be
        answered.

        @param previous: what the challenged request carried for the
            offer's realm: C{"answer"} (refused but stale), C{"resync"},
            C{"reuse"} or C{None}.
        """
        params = offer.params
        realm = params["realm"]
        nonce = params.get("nonce")
        if nonce is None:
            return None
        qops = [q.strip().lower() for q in params.get("qop", "").split(",") if q.strip()]
        if qops and "auth" not in qops:
            return None
        qop = "auth" if qops else None
        algorithm = params.get("algorithm", "MD5")
        upper = algorithm.upper()
        opaque = params.get("opaque")
        username = self.credentials.username
        if upper == AKA_ALGORITHM.upper():
            return self._acceptAKA(realm, nonce, algorithm, qop, opaque, previous)
        if upper not in ("MD5", "MD5-SESS"):
            return None
        try:
            ha1 = digestHA1(username, realm, self.credentials.password)
        except UnicodeEncodeError:
            return None
        sessionCnonce = None
        if upper == "MD5-SESS":
            if qop is None:
                return None
            sessionCnonce = self._cnonce()
            ha1 = sessionHA1(ha1, nonce, sessionCnonce)
        return _Nonce(realm, nonce, algorithm, qop, opaque, ha1, sessionCnonce)

    def _acceptAKA(self, realm, nonce, algorithm, qop, opaque, previous):
        """
        RFC 3310 3.2-3.4: check AUTN; RES is the password, or an empty one
        with C{auts} when SQN is out of range (or with neither when the
        network is not authentic, so the server learns it).
        """
        aka = self.credentials.aka
        if aka is None:
            return None
        try:
            rand, autn, _ = parseNonce(nonce)
        except AKAError:
            return None
        outcome, res, auts = aka.verify(rand, autn)
        if outcome is AKAOutcome.resync and previous == "resync":
            # A second resynchronisation in a row: the server ignored ours.
            return None
        ha1 = passwordHA1(self.credentials.username, realm, res)
        state = _Nonce(realm, nonce, algorithm, qop, opaque, ha1)
        # Only RES is worth reusing; AUTS and the empty password are not.
        state.reusable = outcome is AKAOutcome.ok
        if auts is not None:
            state.auts = base64.b64encode(auts).decode("ascii")
        return state

    def _credentials(self, state, request):
        """
        The L{Credentials} for C{request} with C{state}'s nonce, counting
        one more use of it.
        """
        uri = str(request.uri)
        state.nc += 1
        params = {
            "username": self.credentials.username,
            "realm": state.realm,
            "nonce": state.nonce,
            "uri": uri,
        }
        if state.qop is None:
            params["response"] = digestResponse(state.ha1, request.method, uri, state.nonce)
        else:
            nc = f"{state.nc:08x}"
            cnonce = state.sessionCnonce or self._cnonce()
            params["response"] = digestResponse(
                state.ha1, request.method, uri, state.nonce, state.qop, nc, cnonce
            )
            params.update(cnonce=cnonce, nc=nc, qop=state.qop)
        params["algorithm"] = state.algorithm
        if state.opaque is not None:
            params["opaque"] = state.opaque
        if state.auts is not None:
            params["auts"] = state.auts
        return Credentials("Digest", params)

    def _remember(self, request, kinds):
        try:
            key = (request.callID, request.cseq.number)
        except (SIPParseError, AttributeError):
            return
        self._sent[key] = kinds
        self._sent.move_to_end(key)
        while len(self._sent) > _REQUESTS_KEPT:
            self._sent.popitem(last=False)

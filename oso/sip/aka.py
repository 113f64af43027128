"""
HTTP Digest AKA (RFC 3310), the client's side: answering a digest
challenge with C{algorithm=AKAv1-MD5} from the subscriber's K and OPc, as a
trunk toward an IMS-style provider does.

The challenge's nonce is C{base64(RAND || AUTN || server data)}, AUTN being
C{SQN xor AK || AMF || MAC-A} (3GPP TS 33.102 6.3). The client unmasks SQN
with AK = f5(RAND), checks MAC-A = f1(SQN, RAND, AMF) (the network is
authentic) and that SQN is fresh against the highest SQN it accepted
(TS 33.102 Annex C.2.1, a window of C{delta} above it), then answers the
ordinary RFC 2617 digest with RES = f2(RAND) as the password. A SQN out of
range gets a resynchronisation instead: C{auts} = C{SQNms xor AK* ||
MAC-S} (MAC-S = f1*(SQNms, RAND, AMF 0000), TS 33.102 6.3.3), with the
digest computed over an empty password (RFC 3310 3.2); a wrong MAC-A gets
the same empty password and no C{auts}, so the server learns that the
network failed to authenticate.

The request digest is L{oso.sip.digest.digestResponse}, shared with the
server's side; only H(A1) differs, the password being RES's raw octets.
Sans-I/O: the caller owns the SQN store (L{AKAClient.sqn}) and persists it
(C{accepted} tells it of each new SQN).
"""

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from enum import Enum

from oso.sip.digest import digestResponse
from oso.sip.headers import Credentials
from oso.sip.milenage import Milenage

#: The algorithm token of RFC 3310 3.1.
ALGORITHM = "AKAv1-MD5"


class AKAError(ValueError):
    """
    A challenge that cannot be answered with AKA: not AKAv1-MD5, or a
    nonce that is not base64 of at least RAND and AUTN.
    """


class AKAOutcome(Enum):
    """
    What the client made of AUTN.

    @cvar ok: the network is authentic and SQN fresh: answered with RES.
    @cvar resync: the network is authentic but SQN out of range: answered
        with C{auts} and the empty password.
    @cvar macFailure: MAC-A is wrong: answered with the empty password.
    """

    ok = "ok"
    resync = "resync"
    macFailure = "mac-failure"


@dataclass(frozen=True, slots=True)
class AKAAnswer:
    """
    The client's answer to one AKA challenge.

    @ivar outcome: an L{AKAOutcome}.
    @ivar credentials: the L{Credentials} for the C{Authorization} or
        C{Proxy-Authorization} header field.
    @ivar res: RES (the password) when C{ok}, else C{b""}.
    @ivar auts: AUTS octets when C{resync}, else C{None}.
    """

    outcome: AKAOutcome
    credentials: Credentials
    res: bytes
    auts: bytes | None


def parseNonce(nonce):
    """
    Split an AKA nonce into its parts (RFC 3310 3.2).

    @param nonce: the C{nonce} directive, base64 text.
    @return: C{(rand, autn, serverData)}, 16, 16 and any octets.
    @raise AKAError: when it is not base64 or too short.
    """
    try:
        raw = base64.b64decode(nonce.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise AKAError("the AKA nonce is not base64") from None
    if len(raw) < 32:
        raise AKAError(f"the AKA nonce holds {len(raw)} octets, RAND and AUTN need 32")
    return raw[:16], raw[16:32], raw[32:]


def makeNonce(rand, autn, serverData=b""):
    """
    The nonce a server sends for C{rand} and C{autn} (RFC 3310 3.2).
    """
    return base64.b64encode(rand + autn + serverData).decode("ascii")


def passwordHA1(username, realm, password):
    """
    H(A1) = MD5(username:realm:password) with a password of raw octets
    (RES, RFC 3310 3.1; or an ordinary password's UTF-8).
    """
    text = f"{username}:{realm}:".encode() + password
    return hashlib.md5(text, usedforsecurity=False).hexdigest()


class AKAClient:
    """
    Answers AKAv1-MD5 challenges for one subscriber.

    @ivar sqn: the highest SQN accepted so far (SQNms), an C{int}; the
        caller stores it between runs.
    """

    def __init__(self, username, milenage, sqn=0, delta=1 << 28, accepted=None):
        """
        @param username: the private identity, the digest user name.
        @param milenage: a L{Milenage} for the subscriber's K and OPc.
        @param sqn: the highest SQN accepted before.
        @param delta: how far above C{sqn} a SQN may be and still be
            accepted (TS 33.102 C.2.1 limits it against wrap-around).
        @param accepted: called with each SQN accepted, to persist it (a
            replayed challenge must stay refused after a restart), or
            C{None}.
        """
        self.username = username
        self._milenage = milenage
        self.sqn = sqn
        self._delta = delta
        self.accepted = accepted

    @classmethod
    def fromKeys(cls, username, k, opc=None, op=None, **kwargs):
        """
        A client from K and OPc (or OP, from which OPc is derived).
        """
        if (opc is None) == (op is None):
            raise ValueError("give exactly one of OPc and OP")
        milenage = Milenage(k, opc) if opc is not None else Milenage.fromOP(k, op)
        return cls(username, milenage, **kwargs)

    def _fresh(self, sqn):
        return self.sqn < sqn <= self.sqn + self._delta

    def _autsFor(self, rand):
        sqnms = self.sqn.to_bytes(6, "big")
        akStar = self._milenage.f5star(rand)
        macS = self._milenage.f1star(rand, sqnms, b"\x00\x00")
        return bytes(a ^ b for a, b in zip(sqnms, akStar, strict=True)) + macS

    def verify(self, rand, autn):
        """
        Check AUTN for C{rand} and, when the network is authentic and SQN
        fresh, accept SQN.

        @return: C{(outcome, res, auts)} as in L{AKAAnswer}.
        """
        res, ak = self._milenage.f2f5(rand)
        sqnBytes = bytes(a ^ b for a, b in zip(autn[:6], ak, strict=True))
        amf, mac = autn[6:8], autn[8:16]
        if not hmac.compare_digest(self._milenage.f1(rand, sqnBytes, amf), mac):
            return AKAOutcome.macFailure, b"", None
        sqn = int.from_bytes(sqnBytes, "big")
        if not self._fresh(sqn):
            return AKAOutcome.resync, b"", self._autsFor(rand)
        self.sqn = sqn
        if self.accepted is not None:
            self.accepted(sqn)
        return AKAOutcome.ok, res, None

    def answer(self, challenge, method, uri, cnonce, nc=1):
        """
        Answer a digest challenge with AKA.

        @param challenge: the L{oso.sip.headers.Challenge} of the 401/407.
        @param method: the method of the request to authorise.
        @param uri: the C{uri} directive (the Request-URI as text).
        @param cnonce: the client nonce, text (with C{qop=auth}).
        @param nc: the nonce count.
        @return: an L{AKAAnswer}.
        @raise AKAError: when the challenge is not AKAv1-MD5 or its nonce
            is malformed.
        """
        params = challenge.params
        algorithm = params.get("algorithm", "MD5")
        if challenge.scheme.lower() != "digest" or algorithm.lower() != ALGORITHM.lower():
            raise AKAError(f"not a Digest {ALGORITHM} challenge")
        nonce = params.get("nonce")
        realm = params.get("realm")
        if nonce is None or realm is None:
            raise AKAError("the challenge has no nonce or realm")
        rand, autn, _ = parseNonce(nonce)
        outcome, res, auts = self.verify(rand, autn)
        qops = [q.strip().lower() for q in params.get("qop", "").split(",") if q.strip()]
        if qops and "auth" not in qops:
            raise AKAError(f"no qop this client supports in {params['qop']!r}")
        qop = "auth" if qops else None
        ncText = f"{nc:08x}" if qop else None
        response = digestResponse(
            passwordHA1(self.username, realm, res),
            method,
            uri,
            nonce,
            qop,
            ncText,
            cnonce if qop else None,
        )
        credentials = {
            "username": self.username,
            "realm": realm,
            "nonce": nonce,
            "uri": uri,
            "response": response,
            "algorithm": algorithm,
        }
        if qop:
            credentials.update(qop=qop, nc=ncText, cnonce=cnonce)
        if "opaque" in params:
            credentials["opaque"] = params["opaque"]
        if auts is not None:
            credentials["auts"] = base64.b64encode(auts).decode("ascii")
        return AKAAnswer(outcome, Credentials("Digest", credentials), res, auts)

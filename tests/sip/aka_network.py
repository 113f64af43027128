"""
A home network's side of Digest AKA for tests (3GPP TS 33.102 6.3 with
MILENAGE, RFC 3310): makes challenges, checks the answers with XRES as the
password and resynchronises from AUTS; the keys of TS 35.208 test set 1.
"""

import base64
import hashlib
import os

from oso.sip.aka import makeNonce
from oso.sip.headers import Challenge
from oso.sip.milenage import Milenage

# 3GPP TS 35.208 test set 1.
K = bytes.fromhex("465b5ce8b199b49faa5f0a2ee238a6bc")
OPC = bytes.fromhex("cd63cb71954a9f4e48a5994e37a02baf")


class HomeNetwork:
    """
    The AKA server's side: authentication vectors from MILENAGE (TS 33.102
    6.3.2), the check of the digest with XRES as the password (RFC 3310
    3.3) and resynchronisation from AUTS (TS 33.102 6.3.5).
    """

    def __init__(self, sqn, realm):
        self.milenage = Milenage(K, OPC)
        self.realm = realm
        self.sqn = sqn
        self.amf = b"\x80\x00"
        self.xres = {}

    def challenge(self, badMAC=False):
        rand = os.urandom(16)
        self.sqn += 1
        sqn = self.sqn.to_bytes(6, "big")
        xres, ak = self.milenage.f2f5(rand)
        mac = self.milenage.f1(rand, sqn, self.amf)
        if badMAC:
            mac = bytes(b ^ 1 for b in mac)
        autn = bytes(a ^ b for a, b in zip(sqn, ak)) + self.amf + mac
        nonce = makeNonce(rand, autn)
        self.xres[nonce] = (rand, xres)
        return Challenge("Digest", {"realm": self.realm, "nonce": nonce, "qop": "auth",
                                    "algorithm": "AKAv1-MD5", "opaque": "op1"})

    def check(self, req):
        """
        @return: C{"ok"}, C{"resync"} (SQN taken from AUTS) or C{"failed"}.
        """
        creds = req.headers.getParsed("Authorization").params
        rand, xres = self.xres[creds["nonce"]]
        assert creds["opaque"] == "op1"
        if "auts" in creds:
            auts = base64.b64decode(creds["auts"])
            akStar = self.milenage.f5star(rand)
            sqnms = bytes(a ^ b for a, b in zip(auts[:6], akStar))
            if self.milenage.f1star(rand, sqnms, b"\x00\x00") != auts[6:]:
                return "failed"
            self.sqn = int.from_bytes(sqnms, "big")
            return "resync"
        md5 = lambda t: hashlib.md5(t).hexdigest()  # noqa: E731
        ha1 = md5(f"{creds['username']}:{self.realm}:".encode() + xres)
        ha2 = md5(f"{req.method}:{creds['uri']}".encode())
        expected = md5(
            f"{ha1}:{creds['nonce']}:{creds['nc']}:{creds['cnonce']}:auth:{ha2}".encode()
        )
        return "ok" if expected == creds["response"] else "failed"

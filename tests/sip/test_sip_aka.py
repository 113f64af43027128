"""
Tests for L{oso.sip.aka}: the client's side of HTTP Digest AKA (RFC 3310),
against a server-side generator written here from the MILENAGE functions
(3GPP TS 33.102 6.3: RAND and SQN make AUTN and XRES; AUTS gives back
SQNms) and a digest check written from RFC 2617 3.2.2.
"""

import base64
import hashlib
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oso.sip.aka import AKAClient, AKAError, AKAOutcome, makeNonce, parseNonce
from oso.sip.headers import Challenge, parseChallenge, parseCredentials
from oso.sip.milenage import Milenage

# 3GPP TS 35.208 test set 1.
K = bytes.fromhex("465b5ce8b199b49faa5f0a2ee238a6bc")
OP = bytes.fromhex("cdc202d5123e20f62b6d676ac72cb318")
OPC = bytes.fromhex("cd63cb71954a9f4e48a5994e37a02baf")
RAND = bytes.fromhex("23553cbe9637a89d218ae64dae47bf35")
SQN = bytes.fromhex("ff9bb4d0b607")
AMF = bytes.fromhex("b9b9")
# AUTN of that set: SQN xor AK (f5 = aa689c648370) || AMF || MAC-A (f1).
AUTN = bytes.fromhex("55f328b43577" "b9b9" "4a9ffac354dfafb3")
RES = bytes.fromhex("a54211d5e3ba50bf")

USER = "alice@ims.example"
REALM = "ims.example"
URI = "sip:ims.example"


class Network:
    """
    The home network's side: makes AKA challenges and checks answers.
    """

    def __init__(self, k=K, opc=OPC, sqn=1000, amf=b"\x80\x00"):
        self.milenage = Milenage(k, opc)
        self.sqn = sqn
        self.amf = amf

    def vector(self, rand=None):
        """
        The next authentication vector: C{(rand, autn, xres)}.
        """
        rand = os.urandom(16) if rand is None else rand
        self.sqn += 32
        sqn = self.sqn.to_bytes(6, "big")
        xres, ak = self.milenage.f2f5(rand)
        mac = self.milenage.f1(rand, sqn, self.amf)
        autn = bytes(a ^ b for a, b in zip(sqn, ak)) + self.amf + mac
        return rand, autn, xres

    def challenge(self, rand=None, qop="auth"):
        rand, autn, xres = self.vector(rand)
        params = {"realm": REALM, "nonce": makeNonce(rand, autn), "algorithm": "AKAv1-MD5"}
        if qop:
            params["qop"] = qop
        params["opaque"] = "xyz"
        return parseChallenge(str(Challenge("Digest", params))), xres

    def resynchronise(self, rand, auts):
        """
        Read SQNms out of AUTS after checking MAC-S; continue above it.
        """
        sqnms = bytes(a ^ b for a, b in zip(auts[:6], self.milenage.f5star(rand)))
        assert self.milenage.f1star(rand, sqnms, b"\x00\x00") == auts[6:]
        self.sqn = int.from_bytes(sqnms, "big")


def expectedResponse(params, method, password):
    """
    The request digest of RFC 2617 3.2.2.1, written out here.
    """

    def md5(data):
        return hashlib.md5(data).hexdigest()

    ha1 = md5(f"{params['username']}:{params['realm']}:".encode() + password)
    ha2 = md5(f"{method}:{params['uri']}".encode())
    if "qop" in params:
        tail = f"{params['nonce']}:{params['nc']}:{params['cnonce']}:{params['qop']}:{ha2}"
    else:
        tail = f"{params['nonce']}:{ha2}"
    return md5(f"{ha1}:{tail}".encode())


def test_testSet1():
    """
    The AUTN of TS 35.208 test set 1 is authentic, its SQN fresh, and RES
    the set's f2.
    """
    client = AKAClient.fromKeys(USER, K, op=OP, sqn=int.from_bytes(SQN, "big") - 1)
    outcome, res, auts = client.verify(RAND, AUTN)
    assert (outcome, res, auts) == (AKAOutcome.ok, RES, None)
    assert client.sqn == int.from_bytes(SQN, "big")


@pytest.mark.parametrize("qop", ["auth", "auth,auth-int", None])
def test_roundTrip(qop):
    """
    A challenge from the network is answered with RES as the digest
    password; the header field reads back and the network accepts it; the
    client's SQN moves up.
    """
    network = Network()
    client = AKAClient.fromKeys(USER, K, opc=OPC, sqn=network.sqn)
    challenge, xres = network.challenge(qop=qop)
    answer = client.answer(challenge, "REGISTER", URI, cnonce="0a4f113b", nc=1)
    assert answer.outcome is AKAOutcome.ok
    assert answer.res == xres
    params = parseCredentials(str(answer.credentials)).params
    assert params["response"] == expectedResponse(params, "REGISTER", xres)
    assert params["algorithm"] == "AKAv1-MD5"
    assert params["opaque"] == "xyz"
    assert "auts" not in params
    assert ("nc" in params) == (qop is not None)
    assert client.sqn == network.sqn


def test_replayedChallengeResynchronises():
    """
    The same challenge twice: the second SQN is not fresh any more, so the
    client answers with AUTS and the empty password; the network reads
    SQNms from it, and its next challenge is accepted.
    """
    network = Network()
    client = AKAClient.fromKeys(USER, K, opc=OPC, sqn=network.sqn)
    challenge, _ = network.challenge()
    assert client.answer(challenge, "REGISTER", URI, "c1").outcome is AKAOutcome.ok
    answer = client.answer(challenge, "REGISTER", URI, "c2", nc=2)
    assert answer.outcome is AKAOutcome.resync
    params = parseCredentials(str(answer.credentials)).params
    assert params["response"] == expectedResponse(params, "REGISTER", b"")
    rand, _, _ = parseNonce(params["nonce"])
    auts = base64.b64decode(params["auts"])
    assert auts == answer.auts and len(auts) == 14
    network.resynchronise(rand, auts)
    assert network.sqn == client.sqn
    challenge, xres = network.challenge()
    answer = client.answer(challenge, "REGISTER", URI, "c3")
    assert (answer.outcome, answer.res) == (AKAOutcome.ok, xres)


def test_acceptedReported():
    """
    Each SQN the client accepts is reported to C{accepted} (to be
    persisted); a resynchronisation or a MAC failure reports nothing.
    """
    network = Network()
    kept = []
    client = AKAClient.fromKeys(USER, K, opc=OPC, sqn=network.sqn, accepted=kept.append)
    challenge, _ = network.challenge()
    client.answer(challenge, "REGISTER", URI, "c1")
    client.answer(challenge, "REGISTER", URI, "c2", nc=2)
    other = Network(k=bytes(16), sqn=network.sqn)
    client.answer(other.challenge()[0], "REGISTER", URI, "c3")
    assert kept == [network.sqn]


def test_networkBehindClient():
    """
    A network whose SQN is below the client's (a restored HLR) gets AUTS
    carrying the client's SQN; one far ahead of the window as well.
    """
    for clientSQN, networkSQN in [(5000, 1000), (0, 1 << 40)]:
        network = Network(sqn=networkSQN)
        client = AKAClient.fromKeys(USER, K, opc=OPC, sqn=clientSQN)
        challenge, _ = network.challenge()
        answer = client.answer(challenge, "REGISTER", URI, "c")
        assert answer.outcome is AKAOutcome.resync
        rand, _, _ = parseNonce(challenge.params["nonce"])
        network.resynchronise(rand, answer.auts)
        assert network.sqn == clientSQN


def test_wrongKeyIsMACFailure():
    """
    A network with another K fails MAC-A: the empty password, no AUTS, the
    client's SQN unchanged.
    """
    network = Network(k=bytes(16))
    client = AKAClient.fromKeys(USER, K, opc=OPC, sqn=0)
    challenge, _ = network.challenge()
    answer = client.answer(challenge, "REGISTER", URI, "c")
    assert (answer.outcome, answer.res, answer.auts) == (AKAOutcome.macFailure, b"", None)
    params = parseCredentials(str(answer.credentials)).params
    assert params["response"] == expectedResponse(params, "REGISTER", b"")
    assert "auts" not in params
    assert client.sqn == 0


@pytest.mark.parametrize("octet", range(16))
def test_tamperedAUTN(octet):
    """
    Any changed bit of AUTN is a MAC failure (or, in the SQN part, also
    one: the unmasked SQN changes MAC-A).
    """
    client = AKAClient.fromKeys(USER, K, opc=OPC, sqn=0)
    autn = bytearray(AUTN)
    autn[octet] ^= 0x01
    assert client.verify(RAND, bytes(autn))[0] is AKAOutcome.macFailure


def test_notAKA():
    """
    An MD5 challenge, or one without a nonce, is not answered with AKA.
    """
    client = AKAClient.fromKeys(USER, K, opc=OPC)
    for text in [
        'Digest realm="r", nonce="abc", algorithm=MD5',
        'Digest realm="r", nonce="abc"',
        'Digest realm="r", algorithm=AKAv1-MD5',
        f'Digest realm="r", nonce="{makeNonce(RAND, AUTN)}", algorithm=AKAv1-MD5, qop="auth-int"',
    ]:
        with pytest.raises(AKAError):
            client.answer(parseChallenge(text), "REGISTER", URI, "c")
    with pytest.raises(ValueError):
        AKAClient.fromKeys(USER, K)


@given(st.text(max_size=80))
def test_arbitraryNonce(nonce):
    """
    Any nonce text either parses into RAND and AUTN or raises L{AKAError}.
    """
    try:
        rand, autn, rest = parseNonce(nonce)
    except AKAError:
        return
    assert len(rand) == len(autn) == 16


@given(st.binary(min_size=16, max_size=16), st.binary(min_size=16, max_size=16), st.binary(max_size=20))
def test_nonceRoundTrip(rand, autn, serverData):
    """
    A nonce made from RAND, AUTN and server data reads back into them.
    """
    assert parseNonce(makeNonce(rand, autn, serverData)) == (rand, autn, serverData)

"""
Digest AKA (RFC 3310) of a SIP trunk against a real peer: SIPp plays the
provider's registrar (the S-CSCF), the test its home network (the HSS).

The trunk runs in a real C{twistd -n oso} (C{sip}, C{sip-trunk},
C{call-log}) with the K and OPc of 3GPP TS 35.208 test set 1. The
authentication vectors (RAND, AUTN = SQN xor AK || AMF || MAC-A, XRES) are
made here without oso's MILENAGE: the published vector of test set 1 is
used as it is (its f1, f2, f5 outputs), and fresh vectors for other SQNs
come from L{Vectors}, a MILENAGE of this file checked first against every
output the test set publishes (f1, f1*, f2, f5, f5*).

SIPp sends each 401 with C{WWW-Authenticate: Digest realm, nonce =
base64(RAND || AUTN), algorithm=AKAv1-MD5, qop="auth"} and checks the next
REGISTER's C{Authorization} with C{ereg check_it}: the user name, realm,
nonce, algorithm, qop and, for a resynchronisation, the exact C{auts}
(SQNms xor AK* || MAC-S). SIPp cannot check the digest response itself:
its C{verifyauth} knows MD5 only, and with C{qop=auth} the response
depends on the client's cnonce, so no expected value exists before the
REGISTER. SIPp logs each C{Authorization}, and the test checks the
response with hashlib, XRES being the password (RFC 3310 3.4).

tshark decodes the capture without a malformed packet.
"""

import base64
import hashlib
import re
import subprocess
import time

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from sip_loopback import need
from test_sip_aka import AMF as AMF1
from test_sip_aka import K, OPC, RES
from test_sip_aka import RAND as RAND1
from test_sip_aka import SQN as SQN1
from test_sip_lines_interop import Capture, freeUDPPort

REALM = "ims.example"
USER = "4930123456"

# 3GPP TS 35.208 4.3 test set 1: the inputs and f2 (RES) as the AKA
# client's tests have them, and the other published outputs.
F1 = bytes.fromhex("4a9ffac354dfafb3")
F1STAR = bytes.fromhex("01cfaf9ec4e871e9")
F2 = RES
F5 = bytes.fromhex("aa689c648370")
F5STAR = bytes.fromhex("451e8beca43b")


def _xor(*blocks):
    out = bytes(len(blocks[0]))
    for block in blocks:
        out = bytes(a ^ b for a, b in zip(out, block, strict=True))
    return out


class Vectors:
    """
    The home network's MILENAGE (3GPP TS 35.206 4.1), written here from
    the specification so that the check does not rest on oso's.
    """

    # (rotation in octets, constant's last octet) of OUT1, OUT2 and OUT5.
    R1, R2, R5 = (8, 0), (0, 1), (12, 8)

    def __init__(self, k, opc):
        self._aes = Cipher(algorithms.AES(k), modes.ECB())
        self.opc = opc

    def _e(self, block):
        return self._aes.encryptor().update(block)

    def _out(self, rand, rc, in1=None):
        """
        OUT1 = E[TEMP xor rot(IN1 xor OPc, r1) xor c1] xor OPc, or with
        IN1 absent OUTn = E[rot(TEMP xor OPc, rn) xor cn] xor OPc.
        """
        rotation, constant = rc
        temp = self._e(_xor(rand, self.opc))
        x = _xor(temp if in1 is None else in1, self.opc)
        x = x[rotation:] + x[:rotation]
        if in1 is not None:
            x = _xor(x, temp)
        return _xor(self._e(_xor(x, bytes(15) + bytes([constant]))), self.opc)

    def f1both(self, rand, sqn, amf):
        """
        @return: C{(MAC-A, MAC-S)}.
        """
        in1 = (sqn + amf) * 2
        out1 = self._out(rand, self.R1, in1)
        return out1[:8], out1[8:]

    def f2f5(self, rand):
        """
        @return: C{(RES, AK)}.
        """
        out2 = self._out(rand, self.R2)
        return out2[8:], out2[:6]

    def f5star(self, rand):
        return self._out(rand, self.R5)[:6]

    def vector(self, rand, sqn, amf=b"\x80\x00"):
        """
        @return: C{(nonce, xres)} for SQN C{sqn} (an C{int}).
        """
        sqnBytes = sqn.to_bytes(6, "big")
        xres, ak = self.f2f5(rand)
        mac, _ = self.f1both(rand, sqnBytes, amf)
        return nonceOf(rand, _xor(sqnBytes, ak) + amf + mac), xres

    def auts(self, rand, sqnms):
        """
        The AUTS a client holding C{sqnms} sends for C{rand} (TS 33.102
        6.3.3: MAC-S over the dummy AMF of zeros).
        """
        sqnBytes = sqnms.to_bytes(6, "big")
        _, macS = self.f1both(rand, sqnBytes, b"\x00\x00")
        return _xor(sqnBytes, self.f5star(rand)) + macS


def nonceOf(rand, autn):
    return base64.b64encode(rand + autn).decode("ascii")


HOME = Vectors(K, OPC)

#: The published vector of test set 1, from the published outputs only.
PUBLISHED = (nonceOf(RAND1, _xor(SQN1, F5) + AMF1 + F1), F2)


def test_homeNetworkMilenage():
    """
    The home network's MILENAGE gives every published output of test set
    1, so the vectors it makes for other SQNs are right.
    """
    assert HOME.f1both(RAND1, SQN1, AMF1) == (F1, F1STAR)
    assert HOME.f2f5(RAND1) == (F2, F5)
    assert HOME.f5star(RAND1) == F5STAR
    assert HOME.vector(RAND1, int.from_bytes(SQN1, "big"), AMF1) == PUBLISHED


def configuration(port, providerPort):
    """
    An oso.toml: SIP on UDP C{port}; a registering trunk (AKA keys of test
    set 1) to the provider at C{providerPort}.
    """
    return f"""
[server]
realm = "oso"
components = ["sip", "sip-trunk", "call-log"]

[[devices]]
number = "900"
type = "trunk"
port = "sip-trunk"
trunk-group = "ims"

[components.sip]
listen = ["udp:{port}:interface=127.0.0.1"]

[[components.sip-trunk.trunks]]
trunk-group = "ims"
provider = "127.0.0.1:{providerPort}"
transport = "udp"
username = "{USER}"
aka-k = "{K.hex()}"
aka-opc = "{OPC.hex()}"
register = true
register-interval = 600
"""


def _ere(text):
    """
    C{text} as a POSIX extended regular expression matching it literally,
    inside an XML attribute.
    """
    escaped = re.sub(r"([\\.^$|?*+()\[\]{}])", r"\\\1", text)
    return escaped.replace("&", "&amp;").replace('"', "&quot;")


def _check(name, value):
    quoted = f'{name}="{value}"'
    return (f'<ereg regexp="{_ere(quoted)}" search_in="hdr" header="Authorization:" '
            'check_it="true" assign_to="checked"/>')


def registrarScenario(challenges):
    """
    A SIPp UAS scenario: each REGISTER is answered by the next of
    C{challenges} (a 401 with its nonce), then 200; the REGISTER that ends
    the registration gets 200 too. Every REGISTER after a challenge must
    answer it: its C{Authorization} fields are checked, and logged as
    C{AUTH <n> <field>}.

    @param challenges: C{(nonce, auts or None)}: the nonce to send, and the
        C{auts} (base64) the answer to the challenge before it must carry.
    """
    steps = []
    expectedAuts = [auts for _, auts in challenges[1:]] + [None, None]
    nonces = [nonce for nonce, _ in challenges]
    replies = [("401 Unauthorized", nonce) for nonce in nonces] + [("200 OK", None)] * 2
    for step, (reply, nonce) in enumerate(replies):
        checks = ""
        if step > 0:
            answered = nonces[min(step - 1, len(nonces) - 1)]
            checks = "\n".join([
                '<ereg regexp=".*" search_in="hdr" header="Authorization:" check_it="true" '
                f'assign_to="auth{step}"/>',
                f'<log message="AUTH {step} [$auth{step}]"/>',
                _check("username", USER),
                _check("realm", REALM),
                _check("nonce", answered),
            ])
            if expectedAuts[step - 1] is not None:
                checks += "\n" + _check("auts", expectedAuts[step - 1])
        extra = ""
        if nonce is not None:
            extra = (f'WWW-Authenticate: Digest realm="{REALM}", nonce="{nonce}", '
                     'algorithm=AKAv1-MD5, qop="auth"')
        else:
            extra = "[last_Contact:]\n      Expires: 600"
        if checks:
            checks = f"\n    <action>\n      {checks}\n    </action>\n  "
        steps.append(f"""
  <recv request="REGISTER">{checks}</recv>
  <send>
    <![CDATA[
      SIP/2.0 {reply}
      [last_Via:]
      [last_From:]
      [last_To:];tag=hss[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      {extra}
      Content-Length: 0

    ]]>
  </send>""")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<scenario name="AKA registrar">' + "".join(steps) + "\n</scenario>\n")


class Provider:
    """
    SIPp running a registrar scenario on C{port}, in the background.
    """

    def __init__(self, folder, port, challenges, name):
        self.log = folder / f"{name}.log"
        scenario = folder / f"{name}.xml"
        scenario.write_text(registrarScenario(challenges))
        self.process = subprocess.Popen(
            ["sipp", "-sf", str(scenario), "-i", "127.0.0.1", "-p", str(port), "-m", "1",
             "-nostdin", "-timeout", "60", "-timeout_error", "-trace_err",
             "-error_file", str(folder / f"{name}-errors.log"),
             "-trace_logs", "-log_file", str(self.log)],
            cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        self.folder = folder
        self.name = name

    def wait(self):
        try:
            status = self.process.wait(70)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        errors = self.folder / f"{self.name}-errors.log"
        assert status == 0, errors.read_text() if errors.exists() else f"SIPp: {status}"

    def authorizations(self):
        """
        @return: each logged C{Authorization}'s parameters, in order.
        """
        found = []
        for line in self.log.read_text().splitlines():
            if line.startswith("AUTH "):
                params = dict(
                    (name.lower(), value.strip('"'))
                    for name, value in re.findall(r'(\w+)=("[^"]*"|[^,\s]+)', line)
                )
                found.append(params)
        return found


def digest(params, password, method="REGISTER"):
    """
    The RFC 2617 response with qop=auth for the logged C{params}, the
    password being raw octets (RES, or empty: RFC 3310 3.4, 3.2).
    """
    md5 = lambda data: hashlib.md5(data).hexdigest()  # noqa: E731
    ha1 = md5(f"{params['username']}:{params['realm']}:".encode() + password)
    ha2 = md5(f"{method}:{params['uri']}".encode())
    return md5(f"{ha1}:{params['nonce']}:{params['nc']}:{params['cnonce']}:auth:{ha2}".encode())


def checkAnswer(params, password):
    assert params["algorithm"] == "AKAv1-MD5"
    assert params["qop"] == "auth"
    assert params["response"] == digest(params, password)


@pytest.fixture
def provider(tmp_path, twistd):
    """
    Start oso (the trunk registering to a free port) and SIPp there:
    C{provider(challenges, name)} runs one registration and returns the
    L{Provider} once oso stopped and SIPp finished.
    """
    need("sipp")
    need("tshark")
    port, providerPort = freeUDPPort(), freeUDPPort()
    (tmp_path / "oso.toml").write_text(configuration(port, providerPort))

    def run(challenges, name):
        capture = Capture(tmp_path / f"{name}.pcapng", [port, providerPort])
        try:
            sipp = Provider(tmp_path, providerPort, challenges, name)
            time.sleep(0.3)
            oso = twistd(["-n", "oso", "--config", "oso.toml"], cwd=tmp_path)
            try:
                oso.waitFor("BackInService")
            finally:
                # Stopping ends the registration: SIPp's last REGISTER.
                oso.stop()
                assert "Traceback" not in oso.output()
            sipp.wait()
        finally:
            capture.stop()
        malformed, sip, _ = capture.decode([port, providerPort])
        assert malformed == []
        assert len(sip) >= 2 * (len(challenges) + 2)
        sipp.oso = oso
        return sipp

    return run


def test_resynchronisation_then_fresh(provider):
    """
    A new trunk (SQNms 0) gets the published vector, whose SQN is far
    ahead: it resynchronises (AUTS: SQNms xor the published AK*, and MAC-S)
    with the empty password; the provider's fresh vector for SQNms + 1 is
    answered with RES, and the trunk is in service. Stopping unregisters
    with the same RES (nonce count 2).
    """
    fresh, xres = HOME.vector(bytes(range(16)), 1)
    auts = HOME.auts(RAND1, 0)
    # The SQNms part of AUTS, from the published f5* alone.
    assert _xor(auts[:6], F5STAR) == bytes(6)
    sipp = provider([(PUBLISHED[0], None), (fresh, base64.b64encode(auts).decode())],
                    "resync")
    resync, answer, unregister = sipp.authorizations()
    checkAnswer(resync, b"")
    checkAnswer(answer, xres)
    assert "auts" not in answer
    assert answer["nc"] == "00000001"
    checkAnswer(unregister, xres)
    assert unregister["nonce"] == fresh and unregister["nc"] == "00000002"


def test_sequenceKeptAcrossRestart(provider):
    """
    The trunk accepts a vector for SQN 5 and is stopped; started again on
    the same data directory, it refuses the same vector replayed (AUTS
    with SQNms 5) and accepts the next, SQN 6.
    """
    first, xres = HOME.vector(bytes(range(1, 17)), 5)
    sipp = provider([(first, None)], "first")
    answer, _ = sipp.authorizations()
    checkAnswer(answer, xres)
    assert "auts" not in answer

    following, xres6 = HOME.vector(bytes(range(2, 18)), 6)
    auts = base64.b64encode(HOME.auts(bytes(range(1, 17)), 5)).decode()
    sipp = provider([(first, None), (following, auts)], "replayed")
    replayed, answer, _ = sipp.authorizations()
    checkAnswer(replayed, b"")
    checkAnswer(answer, xres6)

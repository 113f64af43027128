"""
The media relay of a trunk call against real peers over loopback, through
a real C{twistd oso}: coturn (C{turnserver --stun-only}) as the trunk's
STUN server, SIPp as the VoIP provider calling a DID and as the
registered phone answering it, each sending 7 s of G.711 A-law RTP (the
pcap shipped with SIPp) to the address the SDP it got names.  tshark
decodes the loopback capture: the SDP toward the provider names the
relay's provider-facing port (the one STUN was asked about), the SDP
toward the phone its phone-facing port, RTP flows both ways through
them, nothing is malformed, and no socket stays open after the call.
"""

import os
import random
import subprocess
from collections import Counter

import pytest

from sip_loopback import need
from test_sip_lines_interop import PASSWORDS, Capture, events, freeUDPPort, register, sipp

ACCOUNT = ("4930123456", "provider-secret")


def configuration(port, providerPort, stunPort, mediaPorts):
    """
    An oso.toml: SIP on UDP C{port}; extensions 200 and 201; the trunk
    group "carrier" of one channel on the provider at C{providerPort}
    with the STUN server at C{stunPort} (the media relay on by default),
    its media on C{mediaPorts}; access code 0, DIDs +4930123456.
    """
    return f"""
[server]
realm = "oso"
components = ["sip", "sip-lines", "sip-trunk", "call-log"]

[dialplan]
trunk-access-code = "0"

[[dialplan.routes]]
pattern = "0Z."
trunk-group = "carrier"
strip = 1
prepend = "+49"

[[dialplan.dids]]
prefix = "+4930123456"

[[devices]]
number = "200"
name = "Phone 200"
port = "sip-lines"
password = "{PASSWORDS['200']}"

[[devices]]
number = "201"
name = "Phone 201"
port = "sip-lines"
password = "{PASSWORDS['201']}"

[[devices]]
number = "900"
type = "trunk"
port = "sip-trunk"
trunk-group = "carrier"

[components.sip]
listen = ["udp:{port}:interface=127.0.0.1"]

[components.sip-trunk]
media-ports = "{mediaPorts[0]}-{mediaPorts[1]}"

[[components.sip-trunk.trunks]]
trunk-group = "carrier"
provider = "127.0.0.1:{providerPort}"
transport = "udp"
username = "{ACCOUNT[0]}"
number-format = "national"
country-code = "49"
dids = ["+4930123456"]
stun-server = "127.0.0.1:{stunPort}"
stun-interval = 60
"""


@pytest.fixture
def coturn(tmp_path):
    """
    coturn as a STUN server on a free loopback port.
    """
    need("turnserver")
    port = freeUDPPort()
    with open(tmp_path / "turnserver.log", "wb") as log:
        process = subprocess.Popen(
            ["turnserver", "-n", "--stun-only", "--listening-ip=127.0.0.1",
             f"--listening-port={port}", "--no-cli", "--no-tls", "--no-dtls", "--no-tcp",
             "--log-file=stdout", "--simple-log", f"--pidfile={tmp_path / 'turnserver.pid'}"],
            stdout=log, stderr=subprocess.STDOUT,
        )
    yield port
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def sockets(pid):
    """
    How many sockets process C{pid} holds.
    """
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return count


def fields(path, decodeAs, display, *names):
    out = subprocess.run(
        ["tshark", "-r", str(path), "-o", "rtp.heuristic_rtp:TRUE", *decodeAs, "-Y", display,
         "-T", "fields", *(a for name in names for a in ("-e", name))],
        capture_output=True, text=True, timeout=60,
    )
    return [line.split("\t") for line in out.stdout.splitlines() if line.strip()]


class Call:
    """
    One call through a running oso with SIPp at both ends, captured.
    """

    def __init__(self, tmp_path, oso, stunPort, mediaPorts):
        self.tmp_path = tmp_path
        self.oso = oso
        self.stunPort = stunPort
        self.mediaPorts = mediaPorts
        self.providerPort, self.phonePort = freeUDPPort(), freeUDPPort()
        self.providerMedia, self.phoneMedia = freeUDPPort(), freeUDPPort()

    def capture(self):
        return Capture(
            self.tmp_path / "media.pcapng",
            [self.oso.port, self.providerPort, self.phonePort, self.stunPort,
             self.providerMedia, self.phoneMedia, self.phoneMedia + 2],
            more=f"udp portrange {self.mediaPorts[0]}-{self.mediaPorts[1]}",
        )

    def read(self, path):
        """
        Check the capture: nothing malformed; the SDP each side got names
        a relay port pair; STUN was asked from the provider-facing pair.

        @return: C{(providerFacing, phoneFacing, flows)}: the relay's RTP
            ports and the RTP packets per C{(source port, destination
            port)}.
        """
        sip = [a for p in (self.oso.port, self.providerPort, self.phonePort)
               for a in ("-d", f"udp.port=={p},sip")]
        stun = ["-d", f"udp.port=={self.stunPort},stun"]
        assert fields(path, sip + stun, "_ws.malformed || _ws.expert.severity >= error",
                      "frame.number") == []
        sdps = fields(path, sip, "sdp && udp.srcport == " + str(self.oso.port), "udp.dstport",
                      "sdp.connection_info.address", "sdp.media.port")
        [toProvider] = {(a, int(p)) for d, a, p in sdps if int(d) == self.providerPort}
        [toPhone] = {(a, int(p)) for d, a, p in sdps if int(d) == self.phonePort}
        providerFacing, phoneFacing = toProvider[1], toPhone[1]
        assert toProvider[0] == toPhone[0] == "127.0.0.1"
        for facing in (providerFacing, phoneFacing):
            assert self.mediaPorts[0] <= facing <= self.mediaPorts[1] and facing % 2 == 0
        assert providerFacing != phoneFacing
        # STUN: binding requests from the provider-facing RTP and RTCP
        # sockets, answered by coturn with their (loopback) mapping.
        asked = {int(s) for s, in fields(path, stun, "stun.type == 0x0001", "udp.srcport")}
        assert {providerFacing, providerFacing + 1} <= asked
        mapped = {int(p) for ports, in fields(path, stun, "stun.type == 0x0101 && udp.dstport == "
                                              f"{providerFacing}", "stun.att.port")
                  for p in ports.split(",")}
        assert providerFacing in mapped
        flows = Counter(
            (int(s), int(d))
            for s, d in fields(path, stun + sip, "rtp", "udp.srcport", "udp.dstport")
        )
        return providerFacing, phoneFacing, flows


@pytest.fixture
def oso(tmp_path, twistd, coturn):
    """
    A running oso whose trunk has coturn as STUN server (so its calls go
    through the relay), on a media port range of its own.
    """
    need("tshark")
    need("sipp")
    port = freeUDPPort()
    providerPort = freeUDPPort()
    base = random.randrange(20000, 29000, 2)
    mediaPorts = (base, base + 199)
    (tmp_path / "oso.toml").write_text(configuration(port, providerPort, coturn, mediaPorts))
    process = twistd(["-n", "oso", "--config", "oso.toml"], cwd=tmp_path)
    process.waitFor("oso ready:")
    process.port, process.remote = port, f"127.0.0.1:{port}"
    call = Call(tmp_path, process, coturn, mediaPorts)
    call.providerPort = providerPort
    process.call = call
    yield process
    process.stop()
    assert "Traceback" not in process.output()


def test_incoming_call_media_relayed_with_stun(tmp_path, oso):
    """
    The provider calls a DID; the phone answers; each sends RTP to the
    address its SDP names, and it arrives at the other through the relay;
    the relay's sockets close with the call.
    """
    call = oso.call
    register(tmp_path, oso, "201", call.phonePort)
    before = sockets(oso.process.pid)
    capture = call.capture()
    try:
        phone = sipp("trunk_phone_answer_rtp.xml", "-mp", str(call.phoneMedia), "-mi", "127.0.0.1",
                     port=call.phonePort, background=True, cwd=tmp_path)
        csv = tmp_path / "provider.csv"
        csv.write_text("SEQUENTIAL\n030123456201;015112345678\n")
        status = sipp("trunk_provider_call_rtp.xml", "-inf", str(csv), "-mp", str(call.providerMedia),
                      "-mi", "127.0.0.1", port=call.providerPort, remote=oso.remote, cwd=tmp_path)
        assert status == 0, "SIPp provider failed"
        assert phone.wait(30) == 0, "SIPp phone failed"
    finally:
        capture.stop()
    providerFacing, phoneFacing, flows = finishedCall(oso, capture, before)
    # The pcap holds 7 s of 20 ms packets one way: well over 100 each.
    for hop in ((call.providerMedia, providerFacing), (phoneFacing, call.phoneMedia),
                (call.phoneMedia, phoneFacing), (providerFacing, call.providerMedia)):
        assert flows[hop] > 100, (hop, flows)


def finishedCall(oso, capture, before):
    """
    Check that the call was answered and cleared and that oso holds the
    sockets it held before it.

    @return: the relay's provider-facing and phone-facing ports and the
        RTP packets counted per hop in C{capture}.
    """
    names = events(oso)
    assert "Established" in names and names[-1] == "CallCleared"
    assert sockets(oso.process.pid) == before
    return oso.call.read(capture.path)


def test_outgoing_call_relay_follows_the_phones_new_address(tmp_path, oso):
    """
    A phone calls out; the provider answers; RTP flows both ways; the
    phone moves its media with a re-INVITE, and the provider's RTP follows
    it there while the provider hears of nothing (its SDP, the relay's,
    did not change: no re-INVITE, which its scenario would refuse).
    """
    call = oso.call
    before = sockets(oso.process.pid)
    capture = call.capture()
    try:
        provider = sipp("trunk_provider_answer_rtp.xml", "-mp", str(call.providerMedia),
                        "-mi", "127.0.0.1", port=call.providerPort, background=True, cwd=tmp_path)
        caller = tmp_path / "caller.csv"
        caller.write_text("SEQUENTIAL\n200;\n")
        status = sipp(
            "uac_call_move_rtp.xml", "-inf", str(caller), "-s", "00891234567", "-au", "200",
            "-ap", PASSWORDS["200"], "-auth_uri", f"00891234567@{oso.remote}",
            "-mp", str(call.phoneMedia), "-mi", "127.0.0.1",
            port=call.phonePort, remote=oso.remote, cwd=tmp_path,
        )
        assert status == 0, "SIPp phone failed"
        assert provider.wait(30) == 0, "SIPp provider failed"
    finally:
        capture.stop()
    providerFacing, phoneFacing, flows = finishedCall(oso, capture, before)
    for hop in ((call.providerMedia, providerFacing), (phoneFacing, call.phoneMedia),
                (phoneFacing, call.phoneMedia + 2), (call.phoneMedia, phoneFacing),
                (providerFacing, call.providerMedia)):
        assert flows[hop] > 50, (hop, flows)

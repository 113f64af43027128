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
    return f"""
[server]
realm = "oso"
components = ["sip", "sip-lines", "sip-trunk", "call-log"]

[[dialplan.dids]]
prefix = "+4930123456"

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


def test_incoming_call_media_relayed_with_stun(tmp_path, twistd, coturn):
    need("tshark")
    need("sipp")
    port, providerPort, phonePort = freeUDPPort(), freeUDPPort(), freeUDPPort()
    providerMedia, phoneMedia = freeUDPPort(), freeUDPPort()
    base = random.randrange(20000, 29000, 2)
    mediaPorts = (base, base + 199)
    (tmp_path / "oso.toml").write_text(
        configuration(port, providerPort, coturn, mediaPorts))
    oso = twistd(["-n", "oso", "--config", "oso.toml"], cwd=tmp_path)
    oso.waitFor("oso ready:")
    oso.port, oso.remote = port, f"127.0.0.1:{port}"
    register(tmp_path, oso, "201", phonePort)
    before = sockets(oso.process.pid)
    capture = Capture(
        tmp_path / "media.pcapng",
        [port, providerPort, phonePort, coturn, providerMedia, phoneMedia],
        more=f"udp portrange {mediaPorts[0]}-{mediaPorts[1]}",
    )
    try:
        phone = sipp("trunk_phone_answer_rtp.xml", "-mp", str(phoneMedia), "-mi", "127.0.0.1",
                     port=phonePort, background=True, cwd=tmp_path)
        csv = tmp_path / "provider.csv"
        csv.write_text("SEQUENTIAL\n030123456201;015112345678\n")
        status = sipp("trunk_provider_call_rtp.xml", "-inf", str(csv), "-mp", str(providerMedia),
                      "-mi", "127.0.0.1", port=providerPort, remote=oso.remote, cwd=tmp_path)
        assert status == 0, "SIPp provider failed"
        assert phone.wait(30) == 0, "SIPp phone failed"
    finally:
        capture.stop()
    names = events(oso)
    assert "Established" in names and names[-1] == "CallCleared"
    assert sockets(oso.process.pid) == before

    sip = [a for p in (port, providerPort, phonePort) for a in ("-d", f"udp.port=={p},sip")]
    stun = ["-d", f"udp.port=={coturn},stun"]
    path = capture.path
    assert fields(path, sip + stun, "_ws.malformed || _ws.expert.severity >= error",
                  "frame.number") == []
    sdps = fields(path, sip, "sdp", "udp.srcport", "udp.dstport",
                  "sdp.connection_info.address", "sdp.media.port")
    [toProvider] = {(a, int(p)) for s, d, a, p in sdps if int(d) == providerPort}
    [toPhone] = {(a, int(p)) for s, d, a, p in sdps if int(d) == phonePort}
    providerFacing, phoneFacing = toProvider[1], toPhone[1]
    assert toProvider[0] == toPhone[0] == "127.0.0.1"
    for facing in (providerFacing, phoneFacing):
        assert mediaPorts[0] <= facing <= mediaPorts[1] and facing % 2 == 0
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
    # The pcap holds 7 s of 20 ms packets one way: well over 100 each.
    for hop in ((providerMedia, providerFacing), (phoneFacing, phoneMedia),
                (phoneMedia, phoneFacing), (providerFacing, providerMedia)):
        assert flows[hop] > 100, (hop, flows)
    assert "Traceback" not in oso.output()
    oso.stop()

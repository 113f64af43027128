"""
The sip-trunk port against real SIP peers over loopback, through a real
C{twistd oso} with the C{sip}, C{sip-lines}, C{sip-trunk} and C{call-log}
components: SIPp as the VoIP provider (taking calls from the trunk with a
407 challenge, calling DIDs) and as the phones, and tshark decoding every
SIP and SDP message of the loopback capture.
"""

import time

import pytest

from sip_loopback import need
from test_sip_lines_interop import Capture, events, freeUDPPort, register, sipp

PASSWORDS = {"200": "pw-200-secret", "201": "pw-201-secret"}
ACCOUNT = ("4930123456", "provider-secret")


def configuration(port, providerPort):
    """
    An oso.toml: SIP on UDP C{port}; extensions 200 and 201 with public
    numbers; a trunk group "carrier" of two channels on the provider at
    C{providerPort} (no registration), national presentation; the access
    code 0 and the DID range +4930123456.
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
class-of-service = "national"

[[dialplan.dids]]
prefix = "+4930123456"

[[devices]]
number = "200"
name = "Phone 200"
port = "sip-lines"
password = "{PASSWORDS['200']}"
public-number = "4930123456200"

[[devices]]
number = "201"
name = "Phone 201"
port = "sip-lines"
password = "{PASSWORDS['201']}"
public-number = "4930123456201"

[[devices]]
number = "900"
type = "trunk"
port = "sip-trunk"
trunk-group = "carrier"

[[devices]]
number = "901"
type = "trunk"
port = "sip-trunk"
trunk-group = "carrier"

[components.sip]
listen = ["udp:{port}:interface=127.0.0.1"]

[[components.sip-trunk.trunks]]
trunk-group = "carrier"
provider = "127.0.0.1:{providerPort}"
transport = "udp"
username = "{ACCOUNT[0]}"
password = "{ACCOUNT[1]}"
number-format = "national"
country-code = "49"
dids = ["+4930123456"]
trust = "trusted"
"""


@pytest.fixture
def oso(tmp_path, twistd):
    """
    A running oso whose trunk's provider is a free UDP port, where the
    test runs SIPp.
    """
    need("tshark")
    need("sipp")
    port, providerPort = freeUDPPort(), freeUDPPort()
    (tmp_path / "oso.toml").write_text(configuration(port, providerPort))
    process = twistd(["-n", "oso", "--config", "oso.toml"], cwd=tmp_path)
    process.waitFor("oso ready:")
    process.port = port
    process.providerPort = providerPort
    process.remote = f"127.0.0.1:{port}"
    yield process
    process.stop()
    assert "Traceback" not in process.output()


def outgoing(tmp_path, oso, provider, phone):
    """
    Phone 200 (SIPp, C{phone}) dials 0 0891234567; the provider (SIPp,
    C{provider}) takes the trunk's INVITE.

    @return: the call model events.
    """
    csv = tmp_path / "provider.csv"
    # The called number in the national presentation, 200's public
    # number likewise, the account.
    csv.write_text(f"SEQUENTIAL\n0891234567;030123456200;{ACCOUNT[0]};{ACCOUNT[1]}\n")
    phonePort = freeUDPPort()
    capture = Capture(tmp_path / "sip.pcapng", [oso.port, oso.providerPort])
    try:
        far = sipp(provider, "-inf", str(csv), port=oso.providerPort, background=True,
                   cwd=tmp_path)
        time.sleep(0.3)
        caller = tmp_path / "caller.csv"
        caller.write_text("SEQUENTIAL\n200;\n")
        status = sipp(
            phone, "-inf", str(caller), "-s", "00891234567", "-au", "200",
            "-ap", PASSWORDS["200"], "-auth_uri", f"00891234567@{oso.remote}",
            port=phonePort, remote=oso.remote, cwd=tmp_path,
        )
        assert status == 0, f"SIPp phone {phone} failed"
        assert far.wait(30) == 0, f"SIPp provider {provider} failed"
    finally:
        capture.stop()
    malformed, sip, sdp = capture.decode([oso.port, oso.providerPort, phonePort])
    assert malformed == []
    assert sip and sdp
    return events(oso)


def incoming(tmp_path, oso, provider, phone, did="+4930123456201"):
    """
    Phone 201 (SIPp, C{phone}) registers; the provider (SIPp,
    C{provider}) calls C{did} from +4915112345678.

    @return: the call model events.
    """
    phonePort = freeUDPPort()
    capture = Capture(tmp_path / "sip.pcapng", [oso.port, oso.providerPort])
    try:
        register(tmp_path, oso, "201", phonePort)
        called = sipp(phone, port=phonePort, background=True, cwd=tmp_path)
        time.sleep(0.3)
        csv = tmp_path / "provider.csv"
        # The provider sends numbers in the national presentation.
        national = "0" + did[3:]
        csv.write_text(f"SEQUENTIAL\n{national};015112345678\n")
        status = sipp(provider, "-inf", str(csv), port=oso.providerPort, remote=oso.remote,
                      cwd=tmp_path)
        assert status == 0, f"SIPp provider {provider} failed"
        assert called.wait(30) == 0, f"SIPp phone {phone} failed"
    finally:
        capture.stop()
    malformed, sip, sdp = capture.decode([oso.port, oso.providerPort, phonePort])
    assert malformed == []
    assert sip and sdp
    return events(oso)


def test_outgoing_call_answers_407(tmp_path, oso):
    """
    The phone's call goes out on the trunk: the INVITE is challenged, sent
    again with credentials (checked by SIPp), answered; the phone hangs up
    and the provider gets the BYE.
    """
    names = outgoing(tmp_path, oso, "trunk_provider_answer.xml", "uac_call.xml")
    assert "NetworkReached" in names
    assert names.index("Delivered") < names.index("Established")
    assert names[-1] == "CallCleared"


def test_outgoing_call_busy(tmp_path, oso):
    names = outgoing(tmp_path, oso, "trunk_provider_busy.xml", "uac_busy.xml")
    assert "Failed" in names and "Established" not in names
    assert names[-1] == "CallCleared"


def test_incoming_call_provider_hangs_up(tmp_path, oso):
    names = incoming(tmp_path, oso, "trunk_provider_call.xml", "uas_answer.xml")
    assert names.pop(0) == "BackInService"
    assert names[:2] == ["Delivered", "Established"]
    assert names[-1] == "CallCleared"
    assert "call from +4915112345678 to +4930123456201" in oso.output()


def test_incoming_call_phone_hangs_up(tmp_path, oso):
    names = incoming(tmp_path, oso, "trunk_provider_call_far_hangup.xml",
                     "trunk_phone_answer_hangup.xml")
    assert names[1:3] == ["Delivered", "Established"]
    assert names[-1] == "CallCleared"


def test_incoming_call_busy(tmp_path, oso):
    names = incoming(tmp_path, oso, "trunk_provider_call_busy.xml", "uas_busy.xml")
    assert "Failed" in names and "Established" not in names
    assert names[-1] == "CallCleared"

"""
A registering sip-trunk with real Kamailio as the VoIP provider's proxy
and registrar, through a real C{twistd oso}: the trunk registers (401
answered with digest, in-memory C{usrloc}), its channels come into service;
a phone's call goes out through Kamailio (407 answered) to SIPp standing
for the network, and a call from the network through Kamailio reaches
the trunk's registered Contact with the DID in To and rings a SIPp phone.
tshark decodes the loopback capture without a malformed packet.
"""

import subprocess
import time

import pytest

from sip_loopback import freePort, need
from test_sip_lines_interop import Capture, events, freeUDPPort, register, sipp
from test_sip_trunk_interop import ACCOUNT, PASSWORDS, configuration

KAMAILIO_CFG = """#!KAMAILIO
debug=2
log_stderror=yes
children=1
disable_tcp=yes
auto_aliases=no
listen=udp:127.0.0.1:{port}

loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
loadmodule "xlog.so"

modparam("usrloc", "db_mode", 0)
modparam("auth", "nonce_count", 1)

request_route {{
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    if (is_method("REGISTER")) {{
        if (!pv_www_authenticate("$td", "{password}", "0")) {{
            auth_challenge("$td", "1");
            exit;
        }}
        xlog("L_INFO", "oso-test registered $tU contact $ct\\n");
        if (!save("location")) {{
            sl_reply_error();
        }}
        exit;
    }}
    if (has_totag()) {{
        if (!loose_route() && uri == myself) {{
            # The ACK of a challenge this proxy sent.
            exit;
        }}
        t_relay();
        exit;
    }}
    if (is_method("CANCEL")) {{
        if (t_check_trans()) {{
            t_relay();
        }}
        exit;
    }}
    if (!is_method("INVITE")) {{
        sl_send_reply("405", "Method Not Allowed");
        exit;
    }}
    if ($sp == {osoPort}) {{
        # From the trunk: authenticated, then on to the network.
        if (!pv_proxy_authenticate("$fd", "{password}", "0")) {{
            auth_challenge("$fd", "1");
            exit;
        }}
        consume_credentials();
        xlog("L_INFO", "oso-test outgoing $ru from $fu asserted $ai\\n");
        record_route();
        $du = "sip:127.0.0.1:{networkPort}";
        t_relay();
        exit;
    }}
    # From the network: to the account's registered Contact, the DID in To.
    record_route();
    $rU = "{user}";
    if (!lookup("location")) {{
        sl_send_reply("480", "Not Registered");
        exit;
    }}
    xlog("L_INFO", "oso-test incoming to $ru for $tU\\n");
    t_relay();
}}
"""


@pytest.fixture
def provider(tmp_path, twistd):
    """
    Kamailio as the provider, oso with a registering trunk toward it, and
    the port SIPp stands for the network on.
    """
    need("kamailio")
    need("sipp")
    need("tshark")
    port, kamailioPort, networkPort = freeUDPPort(), freePort(), freeUDPPort()
    folder = tmp_path / "kamailio"
    folder.mkdir()
    (folder / "kamailio.cfg").write_text(KAMAILIO_CFG.format(
        port=kamailioPort, password=ACCOUNT[1], osoPort=port, networkPort=networkPort,
        user=ACCOUNT[0],
    ))
    log = open(folder / "kamailio.log", "wb")
    kamailio = subprocess.Popen(
        ["kamailio", "-DD", "-E", "-x", "tlsf", "-m", "64", "-M", "8",
         "-Y", str(folder), "-w", str(folder), "-f", str(folder / "kamailio.cfg")],
        stdout=log, stderr=subprocess.STDOUT,
    )
    capture = None
    try:
        time.sleep(0.5)
        assert kamailio.poll() is None, (folder / "kamailio.log").read_text()
        text = configuration(port, kamailioPort).replace(
            'transport = "udp"', 'transport = "udp"\nregister = true\nregister-interval = 60'
        )
        (tmp_path / "oso.toml").write_text(text)
        capture = Capture(tmp_path / "sip.pcapng", [port, kamailioPort, networkPort])
        oso = twistd(["-n", "oso", "--config", "oso.toml"], cwd=tmp_path)
        oso.waitFor("oso ready:")
        oso.port = port
        oso.remote = f"127.0.0.1:{port}"
        oso.kamailio = f"127.0.0.1:{kamailioPort}"
        oso.networkPort = networkPort
        oso.kamailioLog = lambda: (folder / "kamailio.log").read_text(errors="replace")
        # The trunk registered: both channels are in service.
        oso.waitFor("BackInService cause=normal device=901", timeout=15)
        yield oso
        oso.stop()
        capture.stop()
        assert "Traceback" not in oso.output()
        malformed, sip, _ = capture.decode([port, kamailioPort, networkPort])
        assert malformed == []
        assert sip
    finally:
        if capture is not None and capture.process.poll() is None:
            capture.stop()
        kamailio.terminate()
        try:
            kamailio.wait(10)
        except subprocess.TimeoutExpired:
            kamailio.kill()
            kamailio.wait()
        log.close()


def test_registered_at_kamailio(provider):
    assert f"oso-test registered {ACCOUNT[0]} contact <sip:{ACCOUNT[0]}@127.0.0.1:{provider.port}>" \
        in provider.kamailioLog()


def test_outgoing_call_through_kamailio(tmp_path, provider):
    network = sipp("uas_answer.xml", port=provider.networkPort, background=True, cwd=tmp_path)
    time.sleep(0.3)
    caller = tmp_path / "caller.csv"
    caller.write_text("SEQUENTIAL\n200;\n")
    status = sipp(
        "uac_call.xml", "-inf", str(caller), "-s", "00891234567", "-au", "200",
        "-ap", PASSWORDS["200"], "-auth_uri", f"00891234567@{provider.remote}",
        port=freeUDPPort(), remote=provider.remote, cwd=tmp_path,
    )
    assert status == 0, "the phone's call failed"
    assert network.wait(30) == 0, "the network side did not see the call through"
    names = events(provider)
    assert "NetworkReached" in names and "Established" in names
    assert names[-1] == "CallCleared"
    assert "oso-test outgoing sip:0891234567@" in provider.kamailioLog()
    assert "asserted sip:030123456200@" in provider.kamailioLog()


def test_incoming_call_through_kamailio(tmp_path, provider):
    phonePort = freeUDPPort()
    register(tmp_path, provider, "201", phonePort)
    phone = sipp("uas_answer.xml", port=phonePort, background=True, cwd=tmp_path)
    time.sleep(0.3)
    csv = tmp_path / "network.csv"
    csv.write_text("SEQUENTIAL\n030123456201;015112345678\n")
    status = sipp("trunk_provider_call.xml", "-inf", str(csv), port=provider.networkPort,
                  remote=provider.kamailio, cwd=tmp_path)
    assert status == 0, "the network's call failed"
    assert phone.wait(30) == 0, "phone 201 did not take the call"
    assert f"oso-test incoming to sip:{ACCOUNT[0]}@127.0.0.1:{provider.port}" in provider.kamailioLog()
    names = events(provider)
    assert "Established" in names and names[-1] == "CallCleared"
    assert "call from +4915112345678 to +4930123456201" in provider.output()

"""
The C{sip} component against SIPp over loopback, in a real C{twistd oso}:
REGISTER with digest authentication over UDP and TCP, IPv4 and IPv6, with tshark decoding
every SIP message of the capture without a malformed packet.
"""

import subprocess
import time
from pathlib import Path

import pytest
from sip_loopback import freePort, hasIPv6, need

HERE = Path(__file__).resolve().parent
REGISTER = HERE / "sipp" / "register.xml"
PASSWORD = "pw-200-interop"


@pytest.fixture
def oso(tmp_path, twistd):
    """
    A running oso with only the sip component, on a free UDP and TCP
    port of 127.0.0.1 (and of ::1 when there is IPv6), and extension 200
    with a password.
    """
    port = freePort()
    listen = [f"udp:{port}:interface=127.0.0.1", f"tcp:{port}:interface=127.0.0.1"]
    port6 = freePort("::1") if hasIPv6() else None
    if port6 is not None:
        listen += [f"udp:{port6}:interface=::1", f"tcp:{port6}:interface=::1"]
    (tmp_path / "oso.toml").write_text(
        '[server]\nrealm = "oso"\ncomponents = ["virtual-phones", "sip"]\n\n'
        f'[[devices]]\nnumber = "200"\nport = "virtual-phones"\npassword = "{PASSWORD}"\n\n'
        f"[components.sip]\nlisten = {listen!r}\n".replace("'", '"')
    )
    process = twistd(["-n", "oso", "--config", "oso.toml"], cwd=tmp_path)
    process.waitFor("oso ready:")
    process.port = port
    process.port6 = port6
    yield process
    process.stop()
    assert "Traceback" not in process.output()


def sippRegister(tmp_path, oso, transport, password=PASSWORD, host="127.0.0.1"):
    """
    Run SIPp's REGISTER scenario for 200 over C{transport} (C{"u1"},
    C{"t1"}) from and to C{host}.

    @return: its exit status.
    """
    port = oso.port6 if ":" in host else oso.port
    remote = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    csv = tmp_path / "users.csv"
    csv.write_text(f"SEQUENTIAL\n200;{remote.rsplit(':', 1)[0]}:5999\n")
    command = [
        "sipp", "-sf", str(REGISTER), "-inf", str(csv), "-au", "200", "-ap", password,
        # SIPp writes an IPv6 digest uri without brackets unless told.
        "-auth_uri", remote,
        "-i", host, "-p", str(freePort(host)), "-t", transport, "-m", "1",
        "-nostdin", "-timeout", "20", "-timeout_error", "-trace_err", remote,
    ]
    return subprocess.run(
        command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, timeout=40
    ).returncode


def test_sipp_register_udp_tcp(tmp_path, oso):
    """
    SIPp registers 200 with digest over UDP, then over TCP: 401, then
    200 each time; the wrong password is refused.
    """
    need("sipp")
    assert sippRegister(tmp_path, oso, "u1") == 0
    assert sippRegister(tmp_path, oso, "t1") == 0
    assert sippRegister(tmp_path, oso, "u1", password="wrong") != 0
    oso.waitFor("REGISTER from")


def test_sipp_register_ipv6(tmp_path, oso):
    """
    The same over IPv6 (::1), UDP and TCP.
    """
    need("sipp")
    if oso.port6 is None:
        pytest.skip("this machine has no IPv6 loopback")
    assert sippRegister(tmp_path, oso, "u1", host="::1") == 0
    assert sippRegister(tmp_path, oso, "t1", host="::1") == 0


def test_tshark_decodes_register(tmp_path, oso):
    """
    tshark on the loopback capture of SIPp's REGISTER runs (UDP and TCP)
    finds every SIP message and no malformed packet.
    """
    need("sipp")
    need("tshark")
    capture = tmp_path / "sip.pcapng"
    port = oso.port
    tshark = subprocess.Popen(
        ["tshark", "-q", "-i", "lo", "-f", f"udp port {port} or tcp port {port}",
         "-w", str(capture)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not capture.exists() or capture.stat().st_size == 0:
            assert tshark.poll() is None and time.monotonic() < deadline, "tshark did not start"
            time.sleep(0.1)
        assert sippRegister(tmp_path, oso, "u1") == 0
        assert sippRegister(tmp_path, oso, "t1") == 0
        time.sleep(0.5)
    finally:
        tshark.terminate()
        tshark.wait(20)
    decodeAs = ["-d", f"udp.port=={port},sip", "-d", f"tcp.port=={port},sip"]

    def read(display, fields=()):
        out = subprocess.run(
            ["tshark", "-r", str(capture), *decodeAs, "-Y", display, *fields],
            capture_output=True, text=True, timeout=60,
        )
        return [line for line in out.stdout.splitlines() if line.strip()]

    assert read("_ws.malformed || _ws.expert.severity >= error") == []
    lines = read("sip", ["-T", "fields", "-e", "sip.Method", "-e", "sip.Status-Code"])
    # Per transport: REGISTER, 401, REGISTER, 200.
    assert sorted(lines) == sorted(["REGISTER\t", "\t401", "REGISTER\t", "\t200"] * 2)

"""
The sip-lines port against real SIP peers over loopback, through a real
C{twistd oso} with the C{sip}, C{sip-lines} and C{call-log} components:
SIPp as calling and called phones (digest, call, busy, CANCEL, hold and
resume by re-INVITE), two baresip softphones calling each other (in a
network namespace of their own, see C{baresip_call.py}), and tshark
decoding every SIP and SDP message of the loopback capture.
"""

import json
import re
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "sipp"
CHECKOUT = HERE.parents[1]
#: A call-log line: "#<seq> <event name> ... cause=...".
EVENT = re.compile(r" #\d+ (\w+) .*cause=")
PASSWORDS = {"200": "pw-200-secret", "201": "pw-201-secret", "202": "pw-202-secret"}


def need(program):
    """
    Skip without C{program}; under CI (which installs it) fail instead.
    """
    if shutil.which(program) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{program} is not installed, and CI installs it")
        pytest.skip(f"{program} is not installed")


def freeUDPPort():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def configuration(port, host="127.0.0.1"):
    """
    An oso.toml: SIP on UDP C{port}, the SIP extensions 200-202, every call
    model event on the log.
    """
    devices = "".join(
        f'[[devices]]\nnumber = "{number}"\nname = "Phone {number}"\n'
        f'port = "sip-lines"\npassword = "{password}"\n\n'
        for number, password in PASSWORDS.items()
    )
    return (
        '[server]\nrealm = "oso"\ncomponents = ["sip", "sip-lines", "call-log"]\n\n'
        f"{devices}"
        f'[components.sip]\nlisten = ["udp:{port}:interface={host}"]\n'
    )


class Capture:
    """
    tshark capturing SIP on the loopback interface into a file.
    """

    def __init__(self, path, ports, more=None):
        """
        @param more: another capture filter to take, or C{None}.
        """
        self.path = path
        ports = " or ".join([f"udp port {port}" for port in ports] + ([more] if more else []))
        self.process = subprocess.Popen(
            ["tshark", "-q", "-i", "lo", "-f", ports, "-w", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 20
        while not path.exists() or path.stat().st_size == 0:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("tshark did not start: " + self.process.stderr.read())
            time.sleep(0.1)

    def stop(self):
        time.sleep(0.5)
        self.process.terminate()
        self.process.wait(20)

    def decode(self, ports):
        """
        @return: C{(malformed, sip, sdp)}: the lines tshark says are
            malformed, and the SIP and SDP packets it decoded.
        """
        decodeAs = [a for port in ports for a in ("-d", f"udp.port=={port},sip")]
        def read(display):
            out = subprocess.run(
                ["tshark", "-r", str(self.path), *decodeAs, "-Y", display],
                capture_output=True, text=True, timeout=60,
            )
            return [line for line in out.stdout.splitlines() if line.strip()]
        return read("_ws.malformed || _ws.expert.severity >= error"), read("sip"), read("sdp")


def sipp(scenario, *arguments, port, remote=None, timeout=30, background=False, cwd):
    command = [
        "sipp", "-sf", str(SCENARIOS / scenario), "-i", "127.0.0.1", "-p", str(port),
        "-m", "1", "-nostdin", "-timeout", str(timeout), "-timeout_error",
        "-trace_err", *arguments,
    ]
    if remote:
        command.append(remote)
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    if background:
        return process
    return process.wait(timeout + 10)


@pytest.fixture
def oso(tmp_path, twistd):
    """
    A running oso with SIP on a free UDP port, and tshark capturing it.
    """
    need("tshark")
    port = freeUDPPort()
    (tmp_path / "oso.toml").write_text(configuration(port))
    process = twistd(["-n", "oso", "--config", "oso.toml"], cwd=tmp_path)
    process.waitFor("oso ready:")
    process.port = port
    process.remote = f"127.0.0.1:{port}"
    yield process
    process.stop()
    assert "Traceback" not in process.output()


def events(process):
    """
    The call model events on the log so far: their names, in order.
    """
    deadline = time.monotonic() + 3
    names = []
    while time.monotonic() < deadline:
        try:
            process.waitFor("CallCleared", timeout=0.5)
        except AssertionError:
            pass
        names = [m.group(1) for line in process.lines if (m := EVENT.search(line))]
        if "CallCleared" in names:
            break
    return names


def register(tmp_path, oso, number, contactPort):
    csv = tmp_path / f"register-{number}.csv"
    csv.write_text(f"SEQUENTIAL\n{number};127.0.0.1:{contactPort}\n")
    status = sipp(
        "register.xml", "-inf", str(csv), "-au", number, "-ap", PASSWORDS[number],
        port=freeUDPPort(), remote=oso.remote, cwd=tmp_path,
    )
    assert status == 0, "REGISTER with digest failed"


def sippCall(tmp_path, oso, uas, uac):
    """
    Register SIPp 201 as the called phone, run C{uas} for it and C{uac}
    from 200 calling 201.

    @return: the call model events.
    """
    need("sipp")
    uasPort, uacPort = freeUDPPort(), freeUDPPort()
    capture = Capture(tmp_path / "sip.pcapng", [oso.port])
    try:
        register(tmp_path, oso, "201", uasPort)
        called = sipp(uas, port=uasPort, background=True, cwd=tmp_path)
        time.sleep(0.3)
        caller = tmp_path / "caller.csv"
        caller.write_text("SEQUENTIAL\n200;\n")
        status = sipp(
            uac, "-inf", str(caller), "-s", "201", "-au", "200", "-ap", PASSWORDS["200"],
            "-auth_uri", f"201@{oso.remote}", port=uacPort, remote=oso.remote, cwd=tmp_path,
        )
        assert status == 0, f"SIPp caller {uac} failed"
        assert called.wait(30) == 0, f"SIPp called phone {uas} failed"
    finally:
        capture.stop()
    malformed, sip, sdp = capture.decode([oso.port, uasPort, uacPort])
    assert malformed == []
    assert len(sip) >= 8 and sdp
    return events(oso)


def test_sipp_call(tmp_path, oso):
    names = sippCall(tmp_path, oso, "uas_answer.xml", "uac_call.xml")
    # 201's REGISTER put it in service.
    assert names.pop(0) == "BackInService"
    assert names[:4] == ["ServiceInitiated", "Originated", "Delivered", "Established"]
    assert names[-1] == "CallCleared"


def test_sipp_busy(tmp_path, oso):
    _, *names = sippCall(tmp_path, oso, "uas_busy.xml", "uac_busy.xml")
    assert "Failed" in names and "Established" not in names
    assert names[-1] == "CallCleared"


def test_sipp_cancel_before_answer(tmp_path, oso):
    _, *names = sippCall(tmp_path, oso, "uas_cancel.xml", "uac_cancel.xml")
    assert "Delivered" in names and "Established" not in names
    assert names[-1] == "CallCleared"


def test_sipp_hold_and_resume(tmp_path, oso):
    _, *names = sippCall(tmp_path, oso, "uas_answer.xml", "uac_hold.xml")
    assert names[3:6] == ["Established", "Held", "Retrieved"]
    assert names[-1] == "CallCleared"


def test_baresip_phones_call_each_other(tmp_path):
    """
    Two baresip instances register with their passwords and call each
    other through oso, in a network namespace of their own (baresip will
    not use the loopback interface for media); one hangs up.
    """
    need("baresip")
    need("tshark")
    need("unshare")
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("the baresip test needs root for its network namespace")
        pytest.skip("the baresip test needs root for its network namespace")
    (tmp_path / "oso.toml").write_text(configuration(5060))
    environment = dict(os.environ, PYTHONPATH=str(CHECKOUT))
    out = subprocess.run(
        ["unshare", "-n", sys.executable, str(HERE / "baresip_call.py"), str(tmp_path)],
        capture_output=True, text=True, timeout=180, env=environment,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    result = json.loads(out.stdout.splitlines()[-1])
    assert result["error"] is None, result
    names = result["events"]
    assert names[:2] == ["BackInService", "BackInService"]
    del names[:2]
    assert names[:4] == ["ServiceInitiated", "Originated", "Delivered", "Established"]
    assert "Held" in names and "Retrieved" in names
    # Out of service as each phone unregistered when it stopped.
    assert names[-3:] == ["CallCleared", "OutOfService", "OutOfService"]
    assert result["malformed"] == []
    assert result["sip"] >= 10 and result["sdp"] >= 2

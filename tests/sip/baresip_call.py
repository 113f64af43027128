"""
Run inside a network namespace of its own (C{unshare -n}) by
C{test_sip_lines_interop.py}: bring up loopback and an C{ifb} device with
127.0.0.2 (baresip will not take the loopback interface for media), start
tshark, C{twistd oso} (the C{oso.toml} in the folder given), and two
baresip softphones, 200 and 201, driven over C{ctrl_tcp}: both register,
200 calls 201, 201 answers, 200 holds and resumes, 201 hangs up.

Prints one JSON line: C{error} (C{None} when all went as expected), the
call model C{events} from the call-log lines, and what tshark decoded
(C{malformed} lines, C{sip} and C{sdp} packet counts).
"""

import json
import re
import math
import os
import socket
import struct
import subprocess
import sys
import time
import wave
from pathlib import Path

import pytest

#: A call-log line: "#<seq> <event name> ... cause=...".
EVENT = re.compile(r" #\d+ (\w+) .*cause=")
PASSWORDS = {"200": "pw-200-secret", "201": "pw-201-secret", "202": "pw-202-secret"}
SERVER = "127.0.0.1:5060"


def sh(*command):
    subprocess.run(command, check=True)


def tone(path):
    """
    A minute of 440 Hz at 8 kHz, the audio the phones send (baresip ends
    a call when its audio file ends).
    """
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(
            b"".join(
                struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 8000)))
                for i in range(8000 * 60)
            )
        )


class Baresip:
    """
    One baresip process with its own configuration folder, and its
    ctrl_tcp control connection (netstring-framed JSON).
    """

    def __init__(
        self, folder, number, sipPort, controlPort, server=SERVER, transport="udp",
        listen="127.0.0.2", answermode="manual", config="",
    ):
        """
        @param server: the registrar's C{host:port} (an IPv6 one bracketed),
            reached over C{transport}.
        @param listen: the phone's SIP address (an IPv6 one bracketed).
        @param answermode: C{manual} (answer with C{accept}) or C{auto}.
        @param config: more lines for the C{config} file.
        """
        self.number = number
        self.folder = folder
        folder.mkdir()
        tone(folder / "tone8k.wav")
        (folder / "config").write_text(
            f"sip_listen {listen}:{sipPort}\n"
            "net_interface ifb9\n"
            f"audio_source aufile,{folder}/tone8k.wav\n"
            f"audio_player aubridge,p{number}\n"
            f"audio_alert aubridge,p{number}\n"
            "module_path /usr/lib/baresip/modules\n"
            "module g711.so\nmodule aufile.so\nmodule aubridge.so\n"
            "module account.so\nmodule menu.so\nmodule ctrl_tcp.so\n"
            f"ctrl_tcp_listen 127.0.0.1:{controlPort}\n"
            f"rtp_ports {20000 + 100 * (sipPort % 10)}-{20099 + 100 * (sipPort % 10)}\n"
            + config
        )
        (folder / "accounts").write_text(
            f"<sip:{number}@{server};transport={transport}>;auth_pass={PASSWORDS[number]};"
            f"regint=600;answermode={answermode}\n"
        )
        self.log = open(folder / "log", "w")
        self.process = subprocess.Popen(
            ["baresip", "-f", str(folder)],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                self.socket = socket.create_connection(("127.0.0.1", controlPort), timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.buffer = b""
        self.events = []

    def command(self, command, params=""):
        data = json.dumps({"command": command, "params": params, "token": command}).encode()
        self.socket.sendall(str(len(data)).encode() + b":" + data + b",")

    def _read(self, timeout):
        self.socket.settimeout(timeout)
        try:
            chunk = self.socket.recv(65536)
        except socket.timeout:
            return
        self.buffer += chunk
        while b":" in self.buffer:
            length, _, rest = self.buffer.partition(b":")
            n = int(length)
            if len(rest) < n + 1:
                break
            self.events.append(json.loads(rest[:n]))
            self.buffer = rest[n + 1 :]

    def waitFor(self, kind, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events:
                if event.get("type") == kind:
                    self.events.remove(event)
                    return event
            self._read(0.2)
        raise AssertionError(f"baresip: no {kind} within {timeout} s; got {self.events}")

    def ask(self, command, params="", timeout=15):
        """
        Send C{command} and wait for its response.

        @return: the response's C{data} (text).
        """
        self.command(command, params)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events:
                if event.get("response") and event.get("token") == command:
                    self.events.remove(event)
                    return event.get("data", "")
            self._read(0.2)
        raise AssertionError(f"baresip: no response to {command} within {timeout} s")

    def stop(self):
        self.process.terminate()
        self.process.wait(10)
        self.log.close()


def runIsolated(script, folder, timeout=240):
    """
    From a test: run C{script} (one of these baresip runs, taking a
    folder) under C{unshare -n}, with the checkout on its path.  Skips
    without baresip, tshark, unshare or root; under CI (which has them)
    fails instead.

    @return: the JSON line it printed last, decoded, its C{error} checked.
    """
    from test_sip_lines_interop import need

    for program in ("baresip", "tshark", "unshare"):
        need(program)
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("the baresip test needs root for its network namespace")
        pytest.skip("the baresip test needs root for its network namespace")
    out = subprocess.run(
        ["unshare", "-n", sys.executable, str(script), str(folder)],
        capture_output=True, text=True, timeout=timeout,
        env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2])),
    )
    assert out.returncode == 0, out.stdout + out.stderr
    result = json.loads(out.stdout.splitlines()[-1])
    assert result["error"] is None, result
    return result


def privateNetwork():
    """
    In a fresh network namespace: loopback up, and C{ifb9} with 127.0.0.2,
    the address baresip's media takes.
    """
    sh("ip", "link", "set", "lo", "up")
    sh("ip", "link", "add", "ifb9", "type", "ifb")
    sh("ip", "addr", "add", "127.0.0.2/32", "dev", "ifb9")
    sh("ip", "link", "set", "ifb9", "up")


def main(folder):
    folder = Path(folder)
    privateNetwork()
    pcap = folder / "baresip.pcapng"
    tshark = subprocess.Popen(
        ["tshark", "-q", "-i", "lo", "-f", "udp port 5060", "-w", str(pcap)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    while not pcap.exists() or pcap.stat().st_size == 0:
        time.sleep(0.1)
    twistdLog = open(folder / "twistd.log", "w+")
    server = subprocess.Popen(
        [sys.executable, "-c", "from twisted.scripts.twistd import run; run()",
         "-n", "oso", "--config", "oso.toml"],
        cwd=folder, stdin=subprocess.DEVNULL, stdout=twistdLog, stderr=subprocess.STDOUT,
    )
    error = None
    phones = []
    try:
        log = folder / "twistd.log"
        deadline = time.monotonic() + 60
        while "oso ready:" not in log.read_text():
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("oso did not start")
            time.sleep(0.1)
        a = Baresip(folder / "a", "200", 5200, 4441)
        phones.append(a)
        b = Baresip(folder / "b", "201", 5202, 4442)
        phones.append(b)
        # Both registered: each is in service (their REGISTER_OK may come
        # before the control connection).
        while log.read_text().count(" BackInService ") < 2:
            if time.monotonic() > deadline:
                raise AssertionError("the phones did not register")
            time.sleep(0.1)
        a.command("dial", f"sip:201@{SERVER}")
        b.waitFor("CALL_INCOMING")
        a.waitFor("CALL_RINGING")
        b.command("accept")
        a.waitFor("CALL_ESTABLISHED")
        b.waitFor("CALL_ESTABLISHED")
        time.sleep(1)
        a.command("hold")
        time.sleep(1)
        a.command("resume")
        time.sleep(1)
        b.command("hangup")
        a.waitFor("CALL_CLOSED")
        b.waitFor("CALL_CLOSED")
        time.sleep(0.5)
    except AssertionError as e:
        error = str(e)
    finally:
        for phone in phones:
            phone.stop()
        server.terminate()
        server.wait(30)
        time.sleep(0.5)
        tshark.terminate()
        tshark.wait(20)
    log = (folder / "twistd.log").read_text()
    events = [m.group(1) for line in log.splitlines() if (m := EVENT.search(line))]

    def decode(display):
        out = subprocess.run(
            ["tshark", "-r", str(pcap), "-Y", display], capture_output=True, text=True
        )
        return [line for line in out.stdout.splitlines() if line.strip()]

    if "Traceback" in log and error is None:
        error = "oso logged a traceback:\n" + log
    print(json.dumps({
        "error": error,
        "events": events,
        "malformed": decode("_ws.malformed || _ws.expert.severity >= error"),
        "sip": len(decode("sip")),
        "sdp": len(decode("sdp")),
    }))


if __name__ == "__main__":
    main(sys.argv[1])

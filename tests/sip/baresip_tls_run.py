"""
Run inside a network namespace of its own (C{unshare -n}) by
C{test_sip_tls_baresip.py}: tshark on the loopback interface, a real
C{twistd oso} whose only SIP listener is TLS (C{tls:5061} on 127.0.0.1,
the self-signed certificate made in its data directory on the first
start), and two baresip softphones registering over TLS with digest
given that certificate as their CA (C{sip_cafile}; baresip 1.0.0 loads
it but does not check the server's certificate against it).  200 calls
201, 201 answers, 200 hangs up.

Prints one JSON line: C{error} (C{None} when all went as expected), the
registrar's stored C{bindings}, the call model C{events} from the
call-log lines, the devices it put in service, each phone's log, and what
tshark saw: TLS handshakes and records, SIP it could read in clear,
malformed packets.
"""

import json
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from baresip_call import EVENT, PASSWORDS, Baresip, privateNetwork  # noqa: E402
from conftest import Twistd  # noqa: E402

from oso.certificates import makeSelfSigned  # noqa: E402

TLS_PORT = 5061
SERVER = f"127.0.0.1:{TLS_PORT}"
#: Each phone: its number, SIP port (TLS on the next one), control port.
PHONES = (("200", 5200, 4441), ("201", 5202, 4442))


def configuration(folder):
    devices = "".join(
        f'[[devices]]\nnumber = "{number}"\nname = "Phone {number}"\n'
        f'port = "sip-lines"\npassword = "{PASSWORDS[number]}"\n\n'
        for number, *_ in PHONES
    )
    return (
        f'[server]\nrealm = "oso"\ndata-dir = "{folder / "data"}"\n'
        'components = ["sip", "sip-lines", "call-log"]\n\n'
        f"{devices}"
        f'[components.sip]\nlisten = ["tls:{TLS_PORT}:interface=127.0.0.1"]\n'
    )


def capture(pcap):
    tshark = subprocess.Popen(
        ["tshark", "-q", "-i", "lo", "-w", str(pcap)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while not pcap.exists() or pcap.stat().st_size == 0:
        if tshark.poll() is not None or time.monotonic() > deadline:
            raise AssertionError("tshark did not start")
        time.sleep(0.1)
    return tshark


def decode(pcap, display, field=None):
    """
    What tshark decodes of the capture: the packets matching C{display},
    one line each (or their C{field}).
    """
    command = ["tshark", "-r", str(pcap), "-Y", display]
    if field:
        command += ["-T", "fields", "-e", field]
    out = subprocess.run(command, capture_output=True, text=True, timeout=60)
    return [line for line in out.stdout.splitlines() if line.strip()]


def scenario(folder, oso, phones, result):
    oso.waitFor("oso ready:")
    certificate = folder / "data" / "tls" / "server.crt"
    assert certificate.exists(), "oso made no certificate in its data directory"
    for number, sipPort, controlPort in PHONES:
        # The phone's own certificate, for its TLS listener: oso calls it
        # on a connection of its own to the Contact (the phone's
        # REGISTER connection comes from 127.0.0.1, not its Via's host).
        own = folder / f"phone-{number}.pem"
        own.write_bytes(b"".join(makeSelfSigned(["127.0.0.2"])))
        phones.append(Baresip(
            folder / number, number, sipPort, controlPort, server=SERVER, transport="tls",
            config=f"sip_cafile {certificate}\nsip_certificate {own}\n",
        ))
    caller, called = phones
    deadline = time.monotonic() + 30
    while sum(" BackInService " in line for line in oso.lines) < 2:
        if time.monotonic() > deadline:
            raise AssertionError("the phones did not register over TLS")
        oso.waitFor("BackInService", timeout=30)
    # The registrar's bindings, as stored (the store may write them after
    # the devices are in service): where each REGISTER came from.
    store = f"file:{folder / 'data' / 'oso.sqlite'}?mode=ro"
    while len(result.setdefault("bindings", [])) < len(PHONES) and time.monotonic() < deadline:
        time.sleep(0.1)
        with closing(sqlite3.connect(store, uri=True)) as db:
            result["bindings"] = sorted(
                db.execute("SELECT aor, contact, transport FROM registrations")
            )
    caller.command("dial", f"sip:201@{SERVER}")  # baresip adds ;transport=tls
    called.waitFor("CALL_INCOMING")
    caller.waitFor("CALL_RINGING")
    called.command("accept")
    caller.waitFor("CALL_ESTABLISHED")
    called.waitFor("CALL_ESTABLISHED")
    time.sleep(1)
    caller.command("hangup")
    caller.waitFor("CALL_CLOSED")
    called.waitFor("CALL_CLOSED")
    oso.waitFor("CallCleared")


def main(folder):
    folder = Path(folder)
    privateNetwork()
    pcap = folder / "tls.pcapng"
    tshark = capture(pcap)
    (folder / "oso.toml").write_text(configuration(folder))
    oso = Twistd(["-n", "oso", "--config", "oso.toml"], cwd=folder)
    phones = []
    result = {"error": None}
    try:
        scenario(folder, oso, phones, result)
    except AssertionError as e:
        result["error"] = str(e)
    finally:
        for phone in phones:
            phone.stop()
        oso.stop()
        time.sleep(0.5)
        tshark.terminate()
        tshark.wait(20)
    (folder / "twistd.log").write_text(oso.output())
    if "Traceback" in oso.output() and result["error"] is None:
        result["error"] = "oso logged a traceback:\n" + oso.output()
    print(json.dumps({
        **result,
        "events": [m.group(1) for line in oso.lines if (m := EVENT.search(line))],
        "inService": [
            line.rpartition("device=")[2] for line in oso.lines if " BackInService " in line
        ],
        # The TLS connections (their ClientHello's server port), and the
        # encrypted records to and from oso's TLS port.
        "handshakes": [int(port) for port in decode(pcap, "tls.handshake.type == 1", "tcp.dstport")],
        "records": len(decode(pcap, f"tcp.port == {TLS_PORT} && tls.app_data")),
        "cleartext": decode(pcap, "sip"),
        "malformed": decode(pcap, "_ws.malformed || _ws.expert.severity >= error"),
        "phones": {phone.number: (phone.folder / "log").read_text() for phone in phones},
    }))


if __name__ == "__main__":
    main(sys.argv[1])

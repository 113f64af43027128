"""
Run inside a network namespace of its own (C{unshare -n}) by
C{test_sip_refer_baresip.py}: tshark on loopback, a real C{twistd oso}
(SIP on UDP 5060), and three baresip softphones: 200 calls 201, 201
answers, 200 transfers 201 to 202 with baresip's C{transfer} command (a
blind REFER, RFC 3515), 202 answers, 201 hangs up.

Prints one JSON line: C{error} (C{None} when all went as expected), the
call model C{events}, the sipfrag status lines of the NOTIFYs oso sent,
the REFERs seen, tshark's malformed lines, and the transferor's own log
lines about the transfer.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from baresip_call import EVENT, Baresip, privateNetwork  # noqa: E402
from conftest import Twistd  # noqa: E402
from test_sip_lines_interop import Capture, configuration  # noqa: E402

SERVER = "127.0.0.1:5060"
#: Each phone: its number, SIP port (TLS on the next one), control port.
PHONES = (("200", 5200, 4441), ("201", 5202, 4442), ("202", 5204, 4443))


def scenario(folder, oso, phones):
    oso.waitFor("oso ready:")
    for number, sipPort, controlPort in PHONES:
        phones.append(Baresip(folder / number, number, sipPort, controlPort))
    transferor, transferee, target = phones
    deadline = time.monotonic() + 30
    while sum(" BackInService " in line for line in oso.lines) < 3:
        if time.monotonic() > deadline:
            raise AssertionError("the phones did not register")
        oso.waitFor("BackInService", timeout=30)
    transferor.command("dial", f"sip:201@{SERVER}")
    transferee.waitFor("CALL_INCOMING")
    transferee.command("accept")
    transferor.waitFor("CALL_ESTABLISHED")
    transferee.waitFor("CALL_ESTABLISHED")
    time.sleep(1)
    transferor.command("transfer", f"sip:202@{SERVER}")
    target.waitFor("CALL_INCOMING")
    time.sleep(0.5)
    target.command("accept")
    target.waitFor("CALL_ESTABLISHED")
    transferor.waitFor("CALL_CLOSED")
    time.sleep(1)
    transferee.command("hangup")
    transferee.waitFor("CALL_CLOSED")
    target.waitFor("CALL_CLOSED")
    oso.waitFor("CallCleared")


def fields(pcap, display, field):
    out = subprocess.run(
        ["tshark", "-r", str(pcap), "-Y", display, "-T", "fields", "-e", field],
        capture_output=True, text=True, timeout=60,
    )
    return [line for line in out.stdout.splitlines() if line.strip()]


def main(folder):
    folder = Path(folder)
    privateNetwork()
    pcap = folder / "transfer.pcapng"
    capture = Capture(pcap, [5060])
    (folder / "oso.toml").write_text(configuration(5060))
    oso = Twistd(["-n", "oso", "--config", "oso.toml"], cwd=folder)
    phones = []
    error = None
    try:
        scenario(folder, oso, phones)
    except AssertionError as e:
        error = str(e)
    finally:
        for phone in phones:
            phone.stop()
        oso.stop()
        capture.stop()
    output = oso.output()
    (folder / "twistd.log").write_text(output)
    if "Traceback" in output and error is None:
        error = "oso logged a traceback:\n" + output
    malformed, sip, _ = capture.decode([5060])
    transferLog = (folder / "200" / "log").read_text() if phones else ""
    print(json.dumps({
        "error": error,
        "events": [m.group(1) for line in output.splitlines() if (m := EVENT.search(line))],
        "sipfrags": fields(pcap, 'sip.Method == "NOTIFY"', "sipfrag.line"),
        "refers": len(fields(pcap, 'sip.Method == "REFER"', "sip.Call-ID")),
        "malformed": malformed,
        "sip": len(sip),
        "transferor": [line for line in transferLog.splitlines() if "transfer" in line.lower()],
    }))


if __name__ == "__main__":
    main(sys.argv[1])

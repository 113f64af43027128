"""
Run inside a network namespace of its own (C{unshare -n}) by
C{test_cti_baresip_phones.py}: a real C{twistd oso} (C{csta}, C{sip},
C{sip-lines}) and two baresip softphones, 200 (auto answer) and 201
(answered over its control connection), registered with digest; a BER
and an XML CSTA client on the same CSTA port and C{oso-cti monitor}, each
monitoring both extensions.  MakeCall from 200 to 201, HoldCall and
RetrieveCall, ClearConnection of 200's connection.

Prints one JSON line: C{error} (C{None} when all went as expected), each
client's event names per monitor, whether the BER and the XML client got
the same events and C{oso-cti} printed the same lines, and what baresip
said of its calls (its events and its C{callstat} text at each step).
"""

import json
import subprocess
import sys
from pathlib import Path

from twisted.internet import defer, reactor, task, threads

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent), str(HERE.parent / "sip")]

from baresip_call import Baresip, privateNetwork  # noqa: E402
from conftest import Twistd  # noqa: E402
from test_cti_sip_phones import (  # noqa: E402
    LISTENING, MONITORED, Console, Monitoring, configuration, until,
)
from test_sip_lines_interop import Capture  # noqa: E402

from oso.csta import messages as m  # noqa: E402
from oso.csta.framing import Encoding  # noqa: E402
from oso.cti.client import ClientSettings  # noqa: E402
from oso.cti.protocol import connect  # noqa: E402

SIP_PORT = 5060
DIRECTIONS = {"sendrecv", "sendonly", "recvonly", "inactive"}


async def client(port, encoding):
    link = await connect(
        reactor, f"tcp:127.0.0.1:{port}", ClientSettings(encoding=encoding, heartbeatInterval=0)
    )
    monitoring = Monitoring(link)
    await monitoring.start()
    return monitoring


async def scenario(folder, oso, phones, result):
    cstaPort = int(LISTENING.search(oso.waitFor("CSTAFactory starting on")).group(1))
    oso.waitFor("oso ready:")
    ber = await client(cstaPort, Encoding.BER)
    xml = await client(cstaPort, Encoding.XML)
    clients = {"ber": ber, "xml": xml}
    console = Console(cstaPort)
    try:
        await until(lambda: "monitoring 201" in console.text, "oso-cti to start its monitors")

        def seen(device, name):
            return all(name in c.names(device) for c in clients.values())

        # The phones register while monitored: each monitor sees it in service.
        caller = Baresip(folder / "a", "200", 5200, 4441, answermode="auto")
        phones.append(caller)
        called = Baresip(folder / "b", "201", 5202, 4442)
        phones.append(called)
        await until(lambda: all(seen(d, "BackInService") for d in MONITORED), "both phones to register")
        status = result["callstat"] = {}
        observed = result["baresip"] = {"200": [], "201": []}

        async def wait(phone, kind):
            await threads.deferToThread(phone.waitFor, kind)
            observed[phone.number].append(kind)

        async def callstat(step):
            status[step] = {
                number: await threads.deferToThread(phone.ask, "callstat")
                for number, phone in (("200", caller), ("201", called))
            }

        # MakeCall: 200 is called first and answers by itself (answermode
        # auto), then 201 rings and is answered over its control connection.
        made = await ber.link.invoke(m.MakeCall(callingDevice="200", calledDirectoryNumber="201"))
        calling = made.callingDevice
        result["calling"] = calling.deviceID
        # (an auto answer has no CALL_INCOMING event)
        await wait(caller, "CALL_ESTABLISHED")
        await wait(called, "CALL_INCOMING")
        await until(lambda: seen("201", "Delivered"), "201 to ring")
        called.command("accept")
        await wait(called, "CALL_ESTABLISHED")
        await until(lambda: seen("201", "Established"), "201 to answer")
        await callstat("established")
        # Hold and retrieve, asked on the XML link: baresip gets re-INVITEs.
        await xml.link.invoke(m.HoldCall(callToBeHeld=calling))
        await until(lambda: seen("200", "Held") and seen("201", "Held"), "the hold")
        await callstat("held")
        await xml.link.invoke(m.RetrieveCall(callToBeRetrieved=calling))
        await until(lambda: seen("200", "Retrieved") and seen("201", "Retrieved"), "the retrieve")
        await callstat("retrieved")
        # The BER link clears 200's connection: both phones get a BYE.
        await ber.link.invoke(m.ClearConnection(connectionToBeCleared=calling))
        await wait(caller, "CALL_CLOSED")
        await wait(called, "CALL_CLOSED")
        await until(lambda: all(seen(d, "CallCleared") for d in MONITORED), "the clearing")
        await callstat("cleared")
        await until(
            lambda: all(console.lines(d) == ber.lines[d] for d in MONITORED),
            "oso-cti to print every event", timeout=10,
        )
    finally:
        result["events"] = {
            name: {device: c.names(device) for device in MONITORED} for name, c in clients.items()
        }
        result["same"] = {device: ber.events[device] == xml.events[device] for device in MONITORED}
        result["console"] = {device: console.lines(device) == ber.lines[device] for device in MONITORED}
        for c in clients.values():
            c.link.abort()
        console.stop()


def sdpDirections(pcap):
    """
    The INVITEs and their answers that carry SDP, as tshark decoded them:
    C{[source port, destination port, status, CSeq, media direction]}.
    """
    out = subprocess.run(
        ["tshark", "-r", str(pcap), "-Y", 'sip.CSeq.method == "INVITE" && sdp', "-T", "fields",
         "-e", "udp.srcport", "-e", "udp.dstport", "-e", "sip.Status-Code", "-e", "sip.CSeq",
         "-e", "sdp.media_attr"],
        capture_output=True, text=True, timeout=60,
    )
    messages = []
    for line in out.stdout.splitlines():
        source, destination, status, cseq, attributes = line.split("\t")
        (direction,) = DIRECTIONS.intersection(attributes.split(",")) or {"sendrecv"}
        messages.append([int(source), int(destination), status, cseq, direction])
    return messages


def main(folder):
    folder = Path(folder)
    privateNetwork()
    (folder / "oso.toml").write_text(configuration(SIP_PORT))
    capture = Capture(folder / "sip.pcapng", [SIP_PORT])
    oso = Twistd(["-n", "oso", "--config", "oso.toml"], cwd=folder)
    phones = []
    result = {"error": None}

    async def run(reactor):
        try:
            await scenario(folder, oso, phones, result)
        except AssertionError as e:
            result["error"] = str(e)

    try:
        task.react(lambda reactor: defer.ensureDeferred(run(reactor)))
    except SystemExit:
        pass
    finally:
        for phone in phones:
            phone.stop()
            result.setdefault("reinvites", {})[phone.number] = (phone.folder / "log").read_text().count(
                "call: got re-INVITE"
            )
        oso.stop()
        capture.stop()
    malformed, sip, sdp = capture.decode([SIP_PORT])
    result["malformed"] = malformed
    result["invites"] = sdpDirections(capture.path)
    if "Traceback" in oso.output() and result["error"] is None:
        result["error"] = "oso logged a traceback:\n" + oso.output()
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])

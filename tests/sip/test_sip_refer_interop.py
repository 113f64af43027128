"""
Transfers through a real C{twistd oso} with SIPp phones over loopback:
blind REFER (RFC 3515) with the NOTIFY progress checked by the SIPp
transferor, attended REFER with Replaces (RFC 3891 4) from the
transferor's consultation call naming its held call, and an INVITE with
Replaces taking over an answered call; tshark decodes every message.
"""

import re
import time
from urllib.parse import quote

from test_sip_lines_interop import (  # noqa: F401 (the oso fixture)
    EVENT, PASSWORDS, Capture, freeUDPPort, need, oso, register, sipp,
)


def waitForEvent(process, name, timeout=15):
    """
    Read oso's log until the call model logged the event C{name}.
    """
    if name not in eventNames(process):
        process.waitFor(f" {name} ", timeout)


def eventNames(process):
    return [m.group(1) for line in process.lines if (m := EVENT.search(line))]


def settled(process):
    """
    The events once the call was cleared (and what follows at once).
    """
    waitForEvent(process, "CallCleared")
    try:
        process.waitFor("no such line", timeout=0.5)
    except AssertionError:
        pass
    return eventNames(process)


def dial(tmp_path, oso, scenario, number, called, port, fields=(), options=(), background=False):
    """
    Run SIPp as phone C{number} calling C{called} with C{scenario} (the
    407 answered with the phone's password); C{fields} follow the number
    in its injection file.
    """
    path = tmp_path / f"{scenario}.csv"
    path.write_text("SEQUENTIAL\n" + ";".join((number, *fields)) + ";\n")
    return sipp(
        scenario, "-inf", str(path), "-s", called, "-au", number, "-ap", PASSWORDS[number],
        "-auth_uri", f"{called}@{oso.remote}", *options,
        port=port, remote=oso.remote, background=background, cwd=tmp_path,
    )


def dialogOf(log, start, timeout=10):
    """
    From a SIPp message log: the Call-ID and the From and To tags (C{None}
    when absent) of the first message whose start line begins with
    C{start}.  SIPp writes a message to its log after sending it: under
    load oso may have acted on the message before the log has it, so the
    log is read again until it does or C{timeout} seconds have passed.
    """
    deadline = time.monotonic() + timeout
    while True:
        text = log.read_text() if log.exists() else ""
        for chunk in re.split(r"^-{20,}.*$", text, flags=re.M):
            lines = [line.strip() for line in chunk.splitlines()[2:] if line.strip()]
            if lines and lines[0].startswith(start):
                fields = "\n".join(lines)
                callID = re.search(r"^Call-ID:\s*(\S+)", fields, re.M | re.I)
                if callID is None:
                    # Not all of it written yet.
                    break
                tags = [re.search(rf"^{name}:.*;tag=([^;\s>]+)", fields, re.M | re.I)
                        for name in ("From", "To")]
                return (callID.group(1), *(tag.group(1) if tag else None for tag in tags))
        if time.monotonic() > deadline:
            raise AssertionError(f"no {start!r} in {log}")
        time.sleep(0.05)


def transferParties(tmp_path, oso, transferee, target):
    """
    SIPp 201 (answers, hangs up once left alone for a while) and SIPp 202
    (answers), registered.

    @return: their processes.
    """
    register(tmp_path, oso, "201", transferee)
    register(tmp_path, oso, "202", target)
    b = sipp("uas_answer_hangup.xml", "-s", "201", port=transferee, background=True,
             cwd=tmp_path)
    c = sipp("uas_answer.xml", port=target, background=True, cwd=tmp_path)
    time.sleep(0.3)
    return b, c


def checkCapture(capture, ports, methods):
    malformed, sip, sdp = capture.decode(ports)
    assert malformed == []
    for method in methods:
        assert any(method in line for line in sip), f"no {method} decoded"


def test_sipp_blind_transfer_with_notify_progress(tmp_path, oso):
    """
    RFC 3515: SIPp 200 calls 201 and REFERs it to 202; the 202 and the
    NOTIFYs (100 Trying, 180 Ringing, 200 OK with the subscription
    terminated) are checked by SIPp, then oso hangs up on 200; 201 and 202
    talk until 201 hangs up.
    """
    need("sipp")
    transferee, target, transferor = freeUDPPort(), freeUDPPort(), freeUDPPort()
    capture = Capture(tmp_path / "sip.pcapng", [oso.port])
    try:
        b, c = transferParties(tmp_path, oso, transferee, target)
        status = dial(tmp_path, oso, "uac_refer_blind.xml", "200", "201", transferor, ["202"])
        assert status == 0, "the SIPp transferor failed"
        assert b.wait(30) == 0, "the transferee failed"
        assert c.wait(30) == 0, "the transfer target failed"
    finally:
        capture.stop()
    names = settled(oso)
    transferred = names.index("Transferred")
    assert "Established" in names[transferred:]
    assert names[-1] == "CallCleared"
    checkCapture(capture, [oso.port, transferee, target, transferor], ["REFER", "NOTIFY"])


def test_sipp_attended_transfer_with_replaces(tmp_path, oso):
    """
    RFC 3891 4: SIPp 200 calls 201 and holds it (one SIPp), calls 202
    (another) and REFERs that call to 201 with Replaces naming the held
    one: the model's transfer joins 201 and 202, both of 200's calls end
    with BYEs, its NOTIFYs say 100 then 200.
    """
    need("sipp")
    transferee, target, held, consulting = (freeUDPPort() for _ in range(4))
    capture = Capture(tmp_path / "sip.pcapng", [oso.port])
    log = tmp_path / "held.log"
    try:
        b, c = transferParties(tmp_path, oso, transferee, target)
        first = dial(tmp_path, oso, "uac_hold_wait.xml", "200", "201", held,
                     options=["-trace_msg", "-message_file", str(log)], background=True)
        waitForEvent(oso, "Held")
        callID, mine, osos = dialogOf(log, "SIP/2.0 200 OK")
        replaces = quote(f"{callID};to-tag={osos};from-tag={mine}", safe="")
        status = dial(tmp_path, oso, "uac_refer_attended.xml", "200", "202", consulting,
                      ["201", replaces])
        assert status == 0, "the SIPp transferor's consultation call failed"
        assert first.wait(30) == 0, "the transferor's held call failed"
        assert b.wait(30) == 0, "the transferee failed"
        assert c.wait(30) == 0, "the transfer target failed"
    finally:
        capture.stop()
    names = settled(oso)
    assert "Transferred" in names and names[-1] == "CallCleared"
    checkCapture(capture, [oso.port, transferee, target, held, consulting], ["REFER", "NOTIFY"])


def test_sipp_invite_with_replaces_takes_over_a_call(tmp_path, oso):
    """
    RFC 3891 3: SIPp 200 talks to SIPp 201; SIPp 202's INVITE with
    Replaces naming our dialog with 201 takes 201's place (the model's
    single step transfer): 201 gets a BYE, 200 a re-INVITE with 202's
    media, and 202 hangs up in the end.
    """
    need("sipp")
    called, calling, replacing = freeUDPPort(), freeUDPPort(), freeUDPPort()
    capture = Capture(tmp_path / "sip.pcapng", [oso.port])
    log = tmp_path / "called.log"
    try:
        register(tmp_path, oso, "201", called)
        register(tmp_path, oso, "202", replacing)
        b = sipp("uas_answer.xml", "-trace_msg", "-message_file", str(log), port=called,
                 background=True, cwd=tmp_path)
        time.sleep(0.3)
        a = dial(tmp_path, oso, "uac_call_wait.xml", "200", "201", calling, background=True)
        waitForEvent(oso, "Established")
        # Our INVITE to 201: oso's tag is its From tag, 201's the To tag
        # of 201's 200.
        callID, osos, _ = dialogOf(log, "INVITE")
        _, _, theirs = dialogOf(log, "SIP/2.0 200 OK")
        status = dial(tmp_path, oso, "uac_replaces.xml", "202", "201", replacing,
                      [callID, osos, theirs])
        assert status == 0, "the SIPp INVITE with Replaces failed"
        assert b.wait(30) == 0, "the replaced phone failed"
        assert a.wait(30) == 0, "the caller failed"
    finally:
        capture.stop()
    names = settled(oso)
    assert "Transferred" in names
    assert names[names.index("Transferred"):].count("Established") == 1
    assert names[-1] == "CallCleared"
    checkCapture(capture, [oso.port, called, calling, replacing], ["INVITE", "BYE"])

"""
Issue 5's end-to-end run with real softphones: baresip 200 and 201
registered with digest to a real C{twistd oso} (C{csta}, C{sip},
C{sip-lines}), a BER and an XML CSTA client on the same CSTA port and
C{oso-cti monitor} each monitoring both extensions; MakeCall from 200 to
201 (200 answers by itself, 201 rings and is answered), HoldCall,
RetrieveCall and ClearConnection.  Everything runs in a network namespace
of its own (baresip will not take the loopback interface for media), by
C{baresip_cti_run.py}.
"""

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "sip"))

from baresip_call import runIsolated  # noqa: E402

#: What ECMA-269 prescribes for each party's device monitor, from the
#: registration (BackInService) to the end of the call.
EXPECTED = {
    # The calling device: MakeCall's ServiceInitiated and Originated when it
    # answers, Delivered and Established as the called device rings and
    # answers; it holds and retrieves; its connection is cleared and with
    # it the call.
    "200": [
        "BackInService", "ServiceInitiated", "Originated", "Delivered", "Established",
        "Held", "Retrieved", "ConnectionCleared", "CallCleared",
    ],
    # The called device also sees its own connection cleared, as the
    # two-party call ends.
    "201": [
        "BackInService", "Delivered", "Established", "Held", "Retrieved",
        "ConnectionCleared", "ConnectionCleared", "CallCleared",
    ],
}
#: baresip's SIP listening ports (see C{baresip_cti_run.py}).
PHONE_PORTS = {"200": 5200, "201": 5202}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return runIsolated(HERE / "baresip_cti_run.py", tmp_path_factory.mktemp("baresip-cti"))


def test_makeCallHoldRetrieveClear(run):
    """
    Both CSTA clients got the same events on each monitor, the sequences
    ECMA-269 prescribes, and C{oso-cti monitor} printed the same lines.
    """
    assert run["calling"] == "200"
    for encoding in ("ber", "xml"):
        assert run["events"][encoding] == EXPECTED, encoding
    assert run["same"] == {"200": True, "201": True}
    assert run["console"] == {"200": True, "201": True}
    assert run["malformed"] == []


def test_baresipAgrees(run):
    """
    baresip's own view: each phone had the call established, the holding
    phone answered the hold re-INVITE by no longer sending and the
    retrieve by sending again, and both calls ended.
    """
    for number in ("200", "201"):
        status = run["callstat"]
        assert "Call debug (ESTABLISHED)" in status["established"][number]
        assert "sip:" + ("201" if number == "200" else "200") in status["established"][number]
        assert "Call debug (ESTABLISHED)" in status["retrieved"][number]
        assert "no active calls" in status["cleared"][number]
    # The answers phone 200 gave to oso's re-INVITEs after the call was
    # up (CSeq 1 is MakeCall's INVITE, 2 gives it the far end's media).
    answers = [
        (cseq, direction)
        for source, _, status, cseq, direction in run["invites"]
        if source == PHONE_PORTS["200"] and status == "200"
    ]
    # The holding phone is offered inactive streams: it neither plays the
    # held party nor sends to it.
    assert [direction for cseq, direction in answers if int(cseq.split()[0]) > 2] == [
        "inactive", "sendrecv"
    ], run["invites"]
    # What each phone told over its control connection, in order (200
    # answered by itself: no CALL_INCOMING), and the re-INVITEs 200's log
    # tells of: the far end's media, the hold, the retrieve.
    assert run["baresip"] == {
        "200": ["CALL_ESTABLISHED", "CALL_CLOSED"],
        "201": ["CALL_INCOMING", "CALL_ESTABLISHED", "CALL_CLOSED"],
    }
    assert run["reinvites"]["200"] == 3

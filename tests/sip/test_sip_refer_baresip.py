"""
A blind transfer by a real softphone: baresip's C{transfer} command sends
REFER (RFC 3515) through a real C{twistd oso}; see
C{baresip_transfer_run.py}, run in a network namespace of its own.
"""

from pathlib import Path

from baresip_call import runIsolated

HERE = Path(__file__).resolve().parent


def test_baresip_blind_transfer(tmp_path):
    """
    baresip 200 talks to baresip 201 and transfers it to baresip 202: the
    model's single step transfer, NOTIFYs 100/180/200 to the transferor,
    which hangs up; 201 and 202 talk until 201 hangs up.
    """
    result = runIsolated(HERE / "baresip_transfer_run.py", tmp_path)
    names = result["events"]
    assert names[:3] == ["BackInService"] * 3
    transferred = names.index("Transferred")
    assert names[3:transferred] == ["ServiceInitiated", "Originated", "Delivered", "Established"]
    assert names[transferred + 1:transferred + 3] == ["Delivered", "Established"]
    assert "CallCleared" in names[transferred:]
    assert result["sipfrags"] == ["SIP/2.0 100 Trying", "SIP/2.0 180 Ringing", "SIP/2.0 200 OK"]
    assert result["refers"] == 1
    assert result["malformed"] == []
    assert result["transferor"] and not any("fail" in line for line in result["transferor"])

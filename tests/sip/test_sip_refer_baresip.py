"""
A blind transfer by a real softphone: baresip's C{transfer} command sends
REFER (RFC 3515) through a real C{twistd oso}; see
C{baresip_transfer_run.py}, run in a network namespace of its own.
"""

import json
import os
import subprocess
import sys

import pytest

from test_sip_lines_interop import CHECKOUT, HERE, need


def test_baresip_blind_transfer(tmp_path):
    """
    baresip 200 talks to baresip 201 and transfers it to baresip 202: the
    model's single step transfer, NOTIFYs 100/180/200 to the transferor,
    which hangs up; 201 and 202 talk until 201 hangs up.
    """
    need("baresip")
    need("tshark")
    need("unshare")
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("the baresip test needs root for its network namespace")
        pytest.skip("the baresip test needs root for its network namespace")
    environment = dict(os.environ, PYTHONPATH=str(CHECKOUT))
    out = subprocess.run(
        ["unshare", "-n", sys.executable, str(HERE / "baresip_transfer_run.py"), str(tmp_path)],
        capture_output=True, text=True, timeout=240, env=environment,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    result = json.loads(out.stdout.splitlines()[-1])
    assert result["error"] is None, result
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

"""
SIP over TLS with a real peer: two baresip softphones register with
digest over TLS to a real C{twistd oso} whose only SIP listener is
C{tls:5061} (the self-signed certificate made in its data directory on
the first start, given to baresip as its CA file), call each other and
hang up.  Run in a network namespace of its own by C{baresip_tls_run.py}
(baresip will not take the loopback interface for media); tshark captures
the loopback interface.
"""

from pathlib import Path

import pytest

from baresip_call import runIsolated

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return runIsolated(HERE / "baresip_tls_run.py", tmp_path_factory.mktemp("baresip-tls"))


def test_call_over_tls(run):
    """
    Both phones are in service once registered, 200's call to 201 is
    delivered, answered and cleared, and both leave service as they stop.
    """
    assert run["inService"] == ["200", "201"]
    assert run["events"] == [
        "BackInService", "BackInService",
        "ServiceInitiated", "Originated", "Delivered", "Established",
        "ConnectionCleared", "ConnectionCleared", "CallCleared",
        "OutOfService", "OutOfService",
    ]


def test_traffic_was_tls(run):
    """
    The registrar bound each phone's contact as reached over TLS, baresip
    says it registered over TLS, the capture holds TLS handshakes to oso's
    TLS port and encrypted records, and no SIP tshark can read in clear.
    """
    assert [(aor, transport) for aor, _, transport in run["bindings"]] == [
        ("200", "TLS"), ("201", "TLS")
    ]
    assert all(contact.endswith(";transport=tls") for _, contact, _ in run["bindings"])
    for number, other in (("200", "201"), ("201", "200")):
        log = run["phones"][number]
        assert f"{number}@127.0.0.1: {{0/TLS/v4}} 200 OK" in log
        assert f"Call established: sip:{other}@" in log
        assert f"Call with sip:{other}@" in log and "terminated" in log
    assert run["handshakes"].count(5061) == 2
    assert run["records"] >= 10
    assert run["cleartext"] == []
    assert run["malformed"] == []

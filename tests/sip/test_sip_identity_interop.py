"""
Identity, privacy and Reason through a real C{twistd oso} against SIPp
phones over loopback, the headers checked on the far side by the SIPp
scenarios themselves (C{<ereg ... check_it="true">}, a failed check fails
the call and SIPp's exit status), and tshark decoding every packet of the
capture without a malformed one:

  - a caller asking for privacy (C{Privacy: id}) with a preferred and a
    forged asserted identity reaches the called phone as the RFC 3323
    anonymous From with C{Privacy: id} and neither identity field; the BYE
    to it carries C{Reason: Q.850;cause=16};
  - a call forked to two registered contacts of one extension: the one
    that did not answer gets a CANCEL with C{Reason: SIP;cause=200;
    text="Call completed elsewhere"} (RFC 3326).
"""

import time

from test_sip_lines_interop import (  # noqa: F401 (oso is a fixture)
    PASSWORDS,
    Capture,
    events,
    freeUDPPort,
    need,
    oso,
    register,
    sipp,
)


def _call(tmp_path, oso, called, uac="uac_call.xml"):  # noqa: F811
    """
    Run the SIPp phones of 201 in C{called} (scenario, contact port), then
    200 calling 201 with C{uac}; every SIPp must succeed and tshark must
    decode everything.

    @return: the call model events.
    """
    need("sipp")
    uacPort = freeUDPPort()
    ports = [oso.port, uacPort] + [port for _, port in called]
    capture = Capture(tmp_path / "identity.pcapng", [oso.port])
    try:
        for _, port in called:
            register(tmp_path, oso, "201", port)
        phones = [sipp(scenario, port=port, background=True, cwd=tmp_path)
                  for scenario, port in called]
        time.sleep(0.3)
        caller = tmp_path / "caller.csv"
        caller.write_text("SEQUENTIAL\n200;\n")
        status = sipp(
            uac, "-inf", str(caller), "-s", "201", "-au", "200", "-ap", PASSWORDS["200"],
            "-auth_uri", f"201@{oso.remote}", port=uacPort, remote=oso.remote, cwd=tmp_path,
        )
        assert status == 0, f"SIPp caller {uac} failed"
        for (scenario, _), phone in zip(called, phones):
            assert phone.wait(30) == 0, f"SIPp called phone {scenario} failed its checks"
    finally:
        capture.stop()
    malformed, sip, _ = capture.decode(ports)
    assert malformed == []
    assert any("CANCEL" in line for line in sip) or any("BYE" in line for line in sip)
    return events(oso)


def test_privacy_and_asserted_identity(tmp_path, oso):  # noqa: F811
    """
    RFC 3323 and RFC 3325 toward an untrusted called phone; RFC 3326 on
    the BYE.
    """
    names = _call(tmp_path, oso, [("uas_privacy.xml", freeUDPPort())], "uac_privacy.xml")
    assert "Established" in names and names[-1] == "CallCleared"


def test_forking_cancel_reason(tmp_path, oso):  # noqa: F811
    """
    RFC 3326: the fork that did not answer hears why it was cancelled.
    """
    names = _call(
        tmp_path, oso,
        [("uas_elsewhere.xml", freeUDPPort()), ("uas_answer.xml", freeUDPPort())],
    )
    assert "Established" in names and names[-1] == "CallCleared"

"""
REFER from a VoIP provider through a real C{twistd oso}: SIPp as the
provider (trusted trunk, no registration) calls a DID answered by a SIPp
phone, then transfers the call blind to another DID (RFC 3515), checking
the 202, the NOTIFYs' sipfrag progress and the trunk's BYE; the phones
are SIPp. An attended REFER (Replaces in Refer-To) is refused with 403.
tshark decodes every message.
"""

import time

from sip_loopback import need
from test_sip_lines_interop import Capture, events, freeUDPPort, register, sipp
from test_sip_trunk_interop import oso  # noqa: F401 (the fixture)


def providerCall(tmp_path, oso, scenario, phones):
    """
    Register and run the SIPp phones (C{phones}: number to scenario), then
    the provider's C{scenario} calling the DID of 201 and naming 200's DID
    as the target.

    @return: the call model events.
    """
    ports = {number: freeUDPPort() for number in phones}
    capture = Capture(tmp_path / "sip.pcapng", [oso.port, oso.providerPort])
    try:
        running = []
        for number, phone in phones.items():
            register(tmp_path, oso, number, ports[number])
            running.append(sipp(phone, "-s", number, port=ports[number], background=True,
                                cwd=tmp_path))
        time.sleep(0.3)
        csv = tmp_path / "provider.csv"
        csv.write_text("SEQUENTIAL\n030123456201;015112345678;030123456200\n")
        status = sipp(scenario, "-inf", str(csv), port=oso.providerPort, remote=oso.remote,
                      cwd=tmp_path)
        assert status == 0, f"SIPp provider {scenario} failed"
        for process in running:
            assert process.wait(30) == 0, "a SIPp phone failed"
    finally:
        capture.stop()
    malformed, sip, _ = capture.decode([oso.port, oso.providerPort, *ports.values()])
    assert malformed == []
    assert any("REFER" in line for line in sip)
    return events(oso)


def test_provider_blind_transfer(tmp_path, oso):
    """
    The provider's call to 201 is transferred to 200's DID: 200 rings and
    answers (NOTIFY 180, 200 checked by SIPp), the trunk hangs up on the
    provider, and 201 talks to 200 until it hangs up.
    """
    need("sipp")
    names = providerCall(tmp_path, oso, "trunk_provider_refer.xml",
                         {"201": "uas_answer_hangup.xml", "200": "uas_answer.xml"})
    transferred = names.index("Transferred")
    assert names[transferred + 1:].count("Established") == 1
    assert names[-1] == "CallCleared"
    assert "call from +4915112345678 to +4930123456201" in oso.output()


def test_provider_attended_transfer_refused(tmp_path, oso):
    """
    REFER with Replaces from the provider: 403 (its reason checked by
    SIPp), logged; the call goes on until the provider hangs up.
    """
    need("sipp")
    names = providerCall(tmp_path, oso, "trunk_provider_refer_refused.xml",
                         {"201": "uas_answer.xml"})
    assert "Transferred" not in names
    assert names[-1] == "CallCleared"
    assert "No Attended Transfer by the Network" in oso.output()

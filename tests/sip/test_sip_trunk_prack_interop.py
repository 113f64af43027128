"""
Early media, PRACK (RFC 3262) and UPDATE (RFC 3311) between a SIP trunk
and a SIP phone, against real peers over loopback through a real C{twistd
oso}: SIPp as the VoIP provider and SIPp as the phone, both with 100rel
and UPDATE, and tshark decoding every SIP and SDP message of the capture
without a malformed one.

Each direction in one call: the called side rings and sends its answer in
a reliable 183 (early media on port 7078), which the far side checks in
the 183 it gets (and PRACKs: RAck and CSeq checked on the provider side);
the called side then holds by UPDATE in the early dialog, which reaches
the calling side as an UPDATE whose recvonly answer comes back.
"""

from test_sip_trunk_interop import incoming, oso, outgoing  # noqa: F401 (oso: the fixture)


def test_phone_calls_provider_with_100rel_and_early_update(tmp_path, oso):
    """
    The phone's call goes out on the trunk: the provider challenges, gets
    the INVITE again with Supported: 100rel, sends a reliable 183 whose
    media reaches the phone in a reliable 183, and its early UPDATE
    reaches the phone. Early media is no answer: Established comes with
    the 200 only.
    """
    names = outgoing(tmp_path, oso, "trunk_provider_prack.xml", "uac_prack_early_update.xml")
    assert "NetworkReached" in names
    assert names.index("Delivered") < names.index("Established")
    assert names[-1] == "CallCleared"


def test_provider_calls_phone_with_100rel_and_early_update(tmp_path, oso):
    """
    The provider's call with Supported: 100rel gets a reliable 180 and a
    reliable 183 carrying the phone's early media; the phone's early
    UPDATE reaches the provider.
    """
    names = incoming(tmp_path, oso, "trunk_provider_call_prack.xml", "uas_prack_early_update.xml")
    assert names.pop(0) == "BackInService"
    assert names[:2] == ["Delivered", "Established"]
    assert names[-1] == "CallCleared"


def test_phone_updates_reach_provider(tmp_path, oso):
    """
    The calling phone's UPDATEs reach the provider: a second codec in the
    early dialog (after the provider's reliable 183), then hold and resume
    once answered, each answered with the provider's media (port 7078).
    """
    names = outgoing(tmp_path, oso, "trunk_provider_prack_update.xml", "uac_prack_update.xml")
    assert names.index("Delivered") < names.index("Established")
    assert "Held" in names and "Retrieved" in names
    assert names[-1] == "CallCleared"


def test_provider_updates_reach_phone(tmp_path, oso):
    """
    The provider's UPDATEs reach the called phone: a second codec in the
    early dialog, then hold and resume once answered, each answered with
    the phone's media (port 7078).
    """
    names = incoming(tmp_path, oso, "trunk_provider_call_prack_update.xml",
                     "uas_prack_update.xml")
    assert names[1:3] == ["Delivered", "Established"]
    assert names[-1] == "CallCleared"

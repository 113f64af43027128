"""
PRACK (RFC 3262) and UPDATE (RFC 3311) through a real C{twistd oso}
against SIPp on loopback: a SIPp caller that requires 100rel calls a SIPp
phone that answers with a reliable 183 carrying its media. oso PRACKs the
183 and hands the caller reliable 180 and 183 (the early media) to
PRACK; the caller's UPDATE in the early dialog (a second codec) reaches
the called phone; once answered, hold and resume by UPDATE pass across
and are the call model's Held and Retrieved. The other way, a called phone's
UPDATE in its early dialog reaches a caller that supports 100rel, and the
call is answered without a re-INVITE undoing it. tshark decodes the
captures without a malformed packet. oso's answer to OPTIONS lists 100rel in
Supported, PRACK and UPDATE in Allow.
"""

from test_sip_lines_interop import freeUDPPort, need, oso, sipp, sippCall  # noqa: F401 (the fixture)


def test_sipp_prack_and_update_both_ways(tmp_path, oso):  # noqa: F811
    names = sippCall(tmp_path, oso, "uas_prack_update.xml", "uac_prack_update.xml")
    assert names.pop(0) == "BackInService"
    assert names[:6] == [
        "ServiceInitiated", "Originated", "Delivered", "Established", "Held", "Retrieved",
    ]
    assert names[6:-1] and set(names[6:-1]) == {"ConnectionCleared"}
    assert names[-1] == "CallCleared"


def test_options_advertise_100rel_prack_and_update(tmp_path, oso):  # noqa: F811
    need("sipp")
    status = sipp("options_100rel.xml", port=freeUDPPort(), remote=oso.remote, cwd=tmp_path)
    assert status == 0, "OPTIONS lacked 100rel, PRACK or UPDATE"


def test_sipp_called_phones_early_update_reaches_the_caller(tmp_path, oso):  # noqa: F811
    names = sippCall(tmp_path, oso, "uas_prack_early_update.xml", "uac_prack_early_update.xml")
    assert names.pop(0) == "BackInService"
    assert names[:4] == ["ServiceInitiated", "Originated", "Delivered", "Established"]
    assert names[-1] == "CallCleared"

"""
Reliable provisional responses (RFC 3262) through the sip-lines port, on
the in-memory network: oso as the calling phone's UAS (reliable 180/183,
PRACK, retransmission and the 5xx without one, the 200 held for the PRACK
of an answer), as the called phone's UAC (PRACK with RAck, retransmissions
and RSeq order), early media passed from the called phone to the caller,
and the 420 for an option oso lacks.
"""

from oso.sip.sdp import parseSDP

from reliable_phones import exchange


def names(x):
    return x.recorder.names()


def calling(x, caller="200", called="201"):
    a, b = x.sip(caller), x.sip(called)
    a.call(called)
    x.run()
    return a, b


def test_ringing_is_reliable_and_prack_answered():
    x = exchange()
    a, b = calling(x)
    (ringing,) = a.reliables()
    assert ringing.status == 180
    assert ringing.headers.get("require") == "100rel"
    assert {"UPDATE", "PRACK"} <= set(ringing.headers.getAll("allow"))
    # The PRACK got its 200, and nothing is retransmitted after it.
    pracks = [m for m in a.received if getattr(m, "status", 0) == 200 and m.cseq.method == "PRACK"]
    assert len(pracks) == 1
    x.run(40)
    assert len(a.reliables()) == 1
    b.answer()
    x.run()
    assert a.statuses()[-1] == 200
    assert names(x)[-1] == "Established"
    a.hangUp()
    x.run()
    assert names(x)[-1] == "CallCleared"


def test_called_phones_invite_offers_100rel():
    x = exchange()
    a, b = calling(x)
    (invite,) = b.requests("INVITE")
    assert invite.headers.get("supported") == "100rel"
    assert {"PRACK", "UPDATE", "INVITE"} <= set(invite.headers.getAll("allow"))


def unacknowledging():
    """
    200, which PRACKs nothing, calls 201.
    """
    x = exchange()
    a = x.sip("200")
    a.prack = False
    a.call("201")
    x.run()
    return x, a


def test_unacknowledged_ringing_is_retransmitted_then_the_invite_fails():
    x, a = unacknowledging()
    assert len(a.reliables()) == 1
    x.run(10)
    # T1 doubling: sent at 0, 0.5, 1.5, 3.5 and 7.5 s.
    assert len(a.reliables()) == 5
    rseqs = {m.headers.get("rseq") for m in a.reliables()}
    assert len(rseqs) == 1
    x.run(25)
    assert len(a.reliables()) == 7
    assert a.statuses()[-1] == 500
    assert names(x)[-2:] == ["ConnectionCleared", "CallCleared"]
    assert x.model.calls() == []
    # The called phone's INVITE was cancelled.
    assert "CANCEL" in x.sip("201").methods()


def test_prack_that_matches_nothing_gets_481():
    x, a = unacknowledging()
    (ringing,) = a.reliables()
    rseq = int(ringing.headers.get("rseq"))
    a.sendPrack(ringing, rack=f"{rseq + 1} {ringing.cseq.number} INVITE")
    x.run()
    assert a.statuses()[-1] == 481
    a.sendPrack(ringing)
    x.run()
    assert a.statuses()[-1] == 200
    x.run(5)
    assert len(a.reliables()) == 1


def test_early_media_passes_reliably_both_ways():
    x = exchange()
    a, b = calling(x)
    b.progress()
    x.run()
    # oso PRACKed the called phone's 183, RAck naming it.
    (prack,) = b.requests("PRACK")
    invite = b.requests("INVITE")[0]
    assert prack.headers.get("rack") == f"1 {invite.cseq.number} INVITE"
    (tag,) = [entry[2] for entry in b.incoming.values()]
    assert prack.toAddress.tag == tag
    # The caller got a reliable 183 with the called phone's media.
    progress = [m for m in a.reliables() if m.status == 183]
    assert len(progress) == 1
    early = parseSDP(progress[0].body)
    assert early.media[0].port == b.mediaPort
    assert early.origin.username != "phone"
    # A retransmission of the 183 is not PRACKed again nor passed on.
    b.progress(rseq=1)
    x.run()
    assert len(b.requests("PRACK")) == 1
    assert len([m for m in a.reliables() if m.status == 183]) == 1
    b.answer()
    x.run()
    ok = a.received[-1]
    assert ok.status == 200
    # The 200 repeats the early answer (same origin and version).
    assert ok.body == progress[0].body
    assert names(x)[-1] == "Established"
    a.hangUp()
    x.run()
    assert x.model.calls() == []


def test_out_of_order_rseq_is_prackd_in_order():
    x = exchange()
    a, b = calling(x)
    b.progress(rseq=1)
    x.run()
    third = b.progress(rseq=3, send=False)
    second = b.progress(rseq=2, send=False)
    request, tx, tag = b.incoming[next(iter(b.incoming))]
    tx.respond(third)
    x.run()
    assert len(b.requests("PRACK")) == 1
    tx.respond(second)
    x.run()
    assert [p.headers.get("rack").split()[0] for p in b.requests("PRACK")] == ["1", "2", "3"]
    # The CSeq of each PRACK counts on in the early dialog.
    numbers = [p.cseq.number for p in b.requests("PRACK")]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]
    b.answer()
    x.run()
    b.hangUp()
    x.run()
    bye = [m for m in b.received if getattr(m, "status", 0) == 200][-1]
    assert bye.cseq.method == "BYE"
    assert x.model.calls() == []


def test_answer_waits_for_the_prack_of_the_early_answer():
    x = exchange()
    a, b = calling(x)
    a.prack = False
    b.progress()
    x.run()
    (progress,) = [m for m in a.reliables() if m.status == 183]
    # The 180 was PRACKed before; the 183 with the answer is not yet.
    b.answer()
    x.run()
    assert 200 not in [m.status for m in a.received if getattr(m, "cseq", None)
                       and m.cseq.method == "INVITE"]
    a.sendPrack(progress)
    x.run()
    assert {(m.status, m.cseq.method) for m in a.received[-2:]} == {(200, "PRACK"), (200, "INVITE")}
    assert names(x)[-1] == "Established"


def test_caller_without_100rel_gets_unreliable_early_media():
    x = exchange()
    a = x.sip("200")
    a.fields = []
    a.call("201")
    x.run()
    b = x.sip("201")
    b.progress()
    x.run()
    progress = [m for m in a.received if getattr(m, "status", 0) == 183]
    assert len(progress) == 1
    assert progress[0].headers.get("rseq") is None
    assert progress[0].headers.get("require") is None
    assert parseSDP(progress[0].body).media[0].port == b.mediaPort
    b.answer()
    x.run()
    assert a.received[-1].status == 200 and a.received[-1].body == progress[0].body


def test_called_phone_requiring_100rel_for_an_unknown_option_gets_420():
    x = exchange()
    a = x.sip("200")
    a.fields = [("require", "100rel, foo, bar")]
    a.call("201")
    x.run()
    refusal = a.received[-1]
    assert refusal.status == 420
    assert refusal.headers.getAll("unsupported") == ["bar", "foo"]
    assert names(x) == []


def test_require_100rel_is_served():
    x = exchange()
    a = x.sip("200")
    a.fields = [("require", "100rel")]
    a.call("201")
    x.run()
    (ringing,) = a.reliables()
    assert ringing.headers.get("rseq")


def test_an_application_without_prack_uses_no_100rel():
    """
    Legs of an application that does not take PRACK (the sip-trunk port)
    neither send reliable provisional responses nor offer 100rel.
    """
    x = exchange()
    x.lines.methods = x.lines.methods - {"PRACK"}
    a, b = calling(x)
    ringing = [m for m in a.received if getattr(m, "status", 0) == 180]
    assert len(ringing) == 1 and ringing[0].headers.get("rseq") is None
    (invite,) = b.requests("INVITE")
    assert invite.headers.get("supported") is None

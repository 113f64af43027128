"""
UPDATE (RFC 3311) through the sip-lines port on the in-memory network: an
offer in a phone's UPDATE passes to the other phone as an UPDATE (or as a
re-INVITE to a phone that does not allow UPDATE) and its answer comes
back; hold by UPDATE is the model's hold; an UPDATE without a body is
answered at once; glare (491, 500 with Retry-After); UPDATE in the early
dialog passed to the called phone's early dialog, or answered here.
"""

from oso.sip.sdp import parseSDP

from reliable_phones import exchange


def names(x):
    return x.recorder.names()


def connected(x, early=False):
    a, b = x.sip("200"), x.sip("201")
    a.call("201")
    x.run()
    if early:
        b.progress()
        x.run()
        return a, b
    b.answer()
    x.run()
    x.recorder.take()
    return a, b


def last(phone, status=None, method=None):
    for message in reversed(phone.received):
        if status is not None and getattr(message, "status", None) == status:
            if method is None or message.cseq.method == method:
                return message
        if method is not None and status is None and getattr(message, "method", None) == method:
            return message
    return None


def test_hold_by_update_passes_as_update_and_holds():
    x = exchange()
    a, b = connected(x)
    a.update(dir="sendonly")
    x.run()
    assert names(x) == ["Held"]
    update = last(b, method="UPDATE")
    assert update is not None
    assert parseSDP(update.body).media[0].attribute("sendonly") == ""
    assert b.requests("INVITE")[1:] == []
    ok = last(a, 200, "UPDATE")
    answer = parseSDP(ok.body)
    assert answer.media[0].attribute("recvonly") == ""
    assert answer.media[0].port == b.mediaPort
    assert ok.headers.get("contact")
    a.update()
    x.run()
    assert names(x) == ["Held", "Retrieved"]
    assert b"sendonly" not in last(b, method="UPDATE").body
    b.hangUp()
    x.run()
    assert x.model.calls() == []


def test_update_to_a_phone_without_update_goes_as_reinvite():
    x = exchange()
    x.sip("201").allow = None
    a, b = connected(x)
    a.update(dir="sendonly")
    x.run()
    assert b.requests("UPDATE") == []
    reinvite = b.requests("INVITE")[-1]
    assert reinvite.toAddress.tag is not None
    assert parseSDP(reinvite.body).media[0].attribute("sendonly") == ""
    assert parseSDP(last(a, 200, "UPDATE").body).media[0].port == b.mediaPort
    assert names(x) == ["Held"]


def test_update_without_body_is_answered_at_once():
    x = exchange()
    a, b = connected(x)
    a.update(body=False)
    x.run()
    ok = last(a, 200, "UPDATE")
    assert ok.body == b"" and ok.headers.get("contact")
    assert b.requests("UPDATE") == []
    assert names(x) == []


def test_update_glare():
    x = exchange()
    a, b = connected(x)
    b.answerUpdates = False
    a.update(dir="sendonly")
    x.run()
    assert len(b.heldUpdates) == 1
    # A's offer waits for B's answer: a second one from A gets 500 with
    # Retry-After; one from B crosses oso's to B: 491.
    a.update()
    x.run()
    refused = last(a, 500, "UPDATE")
    assert refused is not None and 0 <= int(refused.headers.get("retry-after")) <= 10
    b.answerUpdates = True
    b.update(dir="inactive")
    x.run()
    assert last(b, 491, "UPDATE") is not None
    request, tx = b.heldUpdates.pop()
    b.answerUpdate(request, tx)
    x.run()
    assert last(a, 200, "UPDATE") is not None
    assert names(x) == ["Held"]


def test_bad_sdp_in_update_gets_488():
    x = exchange()
    a, b = connected(x)
    dialog = a.dialogs[next(iter(a.dialogs))]
    request = dialog.createRequest("UPDATE")
    request.body = b"v=0\r\nnonsense\r\n"
    request.headers.add("content-type", "application/sdp")
    a._send(dialog, request)
    x.run()
    assert last(a, 488, "UPDATE") is not None
    assert b.requests("UPDATE") == []


def test_early_update_passes_to_the_called_phones_early_dialog():
    x = exchange()
    a, b = connected(x, early=True)
    assert last(a, 183) is not None
    a.update(dir="sendonly")
    x.run()
    update = last(b, method="UPDATE")
    assert update is not None
    assert update.toAddress.tag == last(b, method="PRACK").toAddress.tag
    assert parseSDP(update.body).media[0].attribute("sendonly") == ""
    answer = last(a, 200, "UPDATE")
    assert parseSDP(answer.body).media[0].attribute("recvonly") == ""
    # The 200 of the INVITE repeats the last answer, no new offer after it.
    b.answer()
    x.run()
    ok = last(a, 200, "INVITE")
    assert ok.body == answer.body
    assert a.requests("INVITE") == [] and len(b.requests("INVITE")) == 1
    assert names(x)[-1] == "Established"
    a.hangUp()
    x.run()
    assert x.model.calls() == []


def test_early_update_is_answered_here_when_it_cannot_pass():
    x = exchange()
    x.sip("201").allow = None
    a, b = connected(x, early=True)
    a.update(dir="sendonly")
    x.run()
    assert b.requests("UPDATE") == []
    answer = parseSDP(last(a, 200, "UPDATE").body)
    assert answer.media[0].port == b.mediaPort
    assert answer.media[0].attribute("recvonly") == ""


def test_early_update_before_the_offer_is_answered_gets_500():
    x = exchange()
    a, b = x.sip("200"), x.sip("201")
    a.call("201")
    x.run()
    # Only the 180 went (reliably): the INVITE's offer is not answered.
    a.update(dir="sendonly")
    x.run()
    assert last(a, 500, "UPDATE") is not None
    assert b.requests("UPDATE") == []


def test_called_phones_early_update_passes_to_the_caller():
    x = exchange()
    a, b = connected(x, early=True)
    b.update(dir="sendonly")
    x.run()
    update = last(a, method="UPDATE")
    assert update is not None
    assert update.fromAddress.tag == last(a, 183).toAddress.tag
    offered = parseSDP(update.body)
    assert offered.media[0].attribute("sendonly") == ""
    assert offered.media[0].port == b.mediaPort
    answer = parseSDP(last(b, 200, "UPDATE").body)
    assert answer.media[0].attribute("recvonly") == ""
    assert answer.media[0].port == a.mediaPort
    b.answer()
    x.run()
    ok = last(a, 200, "INVITE")
    # The 200 repeats what the caller has (the UPDATE's offer); nobody
    # gets a re-INVITE that would undo the hold.
    assert ok.body == update.body
    assert a.requests("INVITE") == [] and len(b.requests("INVITE")) == 1
    assert names(x)[-1] == "Established"
    b.hangUp()
    x.run()
    assert x.model.calls() == []


def test_called_phones_early_update_is_answered_here_without_a_reliable_caller():
    x = exchange()
    x.sip("200").fields = []
    a, b = connected(x, early=True)
    b.update(dir="sendonly")
    x.run()
    assert a.requests("UPDATE") == []
    answer = parseSDP(last(b, 200, "UPDATE").body)
    assert answer.media[0].port == a.mediaPort
    assert answer.media[0].attribute("recvonly") == ""

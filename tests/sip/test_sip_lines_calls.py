"""
The sip-lines port, sans-I/O: scripted SIP phones on an in-memory network
call each other and virtual phones through the call model; each scenario
checks the SIP messages on both sides and the call model's events.
"""

from zope.interface.verify import verifyObject

from oso.callmodel.causes import EventCause
from oso.callmodel.states import LocalConnectionState as S
from oso.interfaces import IEventObserver, IPortDriver, ITerminal
from oso.sip.sdp import parseSDP

from sip_lines_harness import SIPExchange


def names(exchange):
    return exchange.recorder.names()


def test_interfaces():
    x = SIPExchange()
    x.register("200")
    verifyObject(IPortDriver, x.lines)
    verifyObject(IEventObserver, x.lines)
    verifyObject(ITerminal, x.lines.terminalFor(x.model.device("200")))


def test_unregistered_phone_is_out_of_service():
    x = SIPExchange()
    assert x.lines.terminalFor(x.model.device("200")) is None
    x.phone("100").offHook("200")
    assert x.recorder.events[-1].name == "Failed"
    assert x.recorder.events[-1].cause is EventCause.destOutOfOrder


def test_invite_is_challenged_then_routed_and_answered():
    x = SIPExchange()
    x.register("200", "201")
    a, b = x.sip("200"), x.sip("201")
    a.call("201")
    x.run()
    assert a.statuses()[:2] == [407, 100]
    assert a.statuses()[2] == 180
    invite = [m for m in b.received if getattr(m, "method", None) == "INVITE"][0]
    assert invite.fromAddress.uri.user == "200"
    assert invite.toAddress.uri.user == "201"
    offered = parseSDP(invite.body)
    assert offered.media[0].port == a.mediaPort
    assert offered.origin.username != "phone"
    assert names(x) == ["ServiceInitiated", "Originated", "Delivered"]
    b.answer()
    x.run()
    assert a.statuses()[-1] == 200
    answer = parseSDP(a.received[-1].body)
    assert answer.media[0].port == b.mediaPort
    assert answer.origin.username != "phone"
    assert names(x)[-1] == "Established"
    assert "ACK" in b.methods()
    call = x.model.calls()[0]
    assert [c.state for c in call.connections.values()] == [S.connected, S.connected]
    # The caller hangs up.
    a.hangUp()
    x.run()
    assert b.methods()[-1] == "BYE"
    assert a.statuses()[-1] == 200
    assert names(x)[-2:] == ["ConnectionCleared", "CallCleared"]
    assert x.model.calls() == []


def test_wrong_password_is_refused():
    x = SIPExchange()
    x.register("200", "201")
    a = x.sip("200")
    a.password = "wrong"
    a.call("201")
    x.run()
    assert a.statuses() == [407, 403]
    assert names(x) == []


def test_called_party_hangs_up():
    x = SIPExchange()
    x.register("200", "201")
    a, b = x.sip("200"), x.sip("201")
    a.call("201")
    x.run()
    b.answer()
    x.run()
    b.hangUp()
    x.run()
    assert a.methods()[-1] == "BYE"
    assert b.statuses()[-1] == 200
    assert x.model.calls() == []
    assert names(x)[-2:] == ["ConnectionCleared", "CallCleared"]


def test_cancel_before_answer():
    x = SIPExchange()
    x.register("200", "201")
    a, b = x.sip("200"), x.sip("201")
    a.call("201")
    x.run()
    a.cancel()
    x.run()
    assert 487 in a.statuses()
    assert "CANCEL" in b.methods()
    assert 487 in [getattr(m, "status", None) for m in b.sent()]
    assert x.model.calls() == []
    assert names(x)[-1] == "CallCleared"


def test_busy_phone():
    x = SIPExchange()
    x.register("200", "201")
    a, b = x.sip("200"), x.sip("201")
    b.busy = True
    a.call("201")
    x.run()
    assert a.statuses()[-1] == 486
    assert names(x)[-1] == "CallCleared"
    failed = [e for e in x.recorder.events if e.name == "Failed"]
    assert failed and failed[0].cause is EventCause.busy


def test_unknown_number_is_not_found():
    x = SIPExchange()
    x.register("200")
    a = x.sip("200")
    a.call("999")
    x.run()
    assert a.statuses()[-1] in (404, 484)
    assert x.model.calls() == []


def test_sip_phone_calls_virtual_phone():
    x = SIPExchange()
    x.register("200")
    a = x.sip("200")
    a.call("100")
    x.run()
    assert a.statuses()[-1] == 180
    x.phone("100").answer()
    x.run()
    assert a.statuses()[-1] == 200
    answer = parseSDP(a.received[-1].body)
    assert answer.media[0].attribute("inactive") == ""
    x.phone("100").hangUp()
    x.run()
    assert a.methods()[-1] == "BYE"
    assert x.model.calls() == []


def test_virtual_phone_calls_sip_phone_forking():
    x = SIPExchange()
    x.register("200")
    a = x.sip("200")
    from sip_lines_harness import Phone

    second = Phone(x.network, "200", "pw200", "127.0.2.9")
    second.register(x.registrar)
    x.phone("100").offHook("200")
    x.run()
    assert "INVITE" in a.methods() and "INVITE" in second.methods()
    assert names(x)[-1] == "Delivered"
    second.answer()
    x.run()
    assert "CANCEL" in a.methods()
    assert names(x)[-1] == "Established"
    x.phone("100").hangUp()
    x.run()
    assert second.methods()[-1] == "BYE"
    assert x.model.calls() == []

"""
Identity, privacy and Reason through the sip-lines port, sans-I/O: scripted
phones on the in-memory network (L{sip_lines_harness}); the phones are
untrusted peers (RFC 3325): what they assert is replaced by the
authenticated extension, and a restricted caller reaches the called phone
as the RFC 3323 anonymous From.
"""

import re
from dataclasses import replace

from sip_lines_harness import OSO, Phone, SIPExchange

from oso.callmodel import events as ev
from oso.callmodel.causes import EventCause
from oso.callmodel.devices import HuntMode
from oso.sip.reason import Reason, reasonsOf


def invites(phone):
    return [m for m in phone.received if getattr(m, "method", None) == "INVITE"]


def requests(phone, method):
    return [m for m in phone.received if getattr(m, "method", None) == method]


def call(phone, number, *fields):
    """
    The phone's INVITE to C{number} with extra header fields (kept when it
    answers the 407).
    """
    request = phone._new("INVITE", number)
    for name, value in fields:
        request.headers.add(name, value)
    request.body = phone.sdp()
    request.headers.add("content-type", "application/sdp")
    phone.outgoing = request
    phone.outTx = phone.layer.request(request, OSO, "UDP")
    return request


def test_privacy_id_makes_the_called_phone_see_anonymous():
    """
    RFC 3323: a phone's Privacy: id restricts the call; the called phone (an
    untrusted peer) gets the anonymous From and Privacy: id, no asserted or
    preferred identity; the call model's call and events say restricted.
    """
    x = SIPExchange()
    x.register("200", "201")
    a, b = x.sip("200"), x.sip("201")
    call(a, "201", ("privacy", "id"), ("p-preferred-identity", "<sip:200@127.0.0.1>"),
         ("p-asserted-identity", "<sip:999@127.0.0.1>"))
    x.run()
    [invite] = invites(b)
    assert str(invite.fromAddress.uri) == "sip:anonymous@anonymous.invalid"
    assert invite.fromAddress.displayName == "Anonymous"
    assert invite.headers.get("privacy") == "id"
    assert invite.headers.getAll("p-asserted-identity") == []
    assert invite.headers.getAll("p-preferred-identity") == []
    # The caller's number appears nowhere as a word of its own (random
    # tokens such as the branch may hold the digits; Content-Length is the
    # body's size).
    head = invite.serialise().split(b"\r\n\r\n")[0].decode().replace("127.0.0.1:5060", "")
    fields = [line for line in head.split("\r\n") if not line.lower().startswith("content-length")]
    assert not re.search(r"(?<![0-9A-Za-z])200(?![0-9A-Za-z])", "\r\n".join(fields))
    [callModel] = x.model.calls()
    assert callModel.callingRestricted and callModel.callingDevice == "200"
    delivered = [e for e in x.recorder.events if isinstance(e, ev.Delivered)]
    assert delivered and all(e.callingDevice is ev.RESTRICTED for e in delivered)


def test_asserted_identity_from_a_phone_is_replaced():
    """
    RFC 3325 5: a phone is not trusted: the identity it asserts (or
    prefers without owning it) is not passed on; the called phone sees the
    authenticated extension in From, and no PAI/PPI.
    """
    x = SIPExchange()
    x.register("200", "201")
    a, b = x.sip("200"), x.sip("201")
    call(a, "201", ("p-preferred-identity", "<sip:555@127.0.0.1>"),
         ("p-asserted-identity", '"Boss" <sip:999@127.0.0.1>'))
    x.run()
    [invite] = invites(b)
    assert invite.fromAddress.uri.user == "200"
    assert invite.fromAddress.displayName == "Phone 200"
    assert invite.headers.getAll("p-asserted-identity") == []
    assert invite.headers.getAll("p-preferred-identity") == []
    assert invite.headers.get("privacy") is None
    assert not x.model.calls()[0].callingRestricted


def test_privacy_none_presents():
    """
    RFC 3323 4.2: Privacy: none asks for no privacy.
    """
    x = SIPExchange()
    x.register("200", "201")
    call(x.sip("200"), "201", ("privacy", "none"))
    x.run()
    assert invites(x.sip("201"))[0].fromAddress.uri.user == "200"


def test_withheld_caller_id_is_not_lifted_by_privacy_none():
    """
    The administrator's CLIR (C{withholdCallerID}) restricts the call
    although the phone asks for none: the called phone sees the anonymous
    From with Privacy: id.
    """
    x = SIPExchange()
    x.model.loadDevices([replace(x.model.device("200"), withholdCallerID=True)])
    x.register("200", "201")
    call(x.sip("200"), "201", ("privacy", "none"))
    x.run()
    [invite] = invites(x.sip("201"))
    assert str(invite.fromAddress.uri) == "sip:anonymous@anonymous.invalid"
    assert invite.headers.get("privacy") == "id"
    assert x.model.calls()[0].callingRestricted


def test_preferred_presentable_number_reaches_the_model():
    """
    RFC 3325 9.2: a preferred identity the extension may present (its
    main number) becomes the call's presented number; the called phone
    still sees the extension; one it may not present is ignored.
    """
    x = SIPExchange()
    x.model.loadDevices([replace(x.model.device("200"), presentableNumbers=("4930123456000",))])
    x.register("200", "201")
    call(x.sip("200"), "201", ("p-preferred-identity", "<tel:+4930123456000>"))
    x.run()
    assert x.model.calls()[0].presentedNumber == "4930123456000"
    assert invites(x.sip("201"))[0].fromAddress.uri.user == "200"
    x = SIPExchange()
    x.register("200", "201")
    call(x.sip("200"), "201", ("p-preferred-identity", "<tel:+4930123456000>"))
    x.run()
    assert x.model.calls()[0].presentedNumber is None


def test_malformed_privacy_is_refused():
    """
    A Privacy value that is not a token is the caller's 400, nothing else.
    """
    x = SIPExchange()
    x.register("200", "201")
    a = x.sip("200")
    call(a, "201", ("privacy", "id;<x>"))
    x.run()
    assert a.statuses()[-1] == 400
    assert invites(x.sip("201")) == []
    assert x.model.calls() == []


def test_virtual_caller_restricted():
    """
    A restricted call from another port's device reaches a SIP phone
    anonymous too.
    """
    x = SIPExchange()
    x.register("200")
    x.model.originate("100", "200", restricted=True)
    x.run()
    [invite] = invites(x.sip("200"))
    assert invite.fromAddress.uri.host == "anonymous.invalid"
    assert invite.headers.get("privacy") == "id"


def test_forking_cancel_says_completed_elsewhere():
    """
    RFC 3326: when one contact of a forked call answers, the CANCEL to the
    other carries Reason: SIP;cause=200;text="Call completed elsewhere".
    """
    x = SIPExchange()
    x.register("200")
    a = x.sip("200")
    second = Phone(x.network, "200", "pw200", "127.0.2.9")
    second.register(x.registrar)
    x.phone("100").offHook("200")
    x.run()
    second.answer()
    x.run()
    [cancel] = requests(a, "CANCEL")
    assert reasonsOf(cancel) == [Reason("SIP", 200, "Call completed elsewhere")]


def test_hunt_group_answered_elsewhere():
    """
    A parallel hunt group: the members that did not answer get a CANCEL
    saying the call was completed elsewhere.
    """
    x = SIPExchange()
    x.register("200", "201")
    x.addGroup("300", ["200", "201"], mode=HuntMode.parallel)
    x.phone("100").offHook("300")
    x.run()
    x.sip("201").answer()
    x.run()
    [cancel] = requests(x.sip("200"), "CANCEL")
    assert reasonsOf(cancel) == [Reason("SIP", 200, "Call completed elsewhere")]


def test_caller_gives_up_cancel_says_normal_clearing():
    """
    When the caller gives up, the CANCEL to the ringing phone carries the
    model's cause as Q.850 (normal call clearing).
    """
    x = SIPExchange()
    x.register("200")
    x.phone("100").offHook("200")
    x.run()
    x.phone("100").hangUp()
    x.run()
    [cancel] = requests(x.sip("200"), "CANCEL")
    assert reasonsOf(cancel) == [Reason("Q.850", 16, "Normal call clearing")]


def test_bye_carries_the_model_cause():
    """
    RFC 3326: our BYE to a phone says why, as a Q.850 cause.
    """
    x = SIPExchange()
    x.register("200")
    x.phone("100").offHook("200")
    x.run()
    x.sip("200").answer()
    x.run()
    x.phone("100").hangUp()
    x.run()
    [bye] = requests(x.sip("200"), "BYE")
    assert reasonsOf(bye) == [Reason("Q.850", 16, "Normal call clearing")]


def test_incoming_bye_reason_is_the_model_cause():
    """
    A phone's BYE with a Q.850 Reason clears its connection with the
    model's cause for it.
    """
    x = SIPExchange()
    x.register("200")
    x.phone("100").offHook("200")
    x.run()
    phone = x.sip("200")
    phone.answer()
    x.run()
    dialog = phone._dialog(None)
    bye = dialog.createRequest("BYE")
    bye.headers.add("reason", "Q.850;cause=17;text=\"User busy\"")
    phone._send(dialog, bye)
    x.run()
    cleared = [e for e in x.recorder.events if isinstance(e, ev.ConnectionCleared)]
    assert cleared[0].connection.deviceID == "200"
    assert cleared[0].cause is EventCause.busy


def test_incoming_cancel_reason_is_the_model_cause():
    """
    A phone's CANCEL with a Reason ends its call with that cause.
    """
    x = SIPExchange()
    x.register("200")
    a = x.sip("200")
    call(a, "100")
    x.run()
    a.outTx.cancelReason = Reason("Q.850", 19)
    a.cancel()
    x.run()
    cleared = [e for e in x.recorder.events if isinstance(e, ev.ConnectionCleared)]
    assert cleared[0].connection.deviceID == "200"
    assert cleared[0].cause is EventCause.callNotAnswered

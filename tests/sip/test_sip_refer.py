"""
REFER (RFC 3515) sans-I/O: reading Refer-To (with an embedded Replaces,
RFC 3891 4), Refer-Sub (RFC 4488), sipfrag bodies, and the implicit
subscription's NOTIFYs on a fake clock.
"""

import pytest
from hypothesis import given, strategies as st
from twisted.internet.task import Clock

from oso.sip.message import Request
from oso.sip.refer import (
    DEFAULT_EXPIRES, ReferError, ReferSubscription, parseRefer, sipfrag,
)
from oso.sip.replaces import Replaces
from oso.sip.uri import SIPURI, TelURI


def _refer(*referTo, **headers):
    request = Request("REFER", SIPURI("127.0.0.1", port=5060))
    for value in referTo:
        request.headers.add("refer-to", value)
    for name, value in headers.items():
        request.headers.add(name.replace("_", "-"), value)
    return request


def test_blind_refer_to():
    """
    RFC 3515 2.1: a SIP URI in Refer-To; no Replaces, a subscription
    wanted.
    """
    target = parseRefer(_refer("<sip:202@127.0.0.1>"))
    assert target.uri == SIPURI("127.0.0.1", user="202")
    assert target.replaces is None and target.subscription


def test_compact_form_and_tel_uri():
    """
    RFC 3515 2.1: C{r} is Refer-To's compact form; a tel URI is a target
    too.
    """
    request = Request("REFER", SIPURI("127.0.0.1"))
    request.headers.add("r", "<tel:+4989123>")
    assert isinstance(parseRefer(request).uri, TelURI)


def test_attended_refer_to_with_embedded_replaces():
    """
    RFC 3891 4 (and its 7.1 example): Replaces travels escaped in the
    Refer-To URI's headers; the target URI comes back without them.
    """
    target = parseRefer(_refer(
        "<sip:202@127.0.0.1?Replaces=425928%40bobster.example.org%3Bto-tag%3D7743"
        "%3Bfrom-tag%3D6472&Require=replaces>"
    ))
    assert target.replaces == Replaces("425928@bobster.example.org", "7743", "6472")
    assert target.uri == SIPURI("127.0.0.1", user="202")
    assert target.uri.headers == {}


@pytest.mark.parametrize("values, status", [
    ((), 400),
    (("<sip:1@h>", "<sip:2@h>"), 400),
    (("<sip:1@h",), 400),
    (("<sip:1@h?Replaces=abc%3Bto-tag%3D1>",), 400),
    (("<http://example.com/>",), 403),
    (("<sip:1@h;method=SUBSCRIBE>",), 403),
])
def test_bad_refer_to_is_refused(values, status):
    """
    RFC 3515 2.4.1/2.4.2: exactly one well-formed Refer-To (400
    otherwise); a target we do not refer to (another scheme, another
    method) is declined with 403.
    """
    with pytest.raises(ReferError) as caught:
        parseRefer(_refer(*values))
    assert caught.value.status == status


def test_refer_sub_false():
    """
    RFC 4488 4: Refer-Sub: false asks for no implicit subscription.
    """
    assert not parseRefer(_refer("<sip:2@h>", refer_sub="false")).subscription
    assert parseRefer(_refer("<sip:2@h>", refer_sub="true")).subscription


@given(st.text(st.characters(blacklist_characters="\r\n"), max_size=80))
def test_arbitrary_refer_to_gives_only_refer_errors(text):
    """
    Whatever the Refer-To (a field value never holds CR or LF), the result
    is a target or a ReferError.
    """
    try:
        parseRefer(_refer(text))
    except ReferError as e:
        assert e.status in (400, 403)


def test_sipfrag():
    """
    RFC 3515 2.4.5: a status line as the body, reason phrase by default.
    """
    assert sipfrag(100) == b"SIP/2.0 100 Trying\r\n"
    assert sipfrag(486, "Busy Here (DND)") == b"SIP/2.0 486 Busy Here (DND)\r\n"


class _Notifies:
    def __init__(self):
        self.sent = []
        self.ended = 0

    def __call__(self, body, state):
        self.sent.append((body, state))

    def end(self):
        self.ended += 1


def test_subscription_reports_progress_then_final():
    """
    RFC 3515 2.4.4/2.4.5: 100 Trying at once (active), a NOTIFY per new
    provisional status, a final one terminated;reason=noresource; after
    that nothing is sent.
    """
    clock, notes = Clock(), _Notifies()
    s = ReferSubscription(clock, notes, ended=notes.end)
    s.progress(180)
    s.progress(180)
    clock.advance(10)
    s.progress(200)
    s.progress(180)
    assert notes.sent == [
        (b"SIP/2.0 100 Trying\r\n", f"active;expires={DEFAULT_EXPIRES}"),
        (b"SIP/2.0 180 Ringing\r\n", f"active;expires={DEFAULT_EXPIRES}"),
        (b"SIP/2.0 200 OK\r\n", "terminated;reason=noresource"),
    ]
    assert s.done and notes.ended == 1
    assert clock.getDelayedCalls() == []


def test_subscription_expires_with_the_last_status():
    """
    RFC 3515 2.4.4 with RFC 6665: with no final status within the
    subscription's duration, a last NOTIFY says terminated;reason=timeout.
    """
    clock, notes = Clock(), _Notifies()
    s = ReferSubscription(clock, notes, expires=30, ended=notes.end)
    clock.advance(10)
    s.progress(180)
    assert notes.sent[-1][1] == "active;expires=20"
    clock.advance(20)
    assert notes.sent[-1] == (b"SIP/2.0 180 Ringing\r\n", "terminated;reason=timeout")
    assert s.done and notes.ended == 1


def test_refused_notify_ends_it_silently():
    """
    RFC 6665 4.1.3: a NOTIFY refused (481) ends the subscription with
    nothing more sent.
    """
    clock, notes = Clock(), _Notifies()
    s = ReferSubscription(clock, notes, ended=notes.end)
    s.refused()
    s.progress(200)
    assert len(notes.sent) == 1 and notes.ended == 1
    assert clock.getDelayedCalls() == []


def test_no_subscription_sends_nothing_but_ends():
    """
    RFC 4488: without the subscription no NOTIFY goes out; the end is
    still reported (so the transferor's leg is hung up).
    """
    clock, notes = Clock(), _Notifies()
    s = ReferSubscription(clock, notes, subscribed=False, ended=notes.end)
    s.progress(200)
    assert notes.sent == [] and notes.ended == 1

"""
The sip-lines port lets go of a phone's inbound leg once its call is over,
so that the leg and its session are no reference cycle for the collector.
"""

import pytest

from oso.sip.legs import InboundLeg

from sip_lines_harness import SIPExchange


def callerSession(x, number="200"):
    (session,) = x.lines.phone(number).sessions.values()
    assert isinstance(session.leg, InboundLeg)
    return session


def answeredCall(x):
    x.register("200", "201")
    return x.answeredCall()


@pytest.mark.parametrize("who", ["caller", "called"])
def test_hangUp(who):
    """
    The end of an answered call, by the caller's BYE or by the called
    phone's (the model then clears the caller, whose leg says BYE): the
    caller's session no longer holds its leg, the leg still knows its
    session (for what it hears late).
    """
    x = SIPExchange()
    a, b = answeredCall(x)
    session = callerSession(x)
    leg = session.leg
    (a if who == "caller" else b).hangUp()
    x.run()
    assert leg.ended and x.lines.phone("200").sessions == {}
    assert session.leg is None and leg.session is session


def test_refusedCall():
    """
    A call that fails (the called number does not exist) ends the caller's
    session after its refusal: let go of as well.
    """
    x = SIPExchange()
    x.register("200")
    phone = x.lines.phone("200")
    pending = []
    originate = x.model.originate

    def watched(*args, **kw):
        pending.append(phone._pending)
        return originate(*args, **kw)

    x.model.originate = watched
    a = x.sip("200")
    a.call("299")
    x.run()
    assert a.statuses()[-1] >= 400
    (session,) = pending
    assert session.leg is None and phone.sessions == {}

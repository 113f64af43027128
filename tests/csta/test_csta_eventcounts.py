"""
Tests for the event counts of CSTA links (L{oso.csta.link.EventCounts}):
what the G-Server's metrics report as delivered and overflowed events.
"""

from twisted.internet.testing import StringTransport

from cstadesk import Desk

from oso.csta import messages as m
from oso.csta.protocol import CSTAFactory
from oso.testing import Exchange

NOW = m.AutoOriginate.doNotPrompt


def test_deliveredAndOverflowed():
    """
    Each event a link sends counts as delivered; each one dropped because
    the client is past the event limit counts as overflowed.
    """
    backlog = [0]
    desk = Desk(backlog=lambda: backlog[0], eventLimit=3)
    desk.monitor("100")
    desk.request(m.MakeCall(callingDevice="100", calledDirectoryNumber="101", autoOriginate=NOW))
    counts = desk.link.counts
    assert (counts.delivered, counts.overflowed) == (3, 0)
    backlog[0] = 3
    desk.phone("101").answer()
    desk.collect()
    assert counts.delivered == 3
    assert counts.overflowed == 1
    assert [type(e).__name__ for e in desk.events][-2:] == ["SystemStatus", "MonitorStop"]


def test_factorySharesOneCount():
    """
    Every link of a factory adds to the factory's one count, which outlives
    the links.
    """
    exchange = Exchange()
    factory = CSTAFactory(exchange.clock, exchange.model)
    links = []
    for _ in range(2):
        proto = factory.buildProtocol(None)
        proto.makeConnection(StringTransport())
        links.append(proto.link)
    assert links[0].counts is links[1].counts is factory.counts
    links[0].sendEvent(m.SystemStatus(systemStatus=m.SystemStatusValue.normal))
    links[1].sendEvent(m.SystemStatus(systemStatus=m.SystemStatusValue.normal))
    assert factory.counts.delivered == 2

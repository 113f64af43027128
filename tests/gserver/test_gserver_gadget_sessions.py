"""
Tests for L{oso.gserver.gadgetsessions}: unguessable ids, idle expiry on
the site's clock, logout, and the bound on one user's sessions.
"""

import re

import pytest

from oso.callmodel.errors import CSTAError
from oso.gserver.accounts import Principal
from oso.gserver.gadgetevents import GadgetEvents
from oso.gserver.gadgetsessions import GadgetSessions
from oso.testing import Exchange


def running(**kw):
    exchange = Exchange()
    return exchange, GadgetSessions(exchange.clock, GadgetEvents(exchange.model), **kw)


def test_idsAre128RandomBits():
    _, sessions = running()
    ids = {sessions.open(Principal.forExtension("100")).id for _ in range(50)}
    assert len(ids) == 50
    assert all(re.fullmatch("[0-9a-f]{32}", sessionID) for sessionID in ids)
    assert len(sessions) == 50


def test_idleSessionExpires():
    """
    A session nobody names for the idle time is gone, with its monitors.
    """
    exchange, sessions = running(idle=60)
    session = sessions.open(Principal.forExtension("100"))
    session.monitor("100", None)
    exchange.clock.advance(59)
    assert sessions.get(session.id) is session
    exchange.clock.advance(59)
    assert sessions.get(session.id) is session
    exchange.clock.advance(60)
    assert sessions.get(session.id) is None
    assert session.monitored() == []
    assert len(sessions) == 0
    assert exchange.clock.getDelayedCalls() == []


def test_logoutEndsAtOnce():
    exchange, sessions = running(idle=60)
    session = sessions.open(Principal.forExtension("100"))
    sessions.logout(session)
    assert sessions.get(session.id) is None
    assert exchange.clock.getDelayedCalls() == []


def test_unknownIdIsNone():
    _, sessions = running()
    assert sessions.get("") is None
    assert sessions.get("0") is None


def test_perUserBoundEndsLeastRecentlyUsed():
    """
    A login beyond the bound on one user's sessions ends that user's
    least recently used session; other users keep theirs.
    """
    exchange, sessions = running(perUser=3)
    other = sessions.open(Principal.forExtension("101"))
    mine = []
    for _ in range(3):
        mine.append(sessions.open(Principal.forExtension("100")))
        exchange.clock.advance(1)
    sessions.get(mine[0].id)
    sessions.open(Principal.forExtension("100"))
    assert sessions.get(mine[1].id) is None
    assert sessions.get(mine[0].id) is mine[0]
    assert len(sessions.sessionsOf("100")) == 3
    assert sessions.get(other.id) is other


def test_monitorOfUnknownDeviceIsRefused():
    _, sessions = running()
    session = sessions.open(Principal.forAdministrator("admin"))
    with pytest.raises(CSTAError) as raised:
        session.monitor("999", None)
    assert raised.value.failure.value == "invalidDeviceID"
    assert session.monitored() == []

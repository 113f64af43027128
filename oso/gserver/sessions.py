"""
Browser sessions of the G-Server, sans-I/O: a random session id for the
cookie, the principal it logged in, its CSRF token, and an idle expiry read
from a clock.

A session id and a CSRF token are each 256 random bits.  The CSRF token is
a synchronizer token: a form or a script sends it back, and a cross-site
request cannot know it.  Expired sessions are swept at most once per
timeout, when a new session starts.
"""

import hmac
import secrets
from dataclasses import dataclass


@dataclass
class Session:
    """
    One logged-in browser.

    @ivar id: the session id, the cookie's value.
    @ivar principal: the L{oso.interfaces.gserver.IPrincipal}.
    @ivar csrf: the CSRF token.
    @ivar lastUsed: when it was last used, on the sessions' clock.
    """

    id: str
    principal: object
    csrf: str
    lastUsed: float

    def checkCSRF(self, token):
        """
        @return: whether C{token} (a L{str} or L{None}) is this session's
            CSRF token, compared in constant time.
        """
        return isinstance(token, str) and hmac.compare_digest(
            token.encode("utf-8"), self.csrf.encode("ascii")
        )


class Sessions:
    """
    The live sessions, by id.
    """

    def __init__(self, clock, timeout):
        """
        @param clock: an L{twisted.internet.interfaces.IReactorTime}.
        @param timeout: the seconds a session may stay idle.
        """
        self._clock = clock
        self.timeout = timeout
        self._sessions = {}
        self._nextSweep = clock.seconds() + timeout

    def start(self, principal):
        """
        @return: a new L{Session} for C{principal}.
        """
        now = self._clock.seconds()
        if now >= self._nextSweep:
            self._sweep(now)
        session = Session(
            id=secrets.token_urlsafe(32),
            principal=principal,
            csrf=secrets.token_urlsafe(32),
            lastUsed=now,
        )
        self._sessions[session.id] = session
        return session

    def get(self, sessionID):
        """
        The live session of an id, which this use keeps alive.

        @return: the L{Session}, or L{None} for an unknown or expired id.
        """
        session = self._sessions.get(sessionID)
        if session is None:
            return None
        now = self._clock.seconds()
        if now - session.lastUsed > self.timeout:
            del self._sessions[sessionID]
            return None
        session.lastUsed = now
        return session

    def end(self, sessionID):
        """
        End a session, if it is there.
        """
        self._sessions.pop(sessionID, None)

    def _sweep(self, now):
        for sessionID in [
            i for i, s in self._sessions.items() if now - s.lastUsed > self.timeout
        ]:
            del self._sessions[sessionID]
        self._nextSweep = now + self.timeout

    def __len__(self):
        return len(self._sessions)

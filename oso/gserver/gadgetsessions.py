"""
The gadget API's sessions: what a C{Login} opens and C{gsSession} names
afterwards.

A session id is 128 random bits in hex, so nobody guesses one.  A session
ends at C{Logout}, or when it has been idle (no request naming it) for the
idle time (the G-Server's C{sessionTimeout}) on the site's clock; its
device monitors and queued events end with it.  A user holds at most L{DEFAULT_PER_USER} sessions: a login beyond
that ends the user's least recently used one, so scripts that never log
out cannot grow the table without bound.
"""

import secrets

from twisted.logger import Logger

from oso.gserver.gadgetevents import DEFAULT_QUEUE_LIMIT, EventQueue

#: Seconds a session lives without a request, for a site without settings.
DEFAULT_IDLE = 1800

#: The most sessions one login name holds at once.
DEFAULT_PER_USER = 200


class GadgetSession:
    """
    One logged-in gadget or script.

    To the device monitors (L{oso.gserver.gadgetevents.GadgetEvents}) a
    session is a link: it is told each event its monitors cover with
    L{sendEvent}, and tells them when it closes.

    @ivar id: the session id (C{str}).
    @ivar principal: the L{oso.interfaces.gserver.IPrincipal} logged in.
    @ivar queue: its L{EventQueue}.
    @ivar lastUsed: the clock's seconds at its last request.
    """

    log = Logger()

    def __init__(self, sessionID, principal, events, queueLimit, now):
        self.id = sessionID
        self.principal = principal
        self.queue = EventQueue(queueLimit)
        self.lastUsed = now
        self.expiry = None
        self._events = events
        self._monitors = {}
        self._devices = {}
        self._whenClosed = []

    def __repr__(self):
        return f"<GadgetSession of {self.principal.name}>"

    # --- monitors -------------------------------------------------------------

    def monitor(self, device, types):
        """
        Report the events covering C{device} from now on (only those whose
        type is in C{types}, unless it is L{None}); a device already
        monitored keeps its monitor and gets the new filter.

        @raise oso.callmodel.errors.CSTAError: for an unknown device.
        """
        if device not in self._devices:
            crossRef = self._events.watch(self, device)
            self._devices[device] = crossRef
        self._monitors[self._devices[device]] = (device, types)

    def unmonitor(self, device):
        """
        Stop reporting C{device}'s events.

        @return: whether it was monitored.
        """
        crossRef = self._devices.pop(device, None)
        if crossRef is None:
            return False
        del self._monitors[crossRef]
        self._events.unwatch(self, crossRef)
        return True

    def monitored(self):
        """
        @return: the monitored device numbers, in the order started.
        """
        return list(self._devices)

    # --- the link shape the device monitors use --------------------------------

    def sendEvent(self, message):
        """
        The monitor C{message.monitorCrossRefID} covers the event being
        delivered: queue it for the next poll with the monitored device as
        its C{deviceID}.
        """
        device, types = self._monitors[message.monitorCrossRefID]
        current = self._events.current()
        if types is not None and current["type"] not in types:
            return
        if not self.queue.put(dict(current, deviceID=device)) and self.queue.lost == 1:
            self.log.warn(
                "gadget session of {user}: event queue full ({limit}), counting lost events",
                user=self.principal.name,
                limit=self.queue.limit,
            )

    def poll(self):
        """
        The events queued since the last poll (L{EventQueue.take}); a lost
        count is logged as the poll hands it on.
        """
        entries = self.queue.take()
        if entries and entries[-1]["type"] == "EventsLost":
            self.log.warn(
                "gadget session of {user}: {count} events lost since its last poll",
                user=self.principal.name,
                count=entries[-1]["count"],
            )
        return entries

    def whenClosed(self, callback):
        """
        Call C{callback} when the session ends.
        """
        self._whenClosed.append(callback)

    def whenOverflowed(self, callback):
        """
        Part of the link shape; a session never overflows as a CSTA link
        does: its queue counts what does not fit (L{EventQueue}).
        """

    def close(self):
        """
        End the session's monitors and forget its events.
        """
        callbacks, self._whenClosed = self._whenClosed, []
        for callback in callbacks:
            callback()
        self._monitors.clear()
        self._devices.clear()
        self.queue.take()


class GadgetSessions:
    """
    Every open gadget session, each expiring after its idle time.

    @ivar idle: the seconds a session lives without a request.
    """

    log = Logger()

    def __init__(self, clock, events, idle=DEFAULT_IDLE, queueLimit=DEFAULT_QUEUE_LIMIT,
                 perUser=DEFAULT_PER_USER):
        self.clock = clock
        self.idle = idle
        self._events = events
        self._queueLimit = queueLimit
        self._perUser = perUser
        self._sessions = {}

    def __len__(self):
        return len(self._sessions)

    def open(self, principal):
        """
        Open a session for a principal that logged in.

        @return: the new L{GadgetSession}.
        """
        mine = self.sessionsOf(principal.name)
        if len(mine) >= self._perUser:
            oldest = min(mine, key=lambda session: session.lastUsed)
            self._end(oldest, f"ended: {principal.name} has {self._perUser} sessions")
        session = GadgetSession(
            secrets.token_hex(16), principal, self._events, self._queueLimit, self.clock.seconds()
        )
        session.expiry = self.clock.callLater(self.idle, self._expire, session)
        self._sessions[session.id] = session
        self.log.info("gadget session of {user} opened", user=principal.name)
        return session

    def sessionsOf(self, name):
        """
        @return: the open sessions of login name C{name}.
        """
        return [s for s in self._sessions.values() if s.principal.name == name]

    def get(self, sessionID):
        """
        The open session with that id, its idle time started afresh.

        @return: the L{GadgetSession}, or L{None} for an unknown or expired
            id.
        """
        session = self._sessions.get(sessionID)
        if session is not None:
            session.lastUsed = self.clock.seconds()
            session.expiry.reset(self.idle)
        return session

    def logout(self, session):
        """
        End a session at its user's request.
        """
        self._end(session, "logged out")

    def close(self):
        """
        End every session (the G-Server stops).
        """
        for session in list(self._sessions.values()):
            self._end(session, "ended: the G-Server stops")

    def _expire(self, session):
        self._end(session, f"expired after {self.idle} s idle")

    def _end(self, session, why):
        if session.expiry.active():
            session.expiry.cancel()
        self._sessions.pop(session.id, None)
        session.close()
        self.log.info("gadget session of {user} {why}", user=session.principal.name, why=why)

"""
Timers of a few fixed durations, many at a time, on one clock call per
duration: the transaction timers of RFC 3261 17 (T1 and its doublings,
T2, T4, 64*T1, the 200 ms of 100 Trying).

Under load a server holds tens of thousands of transaction timers (Timer J
alone keeps every finished non-INVITE transaction 32 s over UDP). One
reactor C{callLater} each means a heap of that many delayed calls, whose
ordering runs Python comparisons on every insertion and removal, and
cancelled calls that stay in it until a rebuild. Timers of the same
duration expire in the order they were started, so each duration needs
only a queue (a lane) and one clock call for its first live timer:
starting and cancelling a timer is constant time, and every timer still
fires at its exact time.
"""

from collections import deque


class LaneEntry:
    """
    What a lane holds: something with a C{deadline}, the C{_lane} it waits
    in (C{None} once it fired or was cancelled) and an C{_expire} method
    the lane calls at the deadline, the entry no longer active; the part of
    L{twisted.internet.interfaces.IDelayedCall} the transactions use. A
    lane timer (L{LaneTimer}) is one, made for its timer; an owner whose
    timer starts at most once in its life may be its own
    (L{TimerLanes.place}: a non-INVITE server transaction for its Timer
    J), one object fewer to make and for the collector to walk while it
    waits.
    """

    __slots__ = ()

    def getTime(self):
        """
        @return: when the timer fires, in the clock's seconds.
        """
        return self.deadline

    def active(self):
        """
        @return: C{True} until it fired or was cancelled.
        """
        return self._lane is not None

    def cancel(self):
        """
        Stop the timer; nothing happens when it is no longer active. (The
        entry stays in its lane's queue, inactive, until the lane passes
        it: it must not be placed again meanwhile.)
        """
        lane = self._lane
        if lane is not None:
            self._lane = None
            lane._cancelled()

    def _expire(self):
        """
        Called by the lane once, at the deadline, the entry no longer active.
        """
        raise NotImplementedError()


class LaneTimer(LaneEntry):
    """
    One timer made for a lane. What it calls is its subclass's
    (L{_Call}, L{_OwnerTimer}).
    """

    __slots__ = ("deadline", "_lane", "_target", "_argument")

    def __init__(self, target, argument):
        self._target = target
        self._argument = argument

    def cancel(self):
        """
        Stop the timer, and let go of what it would have called (a
        cancelled timer waits in its lane's queue until the lane passes it).
        """
        if self._lane is not None:
            self._target = self._argument = None
            LaneEntry.cancel(self)


class _Call(LaneTimer):
    """
    A timer of L{TimerLanes.callLater}: C{function(*args)}.
    """

    __slots__ = ()

    def _expire(self):
        function, args = self._target, self._argument
        self._target = self._argument = None
        function(*args)


class _OwnerTimer(LaneTimer):
    """
    A timer of L{TimerLanes.ownerTimer}: C{owner.timerExpired(name)}.
    """

    __slots__ = ()

    def _expire(self):
        owner, name = self._target, self._argument
        self._target = self._argument = None
        owner.timerExpired(name)


class _Lane:
    """
    The live timers of one duration in the order they were started (so in
    the order they fire), and the clock call for the first of them.
    """

    __slots__ = ("clock", "timers", "live", "call", "firing")

    def __init__(self, clock):
        self.clock = clock
        self.timers = deque()
        self.live = 0
        self.call = None
        self.firing = False

    def _schedule(self):
        timers = self.timers
        while timers and timers[0]._lane is None:
            timers.popleft()
        if timers:
            delay = max(0.0, timers[0].deadline - self.clock.seconds())
            self.call = self.clock.callLater(delay, self._fire, timers[0].deadline)

    def _cancelled(self):
        self.live -= 1
        if self.live == 0:
            # Nothing left to fire: no clock call left behind either.
            self.timers.clear()
            if self.call is not None:
                self.call.cancel()
                self.call = None

    def _fire(self, due):
        """
        Run every timer due by now (or by the time this call was set
        for, which the clock may give back a rounding error below it).
        """
        self.call = None
        self.firing = True
        due = max(due, self.clock.seconds())
        timers = self.timers
        try:
            while timers and timers[0].deadline <= due:
                timer = timers.popleft()
                if timer._lane is not None:
                    timer._lane = None
                    self.live -= 1
                    timer._expire()
        finally:
            self.firing = False
            self._schedule()


class TimerLanes:
    """
    C{callLater} over an injected L{twisted.internet.interfaces.IReactorTime}
    for timers of a few recurring durations: one lane per duration (see
    the module docstring). Timers fire at their exact time, in the order
    they were started among those of the same duration.
    """

    def __init__(self, clock):
        self._clock = clock
        self._lanes = {}

    def callLater(self, delay, function, *args):
        """
        Call C{function(*args)} after C{delay} seconds.

        @return: a L{LaneTimer}.
        """
        return self.place(_Call(function, args), delay)

    def ownerTimer(self, delay, owner, name):
        """
        Call C{owner.timerExpired(name)} after C{delay} seconds: what
        C{callLater(delay, owner.timerExpired, name)} does, without a bound
        method and an argument tuple per timer. A transaction waiting for
        Timer J keeps its timer for 32 s, and under load tens of thousands
        wait: each object less that they keep is one less for the cyclic
        collector to walk (doc/sip.md, "Eighth pass").

        @return: a L{LaneTimer}.
        """
        return self.place(_OwnerTimer(owner, name), delay)

    def place(self, entry, delay):
        """
        Start C{entry} (a L{LaneEntry} not active, and not waiting in a
        lane's queue since it was cancelled): its C{_expire} is called
        after C{delay} seconds.

        @return: C{entry}.
        """
        lane = self._lanes.get(delay)
        if lane is None:
            lane = self._lanes[delay] = _Lane(self._clock)
        entry.deadline = self._clock.seconds() + delay
        entry._lane = lane
        # Added to its lane here rather than by a method of the lane: one
        # call less for every timer (a Timer J per REGISTER).
        lane.timers.append(entry)
        lane.live += 1
        if lane.call is None and not lane.firing:
            lane._schedule()
        return entry

    def stop(self):
        """
        Cancel every timer and leave no clock call behind (the server is
        stopping).
        """
        for lane in self._lanes.values():
            for timer in lane.timers:
                timer._lane = None
            lane.timers.clear()
            lane.live = 0
            if lane.call is not None:
                lane.call.cancel()
                lane.call = None

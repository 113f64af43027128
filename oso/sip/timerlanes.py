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


class LaneTimer:
    """
    One timer in a lane, as L{TimerLanes.callLater} returns it: the part
    of L{twisted.internet.interfaces.IDelayedCall} the transactions use.
    """

    __slots__ = ("deadline", "_function", "_args", "_lane")

    def __init__(self, deadline, function, args, lane):
        self.deadline = deadline
        self._function = function
        self._args = args
        self._lane = lane

    def getTime(self):
        """
        @return: when the timer fires, in the clock's seconds.
        """
        return self.deadline

    def active(self):
        """
        @return: C{True} until it fired or was cancelled.
        """
        return self._function is not None

    def cancel(self):
        """
        Stop the timer; nothing happens when it is no longer active.
        """
        if self._function is not None:
            self._function = self._args = None
            self._lane._cancelled()


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

    def add(self, timer):
        self.timers.append(timer)
        self.live += 1
        if self.call is None and not self.firing:
            self._schedule()

    def _schedule(self):
        timers = self.timers
        while timers and timers[0]._function is None:
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
                function, args = timer._function, timer._args
                if function is not None:
                    timer._function = timer._args = None
                    self.live -= 1
                    function(*args)
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
        lane = self._lanes.get(delay)
        if lane is None:
            lane = self._lanes[delay] = _Lane(self._clock)
        timer = LaneTimer(self._clock.seconds() + delay, function, args, lane)
        lane.add(timer)
        return timer

    def stop(self):
        """
        Cancel every timer and leave no clock call behind (the server is
        stopping).
        """
        for lane in self._lanes.values():
            for timer in lane.timers:
                timer._function = timer._args = None
            lane.timers.clear()
            lane.live = 0
            if lane.call is not None:
                lane.call.cancel()
                lane.call = None

"""
Tests for oso.sip.timerlanes: timers of recurring durations on one clock
call per duration, firing at their exact times.
"""

from twisted.internet.task import Clock

from oso.sip.timerlanes import LaneEntry, TimerLanes


def lanes():
    clock = Clock()
    clock.advance(1000)
    return clock, TimerLanes(clock)


def test_timersFireAtTheirTimesInOrder():
    """
    Timers of one duration started at different times each fire at their
    own time, with their arguments; only one clock call is pending for the
    lane at a time.
    """
    clock, timers = lanes()
    fired = []
    timers.callLater(32, fired.append, "a")
    clock.advance(0.25)
    timers.callLater(32, fired.append, "b")
    clock.advance(0.25)
    timers.callLater(32, fired.append, "c")
    assert len(clock.getDelayedCalls()) == 1
    clock.advance(31.5 - 0.001)
    assert fired == []
    clock.advance(0.001)
    assert fired == ["a"]
    clock.advance(0.25)
    assert fired == ["a", "b"]
    clock.advance(0.25)
    assert fired == ["a", "b", "c"]
    assert clock.getDelayedCalls() == []


def test_durationsAreIndependentLanes():
    """
    Timers of different durations interleave by their deadlines.
    """
    clock, timers = lanes()
    fired = []
    timers.callLater(5, fired.append, 5)
    timers.callLater(0.5, fired.append, 0.5)
    timers.callLater(32, fired.append, 32)
    timers.callLater(0.5, fired.append, "0.5 again")
    assert len(clock.getDelayedCalls()) == 3
    clock.advance(0.5)
    assert fired == [0.5, "0.5 again"]
    clock.advance(4.5)
    assert fired == [0.5, "0.5 again", 5]
    clock.advance(27)
    assert fired == [0.5, "0.5 again", 5, 32]
    assert clock.getDelayedCalls() == []


def test_sameDeadlineFiresTogetherInStartOrder():
    clock, timers = lanes()
    fired = []
    for name in "xyz":
        timers.callLater(2, fired.append, name)
    clock.advance(2)
    assert fired == ["x", "y", "z"]


def test_cancel():
    """
    A cancelled timer does not fire and is no longer active; cancelling
    the head of a lane leaves the next one to fire at its own time; once
    every timer of a lane is cancelled no clock call is left.
    """
    clock, timers = lanes()
    fired = []
    first = timers.callLater(1, fired.append, 1)
    clock.advance(0.5)
    second = timers.callLater(1, fired.append, 2)
    assert first.active() and second.active()
    assert first.getTime() == 1001
    first.cancel()
    first.cancel()
    assert not first.active()
    clock.advance(0.5)
    assert fired == []
    clock.advance(0.5)
    assert fired == [2]
    assert not second.active()
    second.cancel()
    assert clock.getDelayedCalls() == []
    third = timers.callLater(1, fired.append, 3)
    third.cancel()
    assert clock.getDelayedCalls() == []
    clock.advance(5)
    assert fired == [2]


def test_callbackStartsAndCancelsTimers():
    """
    A timer's function may start a timer of the same duration (a
    retransmission timer capped at T2 restarts with the same interval) or
    cancel one due at the same time; the lane goes on.
    """
    clock, timers = lanes()
    fired = []

    def again(n):
        fired.append(n)
        if n < 3:
            timers.callLater(4, again, n + 1)

    timers.callLater(4, again, 1)
    timers.callLater(4, lambda: doomed.cancel())
    doomed = timers.callLater(4, fired.append, "doomed")
    clock.advance(4)
    assert fired == [1]
    assert len(clock.getDelayedCalls()) == 1
    clock.advance(4)
    assert fired == [1, 2]
    clock.advance(4)
    assert fired == [1, 2, 3]
    assert clock.getDelayedCalls() == []


def test_failingFunctionLeavesTheLaneWorking():
    clock, timers = lanes()
    fired = []

    def boom():
        raise ZeroDivisionError()

    timers.callLater(1, boom)
    timers.callLater(1, fired.append, "next")
    try:
        clock.advance(1)
    except ZeroDivisionError:
        pass
    clock.advance(0)
    assert fired == ["next"]
    assert clock.getDelayedCalls() == []


def test_stopCancelsEverything():
    """
    Stopping cancels the timers of every lane and leaves the clock with no
    call; a timer started afterwards still works.
    """
    clock, timers = lanes()
    fired = []
    started = [timers.callLater(d, fired.append, d) for d in (0.5, 0.5, 32, 5)]
    timers.stop()
    assert clock.getDelayedCalls() == []
    assert not any(t.active() for t in started)
    clock.advance(64)
    assert fired == []
    timers.callLater(0.5, fired.append, "after")
    clock.advance(0.5)
    assert fired == ["after"]


class Owner:
    """
    What an owner timer calls: C{timerExpired(name)}, recorded with the
    time.
    """

    def __init__(self, clock):
        self.clock = clock
        self.expired = []

    def timerExpired(self, name):
        self.expired.append((name, self.clock.seconds()))


def test_ownerTimersShareLanesWithCalls():
    """
    An owner timer calls C{owner.timerExpired(name)} at its time, in its
    lane's order with the C{callLater} timers of its duration; a
    cancelled one calls nothing and leaves no clock call behind.
    """
    clock, timers = lanes()
    owner = Owner(clock)
    fired = []
    first = timers.ownerTimer(32, owner, "J")
    timers.callLater(32, fired.append, "call")
    clock.advance(1)
    cancelled = timers.ownerTimer(32, owner, "K")
    later = timers.ownerTimer(32, owner, "L")
    assert len(clock.getDelayedCalls()) == 1
    assert (first.active(), first.getTime()) == (True, 1032)
    cancelled.cancel()
    assert not cancelled.active()
    clock.advance(31)
    assert (owner.expired, fired) == ([("J", 1032)], ["call"])
    assert not first.active()
    clock.advance(1)
    assert owner.expired == [("J", 1032), ("L", 1033)]
    assert clock.getDelayedCalls() == []
    later.cancel()
    alone = timers.ownerTimer(5, owner, "D")
    alone.cancel()
    assert clock.getDelayedCalls() == []
    assert owner.expired == [("J", 1032), ("L", 1033)]


class Entry(LaneEntry):
    """
    An owner that is its own lane entry (as a non-INVITE server
    transaction is for Timer J): a plain instance, recording its expiry.
    """

    def __init__(self, clock, expired):
        self.clock = clock
        self.expired = expired

    def _expire(self):
        self.expired.append((self, self.clock.seconds()))


def test_placedEntryIsItsOwnTimer():
    """
    An entry placed in a lane fires at its time, in the lane's order with
    the timers made for it, as the entry itself; cancelled, it calls
    nothing and leaves no clock call behind.
    """
    clock, timers = lanes()
    fired = []
    entry = Entry(clock, fired)
    assert timers.place(entry, 32) is entry
    timers.callLater(32, fired.append, "call")
    clock.advance(1)
    cancelled = timers.place(Entry(clock, fired), 32)
    assert (entry.active(), entry.getTime(), len(clock.getDelayedCalls())) == (True, 1032, 1)
    cancelled.cancel()
    assert not cancelled.active()
    clock.advance(31)
    assert fired == [(entry, 1032), "call"]
    assert not entry.active()
    alone = timers.place(Entry(clock, fired), 5)
    alone.cancel()
    clock.advance(64)
    assert clock.getDelayedCalls() == []
    assert fired == [(entry, 1032), "call"]

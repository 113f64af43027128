"""
The lockout after failed logins, sans-I/O: it is told of failures and
successes, asked how long a login must wait, and reads time from a clock.

Every failure locks its login name and its source address out for a delay
that doubles with each further failure (1 s, 2 s, 4 s, ... up to a cap), so
guessing gets slow at once for one name from many addresses and for many
names from one address, while a person who mistypes waits a second.  A
success resets both counts.  Entries whose lock ended long ago are
forgotten, so a flood of made-up names cannot fill memory.
"""

from dataclasses import dataclass

#: The delay after the first failure, seconds.
FIRST_DELAY = 1.0
#: The longest delay, seconds.
MAX_DELAY = 300.0
#: How many entries may be kept before expired ones are swept.
SWEEP_SIZE = 10000


@dataclass
class _Entry:
    failures: int
    lockedUntil: float


class Lockout:
    """
    Failure counts and locks per login name and per source address.
    """

    def __init__(self, clock, firstDelay=FIRST_DELAY, maxDelay=MAX_DELAY,
                 sweepSize=SWEEP_SIZE):
        """
        @param clock: an L{twisted.internet.interfaces.IReactorTime}.
        @param firstDelay: the delay after the first failure, seconds.
        @param maxDelay: the cap of the doubling delay, seconds.
        @param sweepSize: the number of entries above which those whose
            lock ended more than C{maxDelay} ago are dropped.
        """
        self._clock = clock
        self._firstDelay = firstDelay
        self._maxDelay = maxDelay
        self._sweepSize = sweepSize
        self._entries = {}

    def _keys(self, user, source):
        return (("user", user), ("source", source))

    def retryAfter(self, user, source):
        """
        @return: the seconds until C{user} from C{source} may try a login;
            0 when it may now.
        @rtype: L{float}
        """
        now = self._clock.seconds()
        waits = [
            entry.lockedUntil - now
            for key in self._keys(user, source)
            if (entry := self._entries.get(key)) is not None
        ]
        return max([0.0, *waits])

    def failed(self, user, source):
        """
        Count a failed login: both the name and the address are locked out
        for the next delay.

        @return: that delay, seconds.
        """
        now = self._clock.seconds()
        delay = 0.0
        for key in self._keys(user, source):
            entry = self._entries.get(key)
            failures = 1 if entry is None else entry.failures + 1
            keyDelay = min(self._firstDelay * 2 ** min(failures - 1, 64), self._maxDelay)
            self._entries[key] = _Entry(failures, now + keyDelay)
            delay = max(delay, keyDelay)
        if len(self._entries) > self._sweepSize:
            self._sweep(now)
        return delay

    def succeeded(self, user, source):
        """
        Forget the failures of the name and the address after a login.
        """
        for key in self._keys(user, source):
            self._entries.pop(key, None)

    def _sweep(self, now):
        """
        Drop the entries whose lock ended more than the longest delay ago:
        their next failure starts again at the first delay.
        """
        horizon = now - self._maxDelay
        for key in [k for k, e in self._entries.items() if e.lockedUntil < horizon]:
            del self._entries[key]

    def __len__(self):
        return len(self._entries)

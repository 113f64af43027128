"""
ECMA-269 local connection states.
"""

from enum import IntEnum


class LocalConnectionState(IntEnum):
    """
    The state of one device's connection to a call (ECMA-285 values).
    """

    null = 0
    initiated = 1
    alerting = 2
    connected = 3
    hold = 4
    queued = 5
    fail = 6


#: The states in which a connection takes part in a call.
LIVE_STATES = frozenset(
    {
        LocalConnectionState.initiated,
        LocalConnectionState.alerting,
        LocalConnectionState.connected,
        LocalConnectionState.hold,
        LocalConnectionState.queued,
        LocalConnectionState.fail,
    }
)

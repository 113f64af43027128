"""
Identifiers of the call model, shaped as ECMA-269 names them.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ConnectionID:
    """
    ECMA-269 C{ConnectionID}: one device's part in one call.

    @ivar callID: the call's id.
    @ivar deviceID: the device's number.
    """

    callID: str
    deviceID: str

    def __str__(self):
        return f"{self.deviceID}@{self.callID}"

"""
The C{twistd oso} command.

Only a lazy L{ServiceMaker}: twistd imports every plugin module when it
lists its commands, so nothing of oso is imported until C{oso} is chosen.
"""

from twisted.application.service import ServiceMaker

oso = ServiceMaker(
    "oso",
    "oso.tap",
    "An open-source communications server (SIP, CSTA, G-Server, CDR).",
    "oso",
)

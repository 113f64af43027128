"""
The seams of oso: zope.interface declarations only.
"""

from oso.interfaces.callmodel import ICallModel, IPortEvents
from oso.interfaces.cdr import ICDRFormat
from oso.interfaces.component import IComponent, IServerContext
from oso.interfaces.observer import IEventObserver
from oso.interfaces.port import IPortDriver, ITerminal
from oso.interfaces.store import IStore

__all__ = [
    "ICallModel",
    "IPortEvents",
    "ICDRFormat",
    "IComponent",
    "IServerContext",
    "IEventObserver",
    "IPortDriver",
    "ITerminal",
    "IStore",
]

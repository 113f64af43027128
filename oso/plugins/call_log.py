"""
The C{call-log} component: every call model event on the log, one line
each.

It is also the smallest complete component: a module in C{oso/plugins/}
holding an object that provides L{IComponent}, whose service watches the
call model while it runs.
"""

from dataclasses import fields
from enum import Enum

from twisted.application.service import Service
from twisted.logger import Logger
from twisted.plugin import IPlugin
from zope.interface import implementer

from oso.config import ConfigError
from oso.interfaces import IComponent, IEventObserver


def describe(event):
    """
    Say what an event is in one line: its sequence number, its ECMA-269 name
    and every parameter it carries.

    @param event: an event from L{oso.callmodel.events}.
    @return: for example C{"#7 Delivered connection=101@C3
        localConnectionInfo=alerting cause=newCall alertingDevice=101
        callingDevice=100 calledDevice=101"}.
    @rtype: L{str}
    """
    parts = [f"#{event.seq}", event.name]
    for field in fields(event):
        if field.name in ("seq", "time"):
            continue
        value = getattr(event, field.name)
        if value is None or value == () or value == "":
            continue
        parts.append(f"{field.name}={_show(value)}")
    return " ".join(parts)


def _show(value):
    """
    @return: C{value} as L{describe} writes it: enums by name, tuples as
        comma-separated lists, anything else by L{str}.
    """
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, tuple):
        return "[" + ",".join(_show(item) for item in value) + "]"
    return str(value)


@implementer(IEventObserver)
class CallLogService(Service):
    """
    Logs every event of a call model while running.

    @ivar callModel: the L{oso.interfaces.ICallModel} watched.
    """

    log = Logger()

    def __init__(self, callModel):
        self.callModel = callModel

    def startService(self):
        super().startService()
        self.callModel.addObserver(self)

    def stopService(self):
        self.callModel.removeObserver(self)
        return super().stopService()

    def eventReceived(self, event):
        self.log.info("{line}", line=describe(event), callEvent=event)


@implementer(IPlugin, IComponent)
class CallLog:
    """
    The C{call-log} component; it takes no settings.
    """

    name = "call-log"
    kind = "feature"
    description = "Logs every call model event, one line each."

    def validateConfig(self, section, where):
        for key in section:
            raise ConfigError(f"{where}.{key}", "unknown key (call-log takes none)")
        return None

    def makeService(self, settings, context):
        return CallLogService(context.callModel)


callLog = CallLog()

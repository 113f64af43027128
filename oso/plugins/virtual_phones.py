"""
The C{virtual-phones} component: the built-in port type whose terminals
programs drive (tests, demos, CTI development without hardware).
"""

from twisted.application.service import Service
from twisted.plugin import IPlugin
from zope.interface import implementer

from oso.config import ConfigError
from oso.interfaces import IComponent
from oso.ports.virtual import VirtualPhones


class VirtualPhonesService(Service):
    """
    Attaches a L{VirtualPhones} driver to the call model while running.

    @ivar driver: the driver; C{driver.phone("100")} is phone 100.
    """

    def __init__(self, callModel, clock, autoAnswer):
        self.callModel = callModel
        self.driver = VirtualPhones(callModel, clock, autoAnswer=autoAnswer)

    def startService(self):
        super().startService()
        self.callModel.registerPort(self.driver)

    def stopService(self):
        self.callModel.unregisterPort(self.driver.name)
        return super().stopService()


@implementer(IPlugin, IComponent)
class VirtualPhonesComponent:
    """
    The C{virtual-phones} component.

    Its one setting, C{auto-answer}, maps device numbers to the seconds
    after which that phone answers a ringing call by itself.
    """

    name = "virtual-phones"
    kind = "port"
    description = "Virtual phones driven by programs: ring, answer, busy, hang up, digits."

    def validateConfig(self, section, where):
        autoAnswer = {}
        for key, value in section.items():
            if key != "auto-answer":
                raise ConfigError(f"{where}.{key}", "unknown key")
            if not isinstance(value, dict):
                raise ConfigError(f"{where}.{key}", "expected a table of number = seconds")
            for number, seconds in value.items():
                if (
                    isinstance(seconds, bool)
                    or not isinstance(seconds, (int, float))
                    or seconds < 0
                ):
                    raise ConfigError(
                        f"{where}.{key}.{number}", "expected seconds (a number >= 0)"
                    )
                autoAnswer[number] = float(seconds)
        return autoAnswer

    def makeService(self, settings, context):
        return VirtualPhonesService(context.callModel, context.reactor, settings)


virtualPhones = VirtualPhonesComponent()

"""
The C{sip-lines} component: the port type of SIP phones.  Every station
whose C{port} is C{"sip-lines"} is a SIP extension that registers with the
C{sip} component's registrar; the port makes its calls calls of the call
model (L{oso.ports.sip_lines}).  It runs on the C{sip} component, which
must come before it in C{server.components}.
"""

from twisted.application.service import Service
from twisted.plugin import IPlugin
from zope.interface import implementer

from oso.config import ConfigError
from oso.interfaces import IComponent
from oso.interfaces.sip import IUserAgent
from oso.ports.sip_lines import SIPLines


class SIPLinesService(Service):
    """
    While running: the L{SIPLines} port is the C{sip} component's
    application, the call model's port for C{sip-lines} devices, and an
    observer of its events.

    @ivar lines: the L{SIPLines} while running.
    """

    def __init__(self, context):
        self._context = context
        self.lines = None

    def startService(self):
        ua = self._context.component("sip")
        if ua is None or not IUserAgent.providedBy(ua):
            raise RuntimeError(
                "the sip-lines component needs the sip component, started before it "
                "(server.components = [..., \"sip\", \"sip-lines\", ...])"
            )
        model = self._context.callModel
        self.lines = SIPLines(model, ua)
        model.registerPort(self.lines)
        model.addObserver(self.lines)
        ua.attach(self.lines, fallback=True)
        super().startService()

    def stopService(self):
        if self.lines is not None:
            model = self._context.callModel
            self._context.component("sip").detach(self.lines)
            model.removeObserver(self.lines)
            model.unregisterPort(self.lines.name)
            self.lines = None
        return super().stopService()


@implementer(IPlugin, IComponent)
class SIPLinesComponent:
    """
    The C{sip-lines} component.  It has no settings of its own: the
    phones are the C{[[devices]]} with C{port = "sip-lines"}, their
    passwords the digest credentials, the listeners the C{sip}
    component's.
    """

    name = "sip-lines"
    kind = "port"
    description = "SIP phones as devices: registered extensions call and are called through the call model."

    def validateConfig(self, section, where):
        for key in section:
            raise ConfigError(f"{where}.{key}", "unknown key (sip-lines has no settings)")
        return {}

    def makeService(self, settings, context):
        return SIPLinesService(context)


sipLines = SIPLinesComponent()

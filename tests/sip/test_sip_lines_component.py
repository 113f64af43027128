"""
The sip-lines component: settings, and its service attaching the port to
the sip component's user agent and to the call model while it runs.
"""

import pytest
from zope.interface.verify import verifyObject

from oso.callmodel.causes import EventCause
from oso.config import ConfigError
from oso.interfaces import IComponent
from oso.plugins.sip_lines import sipLines

from sip_lines_harness import SIPExchange


class Context:
    def __init__(self, exchange, sip):
        self.callModel = exchange.model
        self._sip = sip

    def component(self, name):
        return self._sip if name == "sip" else None


def test_component():
    verifyObject(IComponent, sipLines)
    assert sipLines.name == "sip-lines" and sipLines.kind == "port"
    assert sipLines.validateConfig({}, "components.sip-lines") == {}
    with pytest.raises(ConfigError) as e:
        sipLines.validateConfig({"listen": []}, "components.sip-lines")
    assert "components.sip-lines.listen" in str(e.value)


def test_service_attaches_while_running():
    x = SIPExchange(sip=("200", "201"))
    x.model.unregisterPort("sip-lines")
    x.ua.detach(x.lines)
    service = sipLines.makeService({}, Context(x, x.ua))
    service.startService()
    assert x.ua.lines is service.lines
    x.register("200", "201")
    x.sip("200").call("201")
    x.run()
    assert "INVITE" in x.sip("201").methods()
    service.stopService()
    assert x.ua.lines is None
    x.phone("100").offHook("200")
    assert x.recorder.events[-1].name == "Failed"
    assert x.recorder.events[-1].cause is EventCause.destOutOfOrder


def test_service_needs_the_sip_component():
    x = SIPExchange(sip=())
    service = sipLines.makeService({}, Context(x, None))
    with pytest.raises(RuntimeError, match="needs the sip component"):
        service.startService()

"""
Tests for L{oso.components}, the component loader, and the built-in
C{call-log} component.
"""

import pytest
from twisted.logger import globalLogPublisher
from zope.interface.verify import verifyObject

from oso.callmodel.causes import EventCause
from oso.callmodel.events import Delivered, Transferred
from oso.callmodel.ids import ConnectionID
from oso.callmodel.states import LocalConnectionState
from oso.components import ComponentError, findComponents, loadComponents
from oso.config import ConfigError
from oso.interfaces import IComponent, IEventObserver
from oso.plugins.call_log import CallLogService, callLog, describe
from oso.testing import Exchange

COMPONENT = """
    from twisted.application.service import Service
    from twisted.plugin import IPlugin
    from zope.interface import implementer
    from oso.interfaces import IComponent

    @implementer(IPlugin, IComponent)
    class Component:
        name = {name!r}
        kind = "feature"
        description = "a test component"

        def validateConfig(self, section, where):
            return section

        def makeService(self, settings, context):
            return Service()

    component = Component()
"""


def test_builtinCallLogFound():
    """
    The built-in C{call-log} component is found in L{oso.plugins} and
    selected by its name.
    """
    assert "call-log" in findComponents().names()
    assert loadComponents(["call-log"]) == [callLog]


def test_missingNameListsAvailable(dropIn):
    """
    A configured name that no plugin provides is an error that lists the
    names that are available.
    """
    dropIn({"extra_one": COMPONENT.format(name="extra-one")})
    with pytest.raises(ComponentError) as caught:
        loadComponents(["call-log", "sip-typo"])
    message = str(caught.value)
    assert message.startswith("configured component 'sip-typo' was not found; ")
    available = message.split("available: ", 1)[1].split(", ")
    assert "call-log" in available
    assert "extra-one" in available
    assert available == sorted(available)


def test_importFailureReported(dropIn):
    """
    A plugin module that fails to import is reported with its module name
    and its error, and the other components still load.
    """
    dropIn(
        {
            "broken_dropin": "import oso.no_such_module\n",
            "fine_dropin": COMPONENT.format(name="fine"),
        }
    )
    found = findComponents()
    [failure] = [f for f in found.importFailures if f.module == "oso.plugins.broken_dropin"]
    assert isinstance(failure.error, ImportError)
    assert [c.name for c in loadComponents(["fine"])] == ["fine"]
    with pytest.raises(ComponentError) as caught:
        loadComponents(["missing"])
    message = str(caught.value)
    assert "plugin modules that failed to import: oso.plugins.broken_dropin: " in message
    assert "ModuleNotFoundError" in message
    assert "oso.no_such_module" in message


def test_duplicateNames(dropIn):
    """
    Two plugins offering one name are an error naming both, rather than one
    of them winning by chance.
    """
    dropIn(
        {
            "twin_a": COMPONENT.format(name="twin"),
            "twin_b": COMPONENT.format(name="twin"),
        }
    )
    with pytest.raises(ComponentError) as caught:
        loadComponents(["twin"])
    message = str(caught.value)
    assert "component name 'twin' is provided more than once" in message
    assert "oso.plugins.twin_a.component" in message
    assert "oso.plugins.twin_b.component" in message


def test_sameObjectTwiceIsNoDuplicate(dropIn):
    """
    A drop-in that imports a component object from another module does not
    make that component a duplicate of itself.
    """
    dropIn({"reexport": "from oso.plugins.call_log import callLog\n"})
    assert loadComponents(["call-log"]) == [callLog]


def test_nonConformingComponent(dropIn):
    """
    A selected component that claims L{IComponent} but lacks part of it is
    an error naming it, found by C{verifyObject} at load time.
    """
    dropIn(
        {
            "half_done": """
                from twisted.plugin import IPlugin
                from zope.interface import implementer
                from oso.interfaces import IComponent

                @implementer(IPlugin, IComponent)
                class Half:
                    name = "half"
                    kind = "feature"
                    description = "has no makeService"

                    def validateConfig(self, section, where):
                        return section

                half = Half()
            """
        }
    )
    with pytest.raises(ComponentError) as caught:
        loadComponents(["half"])
    message = str(caught.value)
    assert message.startswith(
        "component 'half' (oso.plugins.half_done.half) does not provide IComponent: "
    )
    assert "makeService" in message


def test_componentThatIsNoPlugin(dropIn):
    """
    A component that provides L{IComponent} but not L{IPlugin} is invisible
    to C{twisted.plugin}; asking for it is an error that says so and how to
    declare it, not a plain "not found".
    """
    dropIn(
        {
            "no_plugin": COMPONENT.format(name="no-plugin").replace(
                "@implementer(IPlugin, IComponent)", "@implementer(IComponent)"
            )
        }
    )
    with pytest.raises(ComponentError) as caught:
        loadComponents(["no-plugin"])
    assert str(caught.value) == (
        "component 'no-plugin' (oso.plugins.no_plugin.component) provides "
        "IComponent but not twisted.plugin.IPlugin, so it cannot be found; "
        "declare both: @implementer(IPlugin, IComponent)"
    )


def test_configuredOrderKept(dropIn):
    """
    Components come back in the order the configuration names them, not in
    the order they were found.
    """
    dropIn(
        {
            "order_a": COMPONENT.format(name="a-first"),
            "order_b": COMPONENT.format(name="b-second"),
        }
    )
    names = [c.name for c in loadComponents(["b-second", "call-log", "a-first"])]
    assert names == ["b-second", "call-log", "a-first"]


def test_callLogProvidesInterfaces():
    """
    The C{call-log} component provides L{IComponent}, and its service
    provides L{IEventObserver}.
    """
    assert verifyObject(IComponent, callLog)
    assert verifyObject(IEventObserver, CallLogService(callModel=None))


def test_callLogTakesNoSettings():
    """
    The C{call-log} component has no settings: any key in its section is a
    configuration error naming the file and the key.
    """
    assert callLog.validateConfig({}, "oso.toml: components.call-log") is None
    with pytest.raises(ConfigError) as caught:
        callLog.validateConfig({"level": "debug"}, "oso.toml: components.call-log")
    assert caught.value.where == "oso.toml: components.call-log.level"


def test_describeOneLine():
    """
    An event is described on one line: sequence number, ECMA-269 event name,
    then each parameter that has a value, enums by their ECMA-269 names.
    """
    event = Delivered(
        seq=7,
        time=12.5,
        cause=EventCause.newCall,
        connection=ConnectionID("C3", "101"),
        localConnectionInfo=LocalConnectionState.alerting,
        alertingDevice="101",
        callingDevice="100",
        calledDevice="101",
    )
    assert describe(event) == (
        "#7 Delivered cause=newCall connection=101@C3 "
        "localConnectionInfo=alerting alertingDevice=101 callingDevice=100 "
        "calledDevice=101"
    )


def test_describeConnectionLists():
    """
    Parameters that hold lists of connection pairs (ECMA-269 Transferred's
    transferredConnections) are written as bracketed lists.
    """
    event = Transferred(
        seq=3,
        cause=EventCause.transfer,
        primaryOldCall=ConnectionID("C1", "100"),
        secondaryOldCall=ConnectionID("C2", "100"),
        transferringDevice="100",
        transferredToDevice="102",
        transferredConnections=(
            (ConnectionID("C1", "101"), ConnectionID("C1", "101")),
            (ConnectionID("C2", "102"), ConnectionID("C1", "102")),
        ),
    )
    assert describe(event) == (
        "#3 Transferred cause=transfer primaryOldCall=100@C1 "
        "secondaryOldCall=100@C2 transferringDevice=100 transferredToDevice=102 "
        "transferredConnections=[[101@C1,101@C1],[102@C2,102@C1]]"
    )


def test_callLogObservesWhileRunning():
    """
    The C{call-log} service watches the call model from start to stop and
    logs each event as one line, in the model's order.
    """
    exchange = Exchange()
    service = CallLogService(exchange.model)
    logged = []
    globalLogPublisher.addObserver(logged.append)
    try:
        service.startService()
        exchange.call("100", "101")
        exchange.phone("101").answer()
        service.stopService()
        exchange.phone("100").hangUp()
    finally:
        globalLogPublisher.removeObserver(logged.append)
    lines = [e["line"] for e in logged if e.get("log_namespace") == CallLogService.log.namespace]
    assert lines == [
        "#1 ServiceInitiated cause=newCall connection=100@1 "
        "localConnectionInfo=initiated initiatingDevice=100",
        "#2 Originated cause=newCall connection=100@1 localConnectionInfo=connected "
        "callingDevice=100 calledDevice=101",
        "#3 Delivered cause=newCall connection=101@1 localConnectionInfo=alerting "
        "alertingDevice=101 callingDevice=100 calledDevice=101",
        "#4 Established cause=newCall connection=101@1 localConnectionInfo=connected "
        "answeringDevice=101 callingDevice=100 calledDevice=101",
    ]

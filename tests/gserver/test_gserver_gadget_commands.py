"""
Tests for L{oso.gserver.gadgetcommands} sans I/O: whatever text a request
carries, every command either answers its fields or refuses with a
L{GadgetError} or the call model's L{CSTAError}, never another exception,
with calls in progress on virtual phones.
"""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.internet.defer import Deferred

from oso.callmodel.errors import CSTAError
from oso.callmodel.states import LocalConnectionState as S
from oso.gserver.accounts import Principal
from oso.gserver.gadgetcommands import COMMANDS, GadgetError, Parameters, deviceState
from oso.gserver.gadgetevents import GadgetEvents
from oso.gserver.gadgetsessions import GadgetSessions
from oso.testing import Exchange

PARAMETERS = [
    "callingDevice", "calledDirectoryNumber", "autoOriginate", "callID", "deviceID",
    "consultedDevice", "heldCallID", "activeCallID", "newDestination", "doNotDisturbOn",
    "activateForward", "forwardingType", "forwardDN", "deviceObject", "filter",
]
#: Values that name real things in the exchange below, and some that do not.
TEXT = st.sampled_from(["100", "101", "102", "1", "2", "C1", "true", "false", "prompt",
                        "doNotPrompt", "forwardBusy", "DeliveredEvent", "HeldEvent,x", ""]) | st.text(
    st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"]), max_size=12)


def exchange():
    ex = Exchange()
    ex.call("100", "101")
    ex.phone("101").answer()
    ex.call("102", "103")
    return ex


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(COMMANDS)),
    st.dictionaries(st.sampled_from(PARAMETERS), TEXT, max_size=6),
    st.sampled_from([Principal.forAdministrator("admin"), Principal.forExtension("100")]),
)
def test_everyCommandAnswersOrRefuses(command, values, principal):
    ex = exchange()
    session = GadgetSessions(ex.clock, GadgetEvents(ex.model)).open(principal)
    try:
        result = COMMANDS[command](ex.model, session, Parameters(values, principal))
    except GadgetError as e:
        assert e.status in (200, 400, 403) and e.reason
        return
    except CSTAError:
        return
    if isinstance(result, Deferred):
        outcome = []
        result.addBoth(outcome.append)
        assert outcome, "the store is in memory: the change is on disk at once"
        result = outcome[0]
        if not isinstance(result, list):
            assert result.check(CSTAError), result
            return
    for name, value in result:
        assert isinstance(name, str) and isinstance(value, (str, list))


def test_deviceState():
    assert deviceState([]) == "idle"
    assert deviceState([S.alerting, S.alerting]) == "alerting"
    assert deviceState([S.alerting, S.hold]) == "busy"
    assert deviceState([S.initiated]) == "busy"

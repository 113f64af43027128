"""
Tests for L{oso.callmodel.dialplan}.
"""

import re
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oso.callmodel.dialplan import (
    CLASSES_OF_SERVICE,
    DID,
    Analysis,
    DialPlan,
    DIDRange,
    InternalNumbers,
    Outcome,
    Route,
)
from oso.config import ConfigError

INTERNAL = {"10", "100", "1000", "101", "2000"}


def plan(*routes, **kwargs):
    """
    @return: a L{DialPlan} with C{routes} and the other arguments as given.
    """
    return DialPlan(routes=routes, **kwargs)


def complete(analysis):
    """
    @return: C{analysis} after asserting it is complete.
    """
    assert analysis.outcome is Outcome.complete, analysis
    return analysis


# Internal numbers


def test_internalNumberComplete():
    """
    A number in the internal numbers is complete, reaches that device and
    uses no trunk.
    """
    analysis = DialPlan().analyse("101", INTERNAL)
    assert analysis == Analysis(
        Outcome.complete, kind="internal", destination="101", canExtend=False
    )


def test_internalMixedLengths():
    """
    With 10, 100 and 1000 all internal, each is complete, and each that is a
    prefix of a longer one says it can extend (an overlap port waits for the
    inter-digit timeout before ringing 10 or 100).
    """
    dialPlan = DialPlan()
    assert complete(dialPlan.analyse("10", INTERNAL)).canExtend is True
    assert complete(dialPlan.analyse("100", INTERNAL)).canExtend is True
    assert complete(dialPlan.analyse("1000", INTERNAL)).canExtend is False


def test_internalPrefixIncomplete():
    """
    A proper prefix of an internal number needs more digits, and an
    incomplete answer says nothing about a destination.
    """
    analysis = DialPlan().analyse("20", INTERNAL)
    assert analysis == Analysis(Outcome.incomplete)


@given(
    st.lists(st.tuples(st.booleans(), st.text(alphabet="0123", min_size=1, max_size=4)),
             max_size=30),
    st.text(alphabet="0123", max_size=5),
)
def test_internalNumbersIndexAnswersAsAScan(changes, digits):
    """
    An L{InternalNumbers} (the call model's devices by number), kept up to
    date through additions, replacements and removals, gives the analysis
    the scan of a plain set gives.
    """
    numbers, plain = InternalNumbers(), set()
    for add, number in changes:
        if add:
            numbers[number] = object()
            plain.add(number)
        elif number in plain:
            if len(number) % 2:
                del numbers[number]
            else:
                numbers.pop(number)
            plain.discard(number)
        else:
            assert numbers.pop(number, None) is None
    dialPlan = DialPlan()
    assert set(numbers) == plain
    assert dialPlan.analyse(digits, numbers) == dialPlan.analyse(digits, plain)


def test_internalNumbersRefuseChangesPastTheIndex():
    """
    The dict methods that would change an L{InternalNumbers} without its
    index are refused.
    """
    numbers = InternalNumbers()
    numbers["100"] = None
    for change in (lambda: numbers.update({"101": None}), lambda: numbers.setdefault("101"),
                   numbers.popitem, numbers.clear):
        with pytest.raises(TypeError):
            change()
    assert dict(numbers) == {"100": None} and numbers.extends("10")


def test_emptyIsIncomplete():
    """
    Nothing dialled yet needs more digits.
    """
    assert DialPlan().analyse("", INTERNAL).outcome is Outcome.incomplete


def test_unknownNumberInvalid():
    """
    Digits that begin no internal number, no emergency number and not the
    trunk access code are invalid, with a reason.
    """
    analysis = DialPlan().analyse("3", INTERNAL)
    assert analysis.outcome is Outcome.invalid
    assert analysis.kind is None and analysis.destination is None
    assert "'3'" in analysis.reason and "trunk access code '0'" in analysis.reason


def test_internalBeyondLongest():
    """
    A digit after the longest internal number makes the number invalid.
    """
    assert DialPlan().analyse("10001", INTERNAL).outcome is Outcome.invalid


@pytest.mark.parametrize(
    "numbers", [["100", "1000"], ("100", "1000"), {"100": 1, "1000": 2}.keys()]
)
def test_internalNumbersAnyCollection(numbers):
    """
    The internal numbers may be any collection of strings: a list, a tuple,
    the keys of the model's device table.
    """
    analysis = complete(DialPlan().analyse("100", numbers))
    assert analysis.canExtend is True


def test_internalClassReachesInternal():
    """
    The lowest class of service still reaches every internal number.
    """
    analysis = DialPlan().analyse("100", INTERNAL, "internal")
    assert complete(analysis).kind == "internal"


def test_internalBeatsExternal():
    """
    An internal number that is also the trunk access code (an operator on
    0) is complete as internal, but more digits could make an external
    number, so it can extend.
    """
    dialPlan = plan(Route("N.", "sip"))
    analysis = complete(dialPlan.analyse("0", {"0", "100"}))
    assert (analysis.kind, analysis.canExtend) == ("internal", True)
    assert complete(dialPlan.analyse("030", {"0"})).kind == "external"


def test_unknownClassOfService():
    """
    A class of service that is none of the four is a programming error.
    """
    with pytest.raises(ValueError, match="'vip' is not a class of service"):
        DialPlan().analyse("100", INTERNAL, "vip")


# The trunk access code


def test_trunkAccessCodeAloneIncomplete():
    """
    The trunk access code alone needs more digits.
    """
    analysis = plan(Route("X.", "sip")).analyse("0", INTERNAL)
    assert analysis == Analysis(Outcome.incomplete)


def test_trunkAccessCodeWithoutRoutes():
    """
    Without routes and emergency numbers the trunk access code leads
    nowhere: invalid at once.
    """
    analysis = DialPlan(emergencyNumbers=()).analyse("0", INTERNAL)
    assert analysis.outcome is Outcome.invalid
    assert analysis.reason == "no route matches ''"


def test_longTrunkAccessCode():
    """
    A trunk access code of several digits is incomplete until it is whole,
    and the routes see only what follows it.
    """
    dialPlan = plan(Route("XX", "sip"), trunkAccessCode="88", emergencyNumbers=())
    assert dialPlan.analyse("8", INTERNAL).outcome is Outcome.incomplete
    assert dialPlan.analyse("88", INTERNAL).outcome is Outcome.incomplete
    assert complete(dialPlan.analyse("8812", INTERNAL)).destination == "12"
    assert dialPlan.analyse("81", INTERNAL).outcome is Outcome.invalid


def test_emptyTrunkAccessCode():
    """
    With no trunk access code every number that is not internal is matched
    against the routes; an internal number still wins over a route.
    """
    dialPlan = plan(Route("NXX.", "sip"), trunkAccessCode="")
    assert complete(dialPlan.analyse("3012", INTERNAL)).destination == "3012"
    assert complete(dialPlan.analyse("2000", INTERNAL)).kind == "internal"
    assert complete(dialPlan.analyse("2000", INTERNAL)).canExtend is True


# Route patterns


@pytest.mark.parametrize(
    "pattern, matching, notMatching",
    [
        ("123", ["123"], ["124", "023"]),
        ("1X3", [f"1{d}3" for d in "0123456789"], ["1*3"]),
        ("N", list("23456789"), ["0", "1", "*"]),
        ("Z", list("123456789"), ["0", "#"]),
        ("[1-5]", list("12345"), ["0", "6", "9"]),
        ("[135]", ["1", "3", "5"], ["2", "4"]),
        ("[13-57]", ["1", "3", "4", "5", "7"], ["2", "6", "8"]),
        ("9[0-9]Z", ["901", "999"], ["900", "890"]),
    ],
)
def test_patternElements(pattern, matching, notMatching):
    """
    Each pattern element: a literal digit matches itself, X any digit, N
    2-9, Z 1-9, a set its digits and ranges; C{*} and C{#} match only
    nothing.
    """
    dialPlan = plan(Route(pattern, "sip"), emergencyNumbers=())
    for number in matching:
        analysis = complete(dialPlan.analyse("0" + number, set()))
        assert (analysis.kind, analysis.destination) == ("external", number)
        assert analysis.canExtend is False
    for number in notMatching:
        assert dialPlan.analyse("0" + number, set()).outcome is Outcome.invalid


def test_fixedLength():
    """
    A pattern without a final dot matches numbers of exactly its length:
    shorter ones are incomplete, longer ones invalid.
    """
    dialPlan = plan(Route("1XX", "sip"), emergencyNumbers=())
    assert dialPlan.analyse("01", set()).outcome is Outcome.incomplete
    assert dialPlan.analyse("012", set()).outcome is Outcome.incomplete
    assert complete(dialPlan.analyse("0123", set())).canExtend is False
    assert dialPlan.analyse("01234", set()).outcome is Outcome.invalid


def test_variableLength():
    """
    A final dot means one or more further digits: the fixed part alone is
    incomplete, and every longer number is complete and can extend.
    """
    dialPlan = plan(Route("0N.", "sip"), emergencyNumbers=())
    assert dialPlan.analyse("002", set()).outcome is Outcome.incomplete
    for number in ("0023", "00234", "002345678901234"):
        analysis = complete(dialPlan.analyse(number, set()))
        assert (analysis.destination, analysis.canExtend) == (number[1:], True)
    assert dialPlan.analyse("0023*", set()).outcome is Outcome.invalid


def test_dotAlone():
    """
    A pattern of only a dot matches any number of one digit or more.
    """
    dialPlan = plan(Route(".", "sip"), emergencyNumbers=())
    assert dialPlan.analyse("0", set()).outcome is Outcome.incomplete
    assert complete(dialPlan.analyse("07", set())).destination == "7"


def test_firstMatchWins():
    """
    Of several patterns matching the whole number, the first in
    configuration order wins, as in a least-cost-routing table.
    """
    general = Route("1X", "general")
    specific = Route("11", "specific")
    assert complete(plan(general, specific).analyse("011", set())).route is general
    assert complete(plan(specific, general).analyse("011", set())).route is specific


def test_completeWhileLongerRoutePossible():
    """
    A number complete for one route while a longer route could still match
    is complete and can extend; the longer number then goes its own way.
    """
    dialPlan = plan(Route("11", "short"), Route("11X", "long"))
    analysis = complete(dialPlan.analyse("011", set()))
    assert (analysis.trunkGroup, analysis.canExtend) == ("short", True)
    analysis = complete(dialPlan.analyse("0115", set()))
    assert (analysis.trunkGroup, analysis.canExtend) == ("long", False)


def test_variableRouteShadowsLaterRoutes():
    """
    Once a variable-length route matches, routes after it cannot win: a
    later fixed route does not make the number extendable on its own.
    """
    dialPlan = plan(Route("1.", "variable"), Route("12X", "later"))
    assert complete(dialPlan.analyse("0123", set())).trunkGroup == "variable"


def test_stripAndPrepend():
    """
    The digits sent to the network are the digits after the trunk access
    code, less C{strip} digits in front, after C{prepend}.
    """
    dialPlan = plan(Route("0N.", "sip", strip=1, prepend="+49"))
    analysis = complete(dialPlan.analyse("0030123456", set()))
    assert analysis.destination == "+4930123456"
    assert analysis.trunkGroup == "sip"
    assert analysis.route == Route("0N.", "sip", strip=1, prepend="+49")


def test_stripWithoutPrepend():
    """
    Strip alone removes digits (a line prefix the carrier must not see).
    """
    dialPlan = plan(Route("81XX", "tie", strip=2))
    assert complete(dialPlan.analyse("08123", set())).destination == "23"


# Class of service


def test_routeDefaultClassIsLocal():
    """
    A route needs class of service "local" unless it says otherwise: an
    "internal" device is refused, a "local" one is not.
    """
    dialPlan = plan(Route("NXX", "sip"), emergencyNumbers=())
    refused = dialPlan.analyse("0234", set(), "internal")
    assert refused.outcome is Outcome.invalid
    assert refused.reason == (
        "the class of service 'internal' may not use route 'NXX' (it needs 'local')"
    )
    assert complete(dialPlan.analyse("0234", set(), "local")).destination == "234"


@pytest.mark.parametrize("needed", CLASSES_OF_SERVICE)
def test_classOrder(needed):
    """
    The classes are ordered internal < local < national < international:
    a route is refused exactly to the classes below the one it needs.
    """
    dialPlan = plan(Route("X", "sip", classOfService=needed), emergencyNumbers=())
    rank = CLASSES_OF_SERVICE.index(needed)
    for index, caller in enumerate(CLASSES_OF_SERVICE):
        outcome = dialPlan.analyse("05", set(), caller).outcome
        assert outcome is (Outcome.complete if index >= rank else Outcome.invalid)


def test_refusedEarly():
    """
    When every route the digits could still reach is refused, the number is
    invalid before it is whole, so an overlap port rejects it at once.
    """
    dialPlan = plan(
        Route("00.", "sip", classOfService="international"),
        Route("0N.", "sip", classOfService="national"),
        emergencyNumbers=(),
    )
    assert dialPlan.analyse("00", set(), "national").outcome is Outcome.incomplete
    analysis = dialPlan.analyse("000", set(), "national")
    assert analysis.outcome is Outcome.invalid
    assert "route '00.'" in analysis.reason and "'international'" in analysis.reason


def test_refusedButLongerRouteAllowed():
    """
    A refused match is only incomplete while more digits could still reach
    a route the caller may use.
    """
    dialPlan = plan(
        Route("11", "premium", classOfService="international"),
        Route("11X", "local"),
        emergencyNumbers=(),
    )
    assert dialPlan.analyse("011", set(), "local").outcome is Outcome.incomplete
    assert complete(dialPlan.analyse("0115", set(), "local")).trunkGroup == "local"
    assert complete(dialPlan.analyse("011", set())).trunkGroup == "premium"


def test_refusedVariableRouteShadowsLaterRoute():
    """
    A refused variable-length route that matches refuses every longer
    number too, even when a later route the caller may use would match.
    """
    dialPlan = plan(
        Route("19.", "premium", classOfService="international"),
        Route("1X.", "local"),
        emergencyNumbers=(),
    )
    analysis = dialPlan.analyse("0190", set(), "local")
    assert analysis.outcome is Outcome.invalid
    assert "route '19.'" in analysis.reason
    assert complete(dialPlan.analyse("0180", set(), "local")).trunkGroup == "local"


def test_internalRouteClass():
    """
    A route may be open to every device by needing class "internal" (a
    tie line to another PBX).
    """
    dialPlan = plan(Route("8XX", "tie", classOfService="internal"))
    assert complete(dialPlan.analyse("0812", set(), "internal")).trunkGroup == "tie"


# Emergency numbers


@pytest.mark.parametrize("dialled", ["112", "0112", "110", "0110"])
@pytest.mark.parametrize("classOfService", CLASSES_OF_SERVICE)
def test_emergency(dialled, classOfService):
    """
    Emergency numbers are complete as dialled, with or without the trunk
    access code, for every class of service, even when every route is
    refused; they go out unchanged and at once (no extension).
    """
    dialPlan = plan(
        Route("X.", "sip", strip=1, prepend="99", classOfService="international"),
        emergencyTrunkGroup="isdn",
    )
    analysis = dialPlan.analyse(dialled, INTERNAL, classOfService)
    assert analysis == Analysis(
        Outcome.complete,
        kind="emergency",
        destination=dialled[-3:],
        trunkGroup="isdn",
        canExtend=False,
    )


def test_emergencyPrefixIncomplete():
    """
    A prefix of an emergency number (with or without the access code)
    needs more digits, even with no routes and no internal numbers.
    """
    dialPlan = DialPlan()
    for digits in ("1", "11", "01", "011"):
        assert dialPlan.analyse(digits, set(), "internal").outcome is Outcome.incomplete


def test_emergencyBeatsInternal():
    """
    An emergency number wins over an internal number with the same digits
    or beginning with them.
    """
    analysis = DialPlan().analyse("112", {"112", "1120"})
    assert (analysis.kind, analysis.canExtend) == ("emergency", False)


def test_emergencyTrunkGroupFromRoutes():
    """
    Without an emergency trunk group, an emergency call takes the trunk
    group of the first route matching the emergency number (ignoring its
    digit manipulation and class), else none.
    """
    dialPlan = plan(Route("0.", "national"), Route("1XX", "local", classOfService="international"))
    assert dialPlan.analyse("112", set(), "internal").trunkGroup == "local"
    assert DialPlan().analyse("112", set()).trunkGroup is None


def test_emergencyNumbersConfigurable():
    """
    The emergency numbers are those configured; without any, 112 is an
    ordinary (here invalid) number.
    """
    dialPlan = DialPlan(emergencyNumbers=("911",))
    assert complete(dialPlan.analyse("0911", set())).kind == "emergency"
    assert DialPlan(emergencyNumbers=()).analyse("112", set()).outcome is Outcome.invalid


# Incoming DIDs


def test_incomingExact():
    """
    An exact DID maps its called number to its extension.
    """
    dialPlan = DialPlan(dids=[DID("4930123456", "100"), DID("+4930123456", "101")])
    assert dialPlan.incoming("4930123456") == "100"
    assert dialPlan.incoming("+4930123456") == "101"


def test_incomingRange():
    """
    A DID range maps its prefix followed by an extension to that extension;
    the prefix alone, or another number, maps to nothing.
    """
    dialPlan = DialPlan(dids=[DIDRange("4930123456")])
    assert dialPlan.incoming("4930123456100") == "100"
    assert dialPlan.incoming("4930123456") is None
    assert dialPlan.incoming("4940123456100") is None


def test_incomingExactBeforeRange():
    """
    Exact DIDs are tried before ranges.
    """
    dialPlan = DialPlan(dids=[DIDRange("4930123456"), DID("49301234560", "100")])
    assert dialPlan.incoming("49301234560") == "100"
    assert dialPlan.incoming("49301234561") == "1"


def test_incomingLongestRange():
    """
    Of several ranges the longest matching prefix wins, whatever the
    configuration order.
    """
    dialPlan = DialPlan(dids=[DIDRange("4930"), DIDRange("4930123")])
    assert dialPlan.incoming("4930123456") == "456"
    assert dialPlan.incoming("4930999") == "999"


def test_incomingNothing():
    """
    Without DIDs nothing maps.
    """
    assert DialPlan().incoming("100") is None


# Constructing in code


@pytest.mark.parametrize(
    "pattern, message",
    [
        ("", "must not be empty"),
        (7, "must be a string"),
        ("1.2", "'.' at position 2: '.' may only end a pattern"),
        ("..", "'.' at position 1"),
        ("1a", "'a' at position 2 is none of"),
        ("x", "'x' at position 1"),
        ("1[2-", "'[' at position 2 is never closed"),
        ("[]", "the set at position 1 is empty"),
        ("[5-3]", "the set at position 1 has the backward range 5-3"),
        ("[1-]", "a range without an upper digit"),
        ("[1-x]", "a range without an upper digit"),
        ("[a]", "holds 'a'"),
        ("[-1]", "holds '-'"),
    ],
)
def test_badPattern(pattern, message):
    """
    A pattern that is not one raises L{ValueError} naming what is wrong and
    where.
    """
    with pytest.raises(ValueError, match=re.escape(message)):
        Route(pattern, "sip")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"trunkGroup": ""}, "must not be empty"),
        ({"strip": -1}, "must not be negative"),
        ({"strip": True}, "must be an integer"),
        ({"strip": 4}, "strips 4 digits but the pattern matches numbers of only 3"),
        ({"strip": 3}, "nothing would be sent"),
        ({"prepend": "49+"}, "'49+' is not digits"),
        ({"classOfService": "vip"}, "'vip' is not one of internal, local"),
    ],
)
def test_badRoute(kwargs, message):
    """
    Every field of a route is checked when it is made.
    """
    arguments = {"pattern": "1XX", "trunkGroup": "sip", **kwargs}
    with pytest.raises(ValueError, match=re.escape(message)):
        Route(**arguments)


def test_stripAllWithPrepend():
    """
    Stripping a whole number is allowed when something is prepended.
    """
    dialPlan = plan(Route("9", "operator", strip=1, prepend="+4930123456"))
    assert complete(dialPlan.analyse("09", set())).destination == "+4930123456"


def test_stripVariableMinimum():
    """
    A variable pattern's shortest number has one digit more than its fixed
    part: stripping the fixed part leaves at least that digit.
    """
    dialPlan = plan(Route("99.", "sip", strip=2))
    assert complete(dialPlan.analyse("0995", set())).destination == "5"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"trunkAccessCode": "0a"}, "'0a' is not a string of digits"),
        ({"trunkAccessCode": 0}, "must be a string"),
        ({"routes": ["1X"]}, "'1X' is not a Route"),
        ({"dids": ["100"]}, "'100' is neither a DID nor a DIDRange"),
        ({"dids": [DID("1", "2"), DID("1", "3")]}, "DID '1' is mapped twice"),
        ({"dids": [DIDRange("49"), DIDRange("49")]}, "DID range '49' is given twice"),
        ({"emergencyNumbers": "112"}, "must be a collection"),
        ({"emergencyNumbers": ("11 2",)}, "'11 2' is not a string of digits"),
        ({"emergencyTrunkGroup": ""}, "must not be empty"),
    ],
)
def test_badDialPlan(kwargs, message):
    """
    The dial plan checks its own arguments.
    """
    with pytest.raises(ValueError, match=re.escape(message)):
        DialPlan(**kwargs)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: DID("49 30", "1"), "'49 30' is not a number"),
        (lambda: DID("4930", ""), "'' is not a string of digits"),
        (lambda: DIDRange("+"), "'+' is not a number"),
    ],
)
def test_badDID(make, message):
    """
    DIDs are checked when they are made: a called number may start with +,
    an extension is digits.
    """
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


# Configuration

FULL_CONFIG = """
[dialplan]
trunk-access-code = "0"
emergency-numbers = ["112", "110", "19222"]
emergency-trunk-group = "isdn"

[[dialplan.routes]]
pattern = "00."
trunk-group = "sip"
strip = 2
prepend = "+"
class-of-service = "international"

[[dialplan.routes]]
pattern = "0Z."
trunk-group = "sip"
strip = 1
prepend = "+49"
class-of-service = "national"

[[dialplan.routes]]
pattern = "Z."
trunk-group = "sip"
prepend = "+4930"

[[dialplan.dids]]
did = "+4930123456"
extension = "100"

[[dialplan.dids]]
prefix = "+4930123456"
"""


def test_fromConfigEmpty():
    """
    An empty C{[dialplan]} table gives the defaults: trunk access code 0,
    emergency numbers 112 and 110, no routes, no DIDs.
    """
    dialPlan = DialPlan.fromConfig({}, "oso.toml: dialplan")
    assert dialPlan.trunkAccessCode == "0"
    assert dialPlan.emergencyNumbers == ("112", "110")
    assert dialPlan.emergencyTrunkGroup is None
    assert (dialPlan.routes, dialPlan.dids) == ((), ())


def test_fromConfigFull():
    """
    Every key of the documented example is read and acts.
    """
    table = tomllib.loads(FULL_CONFIG)["dialplan"]
    dialPlan = DialPlan.fromConfig(table, "oso.toml: dialplan")
    assert dialPlan.routes == (
        Route("00.", "sip", 2, "+", "international"),
        Route("0Z.", "sip", 1, "+49", "national"),
        Route("Z.", "sip", 0, "+4930", "local"),
    )
    assert dialPlan.dids == (DID("+4930123456", "100"), DIDRange("+4930123456"))
    assert complete(dialPlan.analyse("0004312345", set())).destination == "+4312345"
    assert complete(dialPlan.analyse("0040123", set())).destination == "+4940123"
    assert complete(dialPlan.analyse("0123456", set())).destination == "+4930123456"
    assert dialPlan.analyse("00401", set(), "local").outcome is Outcome.invalid
    emergency = complete(dialPlan.analyse("019222", set(), "internal"))
    assert (emergency.kind, emergency.trunkGroup) == ("emergency", "isdn")
    assert dialPlan.incoming("+4930123456") == "100"
    assert dialPlan.incoming("+4930123456101") == "101"


def test_fromConfigEmptyTrunkAccessCode():
    """
    The trunk access code may be configured empty.
    """
    dialPlan = DialPlan.fromConfig({"trunk-access-code": ""}, "oso.toml: dialplan")
    assert dialPlan.trunkAccessCode == ""


ROUTE = {"pattern": "1X", "trunk-group": "sip"}


@pytest.mark.parametrize(
    "table, where, message",
    [
        ([], "", "must be a table"),
        ({"routing": []}, ".routing", "unknown key; known: dids, emergency-numbers"),
        ({"a b": 1}, '."a b"', "unknown key"),
        ({"trunk-access-code": 0}, ".trunk-access-code", "must be a string"),
        ({"trunk-access-code": "+0"}, ".trunk-access-code", "'+0' is not a string of digits"),
        ({"emergency-numbers": "112"}, ".emergency-numbers", "must be an array"),
        ({"emergency-numbers": ["112", 110]}, ".emergency-numbers[1]", "must be a string"),
        ({"emergency-numbers": ["112", ""]}, ".emergency-numbers[1]", "'' is not a string"),
        ({"emergency-trunk-group": ""}, ".emergency-trunk-group", "must not be empty"),
        ({"emergency-trunk-group": 1}, ".emergency-trunk-group", "must be a string"),
        ({"routes": {}}, ".routes", "must be an array"),
        ({"routes": [ROUTE, "1X"]}, ".routes[1]", "must be a table"),
        ({"routes": [ROUTE, {**ROUTE, "cos": "local"}]}, ".routes[1].cos", "unknown key"),
        ({"routes": [ROUTE, {"trunk-group": "sip"}]}, ".routes[1].pattern", "is required"),
        ({"routes": [ROUTE, {"pattern": "1X"}]}, ".routes[1].trunk-group", "is required"),
        ({"routes": [ROUTE, {**ROUTE, "pattern": "1Y"}]}, ".routes[1].pattern",
         "'Y' at position 2"),
        ({"routes": [ROUTE, {**ROUTE, "pattern": 12}]}, ".routes[1].pattern",
         "must be a string"),
        ({"routes": [ROUTE, {**ROUTE, "trunk-group": ""}]}, ".routes[1].trunk-group",
         "must not be empty"),
        ({"routes": [ROUTE, {**ROUTE, "strip": "1"}]}, ".routes[1].strip",
         "must be an integer"),
        ({"routes": [ROUTE, {**ROUTE, "strip": 1.0}]}, ".routes[1].strip",
         "must be an integer"),
        ({"routes": [ROUTE, {**ROUTE, "strip": -1}]}, ".routes[1].strip",
         "must not be negative"),
        ({"routes": [ROUTE, {**ROUTE, "strip": 3}]}, ".routes[1].strip",
         "strips 3 digits but the pattern matches numbers of only 2"),
        ({"routes": [ROUTE, {**ROUTE, "prepend": "a"}]}, ".routes[1].prepend",
         "'a' is not digits"),
        ({"routes": [ROUTE, {**ROUTE, "prepend": 49}]}, ".routes[1].prepend",
         "must be a string"),
        ({"routes": [ROUTE, {**ROUTE, "class-of-service": "all"}]},
         ".routes[1].class-of-service", "'all' is not one of"),
        ({"routes": [{**ROUTE, "class-of-service": ["local"]}]},
         ".routes[0].class-of-service", "['local'] is not one of"),
        ({"dids": {}}, ".dids", "must be an array"),
        ({"dids": ["100"]}, ".dids[0]", "must be a table"),
        ({"dids": [{"did": "1", "extension": "1", "x": 1}]}, ".dids[0].x", "unknown key"),
        ({"dids": [{}]}, ".dids[0]", "needs 'did' and 'extension', or 'prefix'"),
        ({"dids": [{"did": "1"}]}, ".dids[0].extension", "is required"),
        ({"dids": [{"extension": "1"}]}, ".dids[0].did", "is required"),
        ({"dids": [{"prefix": "1", "did": "1"}]}, ".dids[0].did",
         "a DID range ('prefix') takes no 'did' or 'extension'"),
        ({"dids": [{"prefix": "1", "extension": "1"}]}, ".dids[0].extension",
         "takes no"),
        ({"dids": [{"prefix": 49}]}, ".dids[0].prefix", "must be a string"),
        ({"dids": [{"did": "4 9", "extension": "1"}]}, ".dids[0].did", "is not a number"),
        ({"dids": [{"did": "49", "extension": "+1"}]}, ".dids[0].extension",
         "'+1' is not a string of digits"),
        ({"dids": [{"did": "49", "extension": "1"}, {"prefix": "49"},
                   {"did": "49", "extension": "2"}]},
         ".dids[2].did", "'49' is given twice (first at index 0)"),
        ({"dids": [{"prefix": "49"}, {"prefix": "49"}]}, ".dids[1].prefix",
         "'49' is given twice (first at index 0)"),
    ],
)
def test_fromConfigErrors(table, where, message):
    """
    Every configuration problem is a L{ConfigError} naming the exact key
    below the given location (array items as C{[i]} from 0).
    """
    with pytest.raises(ConfigError) as caught:
        DialPlan.fromConfig(table, "oso.toml: dialplan")
    assert caught.value.where == "oso.toml: dialplan" + where
    assert message in caught.value.message


# Properties

_ELEMENT_DIGITS = {
    **{d: d for d in "0123456789"},
    "X": "0123456789",
    "N": "23456789",
    "Z": "123456789",
    "[1-5]": "12345",
    "[02468]": "02468",
    "[13-57]": "13457",
}

_dialled = st.text(alphabet="0123456789*#", max_size=4)
_numbers = st.text(alphabet="0123456789", min_size=1, max_size=6)


@st.composite
def _patterns(draw):
    """
    @return: C{(pattern, elements, variable)}.
    """
    elements = draw(st.lists(st.sampled_from(sorted(_ELEMENT_DIGITS)), max_size=5))
    variable = draw(st.booleans()) if elements else True
    return "".join(elements) + ("." if variable else ""), elements, variable


@st.composite
def _routes(draw):
    """
    @return: C{(route, number)}: a route and a number its pattern matches.
    """
    pattern, elements, variable = draw(_patterns())
    minLength = len(elements) + variable
    prepend = draw(st.sampled_from(["", "+49", "9"]))
    strip = draw(st.integers(0, minLength if prepend else minLength - 1))
    route = Route(
        pattern, draw(st.sampled_from(["a", "b", "c"])), strip, prepend,
        draw(st.sampled_from(CLASSES_OF_SERVICE)),
    )
    number = "".join(draw(st.sampled_from(_ELEMENT_DIGITS[e])) for e in elements)
    if variable:
        number += draw(st.text(alphabet="0123456789", min_size=1, max_size=3))
    return route, number


@st.composite
def _scenarios(draw):
    """
    @return: C{(dialPlan, internalNumbers, digits)} where the digits are
        often a prefix or an extension of a number the plan knows, so that
        the interesting cases are not left to chance.
    """
    tac = draw(st.sampled_from(["0", "", "9", "00"]))
    routes = draw(st.lists(_routes(), max_size=4))
    emergency = draw(st.sampled_from([(), ("112", "110"), ("1",)]))
    dialPlan = DialPlan(
        trunkAccessCode=tac, routes=[r for r, _ in routes], emergencyNumbers=emergency
    )
    internal = draw(st.frozensets(_numbers, max_size=6))
    seeds = sorted(internal) + [tac + number for _, number in routes] + [tac]
    seeds += [n for number in emergency for n in (number, tac + number)]
    seed = draw(st.sampled_from(seeds))
    digits = seed[:draw(st.integers(0, len(seed)))] + draw(_dialled)
    return dialPlan, internal, digits


def _oracleMatches(elements, variable, digits):
    """
    A slow, obvious reading of a pattern: does it match all of C{digits}?
    """
    fixed, rest = digits[:len(elements)], digits[len(elements):]
    if len(fixed) < len(elements):
        return False
    if any(d not in _ELEMENT_DIGITS[e] for d, e in zip(fixed, elements)):
        return False
    return (rest == "") if not variable else (rest != "" and rest.isdigit())


@settings(max_examples=300)
@given(_patterns(), st.text(alphabet="0123456789*#", max_size=8))
def test_patternAgainstOracle(pattern, digits):
    """
    The compiled pattern agrees with a direct reading of the syntax, both
    on whole numbers and on which strings could still grow into one.
    """
    text, elements, variable = pattern
    compiled = Route(text, "sip", strip=0, prepend="9")._compiled
    assert compiled.matches(digits) == _oracleMatches(elements, variable, digits)
    head, tail = digits[:len(elements)], digits[len(elements):]
    headFits = all(d in _ELEMENT_DIGITS[e] for d, e in zip(head, elements))
    if variable:
        couldExtend = headFits and (tail == "" or tail.isdigit())
    else:
        couldExtend = headFits and len(digits) < len(elements)
    assert compiled.couldExtend(digits) == couldExtend


@settings(max_examples=200)
@given(_scenarios(), st.sampled_from(CLASSES_OF_SERVICE))
def test_analysisConsistent(scenario, classOfService):
    """
    For any plan and any dialled string, analyse never raises and its
    answer hangs together: only a complete answer has a kind, a destination
    and possibly canExtend; only an invalid one a reason; an internal
    destination is an internal number; an external destination is the
    route's manipulation of the digits after the access code, on a route
    the caller's class of service reaches.
    """
    dialPlan, internal, digits = scenario
    analysis = dialPlan.analyse(digits, internal, classOfService)
    if analysis.outcome is not Outcome.complete:
        assert (analysis.kind, analysis.destination, analysis.trunkGroup,
                analysis.route, analysis.canExtend) == (None, None, None, None, False)
        assert (analysis.reason != "") == (analysis.outcome is Outcome.invalid)
        return
    assert analysis.reason == ""
    assert analysis.destination
    if analysis.kind == "internal":
        assert analysis.destination == digits and digits in internal
    elif analysis.kind == "emergency":
        assert analysis.destination in dialPlan.emergencyNumbers
        assert digits in (analysis.destination,
                          dialPlan.trunkAccessCode + analysis.destination)
        assert analysis.canExtend is False
    else:
        assert analysis.kind == "external"
        route = analysis.route
        external = digits[len(dialPlan.trunkAccessCode):]
        assert digits.startswith(dialPlan.trunkAccessCode)
        assert analysis.destination == route.prepend + external[route.strip:]
        assert analysis.trunkGroup == route.trunkGroup
        assert (CLASSES_OF_SERVICE.index(route.classOfService)
                <= CLASSES_OF_SERVICE.index(classOfService))


@settings(max_examples=300)
@given(
    _scenarios(),
    st.text(alphabet="0123456789*#", min_size=1, max_size=6),
    st.sampled_from(CLASSES_OF_SERVICE),
)
def test_finalAnswersStayFinal(scenario, more, classOfService):
    """
    An overlap-dialling port may act at once on an invalid answer (reject)
    and on a complete one without canExtend (route): no further digit could
    have made anything else of it, so every longer string is invalid.
    """
    dialPlan, internal, digits = scenario
    analysis = dialPlan.analyse(digits, internal, classOfService)
    final = analysis.outcome is Outcome.invalid or (
        analysis.outcome is Outcome.complete
        and analysis.kind != "emergency"
        and not analysis.canExtend
    )
    if final:
        longer = dialPlan.analyse(digits + more, internal, classOfService)
        assert longer.outcome is Outcome.invalid


@settings(max_examples=150)
@given(_scenarios())
def test_higherClassNeverLoses(scenario):
    """
    A higher class of service reaches at least what a lower one reaches:
    a complete number stays complete, to the same place, and can extend
    at least as far.
    """
    dialPlan, internal, digits = scenario
    results = [dialPlan.analyse(digits, internal, c) for c in CLASSES_OF_SERVICE]
    for lower, higher in zip(results, results[1:]):
        if lower.outcome is Outcome.complete:
            assert higher.outcome is Outcome.complete
            assert (higher.kind, higher.destination, higher.trunkGroup, higher.route) == (
                lower.kind, lower.destination, lower.trunkGroup, lower.route
            )
            assert higher.canExtend >= lower.canExtend


_tomlValues = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 20) | st.floats(allow_nan=False)
    | st.text(alphabet="0123456789XNZ[]-.+*#ab", max_size=6),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(
        st.sampled_from([
            "pattern", "trunk-group", "strip", "prepend", "class-of-service",
            "did", "extension", "prefix", "routes", "dids", "trunk-access-code",
            "emergency-numbers", "emergency-trunk-group", "other",
        ]),
        children,
        max_size=5,
    ),
    max_leaves=12,
)


@settings(max_examples=200)
@given(_tomlValues)
def test_fromConfigOnlyConfigErrors(table):
    """
    Whatever the table holds, fromConfig gives a dial plan or a
    L{ConfigError} whose location starts with the given one, never another
    exception.
    """
    try:
        DialPlan.fromConfig(table, "oso.toml: dialplan")
    except ConfigError as e:
        assert e.where.startswith("oso.toml: dialplan")


@settings(max_examples=100)
@given(
    st.lists(_numbers, min_size=1, max_size=4, unique=True),
    _numbers,
    st.integers(0, 3),
)
def test_incomingRangeProperty(prefixes, extension, pick):
    """
    A called number made of a range prefix and an extension maps to the
    rest after the longest range prefix it starts with.
    """
    dialPlan = DialPlan(dids=[DIDRange(p) for p in prefixes])
    called = prefixes[pick % len(prefixes)] + extension
    longest = max((p for p in prefixes if called.startswith(p) and called != p), key=len)
    assert dialPlan.incoming(called) == called[len(longest):]

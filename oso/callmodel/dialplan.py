"""
The dial plan: what a dialled digit string means.

For every digit string a device dials the plan answers one of three things
(L{Outcome}): the number is complete (and where it goes), more digits are
needed, or no number of the plan starts like this.  Overlap-dialling ports
ask after every digit; en-bloc ports ask once.

A number is, in this order of precedence:

  1. an emergency number, dialled with or without the trunk access code;
     never refused by class of service and sent out unchanged;
  2. an internal number, one of the device numbers the caller passes in;
  3. the trunk access code followed by an external number, matched against
     the route patterns in configuration order: the first pattern that
     matches the whole number wins, its trunk group carries the call, and
     its digit manipulation (strip, then prepend) gives the digits sent to
     the network.  The caller's class of service must reach the route's.

doc/dialplan.md describes the pattern syntax and the configuration.
"""

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from enum import Enum

#: The classes of service, lowest first; each reaches every route the ones
#: before it reach.
CLASSES_OF_SERVICE = ("internal", "local", "national", "international")

_RANK = {name: rank for rank, name in enumerate(CLASSES_OF_SERVICE)}

_DIGITS = "0123456789"
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ELEMENTS = {"X": "[0-9]", "N": "[2-9]", "Z": "[1-9]"}


class Outcome(str, Enum):
    """
    What a digit string is to the dial plan.
    """

    complete = "complete"
    incomplete = "incomplete"
    invalid = "invalid"


class InternalNumbers(dict):
    """
    A dict keyed by internal number (the call model's devices by number)
    that also counts the proper prefixes of its numbers, so that
    L{DialPlan.analyse} learns whether more digits could still reach one
    with a look-up instead of a scan of every number.

    It changes through item assignment, C{del} and C{pop} only (the other
    changing methods of C{dict} would pass the index by and are refused).
    """

    def __init__(self):
        super().__init__()
        self._prefixes = Counter()

    def __setitem__(self, number, value):
        if number not in self:
            self._prefixes.update(number[:end] for end in range(len(number)))
        super().__setitem__(number, value)

    def __delitem__(self, number):
        super().__delitem__(number)
        for end in range(len(number)):
            prefix = number[:end]
            self._prefixes[prefix] -= 1
            if not self._prefixes[prefix]:
                del self._prefixes[prefix]

    def pop(self, number, *default):
        if number not in self:
            return super().pop(number, *default)
        value = self[number]
        del self[number]
        return value

    def _refused(self, *args, **kw):
        raise TypeError("InternalNumbers changes by item assignment, del and pop only")

    update = setdefault = popitem = clear = __ior__ = _refused

    def extends(self, digits):
        """
        Whether a number longer than C{digits} starts with them.
        """
        return digits in self._prefixes


class _Pattern:
    """
    A route pattern compiled into two regular expressions: one for a whole
    number, one for the numbers that can still grow into a match.

    @ivar variable: whether the pattern ends in C{.} (one or more further
        digits).
    @ivar minLength: the length of the shortest number it matches.
    """

    __slots__ = ("_whole", "_prefix", "_fixedLength", "variable", "minLength")

    def __init__(self, text):
        """
        @param text: the pattern as written in the configuration.
        @raise ValueError: when C{text} is not a pattern.
        """
        if not isinstance(text, str):
            raise ValueError("must be a string")
        if not text:
            raise ValueError("must not be empty")
        self.variable = text.endswith(".")
        elements = _parseElements(text[:-1] if self.variable else text)
        tail = "[0-9]+" if self.variable else ""
        self._whole = re.compile("".join(elements) + tail)
        # A proper prefix of a match is the first k elements, possibly
        # followed by part of the variable tail: nest the elements so that
        # each may stop the string.
        prefix = "[0-9]*" if self.variable else ""
        for element in reversed(elements):
            prefix = f"(?:{element}{prefix})?"
        self._prefix = re.compile(prefix)
        self._fixedLength = len(elements)
        self.minLength = len(elements) + (1 if self.variable else 0)

    def matches(self, digits):
        """
        @return: whether C{digits} is a whole number of this pattern.
        """
        return self._whole.fullmatch(digits) is not None

    def couldExtend(self, digits):
        """
        @return: whether some longer string starting with C{digits} is a
            whole number of this pattern.
        """
        if not self.variable and len(digits) >= self._fixedLength:
            return False
        return self._prefix.fullmatch(digits) is not None


def _parseElements(body):
    """
    Parse the fixed part of a pattern (everything before a final C{.}).

    @return: a list of regular expressions, one per digit position.
    @raise ValueError: naming the first character that is wrong.
    """
    elements = []
    position = 0
    while position < len(body):
        char = body[position]
        if char in _DIGITS:
            elements.append(char)
        elif char in _ELEMENTS:
            elements.append(_ELEMENTS[char])
        elif char == "[":
            end = body.find("]", position)
            if end < 0:
                raise ValueError(f"'[' at position {position + 1} is never closed")
            elements.append(_parseSet(body[position + 1:end], position))
            position = end
        elif char == ".":
            raise ValueError(f"'.' at position {position + 1}: '.' may only end a pattern")
        else:
            raise ValueError(
                f"{char!r} at position {position + 1} is none of: a digit, "
                f"X, N, Z, a [set] or a final '.'"
            )
        position += 1
    return elements


def _parseSet(content, position):
    """
    Parse the inside of a C{[...]} set: digits and ascending ranges C{a-b}.

    @param position: where the set's C{[} stands, for the error message.
    @return: a regular expression character class.
    @raise ValueError: when the set is empty or holds anything else.
    """
    where = f"the set at position {position + 1}"
    if not content:
        raise ValueError(f"{where} is empty")
    members = set()
    index = 0
    while index < len(content):
        low = content[index]
        if low not in _DIGITS:
            raise ValueError(f"{where} holds {low!r}; only digits and ranges like 1-5")
        if content[index + 1:index + 2] == "-":
            high = content[index + 2:index + 3]
            if not high or high not in _DIGITS:
                raise ValueError(f"{where} has a range without an upper digit")
            if high < low:
                raise ValueError(f"{where} has the backward range {low}-{high}")
            members.update(_DIGITS[int(low):int(high) + 1])
            index += 3
        else:
            members.add(low)
            index += 1
    return "[" + "".join(sorted(members)) + "]"


def _stringOf(form, description):
    """
    @param form: a compiled regular expression the whole string must match.
    @param description: what such a string is, for the error message.
    @return: a check that returns its argument when it is a string of that
        form and raises L{ValueError} otherwise.
    """

    def check(value):
        if not isinstance(value, str):
            raise ValueError("must be a string")
        if not form.fullmatch(value):
            raise ValueError(f"{value!r} is not {description}")
        return value

    return check


_checkDialString = _stringOf(re.compile(r"[0-9*#]+"), "a string of digits (0-9, *, #)")
_checkAccessCode = _stringOf(re.compile(r"[0-9*#]*"), "a string of digits (0-9, *, #)")
# A called number as a trunk delivers it, and digits to prepend, may be
# E.164 with a leading "+" (SIP trunks).
_checkPublicNumber = _stringOf(
    re.compile(r"\+?[0-9*#]+"), "a number (digits, *, #, optional leading +)"
)
_checkPrepend = _stringOf(
    re.compile(r"\+?[0-9*#]*"), "digits (0-9, *, #, optional leading +)"
)


def _checkTrunkGroup(value):
    """
    @return: C{value}, a non-empty trunk group name.
    @raise ValueError: when it is anything else.
    """
    if not isinstance(value, str):
        raise ValueError("must be a string")
    if not value:
        raise ValueError("must not be empty")
    return value


def _checkClassOfService(value):
    """
    @return: C{value}, one of L{CLASSES_OF_SERVICE}.
    @raise ValueError: when it is anything else.
    """
    if not isinstance(value, str) or value not in _RANK:
        raise ValueError(f"{value!r} is not one of {', '.join(CLASSES_OF_SERVICE)}")
    return value


def _checkStrip(value, pattern, prepend):
    """
    @param pattern: the route's L{_Pattern}.
    @param prepend: the route's prepend string.
    @return: C{value}, a count of digits the route may strip: never more
        than the shortest number of the pattern, and less when nothing is
        prepended, so that something is left to send.
    @raise ValueError: when it is anything else.
    """
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("must be an integer")
    if value < 0:
        raise ValueError("must not be negative")
    if value > pattern.minLength:
        raise ValueError(
            f"strips {value} digits but the pattern matches numbers of "
            f"only {pattern.minLength}"
        )
    if value == pattern.minLength and not prepend:
        raise ValueError(
            f"strips all {value} digits of the shortest number the pattern "
            f"matches and prepends nothing: nothing would be sent"
        )
    return value


@dataclass(frozen=True, slots=True)
class Route:
    """
    One line of the routing table: external numbers of a pattern go to a
    trunk group, with their digits changed on the way.

    @ivar pattern: the pattern the digits after the trunk access code must
        match (see doc/dialplan.md).
    @ivar trunkGroup: the trunk group that carries the call.
    @ivar strip: how many digits to remove from the front of the digits
        after the trunk access code.
    @ivar prepend: what to put in front of what is left.
    @ivar classOfService: the lowest class of service allowed to use the
        route; C{"local"} by default, so a device of class C{"internal"}
        reaches no route unless a route says so.
    """

    pattern: str
    trunkGroup: str
    strip: int = 0
    prepend: str = ""
    classOfService: str = "local"
    _compiled: _Pattern = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        """
        @raise ValueError: when a field is not usable.
        """
        compiled = _Pattern(self.pattern)
        _checkTrunkGroup(self.trunkGroup)
        _checkPrepend(self.prepend)
        _checkStrip(self.strip, compiled, self.prepend)
        _checkClassOfService(self.classOfService)
        object.__setattr__(self, "_compiled", compiled)

    def destinationFor(self, digits):
        """
        @param digits: a number this route matches (after the trunk access
            code).
        @return: the digits to send to the network.
        """
        return self.prepend + digits[self.strip:]


@dataclass(frozen=True, slots=True)
class DID:
    """
    One incoming called number mapped to one internal number.
    """

    did: str
    extension: str

    def __post_init__(self):
        """
        @raise ValueError: when a field is not usable.
        """
        _checkPublicNumber(self.did)
        _checkDialString(self.extension)


@dataclass(frozen=True, slots=True)
class DIDRange:
    """
    A block of incoming called numbers: the prefix followed by an internal
    number (C{"4930123456" + "100"} reaches C{"100"}).
    """

    prefix: str

    def __post_init__(self):
        """
        @raise ValueError: when the prefix is not usable.
        """
        _checkPublicNumber(self.prefix)


@dataclass(frozen=True, slots=True)
class Analysis:
    """
    The dial plan's answer for one digit string.

    @ivar outcome: the L{Outcome}.
    @ivar kind: C{"internal"}, C{"external"} or C{"emergency"} when
        complete, else L{None}.
    @ivar destination: when complete: the device number (internal), or the
        digits to send to the network (external, emergency); else L{None}.
    @ivar trunkGroup: the trunk group to use for an external or emergency
        call, else L{None} (for an emergency call also L{None} when no trunk
        group is known: any trunk will do).
    @ivar canExtend: only when complete: more digits could still make
        another complete number (a variable-length pattern, or a longer
        number starting with these digits), so an overlap-dialling port
        waits for its inter-digit timeout before routing.
    @ivar route: the L{Route} of an external call, else L{None}.
    @ivar reason: why the digits are invalid (empty otherwise).
    """

    outcome: Outcome
    kind: str | None = None
    destination: str | None = None
    trunkGroup: str | None = None
    canExtend: bool = False
    route: Route | None = None
    reason: str = ""


_INCOMPLETE = Analysis(Outcome.incomplete)


class DialPlan:
    """
    Internal numbers, the trunk access code, route patterns, incoming DIDs
    and emergency numbers.

    @ivar trunkAccessCode: the digits that begin an external number (may be
        empty: then every number that is not internal is matched against
        the routes).
    @ivar routes: the L{Route}s, in the order they are tried.
    @ivar dids: the L{DID}s and L{DIDRange}s.
    @ivar emergencyNumbers: the emergency numbers.
    @ivar emergencyTrunkGroup: the trunk group for emergency calls, or
        L{None} to use the trunk group of the first route whose pattern
        matches the emergency number.
    """

    def __init__(self, trunkAccessCode="0", routes=(), dids=(),
                 emergencyNumbers=("112", "110"), emergencyTrunkGroup=None):
        """
        @raise ValueError: when an argument is not usable (L{fromConfig}
            reports the same problems as C{ConfigError}s that name the key).
        """
        self.trunkAccessCode = _checkAccessCode(trunkAccessCode)
        self.routes = tuple(routes)
        for route in self.routes:
            if not isinstance(route, Route):
                raise ValueError(f"{route!r} is not a Route")
        self.dids = tuple(dids)
        self._exactDIDs = {}
        ranges = set()
        for entry in self.dids:
            if isinstance(entry, DID):
                if entry.did in self._exactDIDs:
                    raise ValueError(f"DID {entry.did!r} is mapped twice")
                self._exactDIDs[entry.did] = entry.extension
            elif isinstance(entry, DIDRange):
                if entry.prefix in ranges:
                    raise ValueError(f"DID range {entry.prefix!r} is given twice")
                ranges.add(entry.prefix)
            else:
                raise ValueError(f"{entry!r} is neither a DID nor a DIDRange")
        self._didRanges = sorted(ranges, key=len, reverse=True)
        if isinstance(emergencyNumbers, str):
            raise ValueError("emergencyNumbers must be a collection of numbers")
        self.emergencyNumbers = tuple(_checkDialString(n) for n in emergencyNumbers)
        self.emergencyTrunkGroup = (
            None if emergencyTrunkGroup is None
            else _checkTrunkGroup(emergencyTrunkGroup)
        )
        self._emergencyDialled = {}
        for number in self.emergencyNumbers:
            self._emergencyDialled.setdefault(number, number)
            self._emergencyDialled.setdefault(trunkAccessCode + number, number)
        self._emergencyPrefixes = frozenset(
            dialled[:end]
            for dialled in self._emergencyDialled
            for end in range(len(dialled))
        )
        self._emergencyTrunkGroups = {
            number: self._emergencyTrunkGroupFor(number)
            for number in self.emergencyNumbers
        }

    def _emergencyTrunkGroupFor(self, number):
        """
        @return: the trunk group for the emergency number C{number}: the
            configured one, else that of the first route matching it, else
            L{None}.
        """
        if self.emergencyTrunkGroup is not None:
            return self.emergencyTrunkGroup
        for route in self.routes:
            if route._compiled.matches(number):
                return route.trunkGroup
        return None

    def analyse(self, digits, internalNumbers, classOfService="international"):
        """
        Say what C{digits} are.

        @param digits: what the device has dialled so far.
        @param internalNumbers: the internal numbers (a collection of
            strings; numbers of different lengths may coexist); an
            L{InternalNumbers} answers whether more digits could reach one
            from its index.
        @param classOfService: the caller's class of service, one of
            L{CLASSES_OF_SERVICE}.
        @return: an L{Analysis}.
        @raise ValueError: when C{classOfService} is not a class of service
            (device configuration is validated against
            L{CLASSES_OF_SERVICE}, so this is a programming error).
        """
        rank = _RANK.get(classOfService)
        if rank is None:
            raise ValueError(f"{classOfService!r} is not a class of service")
        emergency = self._emergencyDialled.get(digits)
        if emergency is not None:
            return Analysis(
                Outcome.complete,
                kind="emergency",
                destination=emergency,
                trunkGroup=self._emergencyTrunkGroups[emergency],
            )
        more = digits in self._emergencyPrefixes or (
            internalNumbers.extends(digits)
            if isinstance(internalNumbers, InternalNumbers)
            else any(
                len(number) > len(digits) and number.startswith(digits)
                for number in internalNumbers
            )
        )
        tac = self.trunkAccessCode
        route = None
        reason = ""
        if digits.startswith(tac) or tac.startswith(digits):
            # Before the access code is whole, ask what an empty external
            # number could still become.
            external = digits[len(tac):]
            route, externalMore, reason = self._route(external, rank)
            more = more or externalMore
        if digits in internalNumbers:
            return Analysis(
                Outcome.complete, kind="internal", destination=digits, canExtend=more
            )
        if route is not None:
            return Analysis(
                Outcome.complete,
                kind="external",
                destination=route.destinationFor(external),
                trunkGroup=route.trunkGroup,
                canExtend=more,
                route=route,
            )
        if more:
            return _INCOMPLETE
        if not reason:
            reason = (
                f"{digits!r} is no internal or emergency number and does not "
                f"begin with the trunk access code {tac!r}"
            )
        return Analysis(Outcome.invalid, reason=reason)

    def _route(self, digits, rank):
        """
        Match the digits after the trunk access code against the routes.

        The first route that matches the whole of C{digits} wins.  A route
        the caller's class of service may not use refuses the number, unless
        more digits could still reach a route it may use.

        @param rank: the caller's class of service as an index into
            L{CLASSES_OF_SERVICE}.
        @return: C{(route, more, reason)}: the winning route the caller may
            use or L{None}; whether more digits could reach a route the
            caller may use; why the number is refused (empty when it is
            not).
        """
        winner = None
        winnerAllowed = False
        more = False
        refused = None
        for route in self.routes:
            pattern = route._compiled
            allowed = _RANK[route.classOfService] <= rank
            if pattern.couldExtend(digits):
                if allowed:
                    more = True
                elif refused is None:
                    refused = route
            if winner is None and pattern.matches(digits):
                winner, winnerAllowed = route, allowed
                if not allowed:
                    refused = route
                if pattern.variable:
                    # It matches every longer number too, so no later route
                    # can ever win.
                    break
        if winnerAllowed:
            return winner, more, ""
        if more:
            return None, True, ""
        if refused is not None:
            return None, False, (
                f"the class of service {CLASSES_OF_SERVICE[rank]!r} may not "
                f"use route {refused.pattern!r} (it needs "
                f"{refused.classOfService!r})"
            )
        return None, False, f"no route matches {digits!r}"

    def incoming(self, did):
        """
        Map a called number arriving from a trunk to an internal number.

        @param did: the called number as the trunk delivers it.
        @return: the internal number: an exact L{DID} first, else the rest
            of the number after the longest matching L{DIDRange} prefix;
            L{None} when neither matches.
        """
        extension = self._exactDIDs.get(did)
        if extension is not None:
            return extension
        for prefix in self._didRanges:
            if len(did) > len(prefix) and did.startswith(prefix):
                return did[len(prefix):]
        return None

    @classmethod
    def fromConfig(cls, table, where):
        """
        Build a dial plan from the C{[dialplan]} table of the configuration.

        @param table: the table as C{tomllib} read it (may be empty).
        @param where: the file and key of the table, for example
            C{"oso.toml: dialplan"}, to prefix error locations with.
        @return: a L{DialPlan}.
        @raise oso.config.ConfigError: naming the exact key at fault (array
            items as C{[i]}, counting from 0).
        """
        try:
            return cls(**_argumentsFromConfig(table))
        except _Invalid as e:
            # Imported here: oso.config imports this module.
            from oso.config import ConfigError

            raise ConfigError(where + e.path, e.message) from None


class _Invalid(Exception):
    """
    A problem in the C{[dialplan]} table, found while reading it.

    @ivar path: the key path below the table, for example
        C{".routes[0].pattern"} (empty for the table itself).
    @ivar message: what is wrong.
    """

    def __init__(self, path, message):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def _argumentsFromConfig(table):
    """
    @param table: the C{[dialplan]} table.
    @return: the keyword arguments of L{DialPlan} it gives.
    @raise _Invalid: naming the key at fault.
    """
    _checkTable(table, "", {
        "trunk-access-code", "emergency-numbers", "emergency-trunk-group",
        "routes", "dids",
    })
    arguments = {}
    if "trunk-access-code" in table:
        arguments["trunkAccessCode"] = _at(
            ".trunk-access-code", _checkAccessCode, table["trunk-access-code"]
        )
    if "emergency-numbers" in table:
        numbers = _array(table["emergency-numbers"], ".emergency-numbers")
        arguments["emergencyNumbers"] = [
            _at(f".emergency-numbers[{index}]", _checkDialString, number)
            for index, number in enumerate(numbers)
        ]
    if "emergency-trunk-group" in table:
        arguments["emergencyTrunkGroup"] = _at(
            ".emergency-trunk-group", _checkTrunkGroup, table["emergency-trunk-group"]
        )
    if "routes" in table:
        arguments["routes"] = [
            _routeFromConfig(entry, f".routes[{index}]")
            for index, entry in enumerate(_array(table["routes"], ".routes"))
        ]
    if "dids" in table:
        arguments["dids"] = _didsFromConfig(table["dids"])
    return arguments


def _at(path, check, *args):
    """
    Run a C{_check...} function, turning its L{ValueError} into an
    L{_Invalid} at C{path}.
    """
    try:
        return check(*args)
    except ValueError as e:
        raise _Invalid(path, str(e)) from None


def _checkTable(table, path, known):
    """
    @raise _Invalid: when C{table} is not a table or has a key not in
        C{known}.
    """
    if not isinstance(table, dict):
        raise _Invalid(path, "must be a table")
    for key in table:
        if key not in known:
            raise _Invalid(
                f"{path}.{_key(key)}", f"unknown key; known: {', '.join(sorted(known))}"
            )


def _key(name):
    """
    @return: C{name} as a TOML key: bare when it can be, else quoted.
    """
    return name if _BARE_KEY.fullmatch(name) else json.dumps(name)


def _array(value, path):
    """
    @return: C{value}, a list.
    @raise _Invalid: when it is not one.
    """
    if not isinstance(value, list):
        raise _Invalid(path, "must be an array")
    return value


def _required(table, key, path):
    """
    @return: C{table[key]}.
    @raise _Invalid: when it is missing.
    """
    if key not in table:
        raise _Invalid(f"{path}.{key}", "is required")
    return table[key]


def _routeFromConfig(entry, path):
    """
    @param entry: one C{[[dialplan.routes]]} table.
    @param path: its path, for example C{".routes[0]"}.
    @return: a L{Route}.
    @raise _Invalid: naming the key at fault.
    """
    _checkTable(entry, path, {
        "pattern", "trunk-group", "strip", "prepend", "class-of-service",
    })
    pattern = _at(f"{path}.pattern", _Pattern, _required(entry, "pattern", path))
    trunkGroup = _at(
        f"{path}.trunk-group", _checkTrunkGroup, _required(entry, "trunk-group", path)
    )
    prepend = _at(f"{path}.prepend", _checkPrepend, entry.get("prepend", ""))
    strip = _at(f"{path}.strip", _checkStrip, entry.get("strip", 0), pattern, prepend)
    classOfService = _at(
        f"{path}.class-of-service", _checkClassOfService,
        entry.get("class-of-service", "local"),
    )
    return Route(entry["pattern"], trunkGroup, strip, prepend, classOfService)


def _didsFromConfig(value):
    """
    @param value: the C{[[dialplan.dids]]} array.
    @return: a list of L{DID} and L{DIDRange}.
    @raise _Invalid: naming the key at fault, also for a number given twice.
    """
    dids = []
    seen = {}
    for index, entry in enumerate(_array(value, ".dids")):
        path = f".dids[{index}]"
        _checkTable(entry, path, {"did", "extension", "prefix"})
        if "prefix" in entry:
            for key in ("did", "extension"):
                if key in entry:
                    raise _Invalid(
                        f"{path}.{key}",
                        "a DID range ('prefix') takes no 'did' or 'extension'",
                    )
            key = "prefix"
            number = _at(f"{path}.prefix", _checkPublicNumber, entry["prefix"])
            dids.append(DIDRange(number))
        elif "did" in entry or "extension" in entry:
            key = "did"
            number = _at(f"{path}.did", _checkPublicNumber, _required(entry, "did", path))
            extension = _at(
                f"{path}.extension", _checkDialString, _required(entry, "extension", path)
            )
            dids.append(DID(number, extension))
        else:
            raise _Invalid(path, "needs 'did' and 'extension', or 'prefix'")
        if (key, number) in seen:
            raise _Invalid(
                f"{path}.{key}",
                f"{number!r} is given twice (first at index {seen[key, number]})",
            )
        seen[key, number] = index
    return dids

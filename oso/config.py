"""
The TOML configuration: reading, validating, and errors that name the file
and the key.

L{load} turns a file into L{Settings}; L{defaults} gives the settings of the
embedded default installation that runs when there is no file.  Every
problem is a L{ConfigError} whose C{where} reads like
C{oso.toml: devices[2].number}: the file's name, then the key's path with
C{[i]} for array items.  Keys the schema does not know are errors, so a typo
is never silently ignored.  C{doc/configuration.md} describes the schema.
"""

import datetime
import math
import os
import re
import tomllib
from dataclasses import dataclass, field

from oso.callmodel.devices import (
    MAX_PRESENTABLE_NUMBERS,
    Device,
    DeviceType,
    Features,
    HuntMode,
)
from oso.callmodel.dialplan import DialPlan


class ConfigError(Exception):
    """
    A configuration that cannot be used.

    @ivar where: the file and key at fault, for example
        C{"oso.toml: components.sip.listen[1]"}.
    @ivar message: what is wrong with it.
    """

    def __init__(self, where, message):
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


#: The components that run when the configuration names none: the demo
#: phones, CSTA on TCP 8800 (what a CTI application of a PBX expects) and
#: call data records.  C{csta} comes before C{cdr}, whose CSTA services
#: need its registry.
DEFAULT_COMPONENTS = ("virtual-phones", "csta", "cdr", "gserver")
#: The digest realm when the configuration names none.
DEFAULT_REALM = "oso"
#: The classes of service a device may have, narrowest first.
CLASSES_OF_SERVICE = ("internal", "local", "national", "international")

_NUMBER = re.compile(r"[0-9]{1,15}")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


@dataclass(frozen=True)
class Settings:
    """
    A validated configuration.

    @ivar source: the configuration file's name, or C{"<defaults>"}.
    @ivar dataDirectory: the data directory the file asks for, or L{None}
        (the command line and the default decide).
    @ivar realm: the digest realm of device credentials.
    @ivar components: the names of the components to run, in start order.
    @ivar componentSections: each C{[components.NAME]} table as written,
        keyed by component name; the component validates it.
    @ivar devices: stations, trunks and groups
        (L{oso.callmodel.devices.Device}), stations and trunks first, each
        kind in file order.
    @ivar passwords: device number to plain password, for the devices whose
        configuration gives one.
    @ivar dialPlan: the L{oso.callmodel.dialplan.DialPlan}.
    """

    source: str
    dataDirectory: str | None = None
    realm: str = DEFAULT_REALM
    components: tuple = DEFAULT_COMPONENTS
    componentSections: dict = field(default_factory=dict)
    devices: tuple = ()
    passwords: dict = field(default_factory=dict)
    dialPlan: DialPlan | None = None


def defaults():
    """
    The settings of the embedded default installation, as if read from an
    empty file: the default components, no devices (the server makes its
    demo extensions when neither configuration nor store has any).

    @rtype: L{Settings}
    """
    source = "<defaults>"
    return Settings(
        source=source, dialPlan=DialPlan.fromConfig({}, f"{source}: dialplan")
    )


def load(path):
    """
    Read and validate a configuration file.

    @param path: the file's path.
    @type path: L{str} or L{os.PathLike}
    @rtype: L{Settings}
    @raise ConfigError: when the file cannot be read, is not TOML, or does
        not fit the schema.
    """
    source = os.path.basename(os.fspath(path))
    try:
        with open(path, "rb") as f:
            document = tomllib.load(f)
    except OSError as e:
        raise ConfigError(source, f"cannot read {os.fspath(path)}: {e.strerror}")
    except UnicodeDecodeError as e:
        raise ConfigError(source, f"not UTF-8 text: {e.reason} at byte {e.start}")
    except tomllib.TOMLDecodeError as e:
        raise _syntaxError(source, e)
    return _Reader(source).settings(document)


def _syntaxError(source, error):
    """
    @return: a L{ConfigError} naming the line of a TOML syntax error.
    """
    message = str(error)
    position = _TOML_POSITION.search(message)
    if position is None:
        return ConfigError(source, message)
    line, column = position.groups()
    return ConfigError(
        f"{source}: line {line}", f"{message[: position.start()]} (column {column})"
    )


def _formatPath(path):
    """
    @param path: keys (L{str}) and array indices (L{int}).
    @return: the path the way C{oso.toml: devices[2].number} writes it.
    """
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            key = part if _BARE_KEY.fullmatch(part) else _quote(part)
            text += f".{key}" if text else key
    return text


def _quote(text):
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _typeName(value):
    """
    @return: the TOML name of the type of a value C{tomllib} produced.
    """
    # bool before int: True is an int to Python, a boolean to TOML.
    for kind, name in (
        (bool, "boolean"),
        (str, "string"),
        (int, "integer"),
        (float, "float"),
        (list, "array"),
        (dict, "table"),
        (datetime.datetime, "datetime"),
        (datetime.date, "date"),
        (datetime.time, "time"),
    ):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _choices(values):
    return ", ".join(repr(v) for v in values)


class _Table:
    """
    One TOML table being read: typed access to its keys, and errors that
    name them.
    """

    def __init__(self, source, path, data, known):
        """
        @param known: the keys the schema allows here.
        @raise ConfigError: for the first key not in C{known}.
        """
        self.source = source
        self.path = path
        self.data = data
        for key in data:
            if key not in known:
                raise ConfigError(self.where(key), "unknown key")

    def where(self, *parts):
        return f"{self.source}: {_formatPath(self.path + parts)}"

    def __contains__(self, key):
        return key in self.data

    def _typed(self, key, default, accept, expected):
        if key not in self.data:
            if default is _REQUIRED:
                raise ConfigError(self.where(key), "required key missing")
            return default
        value = self.data[key]
        if not isinstance(value, accept) or (
            isinstance(value, bool) and bool not in accept
        ):
            raise ConfigError(
                self.where(key), f"expected {expected}, got {_typeName(value)}"
            )
        return value

    def string(self, key, default=None):
        """
        @return: the non-empty string under C{key}, or C{default}.
        """
        value = self._typed(key, default, (str,), "a string")
        if key in self.data and value == "":
            raise ConfigError(self.where(key), "must not be empty")
        return value

    def number(self, key, default=None):
        """
        @return: a directory number (1 to 15 digits) under C{key}.
        """
        value = self.string(key, default)
        if value is not None and not _NUMBER.fullmatch(value):
            raise ConfigError(
                self.where(key), f"expected 1 to 15 digits, got {value!r}"
            )
        return value

    def choice(self, key, choices, default):
        """
        @return: the string under C{key}, one of C{choices}.
        """
        value = self.string(key, default)
        if value not in choices:
            raise ConfigError(
                self.where(key), f"expected one of {_choices(choices)}, got {value!r}"
            )
        return value

    def boolean(self, key, default):
        """
        @return: the boolean under C{key}, or C{default}.
        """
        return self._typed(key, default, (bool,), "a boolean")

    def numbers(self, key, most):
        """
        @return: the array of up to C{most} distinct numbers (1 to 15
            digits each) under C{key}, as a L{tuple} (empty when absent).
        """
        values = self.strings(key, [])
        if len(values) > most:
            raise ConfigError(self.where(key), f"at most {most} numbers, got {len(values)}")
        for index, value in enumerate(values):
            if not _NUMBER.fullmatch(value):
                raise ConfigError(
                    self.where(key, index), f"expected 1 to 15 digits, got {value!r}"
                )
        return values

    def count(self, key):
        """
        @return: the integer of at least 0 under C{key}, or L{None}.
        """
        value = self._typed(key, None, (int,), "an integer")
        if value is not None and value < 0:
            raise ConfigError(self.where(key), f"must be 0 or more, got {value}")
        return value

    def seconds(self, key, default):
        """
        @return: the positive, finite number under C{key} as a L{float}.
        """
        value = self._typed(key, default, (int, float), "a number")
        if not (math.isfinite(value) and value > 0):
            raise ConfigError(self.where(key), f"must be more than 0, got {value}")
        return float(value)

    def strings(self, key, default):
        """
        @return: the array of distinct non-empty strings under C{key}, as a
            L{tuple}.
        """
        values = self._typed(key, default, (list,), "an array")
        seen = set()
        for index, value in enumerate(values):
            if not isinstance(value, str):
                raise ConfigError(
                    self.where(key, index), f"expected a string, got {_typeName(value)}"
                )
            if value == "":
                raise ConfigError(self.where(key, index), "must not be empty")
            if value in seen:
                raise ConfigError(self.where(key, index), f"{value!r} is listed twice")
            seen.add(value)
        return tuple(values)

    def raw(self, key):
        """
        @return: the table under C{key} as it was written (empty when
            absent), for a part that validates its own keys.
        """
        return self._typed(key, {}, (dict,), "a table")

    def table(self, key, known):
        """
        @return: the L{_Table} under C{key} (empty when absent).
        """
        return _Table(self.source, self.path + (key,), self.raw(key), known)

    def tables(self, key, known):
        """
        @return: the L{_Table}s of the array of tables under C{key}.
        """
        values = self._typed(key, [], (list,), "an array of tables")
        tables = []
        for index, value in enumerate(values):
            if not isinstance(value, dict):
                raise ConfigError(
                    self.where(key, index), f"expected a table, got {_typeName(value)}"
                )
            tables.append(_Table(self.source, self.path + (key, index), value, known))
        return tables


_REQUIRED = object()

_TOP = {"server", "dialplan", "devices", "groups", "components"}
_SERVER = {"data-dir", "realm", "components"}
_DEVICE = {
    "number",
    "name",
    "type",
    "port",
    "class-of-service",
    "pickup-group",
    "public-number",
    "trunk-group",
    "password",
    "no-answer-seconds",
    "withhold-caller-id",
    "presentable-numbers",
}
#: The keys only a station may have.
_STATION_ONLY = ("password", "withhold-caller-id", "presentable-numbers")
_GROUP = {
    "number",
    "name",
    "members",
    "hunt",
    "no-answer-seconds",
    "pickup-group",
    "public-number",
}
_DEVICE_TYPES = (DeviceType.station.value, DeviceType.trunk.value)
_HUNT_MODES = tuple(mode.value for mode in HuntMode)


class _Reader:
    """
    Validates one parsed configuration document into L{Settings}.
    """

    def __init__(self, source):
        self.source = source
        self.numbers = {}

    def settings(self, document):
        top = _Table(self.source, (), document, _TOP)
        server = top.table("server", _SERVER)
        dataDirectory = server.string("data-dir")
        realm = server.string("realm", DEFAULT_REALM)
        if re.search(r'["\\\x00-\x1f\x7f]', realm):
            raise ConfigError(
                server.where("realm"),
                "must not hold quotes, backslashes or control characters",
            )
        components = server.strings("components", DEFAULT_COMPONENTS)
        sections = self._componentSections(top, components)
        devices, passwords = self._devices(top)
        groups = self._groups(top, {device.number for device in devices})
        return Settings(
            source=self.source,
            dataDirectory=dataDirectory,
            realm=realm,
            components=components,
            componentSections=sections,
            devices=devices + groups,
            passwords=passwords,
            dialPlan=DialPlan.fromConfig(top.raw("dialplan"), top.where("dialplan")),
        )

    def _componentSections(self, top, components):
        sections = top.raw("components")
        for name, section in sections.items():
            where = top.where("components", name)
            if name not in components:
                raise ConfigError(
                    where,
                    f"component {name!r} is not in server.components "
                    f"({_choices(components) or 'empty'})",
                )
            if not isinstance(section, dict):
                raise ConfigError(where, f"expected a table, got {_typeName(section)}")
        return dict(sections)

    def _claim(self, table):
        """
        @return: the table's number, once it is known to be unique.
        """
        number = table.number("number", _REQUIRED)
        if number in self.numbers:
            raise ConfigError(
                table.where("number"),
                f"{number!r} is already the number of {self.numbers[number]}",
            )
        self.numbers[number] = _formatPath(table.path)
        return number

    def _devices(self, top):
        devices = []
        passwords = {}
        for table in top.tables("devices", _DEVICE):
            number = self._claim(table)
            deviceType = DeviceType(table.choice("type", _DEVICE_TYPES, "station"))
            if deviceType is DeviceType.station and "trunk-group" in table:
                raise ConfigError(
                    table.where("trunk-group"), "only trunks have a trunk group"
                )
            if deviceType is DeviceType.trunk:
                for key in _STATION_ONLY:
                    if key in table:
                        raise ConfigError(table.where(key), "only stations have this key")
            password = table.string("password")
            if password is not None:
                passwords[number] = password
            devices.append(
                Device(
                    number=number,
                    name=table.string("name", ""),
                    type=deviceType,
                    port=table.string("port", _REQUIRED),
                    classOfService=table.choice(
                        "class-of-service", CLASSES_OF_SERVICE, "international"
                    ),
                    pickupGroup=table.count("pickup-group"),
                    trunkGroup=table.string("trunk-group"),
                    publicNumber=table.number("public-number"),
                    withholdCallerID=table.boolean("withhold-caller-id", False),
                    presentableNumbers=table.numbers("presentable-numbers", MAX_PRESENTABLE_NUMBERS),
                    features=self._features(table),
                )
            )
        return tuple(devices), passwords

    def _groups(self, top, deviceNumbers):
        groups = []
        for table in top.tables("groups", _GROUP):
            number = self._claim(table)
            members = table.strings("members", _REQUIRED)
            if not members:
                raise ConfigError(table.where("members"), "a group needs a member")
            for index, member in enumerate(members):
                if member not in deviceNumbers:
                    raise ConfigError(
                        table.where("members", index),
                        f"{member!r} is not the number of a station or trunk "
                        "in [[devices]]",
                    )
            groups.append(
                Device(
                    number=number,
                    name=table.string("name", ""),
                    type=DeviceType.group,
                    members=members,
                    huntMode=HuntMode(table.choice("hunt", _HUNT_MODES, "linear")),
                    pickupGroup=table.count("pickup-group"),
                    publicNumber=table.number("public-number"),
                    features=self._features(table),
                )
            )
        return tuple(groups)

    def _features(self, table):
        default = Features().noAnswerSeconds
        return Features(noAnswerSeconds=table.seconds("no-answer-seconds", default))

"""
Tests for L{oso.config}: the TOML configuration, its defaults, and errors
that name the file and the key.
"""

import re
from pathlib import Path
from textwrap import dedent

import pytest

from oso.callmodel.devices import Device, DeviceType, Features, HuntMode
from oso.callmodel.dialplan import DialPlan
from oso.config import (
    DEFAULT_COMPONENTS,
    ConfigError,
    Settings,
    defaults,
    load,
)

DOC = Path(__file__).resolve().parents[1] / "doc" / "configuration.md"

STATION = """
[[devices]]
number = "100"
port = "virtual-phones"
"""


def loadText(tmp_path, text, name="oso.toml"):
    """
    Write C{text} to a file called C{name} and load it.
    """
    path = tmp_path / name
    path.write_text(dedent(text), encoding="utf-8")
    return load(path)


def error(tmp_path, text):
    """
    @return: the L{ConfigError} loading C{text} raises.
    """
    with pytest.raises(ConfigError) as info:
        loadText(tmp_path, text)
    return info.value


def assertError(tmp_path, text, where, message):
    """
    Loading C{text} fails at exactly C{where} with a message matching the
    regular expression C{message}.
    """
    e = error(tmp_path, text)
    assert e.where == where, str(e)
    assert re.search(message, e.message), str(e)
    assert str(e) == f"{where}: {e.message}"


def test_configErrorText():
    """
    A configuration error reads "where: message".
    """
    e = ConfigError("oso.toml: components.sip.listen[1]", "not an endpoint")
    assert str(e) == "oso.toml: components.sip.listen[1]: not an endpoint"
    assert e.where == "oso.toml: components.sip.listen[1]"
    assert e.message == "not an endpoint"


def test_emptyFile(tmp_path):
    """
    An empty file gives the defaults: the default components, realm "oso",
    no data directory, no devices, no passwords, an empty dial plan.
    """
    settings = loadText(tmp_path, "")
    assert settings.source == "oso.toml"
    assert settings.dataDirectory is None
    assert settings.realm == "oso"
    assert settings.components == DEFAULT_COMPONENTS == ("virtual-phones", "csta", "cdr", "gserver")
    assert settings.componentSections == {}
    assert settings.devices == ()
    assert settings.passwords == {}
    assert isinstance(settings.dialPlan, DialPlan)


def test_defaults():
    """
    Without a file, the settings are those of an empty file under the name
    "<defaults>": the default components, no devices (the server adds its
    demo extensions itself), no passwords, an empty dial plan.
    """
    settings = defaults()
    assert isinstance(settings, Settings)
    assert settings.source == "<defaults>"
    assert settings.dataDirectory is None
    assert settings.realm == "oso"
    assert settings.components == DEFAULT_COMPONENTS
    assert settings.componentSections == {}
    assert settings.devices == ()
    assert settings.passwords == {}
    assert isinstance(settings.dialPlan, DialPlan)


FULL = """
[server]
data-dir = "/var/lib/oso"
realm = "pbx.example.com"
components = ["virtual-phones", "csta"]

[[devices]]
number = "100"
name = "Reception"
type = "station"
port = "virtual-phones"
class-of-service = "national"
pickup-group = 1
public-number = "4930123456100"
password = "secret"
no-answer-seconds = 20
withhold-caller-id = true
presentable-numbers = ["4930123456000"]

[[devices]]
number = "101"
port = "virtual-phones"

[[devices]]
number = "900"
name = "Carrier"
type = "trunk"
port = "sip-trunk"
trunk-group = "carrier"

[[groups]]
number = "200"
name = "Sales"
members = ["101", "100"]
hunt = "circular"
no-answer-seconds = 7.5
pickup-group = 2
public-number = "4930123456200"

[components.csta]
listen = ["tcp:8800"]
"""


def test_everything(tmp_path):
    """
    Every key of the schema lands in its L{Settings} field: server keys,
    stations and trunks with all their fields, groups as group devices with
    members, hunt mode and no-answer time, passwords apart from devices,
    component tables as written.
    """
    settings = loadText(tmp_path, FULL)
    assert settings.dataDirectory == "/var/lib/oso"
    assert settings.realm == "pbx.example.com"
    assert settings.components == ("virtual-phones", "csta")
    assert settings.componentSections == {"csta": {"listen": ["tcp:8800"]}}
    assert settings.passwords == {"100": "secret"}
    assert settings.devices == (
        Device(
            number="100",
            name="Reception",
            type=DeviceType.station,
            port="virtual-phones",
            classOfService="national",
            pickupGroup=1,
            publicNumber="4930123456100",
            withholdCallerID=True,
            presentableNumbers=("4930123456000",),
            features=Features(noAnswerSeconds=20.0),
        ),
        Device(number="101", port="virtual-phones"),
        Device(
            number="900",
            name="Carrier",
            type=DeviceType.trunk,
            port="sip-trunk",
            trunkGroup="carrier",
        ),
        Device(
            number="200",
            name="Sales",
            type=DeviceType.group,
            port=None,
            members=("101", "100"),
            huntMode=HuntMode.circular,
            pickupGroup=2,
            publicNumber="4930123456200",
            features=Features(noAnswerSeconds=7.5),
        ),
    )
    assert all(
        isinstance(d.features.noAnswerSeconds, float) for d in settings.devices
    )


def test_groupDefaults(tmp_path):
    """
    A group hunts linearly and waits the default no-answer time unless told
    otherwise.
    """
    settings = loadText(
        tmp_path, STATION + '[[groups]]\nnumber = "200"\nmembers = ["100"]\n'
    )
    group = settings.devices[-1]
    assert group.huntMode is HuntMode.linear
    assert group.features == Features()
    assert group.port is None


def test_sourceIsBaseName(tmp_path):
    """
    Errors and L{Settings.source} name the file by its base name, wherever
    it lives.
    """
    (tmp_path / "etc").mkdir()
    assert loadText(tmp_path, "", "etc/pbx.toml").source == "pbx.toml"
    with pytest.raises(ConfigError) as info:
        loadText(tmp_path, "x = 1", "etc/pbx.toml")
    assert info.value.where == "pbx.toml: x"


def test_documentedExample(tmp_path):
    """
    The complete example in doc/configuration.md is a valid configuration
    (so the documentation cannot drift from the code unnoticed).
    """
    blocks = re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert blocks, "doc/configuration.md has no toml example"
    for block in blocks:
        settings = loadText(tmp_path, block)
        assert settings.devices


# Unknown keys, at every level.


def test_unknownTopLevelKey(tmp_path):
    """
    A key the schema does not have at the top is an error, not silence.
    """
    assertError(tmp_path, "colour = 1", "oso.toml: colour", "^unknown key$")


def test_unknownQuotedKey(tmp_path):
    """
    A key that is not a bare TOML key is named quoted, as TOML writes it.
    """
    assertError(tmp_path, '"my key" = 1', 'oso.toml: "my key"', "^unknown key$")


def test_unknownServerKey(tmp_path):
    """
    An unknown key in [server] is named with its table.
    """
    assertError(
        tmp_path, "[server]\nlisten = 5060", "oso.toml: server.listen", "unknown key"
    )


def test_unknownDeviceKey(tmp_path):
    """
    An unknown key in the second [[devices]] entry is named with its index.
    """
    text = STATION + '[[devices]]\nnumber = "101"\ncolour = "red"\n'
    assertError(tmp_path, text, "oso.toml: devices[1].colour", "unknown key")


def test_unknownGroupKey(tmp_path):
    """
    An unknown key in a [[groups]] entry is named with its index.
    """
    text = STATION + '[[groups]]\nnumber = "200"\nmembers = ["100"]\nring = "all"\n'
    assertError(tmp_path, text, "oso.toml: groups[0].ring", "unknown key")


def test_groupHasNoPort(tmp_path):
    """
    Keys of stations that groups do not have are unknown in [[groups]].
    """
    text = STATION + '[[groups]]\nnumber = "200"\nmembers = ["100"]\nport = "x"\n'
    assertError(tmp_path, text, "oso.toml: groups[0].port", "unknown key")


# Wrong types.


@pytest.mark.parametrize(
    "text, where, message",
    [
        ("server = 1", "oso.toml: server", "expected a table, got integer"),
        (
            "[server]\nrealm = 5",
            "oso.toml: server.realm",
            "expected a string, got integer",
        ),
        (
            "[server]\ndata-dir = true",
            "oso.toml: server.data-dir",
            "expected a string, got boolean",
        ),
        (
            '[server]\ncomponents = "virtual-phones"',
            "oso.toml: server.components",
            "expected an array, got string",
        ),
        (
            '[server]\ncomponents = ["virtual-phones", 3]',
            "oso.toml: server.components[1]",
            "expected a string, got integer",
        ),
        ("dialplan = 3", "oso.toml: dialplan", "expected a table, got integer"),
        (
            "devices = 1",
            "oso.toml: devices",
            "expected an array of tables, got integer",
        ),
        ('devices = ["100"]', "oso.toml: devices[0]", "expected a table, got string"),
        ("groups = {}", "oso.toml: groups", "expected an array of tables, got table"),
        (
            "[components]\nvirtual-phones = 1",
            "oso.toml: components.virtual-phones",
            "expected a table, got integer",
        ),
        ("components = []", "oso.toml: components", "expected a table, got array"),
        (
            '[[devices]]\nnumber = 100\nport = "p"',
            "oso.toml: devices[0].number",
            "expected a string, got integer",
        ),
        (
            STATION + "name = 1979-05-27",
            "oso.toml: devices[0].name",
            "expected a string, got date",
        ),
        (
            STATION + "name = 1979-05-27T07:32:00Z",
            "oso.toml: devices[0].name",
            "expected a string, got datetime",
        ),
        (
            STATION + 'pickup-group = "1"',
            "oso.toml: devices[0].pickup-group",
            "expected an integer, got string",
        ),
        (
            STATION + "pickup-group = true",
            "oso.toml: devices[0].pickup-group",
            "expected an integer, got boolean",
        ),
        (
            STATION + "pickup-group = 1.5",
            "oso.toml: devices[0].pickup-group",
            "expected an integer, got float",
        ),
        (
            STATION + 'no-answer-seconds = "10"',
            "oso.toml: devices[0].no-answer-seconds",
            "expected a number, got string",
        ),
        (
            STATION + "no-answer-seconds = false",
            "oso.toml: devices[0].no-answer-seconds",
            "expected a number, got boolean",
        ),
        (
            STATION + "password = 1234",
            "oso.toml: devices[0].password",
            "expected a string, got integer",
        ),
        (
            STATION + '[[groups]]\nnumber = "200"\nmembers = "100"',
            "oso.toml: groups[0].members",
            "expected an array, got string",
        ),
        (
            STATION + '[[groups]]\nnumber = "200"\nmembers = [100]',
            "oso.toml: groups[0].members[0]",
            "expected a string, got integer",
        ),
        (
            STATION + '[[groups]]\nnumber = "200"\nmembers = ["100"]\nhunt = 1',
            "oso.toml: groups[0].hunt",
            "expected a string, got integer",
        ),
    ],
)
def test_wrongType(tmp_path, text, where, message):
    """
    A value of the wrong TOML type is named with the type wanted and the
    type found.
    """
    assertError(tmp_path, text, where, f"^{message}$")


# Wrong values.


@pytest.mark.parametrize(
    "text, where, message",
    [
        (
            '[[devices]]\nport = "p"',
            "oso.toml: devices[0].number",
            "required key missing",
        ),
        (
            '[[devices]]\nnumber = "100"',
            "oso.toml: devices[0].port",
            "required key missing",
        ),
        (
            '[[devices]]\nnumber = "10a"\nport = "p"',
            "oso.toml: devices[0].number",
            "expected 1 to 15 digits, got '10a'",
        ),
        (
            '[[devices]]\nnumber = "+4930"\nport = "p"',
            "oso.toml: devices[0].number",
            "expected 1 to 15 digits",
        ),
        (
            '[[devices]]\nnumber = "1234567890123456"\nport = "p"',
            "oso.toml: devices[0].number",
            "expected 1 to 15 digits",
        ),
        (
            '[[devices]]\nnumber = ""\nport = "p"',
            "oso.toml: devices[0].number",
            "must not be empty",
        ),
        (
            '[[devices]]\nnumber = "100"\nport = ""',
            "oso.toml: devices[0].port",
            "must not be empty",
        ),
        (
            STATION + 'type = "group"',
            "oso.toml: devices[0].type",
            "expected one of 'station', 'trunk', got 'group'",
        ),
        (
            STATION + 'class-of-service = "galactic"',
            "oso.toml: devices[0].class-of-service",
            "expected one of 'internal', 'local', 'national', 'international', "
            "got 'galactic'",
        ),
        (
            STATION + "pickup-group = -1",
            "oso.toml: devices[0].pickup-group",
            "must be 0 or more, got -1",
        ),
        (
            STATION + 'public-number = "030 1234"',
            "oso.toml: devices[0].public-number",
            "expected 1 to 15 digits",
        ),
        (
            STATION + "no-answer-seconds = 0",
            "oso.toml: devices[0].no-answer-seconds",
            "must be more than 0, got 0",
        ),
        (
            STATION + "no-answer-seconds = inf",
            "oso.toml: devices[0].no-answer-seconds",
            "must be more than 0, got inf",
        ),
        (
            STATION + "no-answer-seconds = nan",
            "oso.toml: devices[0].no-answer-seconds",
            "must be more than 0, got nan",
        ),
        (
            STATION + 'password = ""',
            "oso.toml: devices[0].password",
            "must not be empty",
        ),
        (
            STATION + 'trunk-group = "carrier"',
            "oso.toml: devices[0].trunk-group",
            "only trunks have a trunk group",
        ),
        (
            '[[devices]]\nnumber = "900"\ntype = "trunk"\nport = "p"\npassword = "x"',
            "oso.toml: devices[0].password",
            "only stations have this key",
        ),
        (
            '[[devices]]\nnumber = "900"\ntype = "trunk"\nport = "p"\nwithhold-caller-id = true',
            "oso.toml: devices[0].withhold-caller-id",
            "only stations have this key",
        ),
        (
            STATION + 'withhold-caller-id = "yes"',
            "oso.toml: devices[0].withhold-caller-id",
            "expected a boolean, got string",
        ),
        (
            STATION + 'presentable-numbers = "4930123456000"',
            "oso.toml: devices[0].presentable-numbers",
            "expected an array, got string",
        ),
        (
            STATION + 'presentable-numbers = ["4930123456000", "+4930123456999"]',
            "oso.toml: devices[0].presentable-numbers[1]",
            "expected 1 to 15 digits, got '+4930123456999'",
        ),
        (
            STATION + 'presentable-numbers = ["4930123456000", "4930123456000"]',
            "oso.toml: devices[0].presentable-numbers[1]",
            "'4930123456000' is listed twice",
        ),
        (
            STATION + "presentable-numbers = [" + ", ".join(f'"{n}"' for n in range(21)) + "]",
            "oso.toml: devices[0].presentable-numbers",
            "at most 20 numbers, got 21",
        ),
        (
            STATION + '[[groups]]\nnumber = "200"\nmembers = ["100"]\nhunt = "random"',
            "oso.toml: groups[0].hunt",
            "expected one of 'linear', 'circular', 'parallel', got 'random'",
        ),
        (
            STATION + '[[groups]]\nnumber = "200"',
            "oso.toml: groups[0].members",
            "required key missing",
        ),
        (
            STATION + '[[groups]]\nnumber = "200"\nmembers = []',
            "oso.toml: groups[0].members",
            "a group needs a member",
        ),
        (
            '[server]\nrealm = ""',
            "oso.toml: server.realm",
            "must not be empty",
        ),
        (
            '[server]\nrealm = "a\\"b"',
            "oso.toml: server.realm",
            "must not hold quotes",
        ),
        (
            '[server]\ndata-dir = ""',
            "oso.toml: server.data-dir",
            "must not be empty",
        ),
        (
            '[server]\ncomponents = ["virtual-phones", ""]',
            "oso.toml: server.components[1]",
            "must not be empty",
        ),
        (
            '[server]\ncomponents = ["virtual-phones", "csta", "virtual-phones"]',
            "oso.toml: server.components[2]",
            "'virtual-phones' is listed twice",
        ),
    ],
)
def test_wrongValue(tmp_path, text, where, message):
    """
    A value of the right type that the schema does not allow is named with
    what is wrong.
    """
    assertError(tmp_path, text, where, re.escape(message))


def test_duplicateDeviceNumber(tmp_path):
    """
    Two devices with one number: the second is at fault, and the message
    names the first.
    """
    text = STATION + '[[devices]]\nnumber = "101"\nport = "p"\n' + STATION
    assertError(
        tmp_path,
        text,
        "oso.toml: devices[2].number",
        re.escape("'100' is already the number of devices[0]"),
    )


def test_groupNumberTakenByDevice(tmp_path):
    """
    A group cannot have a device's number.
    """
    text = STATION + '[[groups]]\nnumber = "100"\nmembers = ["100"]\n'
    assertError(
        tmp_path,
        text,
        "oso.toml: groups[0].number",
        re.escape("'100' is already the number of devices[0]"),
    )


def test_duplicateGroupNumber(tmp_path):
    """
    Two groups with one number: the second is at fault.
    """
    group = '[[groups]]\nnumber = "200"\nmembers = ["100"]\n'
    assertError(
        tmp_path,
        STATION + group + group,
        "oso.toml: groups[1].number",
        re.escape("'200' is already the number of groups[0]"),
    )


def test_unknownGroupMember(tmp_path):
    """
    A group member must be a station or trunk of [[devices]]; the member at
    fault is named by its index.
    """
    text = STATION + '[[groups]]\nnumber = "200"\nmembers = ["100", "109"]\n'
    assertError(
        tmp_path,
        text,
        "oso.toml: groups[0].members[1]",
        re.escape("'109' is not the number of a station or trunk in [[devices]]"),
    )


def test_groupInGroup(tmp_path):
    """
    A group is not a member of another group.
    """
    text = (
        STATION
        + '[[groups]]\nnumber = "200"\nmembers = ["100"]\n'
        + '[[groups]]\nnumber = "201"\nmembers = ["200"]\n'
    )
    assertError(
        tmp_path, text, "oso.toml: groups[1].members[0]", "'200' is not the number"
    )


def test_duplicateGroupMember(tmp_path):
    """
    A member listed twice in one group is an error.
    """
    text = STATION + '[[groups]]\nnumber = "200"\nmembers = ["100", "100"]\n'
    assertError(
        tmp_path, text, "oso.toml: groups[0].members[1]", "'100' is listed twice"
    )


def test_sectionForComponentNotEnabled(tmp_path):
    """
    A [components.NAME] table for a component that server.components does
    not run is an error naming the enabled ones.
    """
    text = '[server]\ncomponents = ["virtual-phones"]\n[components.sip]\nlisten = []\n'
    assertError(
        tmp_path,
        text,
        "oso.toml: components.sip",
        re.escape("component 'sip' is not in server.components ('virtual-phones')"),
    )


def test_sectionWithoutComponents(tmp_path):
    """
    With server.components empty, every component table is an error.
    """
    text = "[server]\ncomponents = []\n[components.virtual-phones]\n"
    assertError(
        tmp_path,
        text,
        "oso.toml: components.virtual-phones",
        re.escape("server.components (empty)"),
    )


def test_componentSectionsAsWritten(tmp_path):
    """
    Component tables reach the component unchanged (their contents are the
    component's to validate), and only the tables written appear.
    """
    text = """
    [server]
    components = ["virtual-phones", "csta", "sip"]
    [components.csta]
    listen = ["tcp:8800", 5]
    whatever = {nested = true}
    """
    settings = loadText(tmp_path, text)
    assert settings.componentSections == {
        "csta": {"listen": ["tcp:8800", 5], "whatever": {"nested": True}}
    }


def test_dialPlanFromTable(tmp_path):
    """
    The [dialplan] table, nested tables included, builds the dial plan.
    """
    text = """
    [dialplan]
    trunk-access-code = "9"
    [[dialplan.routes]]
    pattern = "Z."
    trunk-group = "carrier"
    """
    plan = loadText(tmp_path, text).dialPlan
    assert plan.trunkAccessCode == "9"
    assert len(plan.routes) == 1


def test_dialPlanErrorsNameTheKey(tmp_path):
    """
    The dial plan's own errors are prefixed with the file and
    C{dialplan}, so they read like every other configuration error.
    """
    text = '[dialplan]\n[[dialplan.routes]]\npattern = "Z."\ntrunk-group = "c"\n'
    text += '[[dialplan.routes]]\npattern = "Q"\ntrunk-group = "c"\n'
    e = error(tmp_path, text)
    assert e.where == "oso.toml: dialplan.routes[1].pattern"


# Files that are not configuration at all.


def test_syntaxError(tmp_path):
    """
    A TOML syntax error names the file and the line.
    """
    e = error(tmp_path, '[server]\nrealm = "oso"\nrealm = = 3\n')
    assert e.where == "oso.toml: line 3"
    assert "column" in e.message


def test_syntaxErrorDuplicateKey(tmp_path):
    """
    TOML forbids a key twice in one table; the error names the line.
    """
    e = error(tmp_path, '[server]\nrealm = "a"\n\nrealm = "b"\n')
    assert e.where == "oso.toml: line 4"


def test_missingFile(tmp_path):
    """
    A file that does not exist is a configuration error naming it.
    """
    path = tmp_path / "missing.toml"
    with pytest.raises(ConfigError) as info:
        load(path)
    assert info.value.where == "missing.toml"
    assert info.value.message == f"cannot read {path}: No such file or directory"


def test_directoryInsteadOfFile(tmp_path):
    """
    A directory is not a configuration file.
    """
    (tmp_path / "oso.toml").mkdir()
    with pytest.raises(ConfigError) as info:
        load(str(tmp_path / "oso.toml"))
    assert info.value.where == "oso.toml"
    assert info.value.message.startswith("cannot read ")


def test_notUTF8(tmp_path):
    """
    TOML is UTF-8; other bytes are named as such.
    """
    (tmp_path / "oso.toml").write_bytes(b'[server]\nrealm = "\xff"\n')
    with pytest.raises(ConfigError) as info:
        load(tmp_path / "oso.toml")
    assert info.value.where == "oso.toml"
    assert info.value.message.startswith("not UTF-8 text")

"""
Tests for L{oso.tap}, the options of C{twistd oso}, and the twistd plugin
that offers them.
"""

import os

import pytest
from twisted.application.service import IServiceMaker
from twisted.plugin import getPlugins
from twisted.python.usage import UsageError
from zope.interface.verify import verifyObject

from oso import tap
from oso.plugins.call_log import callLog
from oso.plugins.cdr import cdr
from oso.plugins.csta import csta
from oso.plugins.gserver import gserver
from oso.plugins.virtual_phones import virtualPhones
from oso.service import OsoService


def parse(*arguments):
    """
    @return: L{tap.Options} parsed from C{arguments}.
    """
    options = tap.Options()
    options.parseOptions(list(arguments))
    return options


def configFile(tmp_path, text):
    """
    @return: the path of an C{oso.toml} holding C{text}.
    """
    path = tmp_path / "oso.toml"
    path.write_text(text)
    return str(path)


def usageError(*arguments):
    """
    @return: the message of the L{UsageError} parsing C{arguments} raises.
    """
    with pytest.raises(UsageError) as caught:
        parse(*arguments)
    return str(caught.value)


def test_defaultsWithoutConfig():
    """
    Without C{--config} the options hold the embedded defaults: the default
    components, checked and configured.
    """
    options = parse()
    assert options["settings"].source == "<defaults>"
    assert [component for component, _ in options["components"]] == [virtualPhones, csta, cdr, gserver]


def test_configuredComponentsInOrder(tmp_path):
    """
    C{--config} reads the file; its components come in the file's order,
    each with what its C{validateConfig} made of its section.
    """
    path = configFile(
        tmp_path,
        '[server]\ncomponents = ["call-log", "virtual-phones"]\n'
        "[components.virtual-phones.auto-answer]\n101 = 2\n",
    )
    options = parse("--config", path)
    assert options["components"] == [(callLog, None), (virtualPhones, {"101": 2.0})]


def test_missingFile(tmp_path):
    """
    A configuration file that cannot be read is a usage error naming it.
    """
    missing = str(tmp_path / "nothere.toml")
    assert usageError("--config", missing) == (
        f"nothere.toml: cannot read {missing}: No such file or directory"
    )


def test_unknownKey(tmp_path):
    """
    An unknown key in the file is a usage error naming the file and the key.
    """
    path = configFile(tmp_path, "[server]\ncolour = 'blue'\n")
    assert usageError("-c", path) == "oso.toml: server.colour: unknown key"


def test_unknownComponent(tmp_path):
    """
    A component name that no plugin provides is a usage error listing the
    available names.
    """
    path = configFile(tmp_path, '[server]\ncomponents = ["virtual-phones", "sip-typo"]\n')
    message = usageError("--config", path)
    assert message.startswith("configured component 'sip-typo' was not found; available: ")
    assert "call-log" in message
    assert "virtual-phones" in message


def test_badComponentSection(tmp_path):
    """
    A component's own section is checked by the component while parsing the
    options; its error names the file and the key.
    """
    path = configFile(
        tmp_path,
        '[server]\ncomponents = ["call-log"]\n[components.call-log]\nlevel = "debug"\n',
    )
    assert usageError("--config", path) == (
        "oso.toml: components.call-log.level: unknown key (call-log takes none)"
    )


def test_dataDirectoryPrecedence(tmp_path, monkeypatch):
    """
    The data directory is C{--data-dir}, else the file's C{server.data-dir},
    else C{./oso-data}; relative paths are taken from the working directory.
    """
    monkeypatch.chdir(tmp_path)
    assert parse().dataDirectory().path == str(tmp_path / "oso-data")
    path = configFile(tmp_path, '[server]\ndata-dir = "from-file"\n')
    assert parse("-c", path).dataDirectory().path == str(tmp_path / "from-file")
    assert (
        parse("-c", path, "--data-dir", "given").dataDirectory().path
        == str(tmp_path / "given")
    )
    assert parse("-d", "/var/lib/oso").dataDirectory().path == "/var/lib/oso"


def test_makeService(tmp_path):
    """
    C{makeService} builds the server with one named child service per
    configured component, in order, on the chosen data directory, without
    touching the disk yet.
    """
    path = configFile(tmp_path, '[server]\ncomponents = ["virtual-phones", "call-log"]\n')
    options = parse("-c", path, "-d", str(tmp_path / "data"))
    service = tap.makeService(options)
    assert isinstance(service, OsoService)
    assert [child.name for child in service] == ["virtual-phones", "call-log"]
    assert service.dataDirectory.path == str(tmp_path / "data")
    assert not os.path.exists(tmp_path / "data")


def test_twistdPlugin():
    """
    The twistd plugin C{oso} is a service maker whose options and
    C{makeService} are those of L{oso.tap}.
    """
    [maker] = [m for m in getPlugins(IServiceMaker) if m.tapname == "oso"]
    assert verifyObject(IServiceMaker, maker)
    assert isinstance(maker.options(), tap.Options)
    assert maker.makeService is tap.makeService

"""
A third-party component dropped into an C{oso/plugins/} folder on
C{sys.path} is found, configured, run and used, exactly like a built-in one.

The component is the worked example of C{doc/plugins.md}, taken from the
document itself so that the example stays true.
"""

import re

import pytest
from twisted.internet import reactor
from twisted.internet.defer import ensureDeferred
from twisted.logger import globalLogPublisher
from twisted.python.filepath import FilePath
from twisted.trial.unittest import TestCase

from conftest import CHECKOUT
from oso import config
from oso.components import configureComponents
from oso.service import OsoService

CONFIGURATION = """
[server]
components = ["virtual-phones", "announce"]

[components.announce]
prefix = "ringing:"
"""


def announceModule():
    """
    @return: the source of the complete example in C{doc/plugins.md}.
    """
    document = (CHECKOUT / "doc" / "plugins.md").read_text()
    [source] = [
        block
        for block in re.findall(r"```python\n(.*?)```", document, re.S)
        if "class Announce" in block
    ]
    return source


class DropInTests(TestCase):
    """
    The drop-in in a server running in this process.
    """

    @pytest.fixture(autouse=True)
    def folders(self, tmp_path, dropIn):
        self.tmp_path = tmp_path
        self.dropIn = dropIn

    def test_dropInRunsInProcess(self):
        """
        The server loads the dropped-in component the configuration names,
        with its section, and the component sees the call model's events: a
        call from demo extension 100 to 101 is announced with both names.
        """
        self.dropIn({"announce": announceModule()})
        (self.tmp_path / "oso.toml").write_text(CONFIGURATION)
        settings = config.load(self.tmp_path / "oso.toml")
        service = OsoService(
            settings,
            configureComponents(settings),
            FilePath(str(self.tmp_path / "data")),
            reactor,
        )
        self.assertEqual([child.name for child in service], ["virtual-phones", "announce"])
        announced = []

        def observe(event):
            if event.get("log_format", "").startswith("{prefix} {called} is called by"):
                announced.append((event["prefix"], event["called"], event["caller"]))

        async def go():
            service.startService()
            self.assertTrue(await service.whenStarted())
            phones = service.context.component("virtual-phones").driver
            globalLogPublisher.addObserver(observe)
            try:
                phones.phone("100").offHook("101")
                phones.phone("101").answer()
                phones.phone("100").hangUp()
            finally:
                globalLogPublisher.removeObserver(observe)
                await service.stopService()
            self.assertEqual(announced, [("ringing:", "Demo 101 (101)", "Demo 100 (100)")])

        return ensureDeferred(go())


def test_dropInRunsUnderTwistd(tmp_path, twistd):
    """
    C{twistd -n oso} with the drop-in folder on C{PYTHONPATH} and a
    configuration naming the component starts it after the virtual phones.
    """
    root = tmp_path / "extras"
    (root / "oso" / "plugins").mkdir(parents=True)
    (root / "oso" / "plugins" / "announce.py").write_text(announceModule())
    (tmp_path / "oso.toml").write_text(CONFIGURATION)
    process = twistd(["-n", "oso", "--config", "oso.toml"], cwd=tmp_path, pythonPath=[root])
    ready = process.waitFor("oso ready:")
    assert "oso ready: components virtual-phones, announce;" in ready
    process.stop()
    assert "oso stopped" in process.output()

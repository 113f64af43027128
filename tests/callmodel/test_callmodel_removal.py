"""
Removing a device tells its port to forget it (L{IPortDriver.deviceRemoved}).
"""

from twisted.trial.unittest import SynchronousTestCase

from oso.callmodel.devices import Device
from oso.testing import Exchange


class RemovalTests(SynchronousTestCase):
    def test_portForgetsTheDevice(self):
        """
        A removed virtual phone is forgotten: a new device with its number
        gets a new phone, not the old one's state (here: unplugged).
        """
        x = Exchange()
        old = x.phone("102")
        old.unplug()
        x.model.removeDevice("102")
        x.addDevice(Device("102", port=x.phones.name))
        self.assertIsNot(x.phone("102"), old)
        self.assertTrue(x.phone("102").pluggedIn)

    def test_portFailure(self):
        """
        A port that fails to forget a device is logged; the device is
        removed all the same.
        """
        x = Exchange()

        def broken(number):
            raise RuntimeError("broken port")

        x.phones.deviceRemoved = broken
        x.model.removeDevice("102")
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        self.assertNotIn("102", [d.number for d in x.model.devices()])

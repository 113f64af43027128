"""
Helpers for testing code that works with the call model: a model on a fake
clock with an in-memory store and virtual phones, and an observer that
records events.  Third-party components can use them in their own tests.
"""

from twisted.internet.task import Clock
from zope.interface import implementer

from oso.callmodel.devices import Device, DeviceType, HuntMode
from oso.callmodel.model import CallModel
from oso.interfaces import IEventObserver
from oso.ports.virtual import VirtualPhones
from oso.store.memory import MemoryStore


@implementer(IEventObserver)
class EventRecorder:
    """
    Keeps every event it receives.

    @ivar events: the events, in order.
    """

    def __init__(self):
        self.events = []

    def eventReceived(self, event):
        self.events.append(event)

    def names(self):
        """
        @return: the names of the recorded events, in order.
        """
        return [event.name for event in self.events]

    def take(self):
        """
        @return: the events recorded since the last C{take}, which forgets
            them.
        """
        events, self.events = self.events, []
        return events

    def about(self, device):
        """
        @return: the events a monitor of C{device} would see: those naming
            it in any field.
        """
        return [event for event in self.events if _mentions(event, device)]


def _mentions(event, device):
    for name in event.__dataclass_fields__:
        value = getattr(event, name)
        if value == device or getattr(value, "deviceID", None) == device:
            return True
        if isinstance(value, tuple) and any(
            getattr(v, "deviceID", None) == device
            for pair in value
            for v in (pair if isinstance(pair, tuple) else (pair,))
        ):
            return True
    return False


class Exchange:
    """
    A call model with virtual phones on a fake clock.

    @ivar clock: the L{Clock}; advance it to run timers.
    @ivar store: the L{MemoryStore}.
    @ivar model: the L{CallModel}.
    @ivar phones: the L{VirtualPhones} driver.
    @ivar recorder: an L{EventRecorder} attached to the model.
    """

    def __init__(self, stations=("100", "101", "102", "103"), dialPlan=None):
        self.clock = Clock()
        self.store = MemoryStore()
        self.model = CallModel(self.clock, self.store, dialPlan)
        self.phones = VirtualPhones(self.model, self.clock)
        self.model.registerPort(self.phones)
        self.recorder = EventRecorder()
        self.model.addObserver(self.recorder)
        for number in stations:
            self.addDevice(Device(number, port=self.phones.name))

    def phone(self, number):
        """
        @return: the virtual phone of device C{number}.
        """
        return self.phones.phone(number)

    def addDevice(self, device):
        """
        Add a device to the model and the store at once.
        """
        self.model.loadDevices([device])
        self.store.saveDevice(device)

    def addGroup(self, number, members, mode=HuntMode.linear, **kw):
        """
        Add a hunt group.
        """
        self.addDevice(
            Device(number, type=DeviceType.group, members=tuple(members), huntMode=mode, **kw)
        )

    def call(self, caller, called):
        """
        Call C{called} from phone C{caller} by dialling.

        @return: the caller's connection.
        """
        return self.phone(caller).offHook(called)

"""
The call model: devices, calls and connections in ECMA-269 terms, the
services every interface uses, and the reports port drivers make.

The model knows no protocol.  It keeps its state in memory, persists device
data through the store, takes its time and timers from an injected clock,
and publishes each change as one event on its bus.
"""

import itertools
import re

from twisted.internet.defer import DeferredLock
from twisted.logger import Logger
from zope.interface import implementer

from oso.callmodel import errors
from oso.callmodel import events as ev
from oso.callmodel.bus import EventBus
from oso.callmodel.calls import Call, Connection, Offer
from oso.callmodel.causes import EventCause
from oso.callmodel.devices import DeviceType, ForwardingType
from oso.callmodel.dialplan import DialPlan, InternalNumbers, Outcome
from oso.callmodel.features import FeatureServices
from oso.callmodel.ids import ConnectionID
from oso.callmodel.routing import Routing
from oso.callmodel.states import LocalConnectionState as S
from oso.interfaces import ICallModel, IPortEvents

#: The most parties one conference may hold.
MAX_CONFERENCE = 8

_DIGITS = re.compile(r"[0-9*#A-D]+\Z")

#: States in which a device is using its line: a new call finds it busy.
_BUSY_STATES = frozenset({S.null, S.initiated, S.alerting, S.connected, S.queued, S.fail})


@implementer(ICallModel, IPortEvents)
class CallModel(Routing, FeatureServices):
    """
    The one call model of a running server.

    @ivar clock: the L{IReactorTime} for timestamps and timers.
    @ivar store: the L{IStore} device data is kept in.
    @ivar dialPlan: the L{DialPlan} numbers are analysed with.
    """

    log = Logger()

    def __init__(self, clock, store, dialPlan=None):
        self.clock = clock
        self.store = store
        self.dialPlan = dialPlan if dialPlan is not None else DialPlan()
        self._bus = EventBus(clock)
        self._devices = InternalNumbers()
        self._ports = {}
        self._calls = {}
        self._byDevice = {}
        self._queues = {}
        self._huntPointers = {}
        self._callIDs = itertools.count(1)
        self._featureLock = DeferredLock()
        self._servicingQueues = False

    # Observers, ports and devices.

    def addObserver(self, observer):
        self._bus.addObserver(observer)

    def removeObserver(self, observer):
        self._bus.removeObserver(observer)

    def registerPort(self, driver):
        """
        Let C{driver} (an L{IPortDriver}) serve the devices whose C{port}
        names it.
        """
        self._ports[driver.name] = driver

    def unregisterPort(self, name):
        """
        Forget the port driver called C{name}; its devices are out of
        service until it comes back.
        """
        self._ports.pop(name, None)

    def loadDevices(self, devices):
        """
        Put devices read from the store into the model (at start-up).
        """
        for device in devices:
            self._devices[device.number] = device

    def device(self, number):
        try:
            return self._devices[number]
        except (KeyError, TypeError):
            raise errors.invalidDeviceID(f"no device {number!r}") from None

    def devices(self):
        return [self._devices[n] for n in sorted(self._devices)]

    def addDevice(self, device):
        def stored(_):
            self._devices[device.number] = device
            return device

        return self._featureLock.run(
            lambda: self.store.saveDevice(device).addCallback(stored)
        )

    def removeDevice(self, number):
        self.device(number)
        if self._byDevice.get(number):
            raise errors.resourceBusy(f"device {number} is in a call")

        def deleted(_):
            device = self._devices.pop(number, None)
            driver = self._ports.get(device.port) if device is not None else None
            if driver is not None:
                try:
                    driver.deviceRemoved(number)
                except Exception:
                    self.log.failure("port {port} failed to forget device {number}",
                                port=driver.name, number=number)

        return self._featureLock.run(
            lambda: self.store.deleteDevice(number).addCallback(deleted)
        )

    def call(self, callID):
        try:
            return self._calls[callID]
        except (KeyError, TypeError):
            raise errors.invalidCallID(f"no call {callID!r}") from None

    def calls(self):
        return list(self._calls.values())

    # Call control services.

    def makeCall(self, callingDevice, calledDirectoryNumber, autoOriginate=False,
                 accountCode=None):
        device = self._station(callingDevice, errors.invalidCallingDeviceID)
        if self._terminal(device.number) is None:
            raise errors.deviceOutOfService(f"device {device.number} is not attached")
        if self._isBusy(device.number):
            raise errors.invalidDeviceState(f"device {device.number} is busy")
        self._checkDestination(calledDirectoryNumber, device)
        call = self._newCall(device.number, calledDirectoryNumber)
        call.accountCode = accountCode
        return self._originateFor(
            call, device.number, EventCause.makeCall, autoOriginate
        ).id

    def answerCall(self, connection):
        conn = self._connection(connection)
        if conn.state not in (S.null, S.alerting) and not (
            conn.origination and conn.state is S.initiated
        ):
            raise errors.invalidCallState(f"{conn.id} is {conn.state.name}, not alerting")
        self._terminal(conn.device, required=True).answer(conn)

    def clearConnection(self, connection):
        conn = self._connection(connection)
        if conn.state in (S.null, S.alerting) and not conn.origination:
            self._refuseOffer(conn, EventCause.busy, tellTerminal=True)
        else:
            self._leave(conn, EventCause.normalClearing, tellTerminal=True)

    def clearCall(self, callID):
        self._clearAll(self.call(callID), EventCause.normalClearing)

    def holdCall(self, connection):
        conn = self._connection(connection, S.connected)
        self._terminal(conn.device, required=True).hold(conn)
        self._hold(conn, EventCause.normal)

    def retrieveCall(self, connection):
        conn = self._connection(connection, S.hold)
        if self._active(conn.device):
            raise errors.invalidDeviceState(
                f"device {conn.device} has an active call; alternate instead"
            )
        self._terminal(conn.device, required=True).retrieve(conn)
        self._retrieve(conn, EventCause.normal)

    def consultationCall(self, existingConnection, consultedDevice):
        conn = self._connection(existingConnection)
        if conn.state not in (S.connected, S.hold):
            raise errors.invalidCallState(f"{conn.id} is {conn.state.name}")
        if any(c is not conn for c in self._active(conn.device)):
            raise errors.invalidDeviceState(f"device {conn.device} has another active call")
        device = self._devices[conn.device]
        self._checkDestination(consultedDevice, device)
        terminal = self._terminal(conn.device, required=True)
        if conn.state is S.connected:
            terminal.hold(conn)
            self._hold(conn, EventCause.consultation)
        call = self._newCall(conn.device, consultedDevice)
        new = self._originateFor(call, conn.device, EventCause.consultation, True)
        return conn.id, new.id

    def alternateCall(self, activeConnection, otherConnection):
        active = self._connection(activeConnection, S.connected)
        other = self._connection(otherConnection, S.hold)
        self._sameDevice(active, other)
        terminal = self._terminal(active.device, required=True)
        terminal.hold(active)
        self._hold(active, EventCause.alternate)
        terminal.retrieve(other)
        self._retrieve(other, EventCause.alternate)

    def reconnectCall(self, activeConnection, heldConnection):
        active = self._connection(activeConnection)
        held = self._connection(heldConnection, S.hold)
        self._sameDevice(active, held)
        if active is held or active.state is S.hold:
            raise errors.invalidCallState(f"{active.id} is not the active call")
        terminal = self._terminal(held.device, required=True)
        self._leave(active, EventCause.normalClearing, tellTerminal=True)
        terminal.retrieve(held)
        self._retrieve(held, EventCause.normal)

    def transferCall(self, heldConnection, activeConnection):
        held, active, far = self._twoCalls(heldConnection, activeConnection)
        if not far:
            raise errors.invalidCallState(f"{active.id} has no party to transfer to")
        if not any(c.state in (S.connected, S.hold) for c in far + held.call.others(held)):
            raise errors.invalidCallState("neither call has a party that answered")
        primary, secondary = held.call, active.call
        heldID, activeID = held.id, active.id
        self._release(held, EventCause.transfer, emit=False)
        self._release(active, EventCause.transfer, emit=False)
        pairs = self._merge(secondary, primary)
        self._emit(
            ev.Transferred,
            EventCause.transfer,
            None,
            primaryOldCall=heldID,
            secondaryOldCall=activeID,
            transferringDevice=heldID.deviceID,
            transferredToDevice=far[0].device,
            transferredConnections=pairs,
        )
        self._exchangeMedia(primary)
        self._afterChange(primary)
        return primary.id

    def conferenceCall(self, heldConnection, activeConnection):
        held, active, far = self._twoCalls(heldConnection, activeConnection)
        if not any(c.state in (S.connected, S.hold) for c in far):
            raise errors.invalidCallState(f"{active.id} has no connected party")
        primary, secondary = held.call, active.call
        if len(primary.live()) + len(far) > MAX_CONFERENCE:
            raise errors.conferenceMemberLimitExceeded(
                f"a conference holds at most {MAX_CONFERENCE} parties"
            )
        terminal = self._terminal(held.device, required=True)
        heldID, activeID = held.id, active.id
        self._release(active, EventCause.conference, emit=False)
        pairs = self._merge(secondary, primary)
        terminal.retrieve(held)
        held.state = S.connected
        self._emit(
            ev.Conferenced,
            EventCause.conference,
            None,
            primaryOldCall=heldID,
            secondaryOldCall=activeID,
            conferencingDevice=held.device,
            addedParty=far[0].device,
            conferenceConnections=pairs,
        )
        return held.id

    def singleStepTransferCall(self, activeConnection, transferredTo):
        conn = self._connection(activeConnection, S.connected)
        call = conn.call
        others = call.others(conn)
        if len(others) != 1 or others[0].state not in (S.connected, S.hold):
            raise errors.invalidCallState(f"{conn.id} is not a two-party connected call")
        analysis = self._checkDestination(transferredTo, self._devices.get(conn.device))
        remaining = others[0]
        if analysis.kind == "internal" and analysis.destination == remaining.device:
            raise errors.invalidDestination(f"{transferredTo} is the other party of the call")
        transferringID = conn.id
        self._release(conn, EventCause.singleStepTransfer, emit=False)
        self._emit(
            ev.Transferred,
            EventCause.singleStepTransfer,
            None,
            primaryOldCall=transferringID,
            secondaryOldCall=None,
            transferringDevice=transferringID.deviceID,
            transferredToDevice=transferredTo,
            transferredConnections=((remaining.id, remaining.id),),
        )
        call.callingDevice = remaining.device
        call.presentedNumber = None
        call.calledDevice = transferredTo
        call.redirections.append(transferringID.deviceID)
        call.lastRedirectionDevice = transferringID.deviceID
        if analysis.kind == "internal":
            self._deliver(
                call, analysis.destination, transferringID.deviceID,
                EventCause.singleStepTransfer,
            )
        else:
            self._toNetwork(call, remaining, analysis)
        return remaining.id

    def deflectCall(self, connection, newDestination):
        conn = self._connection(connection)
        if conn.state not in (S.null, S.alerting) or conn.origination:
            raise errors.invalidCallState(f"{conn.id} is not alerting")
        analysis = self._checkDestination(newDestination, None)
        if analysis.kind == "internal" and analysis.destination == conn.device:
            raise errors.invalidDestination("a call cannot be deflected to itself")
        call = conn.call
        hunt, call.hunt = call.hunt, None
        if hunt is not None:
            # The call leaves the group: its other members stop ringing.
            for other in hunt.ringing:
                if other is not conn:
                    self._release(other, EventCause.redirected)
        self._divert(call, conn.device, newDestination, EventCause.redirected, conn)

    def generateDigits(self, connection, digits):
        conn = self._connection(connection, S.connected)
        if not isinstance(digits, str) or not _DIGITS.match(digits):
            raise errors.invalidParameterValue(f"not DTMF digits: {digits!r}")
        self._terminal(conn.device, required=True).generateDigits(conn, digits)

    def directedPickupCall(self, callToBePickedUp, requestingDevice):
        if isinstance(callToBePickedUp, ConnectionID):
            target = self._connection(callToBePickedUp)
            if target.state is not S.alerting:
                raise errors.invalidCallState(f"{target.id} is not alerting")
        else:
            self.device(callToBePickedUp)
            ringing = self._alertingAt([callToBePickedUp])
            if not ringing:
                raise errors.noCallToAnswer(f"nothing alerts at {callToBePickedUp}")
            target = ringing[0]
        return self._pickup(target, requestingDevice)

    def groupPickupCall(self, requestingDevice):
        device = self._station(requestingDevice, errors.invalidDeviceID)
        if device.pickupGroup is None:
            raise errors.requestIncompatibleWithDevice(
                f"device {device.number} is in no pickup group"
            )
        members = [
            d.number
            for d in self._devices.values()
            if d.pickupGroup == device.pickupGroup and d.number != device.number
        ]
        ringing = [
            c for c in self._alertingAt(members) if device.number not in c.call.connections
        ]
        if not ringing:
            raise errors.noCallToAnswer(f"no call alerts in pickup group {device.pickupGroup}")
        return self._pickup(ringing[0], device.number)

    # Snapshots.

    def snapshotDevice(self, device):
        self.device(device)
        return [
            (c.id, c.state)
            for c in self._byDevice.get(device, ())
            if c.state is not S.null
        ]

    def snapshotCall(self, callID):
        return [(c.device, c.id, c.state) for c in self.call(callID).live()]

    # Reports from port drivers.

    def originate(self, device, digits="", media=None, callingNumber=None, restricted=False):
        dev = self.device(device)
        if dev.type is DeviceType.trunk:
            return self._incoming(dev, digits, media, callingNumber, restricted)
        call = self._newCall(dev.number, "")
        call.callingRestricted = call.callingRestricted or restricted
        if callingNumber is not None:
            # Its own internal number means its public number to the network.
            if not dev.mayPresent(callingNumber):
                self.log.info("device {device} may not present {number}; ignored",
                              device=dev.number, number=callingNumber)
            elif callingNumber != dev.number:
                call.presentedNumber = callingNumber.removeprefix("+")
        conn = self._addConnection(call, dev.number, S.initiated)
        conn.media = media
        self._emit(ev.ServiceInitiated, EventCause.newCall, conn, initiatingDevice=dev.number)
        call.dialled = digits
        if digits:
            self._route(call, conn, digits)
        return conn

    def dialDigits(self, connection, digits):
        if self._stale(connection, "dialDigits"):
            return
        if connection.state is not S.initiated or connection.origination:
            self.log.info("digits {digits} on {conn} ignored", digits=digits, conn=connection)
            return
        call = connection.call
        call.dialled += digits
        self._emit(
            ev.DigitsDialed,
            EventCause.newCall,
            connection,
            dialingDevice=connection.device,
            dialingSequence=digits,
        )
        self._route(call, connection, call.dialled)

    def alerting(self, connection):
        if self._stale(connection, "alerting") or connection.state is not S.null:
            return
        if connection.origination:
            return
        self._alert(connection)

    def answered(self, connection, media=None):
        if self._stale(connection, "answered"):
            return
        if media is not None:
            connection.media = media
        call = connection.call
        if connection.origination:
            if connection.state is S.initiated:
                connection.origination = False
                self._route(call, connection, call.dialled, connection.cause)
            return
        if connection.state not in (S.null, S.alerting):
            return
        if connection.state is S.null and connection.cause is not EventCause.callPickup:
            self._alert(connection)
            if connection.ended:
                return
        connection.cancelTimer()
        self._setState(connection, S.connected)
        if call.answered is None:
            call.answered = self.clock.seconds()
        hunt, call.hunt = call.hunt, None
        self._emit(
            ev.Established,
            connection.cause or EventCause.newCall,
            connection,
            answeringDevice=self._partyName(connection),
            callingDevice=self._callingName(call),
            calledDevice=call.calledDevice,
            lastRedirectionDevice=call.lastRedirectionDevice,
        )
        if hunt is not None:
            for other in hunt.ringing:
                if other is not connection and not other.ended:
                    self._release(other, EventCause.multipleAlerting)
        self._exchangeMedia(call)

    def rejected(self, connection, cause):
        if self._stale(connection, "rejected"):
            return
        if connection.state in (S.null, S.alerting) or connection.origination:
            self._refuseOffer(connection, cause, tellTerminal=False)
        else:
            self._leave(connection, cause, tellTerminal=False)

    def cleared(self, connection, cause):
        if self._stale(connection, "cleared"):
            return
        if connection.state in (S.null, S.alerting) and not connection.origination:
            self._refuseOffer(connection, cause, tellTerminal=False)
        else:
            self._leave(connection, cause, tellTerminal=False)

    def heldByTerminal(self, connection):
        if not self._stale(connection, "held") and connection.state is S.connected:
            self._hold(connection, EventCause.normal)

    def retrievedByTerminal(self, connection):
        if not self._stale(connection, "retrieved") and connection.state is S.hold:
            self._retrieve(connection, EventCause.normal)

    def mediaOffered(self, connection, media):
        if self._stale(connection, "media"):
            return
        connection.media = media
        for other in connection.call.live():
            if other is not connection:
                self._tellMedia(other, media)

    def earlyMedia(self, connection, media):
        if self._stale(connection, "earlyMedia"):
            return
        if connection.state not in (S.null, S.alerting) or connection.origination:
            self.log.info("early media of {conn} ignored: it is no unanswered offer",
                          conn=connection)
            return
        for other in connection.call.live():
            terminal = self._terminal(other.device) if other is not connection else None
            if terminal is not None:
                terminal.earlyMedia(other, media)

    def inService(self, device):
        self.device(device)
        self._emit(ev.BackInService, EventCause.normal, None, device=device)
        self._serviceQueues()

    def outOfService(self, device):
        self.device(device)
        self._emit(ev.OutOfService, EventCause.maintenance, None, device=device)

    # Internals: lookups and checks.

    def _terminal(self, number, required=False):
        device = self._devices.get(number)
        driver = self._ports.get(device.port) if device is not None else None
        terminal = driver.terminalFor(device) if driver is not None else None
        if terminal is None and required:
            raise errors.deviceOutOfService(f"device {number} is not attached")
        return terminal

    def _station(self, number, refuse):
        device = self._devices.get(number)
        if device is None or device.type is not DeviceType.station:
            raise refuse(f"{number!r} is not a station")
        return device

    def _connection(self, connectionID, state=None):
        if not isinstance(connectionID, ConnectionID):
            raise errors.invalidConnectionID(f"not a connection id: {connectionID!r}")
        call = self._calls.get(connectionID.callID)
        conn = call.connections.get(connectionID.deviceID) if call else None
        if conn is None:
            raise errors.invalidConnectionID(f"no connection {connectionID}")
        if state is not None and conn.state is not state:
            raise errors.invalidCallState(
                f"{conn.id} is {conn.state.name}, not {state.name}"
            )
        return conn

    def _checkDestination(self, number, device):
        cos = device.classOfService if device is not None else "international"
        if not isinstance(number, str) or not number:
            raise errors.invalidDestination(f"not a number: {number!r}")
        analysis = self.dialPlan.analyse(number, self._devices, cos)
        if analysis.outcome is not Outcome.complete:
            raise errors.invalidDestination(f"{number} is not a complete, valid number")
        if device is not None and analysis.destination == device.number:
            raise errors.invalidDestination(f"{number} is the calling device itself")
        return analysis

    def _sameDevice(self, a, b):
        if a.device != b.device:
            raise errors.notSameDevice(f"{a.id} and {b.id} are not at one device")
        if a.call is b.call:
            raise errors.invalidCallState(f"{a.id} and {b.id} are the same call")

    def _twoCalls(self, heldConnection, activeConnection):
        held = self._connection(heldConnection, S.hold)
        active = self._connection(activeConnection)
        if active.state not in (S.connected, S.initiated):
            raise errors.invalidCallState(f"{active.id} is {active.state.name}")
        self._sameDevice(held, active)
        far = [c for c in active.call.others(active) if c.state is not S.null]
        if set(c.device for c in far) & set(held.call.connections):
            raise errors.notDifferentDevices("a party is in both calls")
        if not held.call.others(held):
            raise errors.invalidCallState(f"{held.id} has no other party")
        return held, active, far

    def _isBusy(self, number):
        """
        Whether a new call finds the device busy: a phone with only held
        calls is free, a trunk channel carries one call whatever its state.
        """
        connections = self._byDevice.get(number, ())
        device = self._devices.get(number)
        if device is not None and device.type is DeviceType.trunk:
            return bool(connections)
        return any(c.state in _BUSY_STATES for c in connections)

    def _active(self, number):
        return [
            c
            for c in self._byDevice.get(number, ())
            if c.state in (S.initiated, S.connected, S.alerting, S.fail)
        ]

    def _alertingAt(self, numbers):
        ringing = [
            c
            for n in numbers
            for c in self._byDevice.get(n, ())
            if c.state is S.alerting
        ]
        return sorted(ringing, key=lambda c: c.alertingSince)

    def _stale(self, connection, what):
        if not isinstance(connection, Connection) or connection.ended:
            self.log.debug(
                "{what} report for a connection that has ended: {conn!r}",
                what=what,
                conn=connection,
            )
            return True
        return False

    # Internals: changing state.

    def _newCall(self, callingDevice, calledDevice):
        """
        A new call from C{callingDevice}; a station whose administrator
        withholds its caller id makes it presentation restricted.
        """
        device = self._devices.get(callingDevice)
        call = Call(
            id=str(next(self._callIDs)),
            created=self.clock.seconds(),
            callingDevice=callingDevice,
            calledDevice=calledDevice,
            callingRestricted=device is not None and device.withholdCallerID,
        )
        self._calls[call.id] = call
        return call

    def _addConnection(self, call, number, state):
        conn = Connection(call, number, state)
        call.connections[number] = conn
        self._byDevice.setdefault(number, set()).add(conn)
        return conn

    def _setState(self, connection, state):
        connection.state = state

    def _emit(self, eventType, cause, subject, state=None, **fields):
        if isinstance(subject, Connection):
            fields["connection"] = subject.id
            fields["localConnectionInfo"] = subject.state if state is None else state
        elif subject is not None:
            fields["connection"] = subject
            fields["localConnectionInfo"] = state
        if "callingDevice" in fields and subject is not None:
            connection = fields["connection"]
            call = self._calls.get(connection.callID)
            if call is not None and call.callingRestricted and connection.deviceID != fields["callingDevice"]:
                # CLIR: the caller is named only in its own connection's events.
                fields["callingDevice"] = ev.RESTRICTED
        return self._bus.publish(eventType, cause=cause, **fields)

    def _originateFor(self, call, number, cause, autoAnswer):
        conn = self._addConnection(call, number, S.initiated)
        conn.origination = True
        conn.cause = cause
        call.dialled = call.calledDevice
        self._emit(ev.ServiceInitiated, cause, conn, initiatingDevice=number)
        offer = Offer(
            callingDevice=number,
            calledDevice=call.calledDevice,
            reason="origination",
            autoAnswer=autoAnswer,
        )
        self._terminal(number, required=True).offer(conn, offer)
        return conn

    def _incoming(self, trunk, did, media, callingNumber, restricted):
        call = self._newCall(callingNumber or "", did)
        call.trunk = trunk.number
        call.callingRestricted = restricted
        conn = self._addConnection(call, trunk.number, S.connected)
        conn.media = media
        target = self.dialPlan.incoming(did) if did else None
        if target is None:
            self._failCaller(call, did, EventCause.numberUnallocated)
        else:
            call.callingDevice = trunk.number
            call.calledDevice = target
            call.dialled = callingNumber or ""
            self._deliver(call, target, cause=EventCause.newCall)
        return conn

    def _callingName(self, call):
        """
        The calling device events and offers name: for a call that came in
        on a trunk, the caller's number the network gave (what a screen pop
        looks up), else the calling device.
        """
        if call.trunk is not None and call.callingDevice == call.trunk and call.dialled:
            return call.dialled
        return call.callingDevice

    def _partyName(self, connection):
        """
        The device a connection stands for in events: a trunk stands for
        the external number it carries.
        """
        device = self._devices.get(connection.device)
        call = connection.call
        if device is not None and device.type is DeviceType.trunk:
            if call.callingDevice == connection.device and call.dialled:
                return call.dialled
            return call.calledDevice
        return connection.device

    def _alert(self, connection):
        call = connection.call
        self._setState(connection, S.alerting)
        connection.alertingSince = self.clock.seconds()
        self._emit(
            ev.Delivered,
            connection.cause or EventCause.newCall,
            connection,
            alertingDevice=self._partyName(connection),
            callingDevice=self._callingName(call),
            calledDevice=call.calledDevice,
            lastRedirectionDevice=call.lastRedirectionDevice,
        )
        device = self._devices.get(connection.device)
        if (
            not connection.ended
            and connection.state is S.alerting
            and call.hunt is None
            and device is not None
            and device.features.forwardingFor(ForwardingType.forwardNoAns) is not None
        ):
            self._startNoAnswer(connection, device.features.noAnswerSeconds, self._noAnswer)

    def _hold(self, connection, cause):
        self._setState(connection, S.hold)
        self._emit(ev.Held, cause, connection, holdingDevice=connection.device)

    def _retrieve(self, connection, cause):
        self._setState(connection, S.connected)
        self._emit(ev.Retrieved, cause, connection, retrievingDevice=connection.device)

    def _release(self, connection, cause, emit=True, tellTerminal=True):
        """
        Take a connection out of its call, telling its terminal and (if it
        was in the call) the observers.
        """
        if connection.ended:
            return
        wasLive = connection.state is not S.null
        connection.cancelTimer()
        connection.ended = True
        call = connection.call
        if call.connections.get(connection.device) is connection:
            del call.connections[connection.device]
        self._byDevice.get(connection.device, set()).discard(connection)
        hunt = call.hunt
        if hunt is not None and hunt.queued is connection:
            hunt.queued = None
            queue = self._queues.get(hunt.group, [])
            if call in queue:
                queue.remove(call)
        if tellTerminal:
            terminal = self._terminal(connection.device)
            if terminal is not None:
                terminal.clear(connection, cause)
        connection.state = S.null
        if emit and wasLive:
            self._emit(
                ev.ConnectionCleared, cause, connection, releasingDevice=connection.device
            )

    def _refuseOffer(self, connection, cause, tellTerminal):
        """
        An offered call was refused at the device (busy, declined, gone).
        """
        call = connection.call
        device = connection.device
        if connection.origination:
            self._release(connection, cause, tellTerminal=tellTerminal)
            self._clearAll(call, cause)
            return
        self._release(connection, cause, tellTerminal=tellTerminal)
        hunt = call.hunt
        if hunt is not None:
            hunt.refused.add(device)
            if not any(not c.ended for c in hunt.ringing):
                self._hunt(call, EventCause.distributed)
            return
        dev = self._devices.get(device)
        if dev is not None and dev.type is DeviceType.trunk:
            self._failCaller(call, call.calledDevice, cause)
            return
        target = None
        if cause is EventCause.busy and dev is not None:
            target = self._forwardTarget(call, dev, ForwardingType.forwardBusy)
        if target is not None:
            self._divert(call, device, target, EventCause.callForwardBusy)
        else:
            self._failCaller(call, device, cause)
        self._serviceQueues()

    def _leave(self, connection, cause, tellTerminal):
        """
        A device left its call; the call goes on only while two parties
        remain connected (or held).
        """
        call = connection.call
        self._release(connection, cause, tellTerminal=tellTerminal)
        if sum(c.state in (S.connected, S.hold) for c in call.connections.values()) < 2:
            self._clearAll(call, EventCause.normalClearing)
        self._serviceQueues()

    def _clearAll(self, call, cause):
        for conn in list(call.connections.values()):
            self._release(conn, cause)
        if call.id in self._calls:
            del self._calls[call.id]
            call.ended = self.clock.seconds()
            if call.hunt is not None:
                queue = self._queues.get(call.hunt.group, [])
                if call in queue:
                    queue.remove(call)
                call.hunt = None
            self._emit(ev.CallCleared, cause, None, clearedCall=call.id)
        self._serviceQueues()

    def _merge(self, source, target):
        """
        Move every connection of call C{source} into call C{target}.

        @return: C{(old, new)} connection id pairs of the resulting call.
        """
        pairs = [(c.id, c.id) for c in target.connections.values()]
        for conn in list(source.connections.values()):
            old = conn.id
            del source.connections[conn.device]
            conn.call = target
            target.connections[conn.device] = conn
            pairs.append((old, conn.id))
        if source.hunt is not None:
            target.hunt = source.hunt
            for queue in self._queues.values():
                if source in queue:
                    queue[queue.index(source)] = target
        self._calls.pop(source.id, None)
        source.ended = self.clock.seconds()
        return tuple(pairs)

    def _afterChange(self, call):
        """
        After a merge, a call with fewer than two parties ends.
        """
        if len(call.connections) < 2:
            self._clearAll(call, EventCause.normalClearing)

    def _pickup(self, target, requestingDevice):
        device = self._station(requestingDevice, errors.invalidDeviceID)
        if device.number == target.device:
            raise errors.notDifferentDevices("a device cannot pick up its own call")
        if self._terminal(device.number) is None:
            raise errors.deviceOutOfService(f"device {device.number} is not attached")
        if self._isBusy(device.number):
            raise errors.invalidDeviceState(f"device {device.number} is busy")
        call = target.call
        if device.number in call.connections:
            raise errors.invalidDeviceState(f"device {device.number} is in call {call.id}")
        targetID = target.id
        self._release(target, EventCause.callPickup, emit=False)
        self._announceDiversion(
            call, targetID, targetID.deviceID, device.number,
            EventCause.callPickup, call.lastRedirectionDevice,
        )
        call.lastRedirectionDevice = targetID.deviceID
        conn = self._offer(call, device.number, EventCause.callPickup, "pickup", True)
        return ConnectionID(call.id, device.number) if conn.ended else conn.id

    def _callerMedia(self, call, connection):
        for other in call.connections.values():
            if other is not connection and other.media is not None:
                return other.media
        return None

    def _offerFor(self, call, reason="call", autoAnswer=False):
        return Offer(
            callingDevice=self._callingName(call),
            calledDevice=call.calledDevice,
            reason=reason,
            autoAnswer=autoAnswer,
            lastRedirectionDevice=call.lastRedirectionDevice,
            media=self._callerMedia(call, None),
            callingRestricted=call.callingRestricted,
            presentedNumber=call.presentedNumber,
        )

    def _exchangeMedia(self, call):
        """
        In a two-party call, point each party's media at the other's.
        """
        parties = [c for c in call.connections.values() if c.state is S.connected]
        if len(parties) == 2:
            a, b = parties
            self._tellMedia(a, b.media)
            self._tellMedia(b, a.media)

    def _tellMedia(self, connection, media):
        terminal = self._terminal(connection.device)
        if terminal is not None:
            terminal.mediaChanged(connection, media)

"""
Where a call goes: the dial plan's answer turned into an offer to a device,
with forwarding, do not disturb, hunt groups and trunks on the way.
"""

from dataclasses import dataclass, field

from oso.callmodel import events as ev
from oso.callmodel.causes import EventCause
from oso.callmodel.devices import DeviceType, ForwardingType, HuntMode
from oso.callmodel.dialplan import Outcome
from oso.callmodel.ids import ConnectionID
from oso.callmodel.states import LocalConnectionState as S

#: How many times one call may be forwarded before forwarding stops.
MAX_FORWARD_HOPS = 5

#: How many calls may wait at one group before callers get busy.
MAX_QUEUED = 10


@dataclass(eq=False)
class Hunt:
    """
    A call looking for a free member of a group.

    @ivar group: the group's number.
    @ivar order: the members in the order they are tried, cyclically
        from C{position} (a circular group starts after the member that
        rang last).
    @ivar position: index in C{order} of the member ringing now (linear and
        circular), or of the next one to try.
    @ivar queued: the group's connection while the call waits in its queue.
    """

    group: str
    order: list
    position: int = 0
    queued: object = None
    ringing: list = field(default_factory=list)
    refused: set = field(default_factory=set)


class Routing:
    """
    The delivery half of L{oso.callmodel.model.CallModel}.
    """

    def _route(self, call, caller, digits, cause=EventCause.newCall):
        """
        Route the number C{digits} dialled by connection C{caller}.

        @return: L{True} when the number was complete (routed or failed),
            L{False} when more digits are needed.
        """
        device = self._devices.get(caller.device)
        cos = device.classOfService if device else "international"
        analysis = self.dialPlan.analyse(digits, self._devices, cos)
        if analysis.outcome is Outcome.incomplete:
            return False
        if caller.state is S.initiated:
            self._setState(caller, S.connected)
            self._emit(
                ev.Originated,
                cause,
                caller,
                callingDevice=caller.device,
                calledDevice=digits,
            )
        call.calledDevice = (
            analysis.destination if analysis.kind == "internal" else digits
        )
        if analysis.outcome is Outcome.invalid:
            self._failCaller(call, digits, EventCause.invalidNumberFormat)
        elif analysis.kind == "internal":
            if cause is EventCause.makeCall:
                cause = EventCause.newCall
            self._deliver(call, analysis.destination, cause=cause)
        else:
            self._toNetwork(call, caller, analysis)
        return True

    def _deliver(self, call, number, redirectedFrom=None, cause=EventCause.newCall):
        """
        Offer C{call} to the device C{number}, following its forwarding and
        do not disturb settings.
        """
        device = self._devices.get(number)
        if device is None:
            self._failCaller(call, number, EventCause.destNotObtainable)
            return
        if number in call.connections:
            # A party of the call is busy for it, without forwarding: a
            # Diverted event would name its connection as gone.
            self._failCaller(call, number, EventCause.busy)
            return
        if redirectedFrom is not None:
            call.lastRedirectionDevice = redirectedFrom
        if device.type is DeviceType.group:
            self._startHunt(call, device, cause)
            return
        features = device.features
        target = self._forwardTarget(call, device, ForwardingType.forwardImmediate)
        if target is not None:
            self._divert(call, number, target, EventCause.callForwardImmediate)
            return
        if features.doNotDisturb:
            target = self._forwardTarget(
                call, device, ForwardingType.forwardDND
            ) or self._forwardTarget(call, device, ForwardingType.forwardBusy)
            if target is not None:
                self._divert(call, number, target, EventCause.doNotDisturb)
            else:
                self._failCaller(call, number, EventCause.doNotDisturb)
            return
        if self._isBusy(number) or self._terminal(number) is None:
            busyCause = (
                EventCause.busy
                if self._terminal(number) is not None
                else EventCause.destOutOfOrder
            )
            target = self._forwardTarget(call, device, ForwardingType.forwardBusy)
            if target is not None:
                self._divert(call, number, target, EventCause.callForwardBusy)
            else:
                self._failCaller(call, number, busyCause)
            return
        self._offer(call, number, cause)

    def _offer(self, call, number, cause, reason="call", autoAnswer=False):
        """
        Present the call to a free device's terminal.
        """
        connection = self._addConnection(call, number, S.null)
        connection.media = self._callerMedia(call, connection)
        connection.cause = cause
        self._terminal(number).offer(connection, self._offerFor(call, reason, autoAnswer))
        return connection

    def _forwardTarget(self, call, device, forwardingType):
        """
        @return: where C{device} forwards this call for C{forwardingType},
            or L{None} when it does not (or when forwarding again would
            loop or go past L{MAX_FORWARD_HOPS}).
        """
        target = device.features.forwardingFor(forwardingType)
        if target is None:
            return None
        if (
            len(call.redirections) >= MAX_FORWARD_HOPS
            or target in call.redirections
            or target == device.number
            or target == call.callingDevice
        ):
            self.log.info(
                "forwarding of call {call} from {device} to {target} stopped: "
                "loop or too many hops",
                call=call.id,
                device=device.number,
                target=target,
            )
            return None
        return target

    def _divert(self, call, fromDevice, target, cause, connection=None):
        """
        Move the call from C{fromDevice} (ringing there, or never offered)
        on to C{target}.
        """
        call.redirections.append(fromDevice)
        subject = connection.id if connection is not None else ConnectionID(call.id, fromDevice)
        if connection is not None:
            self._release(connection, cause, emit=False)
        self._announceDiversion(
            call, subject, fromDevice, target,
            cause, fromDevice,
        )
        analysis = self.dialPlan.analyse(target, self._devices)
        if analysis.outcome is Outcome.complete and analysis.kind == "internal":
            self._deliver(call, analysis.destination, fromDevice, cause)
        elif analysis.outcome is Outcome.complete:
            caller = call.connections.get(call.callingDevice)
            call.lastRedirectionDevice = fromDevice
            self._toNetwork(call, caller, analysis)
        else:
            self._failCaller(call, target, EventCause.destNotObtainable)

    def _announceDiversion(self, call, subject, divertingDevice, newDestination,
                           cause, lastRedirectionDevice):
        """
        Publish that the call left C{divertingDevice} (whose connection,
        C{subject}, is now null) for C{newDestination}.
        """
        self._emit(
            ev.Diverted,
            cause,
            subject,
            state=S.null,
            divertingDevice=divertingDevice,
            newDestination=newDestination,
            callingDevice=call.callingDevice,
            calledDevice=call.calledDevice,
            lastRedirectionDevice=lastRedirectionDevice,
        )

    def _failCaller(self, call, failingDevice, cause):
        """
        The call cannot be completed: the caller's connection enters the
        fail state and its terminal plays busy or reorder tone.  A caller
        that holds the call hears no tone (it may be in another call): the
        call is cleared, as when the far end of a held call hangs up.
        """
        caller = call.connections.get(call.callingDevice)
        if caller is None or caller.ended or caller.state is S.hold:
            self._clearAll(call, cause)
            return
        for other in call.others(caller):
            self._release(other, cause)
        self._setState(caller, S.fail)
        self._emit(
            ev.Failed,
            cause,
            caller,
            failingDevice=failingDevice,
            callingDevice=call.callingDevice,
            calledDevice=call.calledDevice,
        )
        terminal = self._terminal(caller.device)
        if terminal is not None:
            terminal.failed(caller, cause)

    def _toNetwork(self, call, caller, analysis):
        """
        Send the call out through a free trunk of the route's trunk group
        (any trunk when the dial plan names none, as for an emergency
        number no route covers).
        """
        for trunk in self._devices.values():
            if (
                trunk.type is DeviceType.trunk
                and analysis.trunkGroup in (None, trunk.trunkGroup)
                and not self._isBusy(trunk.number)
                and trunk.number not in call.connections
                and self._terminal(trunk.number) is not None
            ):
                break
        else:
            self._failCaller(call, analysis.destination, EventCause.trunksBusy)
            return
        call.trunk = trunk.number
        call.calledDevice = analysis.destination
        connection = self._addConnection(call, trunk.number, S.null)
        connection.media = self._callerMedia(call, connection)
        self._emit(
            ev.NetworkReached,
            EventCause.networkSignal,
            connection,
            state=S.null,
            networkInterfaceUsed=trunk.number,
            callingDevice=call.callingDevice,
            calledDevice=analysis.destination,
        )
        connection.cause = EventCause.networkSignal
        self._terminal(trunk.number).offer(connection, self._offerFor(call))

    # Hunt groups.

    def _startHunt(self, call, group, cause):
        devices = self._devices
        members = [m for m in group.members if m in devices]
        hunt = call.hunt = Hunt(group.number, members)
        if group.huntMode is HuntMode.circular and members:
            # The member after the last one that rang is tried first: the
            # hunt starts there (the order is cyclic), no rotated copy.
            last = self._huntPointers.get(group.number)
            if last in members:
                hunt.position = members.index(last) + 1
        self._hunt(call, cause)

    def _hunt(self, call, cause=EventCause.distributed):
        """
        Ring the next free member(s) of the call's group, or queue the call.
        """
        hunt = call.hunt
        group = self._devices[hunt.group]
        if hunt.order and hunt.refused.issuperset(hunt.order):
            call.hunt = None
            self._failCaller(call, group.number, EventCause.busy)
            return
        if group.huntMode is HuntMode.parallel:
            free = [m for m in hunt.order if self._memberFree(m, call)]
        else:
            # One member rings at a time: only the first free one from the
            # hunt's position on is looked for (not every member's state).
            member = self._nextFree(call, exclude=None)
            free = [member] if member is not None else []
        if not free:
            self._queueAtGroup(call, group, cause)
            return
        if hunt.queued is not None:
            queued, hunt.queued = hunt.queued, None
            self._queues[group.number].remove(call)
            self._release(queued, EventCause.distributed, emit=False)
            self._announceDiversion(
                call, queued.id, group.number, free[0],
                EventCause.distributed, group.number,
            )
        call.lastRedirectionDevice = group.number
        targets = free
        if group.huntMode is not HuntMode.parallel:
            hunt.position = hunt.order.index(targets[0])
            self._huntPointers[group.number] = targets[0]
        ringing = hunt.ringing = []
        for member in targets:
            connection = self._offer(call, member, cause)
            if call.hunt is not hunt or hunt.ringing is not ringing:
                # The member refused at once and a nested hunt took over.
                return
            if not connection.ended:
                ringing.append(connection)
        if ringing:
            self._startNoAnswer(
                ringing[0], group.features.noAnswerSeconds, self._huntTimeout
            )

    def _memberFree(self, number, call):
        device = self._devices.get(number)
        return (
            number not in call.hunt.refused
            and number not in call.connections
            and device is not None
            and not device.features.doNotDisturb
            and not self._isBusy(number)
            and self._terminal(number) is not None
        )

    def _queueAtGroup(self, call, group, cause):
        hunt = call.hunt
        if hunt.queued is not None:
            return
        target = self._forwardTarget(call, group, ForwardingType.forwardBusy)
        if target is not None:
            call.hunt = None
            self._divert(call, group.number, target, EventCause.callForwardBusy)
            return
        queue = self._queues.setdefault(group.number, [])
        if len(queue) >= MAX_QUEUED or not hunt.order:
            call.hunt = None
            self._failCaller(call, group.number, EventCause.busy)
            return
        queue.append(call)
        hunt.queued = self._addConnection(call, group.number, S.queued)
        self._emit(
            ev.Queued,
            cause,
            hunt.queued,
            queue=group.number,
            callingDevice=call.callingDevice,
            calledDevice=call.calledDevice,
            numberQueued=len(queue),
        )

    def _huntTimeout(self, connection):
        """
        A member did not answer in time: try the next one (linear, circular),
        or overflow through the group's no-answer forwarding.
        """
        call = connection.call
        hunt = call.hunt
        group = self._devices[hunt.group]
        overflow = self._forwardTarget(call, group, ForwardingType.forwardNoAns)
        ringing = [c for c in hunt.ringing if not c.ended]
        if overflow is not None or group.huntMode is HuntMode.parallel:
            if overflow is None:
                return
            call.hunt = None
            for other in ringing[1:]:
                self._release(other, EventCause.alertTimeExpired)
            self._divert(
                call, group.number, overflow, EventCause.callForwardNoAnswer,
                connection=ringing[0] if ringing else None,
            )
            return
        hunt.position += 1
        nextMember = self._nextFree(call, exclude=connection.device)
        if nextMember is None:
            connection.timer = self.clock.callLater(
                group.features.noAnswerSeconds, self._huntTimeout, connection
            )
            return
        self._release(connection, EventCause.alertTimeExpired, emit=False)
        self._announceDiversion(
            call, connection.id, connection.device, nextMember,
            EventCause.alertTimeExpired, group.number,
        )
        hunt.position = hunt.order.index(nextMember)
        self._hunt(call, EventCause.distributed)

    def _nextFree(self, call, exclude):
        hunt = call.hunt
        n = len(hunt.order)
        for step in range(n):
            member = hunt.order[(hunt.position + step) % n]
            if member != exclude and self._memberFree(member, call):
                return member
        return None

    def _serviceQueues(self):
        """
        Members may have become free: give waiting calls to them.

        Hunting releases and offers connections, which lands here again;
        those nested calls return at once and the outer loop goes on.
        """
        if self._servicingQueues:
            return
        self._servicingQueues = True
        try:
            for number, queue in list(self._queues.items()):
                for call in list(queue):
                    hunt = call.hunt
                    if hunt is None or not any(
                        self._memberFree(m, call) for m in hunt.order
                    ):
                        continue
                    self._hunt(call, EventCause.distributed)
        finally:
            self._servicingQueues = False

    def _startNoAnswer(self, connection, seconds, handler):
        connection.cancelTimer()
        connection.timer = self.clock.callLater(seconds, handler, connection)

    def _noAnswer(self, connection):
        """
        A device with no-answer forwarding did not answer in time.
        """
        connection.timer = None
        if connection.ended or connection.state is not S.alerting:
            return
        device = self._devices.get(connection.device)
        target = device and self._forwardTarget(
            connection.call, device, ForwardingType.forwardNoAns
        )
        if target is not None:
            self._divert(
                connection.call,
                connection.device,
                target,
                EventCause.callForwardNoAnswer,
                connection=connection,
            )


"""
CSTA monitors: which call model events reach which link, under which
monitor cross reference id.

A device monitor (ECMA-269 12.2.19, monitor type device) reports every
event of every call its device takes part in, from the device's first
event in the call to the event that takes it out, and the device's own
feature and maintenance events.  A call monitor reports every event of
one call, and follows the call when a transfer or conference merges it
into another.  Membership is learnt from the events themselves, so a
monitor sees exactly what the model announced, in the model's order.
"""

from twisted.application.service import Service
from twisted.logger import Logger
from zope.interface import implementer

from oso.callmodel import errors
from oso.callmodel import events as e
from oso.csta import messages as m
from oso.csta.eventmap import cstaEvent, isFiltered
from oso.interfaces.observer import IEventObserver

#: Events whose subject device leaves the call.
_LEAVING = (e.ConnectionCleared, e.Diverted)


class Monitor:
    """
    One monitor of one link.

    @ivar crossRef: its monitorCrossRefID.
    @ivar link: the L{oso.csta.link.CSTALink} its events go to.
    @ivar device: the monitored device number, for a device monitor.
    @ivar callID: the monitored call, for a call monitor.
    @ivar filter: the L{m.MonitorFilter} of events not to report.
    """

    def __init__(self, crossRef, link, device=None, callID=None, filter=None):
        self.crossRef = crossRef
        self.link = link
        self.device = device
        self.callID = callID
        self.filter = filter

    def __repr__(self):
        watched = self.device if self.device is not None else f"call {self.callID}"
        return f"<Monitor {self.crossRef} {watched}>"


@implementer(IEventObserver)
class Monitors(Service):
    """
    Every monitor of every link, fed by the call model's events while the
    service runs.
    """

    log = Logger()

    def __init__(self, callModel):
        self.callModel = callModel
        self._monitors = {}
        self._byDevice = {}
        self._byCall = {}
        self._members = {}
        self._lastLeft = {}
        self._links = set()
        self._nextCrossRef = 1

    def register(self, registry):
        """
        Serve MonitorStart, MonitorStop and ChangeMonitorFilter on every
        link of C{registry}.
        """
        registry.register(m.MonitorStart, self.start)
        registry.register(m.MonitorStop, self.stop)
        registry.register(m.ChangeMonitorFilter, self.changeFilter)

    def startService(self):
        super().startService()
        self.callModel.addObserver(self)

    def stopService(self):
        self.callModel.removeObserver(self)
        for link in list(self._links):
            self.stopAll(link)
        return super().stopService()

    # --- services -------------------------------------------------------------

    def start(self, link, request):
        """
        MonitorStart: watch a device or a call for C{link}.
        """
        target = request.monitorObject
        if isinstance(target, str):
            self.callModel.device(target)
            monitor = Monitor(self._crossRef(), link, device=target)
            self._byDevice.setdefault(target, set()).add(monitor)
        else:
            call = self.callModel.call(target.callID)
            monitor = Monitor(self._crossRef(), link, callID=call.id)
            self._byCall.setdefault(call.id, set()).add(monitor)
            self._members.setdefault(call.id, set()).update(
                c.device for c in call.live()
            )
        monitor.filter = request.requestedMonitorFilter
        self._monitors[monitor.crossRef] = monitor
        if link not in self._links:
            self._links.add(link)
            link.whenClosed(lambda: self.stopAll(link))
            link.whenOverflowed(lambda: self._overflowed(link))
        self.log.info("CSTA {monitor} started", monitor=monitor)
        return m.MonitorStartResponse(
            monitorCrossRefID=monitor.crossRef,
            actualMonitorFilter=monitor.filter or m.MonitorFilter(),
        )

    def stop(self, link, request):
        """
        MonitorStop from the client.
        """
        self._remove(self._owned(link, request.monitorCrossRefID))
        return m.MonitorStopResponse()

    def changeFilter(self, link, request):
        """
        ChangeMonitorFilter: report from now on what the new filter lets
        through.
        """
        monitor = self._owned(link, request.monitorCrossRefID)
        monitor.filter = request.requestedMonitorFilter
        return m.ChangeMonitorFilterResponse(actualMonitorFilter=monitor.filter)

    def stopAll(self, link):
        """
        End every monitor of C{link} (it closed).
        """
        self._links.discard(link)
        for monitor in self.monitorsOf(link):
            self._remove(monitor)

    def monitorsOf(self, link):
        """
        @return: C{link}'s monitors, oldest first.
        """
        return [monitor for monitor in self._monitors.values() if monitor.link is link]

    def _overflowed(self, link):
        """
        C{link}'s client fell too far behind: end its monitors and tell it
        so with a MonitorStop for each, after the events it has been sent.
        """
        for monitor in self.monitorsOf(link):
            self._remove(monitor)
            link.invoke(m.MonitorStop(monitorCrossRefID=monitor.crossRef))

    def _owned(self, link, crossRef):
        monitor = self._monitors.get(crossRef)
        if monitor is None or monitor.link is not link:
            raise errors.CSTAError(
                errors.UniversalFailure("operation", "invalidCrossRefID"),
                f"no monitor {crossRef} on this link",
            )
        return monitor

    def _remove(self, monitor):
        self._monitors.pop(monitor.crossRef, None)
        index, key = (
            (self._byDevice, monitor.device)
            if monitor.device is not None
            else (self._byCall, monitor.callID)
        )
        watchers = index.get(key, set())
        watchers.discard(monitor)
        if not watchers:
            index.pop(key, None)
        self.log.info("CSTA {monitor} stopped", monitor=monitor)

    def _crossRef(self):
        value = str(self._nextCrossRef)
        self._nextCrossRef += 1
        return value

    # --- events ---------------------------------------------------------------

    def eventReceived(self, event):
        if isinstance(event, e.DeviceEvent):
            watchers = set(self._byDevice.get(event.device, ()))
        else:
            watchers = self._follow(event)
        for monitor in sorted(watchers, key=lambda w: int(w.crossRef)):
            if monitor.crossRef in self._monitors and not isFiltered(event, monitor.filter):
                monitor.link.sendEvent(cstaEvent(event, monitor.crossRef))
        if isinstance(event, e.CallCleared):
            # A call monitor ends with its call (ECMA-269 12.2.19).
            for monitor in self._byCall.pop(event.callID, ()):
                self._monitors.pop(monitor.crossRef, None)

    def _follow(self, event):
        """
        Update which devices take part in which call, and return the
        monitors that cover C{event}.
        """
        if isinstance(event, (e.Transferred, e.Conferenced)):
            return self._merge(event)
        callID = event.callID
        members = self._members.setdefault(callID, set())
        watchers = set(self._byCall.get(callID, ()))
        if isinstance(event, e.CallCleared):
            # The devices that left as the call ended see it end too.
            involved = self._members.pop(callID) | self._lastLeft.pop(callID, set())
        else:
            members.add(event.connection.deviceID)
            involved = set(members)
            if isinstance(event, _LEAVING):
                members.discard(event.connection.deviceID)
                self._lastLeft.setdefault(callID, set()).add(event.connection.deviceID)
            else:
                self._lastLeft.pop(callID, None)
        for device in involved:
            watchers |= self._byDevice.get(device, set())
        return watchers

    def _merge(self, event):
        """
        A transfer or conference joins the secondary call (if any: a
        single-step transfer has none) into the primary:
        the monitors of both cover the event, and call monitors of either
        follow the resulting call.
        """
        pairs = (
            event.transferredConnections
            if isinstance(event, e.Transferred)
            else event.conferenceConnections
        )
        oldCalls = {
            old.callID for old in (event.primaryOldCall, event.secondaryOldCall) if old is not None
        }
        newCalls = {new.callID for _, new in pairs} or {event.primaryOldCall.callID}
        involved = set()
        watchers = set()
        for callID in oldCalls:
            involved |= self._members.pop(callID, set())
            self._lastLeft.pop(callID, None)
            watchers |= self._byCall.pop(callID, set())
        for device in involved:
            watchers |= self._byDevice.get(device, set())
        for callID in newCalls:
            self._members[callID] = {new.deviceID for _, new in pairs if new.callID == callID}
        newCall = min(newCalls)
        for monitor in watchers:
            if monitor.callID is not None:
                monitor.callID = newCall
                self._byCall.setdefault(newCall, set()).add(monitor)
        return watchers

"""
A CSTA client's desk for tests: one sans-I/O link with the call control
and monitor services over an exchange of virtual phones, in BER or XML,
and what each monitor was told, in order.
"""

from oso.csta import ber
from oso.csta import messages as m
from oso.csta.callcontrol import CallControl
from oso.csta.framing import BERFramer, XMLFramer, frameXML
from oso.csta.link import CSTALink
from oso.csta.monitors import Monitors
from oso.csta.operations import operationFor
from oso.csta.services import ServiceRegistry
from oso.csta.xml import Edition, modelCodec
from oso.testing import Exchange

CODEC = modelCodec()
PHASE3 = "1.3.12.0.285.200"

#: The subject connection parameter of each event, for a short summary.
SUBJECTS = (
    "initiatedConnection", "originatedConnection", "connection", "establishedConnection",
    "heldConnection", "retrievedConnection", "droppedConnection", "clearedCall",
    "failedConnection", "queuedConnection", "outboundConnection", "dialingConnection",
    "primaryOldCall",
)


def summary(event):
    """
    C{(event name, subject connection or device)}: what a pinned sequence
    lists.
    """
    name = type(event).__name__.removesuffix("Event")
    for field in SUBJECTS:
        value = getattr(event, field, None)
        if value is not None:
            return name, str(value) if value.deviceID else f"call {value.callID}"
    return name, event.device


class Desk:
    """
    @ivar exchange: the L{Exchange} (call model, virtual phones, clock).
    @ivar link: the L{CSTALink}.
    @ivar events: every event message received, in order.
    """

    def __init__(self, xml=False, backlog=None, eventLimit=10000, sharing=None):
        """
        @param sharing: another L{Desk} whose exchange and services this
            one's link shares (a second client of the same server).
        """
        self.xml = xml
        if sharing is None:
            self.exchange = Exchange()
            self.registry = registry = ServiceRegistry()
            CallControl(self.exchange.model).register(registry)
            self.monitors = Monitors(self.exchange.model)
            self.monitors.register(registry)
            self.monitors.startService()
        else:
            self.exchange, self.registry, self.monitors = sharing.exchange, sharing.registry, sharing.monitors
            registry = self.registry
        self.sent = []
        self.link = CSTALink(
            self.exchange.clock, self.exchange.model, self.sent.append, lambda: None,
            services=registry, backlog=backlog, eventLimit=eventLimit,
        )
        self.events = []
        self.answers = {}
        self._invokeID = 0
        if xml:
            self.request(m.RequestSystemStatus())
        else:
            self.link.dataReceived(ber.encode(m.AssociationRequest(applicationContextName=PHASE3)))
        self.collect()
        self.events.clear()

    def phone(self, number):
        return self.exchange.phone(number)

    def collect(self):
        """
        Sort what the link sent into answers (by invoke id) and events.
        """
        data, self.sent[:] = b"".join(self.sent), []
        if self.xml:
            for invokeID, document in XMLFramer().feed(data):
                _, message = CODEC.decode(document)
                if isinstance(message, (m.CSTAEvent, m.SystemStatus, m.MonitorStop)):
                    self.events.append(message)
                else:
                    self.answers[invokeID] = message
            return
        for frame in BERFramer().feed(data):
            apdu = ber.decode(frame)
            if isinstance(apdu, m.Invoke):
                self.events.append(apdu.argument)
            elif isinstance(apdu, m.ReturnResult):
                self.answers[apdu.invokeID] = apdu.result
            elif isinstance(apdu, m.ReturnError):
                self.answers[apdu.invokeID] = apdu.failure

    def request(self, argument):
        """
        Send one request.

        @return: its response message or universal failure, if it came.
        """
        self._invokeID += 1
        invokeID = self._invokeID
        if self.xml:
            self.link.dataReceived(frameXML(invokeID, CODEC.encode(argument, Edition.ED5)))
        else:
            operation = operationFor(argument).name
            self.link.dataReceived(
                ber.encode(m.Invoke(invokeID=invokeID, operation=operation, argument=argument))
            )
        self.collect()
        return self.answers.get(invokeID)

    def monitor(self, target, **kw):
        """
        Start a monitor; return its cross reference id.
        """
        return self.request(m.MonitorStart(monitorObject=target, **kw)).monitorCrossRefID

    def seen(self, crossRef):
        """
        The summaries of the events monitor C{crossRef} got since the
        last call, and forget them.
        """
        self.collect()
        mine = [summary(e) for e in self.events if getattr(e, "monitorCrossRefID", None) == crossRef]
        self.events = [e for e in self.events if getattr(e, "monitorCrossRefID", None) != crossRef]
        return mine

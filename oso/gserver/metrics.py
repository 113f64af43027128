"""
The G-Server's Prometheus metrics at C{/metrics}, in the text exposition
format 0.0.4, written here (a few lines; no client library).

The figures, each read when scraped:

  - C{oso_sip_registrations}: live SIP bindings (the C{sip} component's
    registrar; without it, the unexpired bindings of the store).
  - C{oso_calls_active}: calls in the call model now.
  - C{oso_calls_total{disposition=...}}: calls ended since the G-Server
    started, counted from the call model's events by L{CallDispositions}.
  - C{oso_csta_links}: CSTA links open now; C{oso_csta_events_delivered_total}
    and C{oso_csta_events_overflowed_total}: events the links sent, and
    dropped because a client fell behind (L{oso.csta.link.EventCounts}).
  - C{oso_cdr_journal_records} and C{oso_cdr_journal_capacity}: records
    waiting in the CDR journal, and the most it keeps.

Figures of a component that is not running are left out.
"""

from dataclasses import dataclass, field
from enum import Enum

from twisted.logger import Logger
from twisted.web.resource import Resource
from zope.interface import implementer

from oso.callmodel import events as e
from oso.callmodel.causes import EventCause
from oso.gserver.answering import Departure, answerLater
from oso.interfaces.observer import IEventObserver

CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"


class Disposition(Enum):
    """
    How a call ended, for C{oso_calls_total}.  A call counts once, when
    its C{CallCleared} comes; a call a transfer or conference merged into
    another counts as part of that one.  The first that applies:

    @cvar answered: some device answered (an C{Established} event).
    @cvar busy: a device was busy: a C{Failed} or C{ConnectionCleared}
        with the cause C{busy} or C{trunksBusy}.
    @cvar noanswer: it rang until the called side or a timer gave up: a
        C{Failed} or C{ConnectionCleared} with the cause C{callNotAnswered}
        or C{alertTimeExpired}.
    @cvar failed: a C{Failed} event with any other cause (wrong number,
        unreachable, refused).
    @cvar abandoned: the caller hung up (or the call was cleared) before
        anybody answered and nothing failed.
    """

    answered = "answered"
    busy = "busy"
    noanswer = "noanswer"
    failed = "failed"
    abandoned = "abandoned"


_BUSY = frozenset({EventCause.busy, EventCause.trunksBusy})
_NO_ANSWER = frozenset({EventCause.callNotAnswered, EventCause.alertTimeExpired})


@dataclass
class _Outcome:
    """
    What happened so far in one call.
    """

    answered: bool = False
    busy: bool = False
    noanswer: bool = False
    failed: bool = False

    def merge(self, other):
        self.answered |= other.answered
        self.busy |= other.busy
        self.noanswer |= other.noanswer
        self.failed |= other.failed

    def disposition(self):
        for name in ("answered", "busy", "noanswer", "failed"):
            if getattr(self, name):
                return Disposition[name]
        return Disposition.abandoned


@implementer(IEventObserver)
class CallDispositions:
    """
    Counts ended calls by L{Disposition}, from the call model's events.

    @ivar totals: L{Disposition} -> calls ended so.
    """

    def __init__(self):
        self.totals = dict.fromkeys(Disposition, 0)
        self._calls = {}

    def eventReceived(self, event):
        if isinstance(event, e.CallCleared):
            outcome = self._calls.pop(event.callID, _Outcome())
            self.totals[outcome.disposition()] += 1
        elif isinstance(event, (e.Transferred, e.Conferenced)):
            self._merge(event)
        elif isinstance(event, e.CallEvent):
            outcome = self._calls.setdefault(event.callID, _Outcome())
            if isinstance(event, e.Established):
                outcome.answered = True
            elif isinstance(event, (e.Failed, e.ConnectionCleared)) and event.cause in _BUSY:
                outcome.busy = True
            elif isinstance(event, (e.Failed, e.ConnectionCleared)) and event.cause in _NO_ANSWER:
                outcome.noanswer = True
            elif isinstance(event, e.Failed):
                outcome.failed = True

    def _merge(self, event):
        pairs = (
            event.transferredConnections
            if isinstance(event, e.Transferred)
            else event.conferenceConnections
        )
        merged = _Outcome()
        for old in (event.primaryOldCall, event.secondaryOldCall):
            if old is not None:
                merged.merge(self._calls.pop(old.callID, _Outcome()))
        for callID in {new.callID for _, new in pairs} or {event.primaryOldCall.callID}:
            self._calls.setdefault(callID, _Outcome()).merge(merged)


def escapeLabel(value):
    """
    A label value as the exposition format quotes it: backslash, double
    quote and line feed escaped.
    """
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@dataclass
class Family:
    """
    One metric and its samples.

    @ivar samples: C{(labels, value)} pairs; C{labels} a L{dict}.
    """

    name: str
    kind: str
    help: str
    samples: list = field(default_factory=list)

    def render(self):
        helpText = self.help.replace("\\", "\\\\").replace("\n", "\\n")
        lines = [f"# HELP {self.name} {helpText}", f"# TYPE {self.name} {self.kind}"]
        for labels, value in self.samples:
            text = ",".join(f'{k}="{escapeLabel(str(v))}"' for k, v in labels.items())
            lines.append(f"{self.name}{{{text}}} {value}" if text else f"{self.name} {value}")
        return "\n".join(lines) + "\n"


def exposition(families):
    """
    @param families: L{Family}s.
    @return: the text exposition format 0.0.4 of them.
    @rtype: L{bytes}
    """
    return "".join(family.render() for family in families).encode("utf-8")


def _gauge(name, help, value):
    return Family(name, "gauge", help, [({}, value)])


def _counter(name, help, value):
    return Family(name, "counter", help, [({}, value)])


class Metrics:
    """
    The figures of one running server.
    """

    def __init__(self, context, clock):
        """
        @param context: the L{oso.interfaces.IServerContext}.
        @param clock: the L{IReactorTime} that says which stored
            registrations have expired.
        """
        self.context = context
        self.clock = clock
        self.dispositions = CallDispositions()
        context.callModel.addObserver(self.dispositions)

    def close(self):
        """
        Stop counting calls.
        """
        self.context.callModel.removeObserver(self.dispositions)

    async def registrations(self):
        """
        @return: how many SIP bindings are live.
        """
        sip = self.context.component("sip")
        if sip is not None:
            numbers = [device.number for device in self.context.callModel.devices()]
            return sum(len(sip.registrar.contacts(number)) for number in numbers)
        now = self.clock.seconds()
        bindings = await self.context.store.loadRegistrations()
        return sum(1 for binding in bindings if binding.expires > now)

    async def families(self):
        """
        @return: every L{Family}, now.
        """
        found = [
            _gauge("oso_sip_registrations", "Live SIP registration bindings.", await self.registrations()),
            _gauge("oso_calls_active", "Calls in progress.", len(self.context.callModel.calls())),
            Family(
                "oso_calls_total",
                "counter",
                "Calls ended since the G-Server started, by disposition.",
                [({"disposition": d.value}, n) for d, n in self.dispositions.totals.items()],
            ),
        ]
        csta = self.context.component("csta")
        if csta is not None:
            factory = csta.factory
            found += [
                _gauge("oso_csta_links", "CSTA links open.", len(factory.links)),
                _counter(
                    "oso_csta_events_delivered_total",
                    "CSTA events sent to clients.",
                    factory.counts.delivered,
                ),
                _counter(
                    "oso_csta_events_overflowed_total",
                    "CSTA events dropped because a client fell behind.",
                    factory.counts.overflowed,
                ),
            ]
        cdr = self.context.component("cdr")
        journal = getattr(cdr, "journal", None)
        if journal is not None:
            found += [
                _gauge("oso_cdr_journal_records", "Call records not yet acknowledged.", journal.pending),
                _gauge("oso_cdr_journal_capacity", "The most records the CDR journal keeps.", journal.core.capacity),
            ]
        return found


class MetricsResource(Resource):
    """
    C{GET /metrics}: for an administrator (session or token) or any bearer
    token (a monitoring system's); 401 without either, 403 for an
    extension's user logged in by session.
    """

    isLeaf = True
    log = Logger()

    def __init__(self, site):
        super().__init__()
        self.site = site
        self.metrics = Metrics(site.context, site.clock)
        site.onClose(self.metrics.close)

    def render_GET(self, request):
        return answerLater(request, self._render(request), "metrics")

    async def _render(self, request):
        departure = Departure(request)
        principal = await self.site.principal(request)
        if departure.gone:
            return
        bearer = (request.getHeader(b"authorization") or b"").lower().startswith(b"bearer ")
        if principal is None or not (principal.administrator or bearer):
            code = 401 if principal is None else 403
            self.log.info("metrics refused ({code})", code=code)
            request.setResponseCode(code)
            if code == 401:
                request.setHeader(b"WWW-Authenticate", b"Bearer")
            request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
            request.write(b"administrator or bearer token required\n")
            request.finish()
            return
        body = exposition(await self.metrics.families())
        if departure.gone:
            return
        request.setHeader(b"Content-Type", CONTENT_TYPE)
        request.write(body)
        request.finish()

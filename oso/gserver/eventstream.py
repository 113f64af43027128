"""
The G-Server's event stream: call model events as Server-Sent Events
(text/event-stream), mounted by the REST API at C{/api/v1/events}.

Each event is sent as::

    id: <the event's sequence number>
    event: <its JSON type, e.g. DeliveredEvent>
    data: <its JSON object (L{oso.gserver.eventjson})>

A client that reconnects with the C{Last-Event-ID} header (or the
C{lastEventId} query argument, for clients that cannot set headers) first
gets every event after that id from the L{oso.gserver.history.EventHistory},
then the live ones.  When the history no longer holds all of them, an
C{event: gap} with C{{"first": id, "lost": n}} comes first (C{lost} is
C{null} for an id the server never gave: it restarted since).

A C{: keepalive} comment goes out every C{heartbeat} seconds of the site's
clock, so that proxies and clients see a live connection.  Each connection
writes through its own bounded L{oso.csta.outbound.OutboundQueue}, fed as the
request's push producer: a client that reads too slowly for C{queueLimit}
chunks to drain gets an C{event: overflow} with
C{{"lastEventId": n}} and the stream ends; it resumes with that id.

An administrator sees every event; an extension's user those that concern
its extension (L{oso.gserver.history.EventHistory}).  A request without a
valid session or bearer token gets 401.
"""

import json

from twisted.internet.interfaces import IPushProducer
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.web.resource import Resource
from zope.interface import implementer

from oso.csta.outbound import OutboundQueue
from oso.gserver.answering import Departure, answerLater
from oso.gserver.history import EventHistory

#: Seconds between two keepalive comments.
DEFAULT_HEARTBEAT = 15.0

#: Chunks (events, comments) that may wait for one slow client.
DEFAULT_QUEUE_LIMIT = 1000

#: The longest event id accepted, in digits.
_MAX_ID_DIGITS = 19

KEEPALIVE = b": keepalive\n\n"


def sseEvent(kind, data, eventID=None):
    """
    One Server-Sent Event.

    @param kind: its C{event:} name.
    @param data: its C{data:} text, on one line.
    @param eventID: its C{id:}, or L{None} for none.
    @rtype: L{bytes}
    """
    head = f"id: {eventID}\n" if eventID is not None else ""
    return f"{head}event: {kind}\ndata: {data}\n\n".encode("utf-8")


def parseEventID(text):
    """
    A client's last event id.

    @param text: the C{Last-Event-ID} header or C{lastEventId} argument,
        or L{None}.
    @type text: L{bytes} or L{None}
    @return: the id, C{None} when none was given.
    @raise ValueError: when it is not a decimal number of at most 19
        digits.
    """
    if text is None or text == b"":
        return None
    if len(text) > _MAX_ID_DIGITS or not text.isdigit():
        raise ValueError(f"not an event id: {text[:40]!r}")
    return int(text)


def mayWatch(principal, entry):
    """
    Whether C{principal} sees one history entry: an administrator every
    one, an extension's user those concerning a device it may watch.
    """
    if principal.administrator:
        return True
    return any(principal.mayControl(device) for device in entry.devices)


@implementer(IPushProducer)
class EventConnection:
    """
    One client of the stream, sans I/O: it writes the chunks of the stream
    through C{write} and ends it with C{finish}.

    @ivar lastID: the id of the last event written.
    @ivar ended: whether the stream has ended (overflow or disconnect).
    """

    log = Logger()

    def __init__(self, principal, history, clock, write, finish, heartbeat, queueLimit):
        """
        @param principal: the L{oso.interfaces.gserver.IPrincipal} watching.
        @param history: the L{EventHistory}.
        @param clock: the L{IReactorTime} the keepalive comments keep.
        @param write: called with each chunk of the stream.
        @param finish: called once when the stream ends by itself
            (overflow), after every chunk was written.
        @param heartbeat: seconds between keepalive comments.
        @param queueLimit: chunks that may wait before the stream
            overflows.
        """
        self.principal = principal
        self.history = history
        self._finish = finish
        self.queueLimit = queueLimit
        self.outbound = OutboundQueue(write)
        self.lastID = None
        self.ended = False
        self._ending = False
        self._keepalive = LoopingCall(self._beat)
        self._keepalive.clock = clock
        self._heartbeat = heartbeat

    def start(self, lastID):
        """
        Send what a client that got up to C{lastID} missed, then live
        events.

        @param lastID: the client's last event id, or L{None} for a new
            client (live events only).
        """
        self.lastID = lastID
        if lastID is not None:
            gap, entries = self.history.since(lastID)
            if gap is not None:
                data = json.dumps({"first": gap.first, "lost": gap.lost})
                self.outbound.push(sseEvent("gap", data))
            for entry in entries:
                self.entryReceived(entry)
        self.history.subscribe(self.entryReceived)
        self._keepalive.start(self._heartbeat, now=False)

    def entryReceived(self, entry):
        """
        Send one history entry, if this client may see it.
        """
        if self._ending or not mayWatch(self.principal, entry):
            return
        if len(self.outbound) >= self.queueLimit:
            self._overflow()
            return
        self.outbound.push(sseEvent(entry.type, entry.data, entry.seq))
        self.lastID = entry.seq

    def _beat(self):
        # A client with chunks waiting sees traffic enough.
        if not len(self.outbound):
            self.outbound.push(KEEPALIVE)

    def _overflow(self):
        self.log.warn(
            "event stream client of {name} fell {n} chunks behind: stream ended at {id}",
            name=self.principal.name,
            n=len(self.outbound),
            id=self.lastID,
        )
        self._stop()
        self._ending = True
        self.outbound.push(sseEvent("overflow", json.dumps({"lastEventId": self.lastID})))
        self._finishWhenDrained()

    def _finishWhenDrained(self):
        if self._ending and not self.ended and not len(self.outbound):
            self.ended = True
            self._finish()

    def _stop(self):
        self.history.unsubscribe(self.entryReceived)
        if self._keepalive.running:
            self._keepalive.stop()

    def end(self):
        """
        End the stream once what waits is written (the server stops).
        """
        self._stop()
        self._ending = True
        self._finishWhenDrained()

    def lost(self):
        """
        The client went away: stop, and forget what waits for it.
        """
        self._stop()
        self.outbound.clear()
        self.ended = True

    def pauseProducing(self):
        self.outbound.pause()

    def resumeProducing(self):
        self.outbound.resume()
        self._finishWhenDrained()

    def stopProducing(self):
        self.lost()


class EventStream(Resource):
    """
    The stream's resource: one L{EventHistory} observing the call model for
    every client, one L{EventConnection} per client.

    @ivar history: the L{EventHistory}.
    @ivar connections: the L{EventConnection}s streaming now.
    """

    isLeaf = True
    log = Logger()

    def __init__(self, site, heartbeat=DEFAULT_HEARTBEAT, queueLimit=DEFAULT_QUEUE_LIMIT):
        """
        @param site: the L{oso.interfaces.gserver.IGServerSite}; the
            history's size is its settings' C{eventHistory} (the
            configuration's C{event-history}).
        @param heartbeat: seconds between keepalive comments.
        @param queueLimit: chunks that may wait for one client.
        """
        super().__init__()
        self.site = site
        self.heartbeat = heartbeat
        self.queueLimit = queueLimit
        self.history = EventHistory(site.settings.eventHistory)
        self.connections = set()
        self._callModel = site.context.callModel
        self._callModel.addObserver(self.history)
        site.onClose(self.close)

    def close(self):
        """
        Stop observing the call model and end every stream (the site
        stops).
        """
        self._callModel.removeObserver(self.history)
        for connection in list(self.connections):
            connection.end()

    def render_GET(self, request):
        return answerLater(request, self._stream(request), "event stream")

    def render_HEAD(self, request):
        """
        The headers a stream would have, and no stream (one that sends
        nothing would never end).
        """
        request.setHeader(b"Content-Type", b"text/event-stream; charset=utf-8")
        return b""

    async def _stream(self, request):
        departure = Departure(request)
        principal = await self.site.principal(request)
        if departure.gone:
            return
        if principal is None:
            self.log.info("event stream refused: not logged in")
            request.setHeader(b"WWW-Authenticate", b"Bearer")
            _refuse(request, 401, b"log in or send a bearer token\n")
            return
        header = request.getHeader(b"last-event-id")
        if header is None:
            header = request.args.get(b"lastEventId", [None])[0]
        try:
            lastID = parseEventID(header)
        except ValueError as e:
            self.log.warn("event stream refused: {why}", why=str(e))
            _refuse(request, 400, b"bad Last-Event-ID\n")
            return
        request.setHeader(b"Content-Type", b"text/event-stream; charset=utf-8")
        request.setHeader(b"Cache-Control", b"no-cache")
        request.setHeader(b"X-Accel-Buffering", b"no")

        def finish():
            request.unregisterProducer()
            if not departure.gone:
                request.finish()

        connection = EventConnection(
            principal,
            self.history,
            self.site.clock,
            request.write,
            finish,
            self.heartbeat,
            self.queueLimit,
        )
        self.connections.add(connection)

        def ended(reason):
            connection.lost()
            self.connections.discard(connection)

        departure.finished.addBoth(ended)
        request.registerProducer(connection, True)
        # The headers go out at once, before any event.
        request.write(b"")
        self.log.info("event stream for {name} from {id}", name=principal.name, id=lastID)
        connection.start(lastID)


def _refuse(request, code, body):
    request.setResponseCode(code)
    request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
    request.write(body)
    request.finish()

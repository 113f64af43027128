"""
The TCP stream of call data records (HiPath 3000's TCP client mode): the
Twisted adapter of L{oso.cdr.stream.StreamSender}.

L{StreamClient} keeps a connection to the billing receiver with a
L{ClientService} (reconnecting with backoff), sends the journal's
unacknowledged records when it connects and each new record as it is
written, and acknowledges in the journal what the sender says is delivered.
"""

from dataclasses import dataclass

from twisted.application.internet import ClientService, backoffPolicy
from twisted.application.service import Service
from twisted.internet.endpoints import clientFromString
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import IPushProducer
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger
from zope.interface import implementer

from oso.cdr.stream import DEFAULT_WINDOW, StreamProtocolError, StreamSender
from oso.config import ConfigError

#: Records read from the journal at a time.
READ_BATCH = 500

#: Seconds without a new record after which a no-ack connection is closed
#: to have its records confirmed.
DEFAULT_CHECKPOINT = 5.0

#: Seconds the receiver has to answer the sender's close before the
#: connection is dropped (and its records count as not delivered).
DEFAULT_CLOSE_TIMEOUT = 30.0

#: The cdr component's keys for the stream.
KEYS = ("stream", "stream-ack", "stream-checkpoint")


@dataclass(frozen=True)
class StreamSettings:
    """
    The TCP stream's settings.

    @ivar connect: the receiver's client endpoint string, L{None} for no
        stream (the default).
    @ivar ackMode: whether the receiver answers C{ACK <id>}.
    @ivar checkpointSeconds: no-ack mode: the quiet spell after which a
        connection is closed to confirm its records.
    """

    connect: str = None
    ackMode: bool = False
    checkpointSeconds: float = DEFAULT_CHECKPOINT


def parseStreamSettings(section, where):
    """
    The stream's keys of the cdr component's section.

    @return: the L{StreamSettings}.
    @raise ConfigError: for a bad value.
    """
    connect = section.get("stream")
    if connect is not None:
        try:
            if not isinstance(connect, str):
                raise ValueError("not a string")
            clientFromString(None, connect)
        except (ValueError, TypeError, KeyError) as e:
            raise ConfigError(
                f"{where}.stream", f"expected a client endpoint string ({e}), not {connect!r}"
            )
    ackMode = section.get("stream-ack", False)
    if type(ackMode) is not bool:
        raise ConfigError(f"{where}.stream-ack", f"expected true or false, not {ackMode!r}")
    seconds = section.get("stream-checkpoint", DEFAULT_CHECKPOINT)
    if type(seconds) not in (int, float) or not 0 < seconds <= 3600:
        raise ConfigError(
            f"{where}.stream-checkpoint", f"expected seconds above 0 up to 3600, not {seconds!r}"
        )
    return StreamSettings(connect, ackMode, float(seconds))


@implementer(IPushProducer)
class _StreamProtocol(Protocol):
    """
    One connection to the receiver; the L{StreamClient} decides what goes
    on it.
    """

    def connectionMade(self):
        self.paused = False
        self.transport.registerProducer(self, True)
        self.factory.client._connected(self)

    def dataReceived(self, data):
        self.factory.client._received(self, data)

    def connectionLost(self, reason):
        self.factory.client._lost(self, reason)

    def pauseProducing(self):
        self.paused = True

    def resumeProducing(self):
        self.paused = False
        self.factory.client._pump()

    def stopProducing(self):
        self.paused = True


class StreamClient(Service):
    """
    Streams the journal's records to one receiver while running.

    @ivar sender: the L{StreamSender}.
    @ivar protocol: the connected protocol, or L{None}.
    """

    log = Logger()

    def __init__(
        self,
        reactor,
        journal,
        recordFormat,
        description,
        ackMode=False,
        checkpointSeconds=DEFAULT_CHECKPOINT,
        window=DEFAULT_WINDOW,
        retryPolicy=None,
        closeTimeout=DEFAULT_CLOSE_TIMEOUT,
    ):
        """
        @param reactor: the reactor (TCP, time).
        @param journal: the open L{oso.cdr.journal.Journal}.
        @param recordFormat: the L{oso.interfaces.ICDRFormat} to send.
        @param description: the receiver as a client endpoint string
            (C{tcp:host=billing:port=9000}).
        @param ackMode: whether the receiver answers C{ACK <id>}.
        @param checkpointSeconds: no-ack mode: seconds without a new record
            before the connection is closed to confirm what it carried.
        @param window: no-ack mode: records after which it is closed anyway.
        @param retryPolicy: the reconnect delays (L{backoffPolicy} by
            default); after a confirming close the client reconnects at
            once.
        @param closeTimeout: seconds the receiver has to close its side.
        """
        self.reactor = reactor
        self.journal = journal
        self.description = description
        self.sender = StreamSender(recordFormat, ackMode, window)
        self.checkpointSeconds = checkpointSeconds
        self.closeTimeout = closeTimeout
        self.protocol = None
        self._reading = False
        self._dirty = False
        self._quiet = None
        self._closeTimer = None
        self._confirmedClose = False
        self._acking = False
        self._ackWanted = self._ackDone = 0
        factory = Factory.forProtocol(_StreamProtocol)
        factory.client = self
        self._service = ClientService(
            clientFromString(reactor, description),
            factory,
            retryPolicy=self._delayPolicy(retryPolicy or backoffPolicy()),
            clock=reactor,
        )

    def _delayPolicy(self, policy):
        def delay(attempt):
            if self._confirmedClose:
                self._confirmedClose = False
                return 0
            return policy(attempt)

        return delay

    def startService(self):
        super().startService()
        self.log.info("CDR stream to {where} starting", where=self.description)
        self._service.startService()

    def stopService(self):
        """
        Drop the connection; what it carried unconfirmed goes again on the
        next start.

        @return: a L{Deferred} that fires when the connection is gone.
        """
        super().stopService()
        self._cancelTimers()
        return self._service.stopService()

    def recordWritten(self, record):
        """
        The journal has a new record: send it when connected.
        """
        self._dirty = True
        self._pump()

    # --- the connection -------------------------------------------------------

    def _connected(self, protocol):
        self.protocol = protocol
        protocol.transport.write(self.sender.connectionMade(self.journal.core.acknowledgedID))
        self.log.info("CDR stream connected to {where}", where=self.description)
        self._dirty = True
        self._pump()

    def _received(self, protocol, data):
        if protocol is not self.protocol:
            return
        try:
            upTo = self.sender.dataReceived(data)
        except StreamProtocolError as e:
            self.log.warn("CDR stream receiver broke the ack protocol: {why}", why=str(e))
            protocol.transport.abortConnection()
            return
        self._acknowledge(upTo)

    def _lost(self, protocol, reason):
        if protocol is not self.protocol:
            return
        self.protocol = None
        self._cancelTimers()
        clean = reason.check(ConnectionDone) is not None
        unconfirmed = len(self.sender.sent)
        upTo = self.sender.connectionLost(clean)
        self._confirmedClose = upTo is not None
        if upTo is not None:
            self.log.info("CDR stream: receiver confirmed records up to {id}", id=upTo)
        elif unconfirmed:
            self.log.warn(
                "CDR stream to {where} lost ({why}); {n} unconfirmed records go again",
                where=self.description,
                why=reason.getErrorMessage(),
                n=unconfirmed,
            )
        self._acknowledge(upTo)

    def _acknowledge(self, upTo):
        """
        Acknowledge up to C{upTo} in the journal: one acknowledgement (a
        state file write and fsync) at a time, the next one up to the
        highest id confirmed meanwhile.
        """
        if upTo is not None:
            self._ackWanted = max(self._ackWanted, upTo)
        if self._acking or self._ackWanted <= self._ackDone:
            return
        self._acking = True
        target = self._ackWanted
        self.journal.acknowledge(target).addCallbacks(
            self._acked,
            lambda f: self.log.failure("CDR stream: acknowledging {id} failed", f, id=target),
            (target,),
        ).addBoth(self._ackEnded)

    def _acked(self, _, target):
        self._ackDone = target

    def _ackEnded(self, _):
        self._acking = False
        self._acknowledge(None)

    # --- sending --------------------------------------------------------------

    def _pump(self):
        """
        Read what the journal has after the last record sent and send it,
        until nothing new is left.
        """
        protocol = self.protocol
        if protocol is None or protocol.paused or self._reading or self.sender.closing:
            return
        if not self._dirty:
            return
        self._dirty = False
        self._reading = True
        self.journal.read(self.sender.resumeAfter, READ_BATCH).addCallbacks(
            self._read, self._readFailed, callbackArgs=(protocol,)
        )

    def _read(self, records, protocol):
        self._reading = False
        if protocol is not self.protocol or self.sender.closing:
            return
        if records:
            protocol.transport.write(self.sender.send(records))
            self._dirty = self._dirty or len(records) == READ_BATCH
            if self.sender.wantsCheckpoint():
                self._checkpoint()
                return
            self._quietAgain()
        self._pump()

    def _readFailed(self, failure):
        self._reading = False
        self.log.failure("CDR stream: reading the journal failed", failure)

    def _quietAgain(self):
        if self.sender.ackMode:
            return
        if self._quiet is not None and self._quiet.active():
            self._quiet.reset(self.checkpointSeconds)
        else:
            self._quiet = self.reactor.callLater(self.checkpointSeconds, self._checkpoint)

    def _checkpoint(self):
        """
        No-ack mode: close our side, so that the receiver's close confirms
        what the connection carried.
        """
        protocol = self.protocol
        if protocol is None or self.sender.closing or not self.sender.sent:
            return
        self.sender.checkpoint()
        if self._quiet is not None and self._quiet.active():
            self._quiet.cancel()
        protocol.transport.unregisterProducer()
        protocol.transport.loseWriteConnection()
        self._closeTimer = self.reactor.callLater(
            self.closeTimeout, protocol.transport.abortConnection
        )

    def _cancelTimers(self):
        for timer in (self._quiet, self._closeTimer):
            if timer is not None and timer.active():
                timer.cancel()
        self._quiet = self._closeTimer = None

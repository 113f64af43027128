"""
The C{cdr} component: call data records of the running call model, kept in
the durable journal under C{<data-dir>/cdr}.

Settings, as the HiPath call charge settings offered::

    [components.cdr]
    record-incoming = true      # record incoming external calls
    record-unanswered = true    # record legs nobody talked on
    record-internal = false     # record calls between extensions
    suppress-digits = 0         # trailing digits of the external number shown as ?
    capacity = 1000000          # unacknowledged records the journal keeps
    warn-at = 0.8               # fraction of capacity that logs a warning
    format = "openscape"        # the cdr-format component billing reads
    https = "ssl:8803"          # the HTTPS download's own listener; off when absent
    https-user = "billing"      # the account billing fetches with, and its
    https-password = "..."      # password (or https-password-hash = "scrypt$...")
    batch-size = 100000         # records in a download batch without limit=
    tftp = "udp:6969:interface=127.0.0.1"   # TFTP server for billing; off when absent
    tftp-file = "gez.txt"       # the one file name the TFTP server serves
    stream = "tcp:host=billing:port=9000"   # stream records to a receiver; off when absent
    stream-ack = false          # the receiver answers ACK <id> (else: confirmed by a clean close)
    stream-checkpoint = 5.0     # no-ack: quiet seconds before closing to confirm
"""

from dataclasses import dataclass

from twisted.application.service import Service
from twisted.logger import Logger
from twisted.plugin import IPlugin
from zope.interface import implementer

from oso.cdr.cstaservice import CDRTransmissions
from oso.cdr.download import CDRDownload, PasswordCheck
from oso.cdr.downloadlistener import KEYS as DOWNLOAD_KEYS
from oso.cdr.downloadlistener import (
    DownloadListener,
    DownloadSettings,
    parseDownloadSettings,
)
from oso.cdr.journal import CapacityObserver, Journal
from oso.cdr.recorder import CallRecorder, RecorderSettings
from oso.cdr.streamclient import KEYS as STREAM_KEYS
from oso.cdr.streamclient import StreamClient, StreamSettings, parseStreamSettings
from oso.cdr.tftpserver import TFTPService, parseUDPEndpoint
from oso.config import ConfigError
from oso.interfaces import IComponent


@dataclass(frozen=True)
class CDRSettings:
    """
    The validated settings of the C{cdr} component.

    @ivar recorder: the L{RecorderSettings}.
    @ivar capacity: the most unacknowledged records the journal keeps.
    @ivar warnAt: the fraction of C{capacity} at which a warning is logged.
    @ivar format: the name of the C{cdr-format} component.
    @ivar download: the L{DownloadSettings} of the HTTPS download.
    @ivar tftp: where the TFTP server listens (C{udp:PORT[:interface=...]}),
        L{None} for no TFTP server.
    @ivar tftpFile: the file name the TFTP server serves.
    @ivar stream: the L{StreamSettings} of the TCP stream.
    """

    recorder: RecorderSettings = RecorderSettings()
    capacity: int = 1_000_000
    warnAt: float = 0.8
    format: str = "openscape"
    download: DownloadSettings = DownloadSettings()
    tftp: str = None
    tftpFile: str = "gez.txt"
    stream: StreamSettings = StreamSettings()


class _CapacityLog(CapacityObserver):
    """
    Logs the journal's capacity warnings.
    """

    log = Logger()

    def nearlyFull(self, pending, capacity):
        self.log.warn(
            "CDR journal nearly full: {pending} of {capacity} records not yet "
            "collected by billing",
            pending=pending,
            capacity=capacity,
        )

    def relieved(self, pending, capacity):
        self.log.info(
            "CDR journal no longer nearly full: {pending} of {capacity} records",
            pending=pending,
            capacity=capacity,
        )


class CDRService(Service):
    """
    Records the call model's finished call legs in the journal while
    running.

    @ivar journal: the L{Journal}, once the service has started.
    @ivar download: the journal's L{CDRDownload} (the resource a G-Server
        mounts), once the service has started.
    @ivar listener: the download's own L{DownloadListener}, when configured.
    """

    log = Logger()

    def __init__(self, settings, context):
        """
        @param settings: the L{CDRSettings}.
        @param context: the L{oso.interfaces.IServerContext}.
        """
        self.settings = settings
        self.context = context
        self.journal = None
        self.download = None
        self.listener = None
        self.tftp = None
        self.stream = None
        self.transmissions = None
        #: Told C{recordWritten(record)} of each record on disk.
        self.sinks = []
        self.recorder = CallRecorder(context.callModel, self.write, settings.recorder)

    def startService(self):
        """
        Open the journal, then start watching the call model.

        @return: a L{Deferred} that fires when records are being kept.
        """
        super().startService()
        self.journal = Journal(
            self.context.dataDirectory.child("cdr").path,
            self.context.reactor,
            observer=_CapacityLog(),
            capacity=self.settings.capacity,
            warnFraction=self.settings.warnAt,
        )

        self.download = CDRDownload(
            self.context.reactor,
            self.journal,
            self.formatNamed,
            self.settings.format,
            PasswordCheck(self.context.reactor, self.settings.download.accounts()),
            self.settings.download.batchSize,
        )

        def opened(_):
            self.context.callModel.addObserver(self.recorder)
            if self.settings.download.listen is not None:
                self.listener = DownloadListener(
                    self.context.reactor,
                    self.settings.download.listen,
                    self.context.dataDirectory,
                    self.download,
                )
                self.listener.start()
            if self.settings.tftp is not None:
                self.tftp = TFTPService(
                    self.context.reactor,
                    self.journal,
                    self.recordFormat(),
                    self.settings.tftpFile,
                    self.settings.tftp,
                )
                self.tftp.startService()
            if self.settings.stream.connect is not None:
                self.stream = StreamClient(
                    self.context.reactor,
                    self.journal,
                    self.recordFormat(),
                    self.settings.stream.connect,
                    self.settings.stream.ackMode,
                    self.settings.stream.checkpointSeconds,
                )
                self.stream.startService()
                self.sinks.append(self.stream)
            registry = getattr(self.context.component("csta"), "registry", None)
            if registry is not None:
                self.transmissions = CDRTransmissions(self.journal, self.recordFormat())
                self.transmissions.register(registry)
                self.sinks.append(self.transmissions)

        return self.journal.open().addCallback(opened)

    def stopService(self):
        """
        Stop watching the call model and close the journal after the
        appends in progress.

        @return: a L{Deferred} that fires when the journal is closed.
        """
        super().stopService()
        self.context.callModel.removeObserver(self.recorder)
        if self.stream is not None:
            self.sinks.remove(self.stream)
            self.stream.stopService()
            self.stream = None
        if self.transmissions is not None:
            self.sinks.remove(self.transmissions)
            self.transmissions.unregister(self.context.component("csta").registry)
            self.transmissions = None
        if self.listener is not None:
            self.listener.stop()
        if self.tftp is None:
            return self.journal.close()
        stopped, self.tftp = self.tftp.stopService(), None
        return stopped.addCallback(lambda _: self.journal.close())

    def recordFormat(self):
        """
        The format the transfer paths render records in: the C{format}
        setting's component, with its configured time zone when it runs,
        else with the host's time zone.

        @rtype: L{oso.interfaces.ICDRFormat}
        """
        return self.formatNamed(self.settings.format)

    def formatNamed(self, name):
        """
        A format by its component's name, found as L{recordFormat} finds
        the configured one.

        @rtype: L{oso.interfaces.ICDRFormat}
        @raise KeyError: when no cdr-format component has that name.
        """
        if name not in _formatNames():
            raise KeyError(name)
        service = self.context.component(name)
        if service is not None:
            return service.format
        from oso.components import findComponents

        for _, component in findComponents().components:
            if component.name == name:
                return component.makeFormat()

    def write(self, record):
        """
        Append a record to the journal; a record that cannot be written is
        logged in full, as an error.

        @param record: a L{oso.cdr.record.CallRecord}.
        @return: the journal's L{Deferred}, which never fails.
        """

        def failed(failure):
            self.log.failure(
                "CDR record LOST, not written to the journal: {record}",
                failure,
                record=record.toJSON(),
            )

        def written(record):
            for sink in list(self.sinks):
                try:
                    sink.recordWritten(record)
                except Exception:
                    self.log.failure("CDR sink {sink} failed", sink=sink)
            return record

        return self.journal.append(record).addCallbacks(written, failed)


def _bool(section, key, default, where):
    value = section.get(key, default)
    if type(value) is not bool:
        raise ConfigError(f"{where}.{key}", f"expected true or false, not {value!r}")
    return value


def _formatNames():
    from oso.components import findComponents

    return {
        component.name
        for _, component in findComponents().components
        if component.kind == "cdr-format"
    }


@implementer(IPlugin, IComponent)
class CDR:
    """
    The C{cdr} component.
    """

    name = "cdr"
    kind = "service"
    description = "Call data records of every finished call leg, kept on disk."
    _keys = (
        "record-incoming", "record-unanswered", "record-internal",
        "suppress-digits", "capacity", "warn-at", "format",
        "tftp", "tftp-file",
    ) + DOWNLOAD_KEYS + STREAM_KEYS

    def validateConfig(self, section, where):
        """
        @return: the L{CDRSettings}.
        @raise ConfigError: for an unknown key or a bad value.
        """
        for key in section:
            if key not in self._keys:
                raise ConfigError(f"{where}.{key}", "unknown key")
        digits = section.get("suppress-digits", 0)
        if type(digits) is not int or not 0 <= digits <= 20:
            raise ConfigError(
                f"{where}.suppress-digits", f"expected 0 to 20, not {digits!r}"
            )
        capacity = section.get("capacity", CDRSettings.capacity)
        if type(capacity) is not int or capacity < 1:
            raise ConfigError(
                f"{where}.capacity", f"expected a positive number, not {capacity!r}"
            )
        warnAt = section.get("warn-at", CDRSettings.warnAt)
        if type(warnAt) not in (int, float) or not 0 < warnAt <= 1:
            raise ConfigError(
                f"{where}.warn-at", f"expected a fraction above 0 up to 1, not {warnAt!r}"
            )
        format = section.get("format", CDRSettings.format)
        names = _formatNames()
        if format not in names:
            raise ConfigError(
                f"{where}.format",
                f"unknown cdr-format {format!r} (known: {', '.join(sorted(names))})",
            )
        tftp = section.get("tftp")
        if tftp is not None:
            try:
                parseUDPEndpoint(str(tftp))
            except ValueError as e:
                raise ConfigError(f"{where}.tftp", str(e))
        tftpFile = section.get("tftp-file", CDRSettings.tftpFile)
        if not isinstance(tftpFile, str) or not tftpFile or "\0" in tftpFile:
            raise ConfigError(
                f"{where}.tftp-file", f"expected a file name, not {tftpFile!r}"
            )
        return CDRSettings(
            recorder=RecorderSettings(
                recordIncoming=_bool(section, "record-incoming", True, where),
                recordUnanswered=_bool(section, "record-unanswered", True, where),
                recordInternal=_bool(section, "record-internal", False, where),
                suppressDigits=digits,
            ),
            capacity=capacity,
            warnAt=float(warnAt),
            format=format,
            download=parseDownloadSettings(section, where),
            tftp=tftp,
            tftpFile=tftpFile,
            stream=parseStreamSettings(section, where),
        )

    def makeService(self, settings, context):
        """
        @return: a L{CDRService}.
        """
        return CDRService(settings, context)


cdr = CDR()

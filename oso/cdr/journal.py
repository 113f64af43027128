"""
The CDR journal: call data records on disk before anybody counts them as
written, until a billing system has acknowledged them.

Layout of the journal directory (the cdr component uses
C{<data directory>/cdr/}):

  - C{cdr-000001.jsonl}, C{cdr-000002.jsonl}, ...: append-only segments.
    Each line is C{<crc32, 8 lowercase hex> <record id> <record JSON>\\n};
    the checksum covers everything between its space and the line feed, so
    a torn or garbled line can never pass for a record.
  - C{state.json}: C{{"acknowledged": N}}, the highest record id a billing
    system has acknowledged, replaced atomically (write, fsync, rename,
    fsync of the directory).
  - C{cdr-NNNNNN.jsonl.corrupt}: a fully acknowledged segment that held a
    corrupt line, kept for an operator instead of being deleted.

L{SyncJournal} does the file work and knows nothing of Twisted, so that it
is tested directly.  L{Journal} runs it on one dedicated worker thread and
gives Deferreds, with group commit: appends that arrive while a write is in
progress share the next write and fsync.

When the journal holds C{capacity} unacknowledged records, it refuses new
ones (L{JournalFull}) rather than overwriting old ones: an old unbilled
record is money already spent, and dropping it silently is worse than a
loud alarm about the new one.  Calls go on; only their records are refused,
counted and logged.  doc/cdr.md has the whole story.
"""

import json
import math
import os
import re
import time
import zlib
from dataclasses import dataclass, field

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from oso.cdr.record import CallRecord, CDRError


class JournalError(CDRError):
    """
    The journal cannot do what was asked: it is not open, a file operation
    failed, or the request makes no sense (acknowledging records that do not
    exist).
    """


class JournalFull(JournalError):
    """
    The journal holds as many unacknowledged records as its capacity allows
    and refused a new one.
    """


@dataclass(frozen=True)
class CorruptLine:
    """
    A line of a segment that is not a record: reported, counted and skipped.

    @ivar fileName: the segment's file name.
    @ivar offset: the byte offset where the line starts.
    @ivar reason: what is wrong with it.
    """

    fileName: str
    offset: int
    reason: str


class CapacityObserver:
    """
    Hears about the journal's capacity.  This base class ignores everything;
    the cdr component overrides the methods to log and to emit events.
    """

    def nearlyFull(self, pending, capacity):
        """
        The unacknowledged records reached the warning level; called once
        each time the level is crossed upwards.

        @param pending: unacknowledged records now.
        @param capacity: the most the journal keeps.
        """

    def refused(self, record, refusedTotal, capacity):
        """
        A record was refused because the journal is full.

        @param record: the refused L{CallRecord}.
        @param refusedTotal: records refused since the journal was opened.
        @param capacity: the most the journal keeps.
        """

    def relieved(self, pending, capacity):
        """
        Acknowledgements brought the unacknowledged records back below the
        warning level.

        @param pending: unacknowledged records now.
        @param capacity: the most the journal keeps.
        """


_HEX = b"0123456789abcdef"
_SEGMENT = re.compile(r"cdr-(\d{6,})\.jsonl(\.corrupt)?\Z")
_STATE = "state.json"


def encodeLine(record):
    """
    The journal line of a record that has its record id.

    @type record: L{CallRecord}
    @rtype: L{bytes}
    """
    payload = b"%d %s" % (record.recordID, record.toJSON().encode("ascii"))
    return b"%08x %s\n" % (zlib.crc32(payload), payload)


def decodeLine(line):
    """
    The record id and record JSON of a journal line.

    Split-based rather than a regular expression (the journal reads lines
    on the download's path, a million at a time), yet just as strict: eight
    lowercase hex digits, a space, ASCII digits, a space, text without a
    line feed, and the line feed that ends the line.

    @param line: one line, its line feed included.
    @type line: L{bytes}
    @return: C{(recordID, jsonBytes)}.
    @raise ValueError: when the line is torn, garbled or fails its checksum.
    """
    payload = line[9:-1]
    digits, space, text = payload.partition(b" ")
    if (
        not space
        or line[8:9] != b" "
        or line[-1:] != b"\n"
        or not digits.isdigit()
        or b"\n" in text
    ):
        raise ValueError("not a journal line")
    if b"%08x" % zlib.crc32(payload) != line[:8]:
        if line[:8].strip(_HEX):
            raise ValueError("not a journal line")
        raise ValueError("checksum mismatch")
    return int(digits), text


@dataclass
class _Segment:
    """
    What the journal knows of one segment file.

    @ivar lastID: the id of its last good record, C{0} when it has none.
    @ivar size: its length in bytes; everything before is fsync'd.
    @ivar corrupt: the offsets of its known corrupt lines.
    """

    number: int
    path: str
    size: int = 0
    lastID: int = 0
    corrupt: set = field(default_factory=set)


class SyncJournal:
    """
    The journal's file work, synchronous and without Twisted.  Not
    thread-safe: one thread at a time (L{Journal} uses one worker thread).

    @ivar capacity: the most unacknowledged records kept.
    @ivar warnAt: the unacknowledged records at which C{nearlyFull} is told.
    @ivar corruptLines: every L{CorruptLine} found, at open or while reading.
    @ivar truncatedBytes: bytes of a torn tail discarded by L{open}.
    @ivar keptCorruptFiles: paths of segments kept as C{.corrupt} files.
    """

    def __init__(
        self,
        directory,
        *,
        capacity=1_000_000,
        warnFraction=0.8,
        segmentBytes=16 * 1024 * 1024,
        segmentSeconds=24 * 3600,
        observer=None,
        fsync=os.fsync,
        clock=time.time,
    ):
        """
        @param directory: the journal's directory (created when missing).
        @type directory: L{str} or L{os.PathLike}
        @param capacity: the most unacknowledged records kept; more are
            refused.
        @param warnFraction: the part of C{capacity} at which the observer's
            C{nearlyFull} is called.
        @param segmentBytes: a segment at least this long is closed before
            the next write (a segment may overrun it by one batch).
        @param segmentSeconds: a segment written to this long ago, counted
            from its creation or from the journal's opening, is closed
            before the next write.
        @param observer: a L{CapacityObserver}.
        @param fsync: the function that flushes a file descriptor to disk.
        @param clock: the function that tells the time in seconds.
        @raise ValueError: for a setting out of range.
        """
        if type(capacity) is not int or capacity < 1:
            raise ValueError(f"capacity must be a positive int, not {capacity!r}")
        if not 0 < warnFraction <= 1:
            raise ValueError(f"warnFraction must be in (0, 1], not {warnFraction!r}")
        if segmentBytes < 1 or segmentSeconds <= 0:
            raise ValueError("segmentBytes and segmentSeconds must be positive")
        self.directory = os.fspath(directory)
        self.capacity = capacity
        self.warnAt = max(1, math.ceil(warnFraction * capacity))
        self.segmentBytes = segmentBytes
        self.segmentSeconds = segmentSeconds
        self._observer = observer if observer is not None else CapacityObserver()
        self._fsync = fsync
        self._clock = clock
        self.corruptLines = []
        self.truncatedBytes = 0
        self.keptCorruptFiles = []
        self._segments = []
        self._nextNumber = 1
        self._fd = None
        self._activeSince = 0.0
        self._lastID = 0
        self._acknowledged = 0
        self._refused = 0
        self._warned = False
        self._cursor = None
        self._state = "new"
        self._broken = None

    @property
    def lastID(self):
        """
        The id of the last record written, or the acknowledged id when that
        is higher (all records acknowledged and deleted).
        """
        return self._lastID

    @property
    def acknowledgedID(self):
        """
        The highest record id acknowledged.
        """
        return self._acknowledged

    @property
    def pending(self):
        """
        How many records are written and not acknowledged.
        """
        return self._lastID - self._acknowledged

    @property
    def refusedCount(self):
        """
        How many records were refused since the journal was opened.
        """
        return self._refused

    def segmentPaths(self):
        """
        The segment files, oldest first; the last is the one written to.

        @rtype: L{list} of L{str}
        """
        return [segment.path for segment in self._segments]

    def open(self):
        """
        Read the journal back: discard a torn tail of the last segment,
        report corrupt lines, recover the last record id and the
        acknowledged id, drop segments already acknowledged.

        @raise JournalError: when the state file is unreadable or a file
            operation fails.
        """
        if self._state != "new":
            raise JournalError("the journal was already opened")
        try:
            self._makeDirectory(self.directory)
            self._acknowledged = self._loadState()
            numbers = []
            for name in os.listdir(self.directory):
                match = _SEGMENT.match(name)
                if match is not None:
                    self._nextNumber = max(self._nextNumber, int(match.group(1)) + 1)
                    if match.group(2) is None:
                        numbers.append(int(match.group(1)))
            numbers.sort()
            lastGood = 0
            for number in numbers:
                lastGood = self._scan(number, lastGood, number == numbers[-1])
            self._lastID = max(lastGood, self._acknowledged)
            if self._segments:
                self._fd = os.open(self._segments[-1].path, os.O_WRONLY | os.O_APPEND)
                self._activeSince = self._clock()
            self._dropAcknowledged()
        except OSError as e:
            raise JournalError(f"cannot open the journal in {self.directory}: {e}")
        self._state = "open"
        if self.pending >= self.warnAt:
            self._warned = True
            self._observer.nearlyFull(self.pending, self.capacity)

    def _loadState(self):
        """
        The acknowledged id from the state file, C{0} when there is none.
        """
        path = os.path.join(self.directory, _STATE)
        try:
            os.unlink(path + ".tmp")
        except FileNotFoundError:
            pass
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return 0
        try:
            acknowledged = json.loads(data)["acknowledged"]
        except (ValueError, TypeError, KeyError) as e:
            raise JournalError(f"{path}: unreadable acknowledgement state: {e!r}")
        if type(acknowledged) is not int or acknowledged < 0:
            raise JournalError(f"{path}: bad acknowledged id {acknowledged!r}")
        return acknowledged

    def _scan(self, number, lastGood, isLast):
        """
        Check one segment line by line and add it to the journal's list.

        In the last segment, whatever follows the last good line is the
        torn tail of an interrupted write: it is cut off.  Anywhere else a
        bad line is corrupt: reported and skipped.

        @param lastGood: the id of the last good record before this segment.
        @return: the id of the last good record so far.
        """
        segment = _Segment(number, self._path(number))
        name = os.path.basename(segment.path)
        suspect = []
        goodEnd = offset = 0
        with open(segment.path, "rb") as f:
            for line in f:
                try:
                    recordID, _ = decodeLine(line)
                    if recordID <= lastGood:
                        raise ValueError(f"record id {recordID} after {lastGood}")
                except ValueError as e:
                    suspect.append(CorruptLine(name, offset, str(e)))
                else:
                    self._noteCorrupt(segment, suspect)
                    suspect = []
                    lastGood = segment.lastID = recordID
                    goodEnd = offset + len(line)
                offset += len(line)
        segment.size = offset
        if suspect and isLast:
            fd = os.open(segment.path, os.O_WRONLY)
            try:
                os.ftruncate(fd, goodEnd)
                self._fsync(fd)
            finally:
                os.close(fd)
            self.truncatedBytes = offset - goodEnd
            segment.size = goodEnd
        else:
            self._noteCorrupt(segment, suspect)
        self._segments.append(segment)
        return lastGood

    def _noteCorrupt(self, segment, lines):
        """
        Remember corrupt lines of a segment, each once.
        """
        for line in lines:
            if line.offset not in segment.corrupt:
                segment.corrupt.add(line.offset)
                self.corruptLines.append(line)

    def _path(self, number):
        return os.path.join(self.directory, f"cdr-{number:06d}.jsonl")

    def _makeDirectory(self, path):
        """
        Create C{path} and its missing parents, each made durable in its
        parent, so that a crash cannot take away the directory that holds
        records already reported written.
        """
        if os.path.isdir(path):
            return
        parent = os.path.dirname(os.path.abspath(path))
        self._makeDirectory(parent)
        os.mkdir(path, 0o700)
        self._syncDirectory(parent)

    def _syncDirectory(self, path=None):
        """
        Make a directory's entries (created, renamed, deleted files)
        durable.

        @param path: the directory; the journal's when L{None}.
        """
        fd = os.open(path or self.directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            self._fsync(fd)
        finally:
            os.close(fd)

    def _createSegment(self):
        """
        Start a new segment and write to it from now on.
        """
        segment = _Segment(self._nextNumber, self._path(self._nextNumber))
        self._nextNumber += 1
        fd = os.open(
            segment.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600
        )
        self._syncDirectory()
        self._segments.append(segment)
        self._fd = fd
        self._activeSince = self._clock()

    def _dropAcknowledged(self):
        """
        Delete every segment whose records are all acknowledged (keeping
        one with a corrupt line as a C{.corrupt} file), and make sure there
        is a segment to write to.
        """
        active = self._segments[-1] if self._segments else None
        kept = []
        for segment in self._segments:
            if segment.lastID > self._acknowledged or (
                segment is active and segment.size == 0
            ):
                kept.append(segment)
                continue
            if segment is active:
                os.close(self._fd)
                self._fd = None
            if segment.corrupt:
                os.replace(segment.path, segment.path + ".corrupt")
                self.keptCorruptFiles.append(segment.path + ".corrupt")
            else:
                os.unlink(segment.path)
            if self._cursor is not None and self._cursor[1] == segment.number:
                self._cursor = None
        if len(kept) != len(self._segments):
            self._segments = kept
            self._syncDirectory()
        if self._fd is None:
            self._createSegment()

    def _checkWritable(self):
        if self._state != "open":
            raise JournalError(f"the journal is {self._state}, not open")
        if self._broken is not None:
            raise self._broken

    def appendBatch(self, records):
        """
        Give each record the next record id and write them all with one
        write and one fsync, refusing those beyond the capacity.

        @param records: L{CallRecord}s (their C{recordID} is ignored).
        @return: one result per record, in order: the record as written
            (with its id), or a L{JournalFull} for a refused one.
        @raise JournalError: when writing failed; then no record of the batch
            is counted as written.
        """
        self._checkWritable()
        self._maybeRotate()
        results = []
        pending = self.pending
        nextID = self._lastID
        for record in records:
            if pending >= self.capacity:
                results.append(None)
                continue
            pending += 1
            nextID += 1
            results.append(record.withRecordID(nextID))
        written = [result for result in results if result is not None]
        if written:
            self._write(b"".join(encodeLine(record) for record in written))
            self._lastID = self._segments[-1].lastID = nextID
        if not self._warned and self.pending >= self.warnAt:
            self._warned = True
            self._observer.nearlyFull(self.pending, self.capacity)
        for i, record in enumerate(records):
            if results[i] is None:
                self._refused += 1
                results[i] = JournalFull(
                    f"journal full: {self.pending} unacknowledged records, "
                    f"capacity {self.capacity}"
                )
                self._observer.refused(record, self._refused, self.capacity)
        return results

    def _maybeRotate(self):
        """
        Start a new segment when the current one is big or old enough.
        """
        active = self._segments[-1]
        if active.size == 0:
            return
        age = self._clock() - self._activeSince
        if active.size >= self.segmentBytes or age >= self.segmentSeconds:
            try:
                os.close(self._fd)
                self._fd = None
                self._createSegment()
            except OSError as e:
                self._broken = JournalError(f"cannot start a new segment: {e}")
                raise self._broken

    def _write(self, data):
        """
        Append C{data} to the active segment and fsync it.

        A failed write is cut off again, so the file holds only whole,
        synced batches.  A failed fsync leaves the data's fate unknown (the
        kernel may have dropped the dirty pages): the journal refuses all
        further writes until it is reopened and has read back what is
        really on disk.
        """
        segment = self._segments[-1]
        try:
            view = memoryview(data)
            done = 0
            while done < len(data):
                done += os.write(self._fd, view[done:])
        except OSError as e:
            try:
                os.ftruncate(self._fd, segment.size)
            except OSError as undo:
                self._broken = JournalError(
                    f"{segment.path}: a failed write ({e}) could not be undone "
                    f"({undo}); reopen the journal"
                )
                raise self._broken
            raise JournalError(f"{segment.path}: write failed: {e}")
        try:
            self._fsync(self._fd)
        except OSError as e:
            self._broken = JournalError(
                f"{segment.path}: fsync failed ({e}); reopen the journal"
            )
            raise self._broken
        segment.size += len(data)

    def read(self, afterID, limit):
        """
        The records after C{afterID} that are not acknowledged, oldest
        first.

        Reading on from where the previous read stopped continues in place;
        any other start scans from the first segment that can hold it.

        @param afterID: return only records with a higher id.
        @param limit: return at most this many.
        @rtype: L{list} of L{CallRecord}
        @raise JournalError: when the journal is not open or a file cannot
            be read.
        """
        return self._collect(afterID, limit, parse=True)

    def readLines(self, afterID, limit):
        """
        Like L{read}, but without making records: the record id and the
        record's JSON text (as L{CallRecord.toJSON} wrote it and its
        checksum vouches for), for passing JSON on several times faster
        than parsing it.

        @rtype: L{list} of C{(recordID, jsonBytes)}
        @raise JournalError: as L{read}.
        """
        return self._collect(afterID, limit, parse=False)

    def _collect(self, afterID, limit, parse):
        if self._state != "open":
            raise JournalError(f"the journal is {self._state}, not open")
        start = max(afterID, self._acknowledged)
        found = []
        if limit < 1:
            return found
        try:
            for segment in self._segments:
                if segment.lastID <= start:
                    continue
                offset = 0
                if self._cursor is not None and self._cursor[:2] == (
                    start,
                    segment.number,
                ):
                    offset = self._cursor[2]
                if self._readSegment(segment, offset, start, limit, parse, found):
                    return found
        except OSError as e:
            raise JournalError(f"cannot read the journal: {e}")
        return found

    def _readSegment(self, segment, offset, start, limit, parse, found):
        """
        Add the records of one segment from C{offset} on with ids above
        C{start} to C{found}, up to C{limit} in all: as L{CallRecord}s when
        C{parse}, else as C{(recordID, jsonBytes)}.

        @return: whether C{limit} was reached.
        """
        name = os.path.basename(segment.path)
        previous = start
        size, corrupt = segment.size, segment.corrupt
        with open(segment.path, "rb") as f:
            f.seek(offset)
            for line in f:
                lineOffset = offset
                offset += len(line)
                if offset > size:
                    break
                if lineOffset in corrupt:
                    continue
                try:
                    recordID, text = decodeLine(line)
                    if recordID <= start:
                        continue
                    if recordID <= previous:
                        raise ValueError(f"record id {recordID} after {previous}")
                    if parse:
                        item = CallRecord.fromJSON(text)
                        if item.recordID != recordID:
                            raise ValueError(
                                f"record id {item.recordID} in line {recordID}"
                            )
                    else:
                        item = (recordID, text)
                except (ValueError, CDRError) as e:
                    self._noteCorrupt(segment, [CorruptLine(name, lineOffset, str(e))])
                    continue
                previous = recordID
                found.append(item)
                if len(found) == limit:
                    self._cursor = (recordID, segment.number, offset)
                    return True
        return False

    def acknowledge(self, upToID):
        """
        Mark every record up to C{upToID} as delivered: durably, so that no
        read returns them again, and drop the segments that hold nothing
        else.  Acknowledging an id already acknowledged does nothing.

        @return: how many records this newly acknowledged.
        @rtype: L{int}
        @raise JournalError: when C{upToID} is beyond the last record, or
            the state cannot be written.
        """
        self._checkWritable()
        if upToID > self._lastID:
            raise JournalError(
                f"cannot acknowledge up to {upToID}: the last record is {self._lastID}"
            )
        if upToID <= self._acknowledged:
            return 0
        try:
            self._writeState(upToID)
        except OSError as e:
            raise JournalError(f"cannot write the acknowledgement state: {e}")
        newly = upToID - self._acknowledged
        self._acknowledged = upToID
        try:
            self._dropAcknowledged()
        except OSError as e:
            raise JournalError(
                f"acknowledged up to {upToID}, but dropping segments failed: {e}"
            )
        finally:
            if self._warned and self.pending < self.warnAt:
                self._warned = False
                self._observer.relieved(self.pending, self.capacity)
        return newly

    def _writeState(self, acknowledged):
        """
        Replace the state file atomically: write a temporary file, fsync it,
        rename it over the old one, fsync the directory.
        """
        path = os.path.join(self.directory, _STATE)
        fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, json.dumps({"acknowledged": acknowledged}).encode("ascii"))
            self._fsync(fd)
        finally:
            os.close(fd)
        os.replace(path + ".tmp", path)
        self._syncDirectory()

    def close(self):
        """
        Close the segment being written.  Everything is already on disk.
        """
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._state = "closed"


class _ReactorObserver(CapacityObserver):
    """
    Carries capacity news from the worker thread to the reactor thread,
    where the journal logs refusals and tells its own observer.
    """

    def __init__(self, journal):
        self._journal = journal

    def nearlyFull(self, pending, capacity):
        self._journal._fromThread("nearlyFull", pending, capacity)

    def refused(self, record, refusedTotal, capacity):
        self._journal._fromThread("refused", record, refusedTotal, capacity)

    def relieved(self, pending, capacity):
        self._journal._fromThread("relieved", pending, capacity)


class Journal:
    """
    The journal for Twisted: L{SyncJournal} on one dedicated worker thread,
    with Deferreds and group commit.

    Every file operation runs on the worker thread, in the order asked, so
    the reactor never waits for the disk.
    """

    log = Logger()

    def __init__(self, directory, reactor, *, observer=None, **options):
        """
        @param directory: the journal's directory.
        @param reactor: an L{IReactorThreads} and L{IReactorTime}.
        @param observer: a L{CapacityObserver}, called in the reactor thread.
        @param options: L{SyncJournal}'s keyword arguments (C{capacity},
            C{warnFraction}, C{segmentBytes}, C{segmentSeconds}, C{fsync},
            C{clock}); C{clock} defaults to C{reactor.seconds}.
        """
        self._reactor = reactor
        self._observer = observer if observer is not None else CapacityObserver()
        options.setdefault("clock", reactor.seconds)
        self.core = SyncJournal(directory, observer=_ReactorObserver(self), **options)
        self._pool = ThreadPool(1, 1, name="cdr-journal")
        self._queue = []
        self._writing = False
        self._idle = []
        self._state = "new"
        self._reportedCorrupt = 0
        self._reportedKept = 0

    @property
    def pending(self):
        """
        How many records are written and not acknowledged.
        """
        return self.core.pending

    @property
    def refusedCount(self):
        """
        How many records were refused since the journal was opened.
        """
        return self.core.refusedCount

    @property
    def corruptCount(self):
        """
        How many corrupt lines were found and skipped.
        """
        return len(self.core.corruptLines)

    def _run(self, f, *args):
        """
        Run C{f(*args)} on the worker thread, then log what it found wrong.
        """
        d = deferToThreadPool(self._reactor, self._pool, f, *args)
        d.addBoth(self._report)
        return d

    def _report(self, result):
        core = self.core
        for line in core.corruptLines[self._reportedCorrupt :]:
            self.log.error(
                "CDR journal {fileName}: corrupt line at byte {offset} skipped "
                "({reason}); its record is lost",
                fileName=line.fileName,
                offset=line.offset,
                reason=line.reason,
            )
        self._reportedCorrupt = len(core.corruptLines)
        for path in core.keptCorruptFiles[self._reportedKept :]:
            self.log.warn(
                "CDR journal: acknowledged segment with corrupt lines kept as {path}",
                path=path,
            )
        self._reportedKept = len(core.keptCorruptFiles)
        return result

    def _fromThread(self, name, *args):
        self._reactor.callFromThread(self._tell, name, *args)

    def _tell(self, name, *args):
        if name == "refused":
            record, refusedTotal, capacity = args
            self.log.error(
                "CDR journal full ({capacity} unacknowledged records): record of "
                "call {callID} refused, {refusedTotal} refused so far",
                capacity=capacity,
                callID=record.callID,
                refusedTotal=refusedTotal,
            )
        try:
            getattr(self._observer, name)(*args)
        except Exception:
            self.log.failure("CDR journal capacity observer failed")

    def open(self):
        """
        Start the worker thread and open the journal on it.

        @return: a L{Deferred} that fires with L{None} when the journal is
            ready, or fails with L{JournalError}.
        """
        if self._state != "new":
            return fail(JournalError("the journal was already opened"))
        self._state = "opening"
        self._pool.start()

        def opened(result):
            if self._state != "opening":
                return result
            if isinstance(result, Failure):
                self._state = "closed"
                self._pool.stop()
                return result
            self._state = "open"
            if self.core.truncatedBytes:
                self.log.warn(
                    "CDR journal: discarded a torn last line ({count} bytes) "
                    "left by an interrupted write",
                    count=self.core.truncatedBytes,
                )
            return None

        return self._run(self.core.open).addBoth(opened)

    def _notOpen(self):
        return JournalError(f"the journal is {self._state}, not open")

    def _runOpen(self, f, *args):
        """
        L{_run}, when the journal is open; a failed L{Deferred} otherwise.
        """
        if self._state != "open":
            return fail(self._notOpen())
        return self._run(f, *args)

    def append(self, record):
        """
        Write a record.

        @type record: L{CallRecord}
        @return: a L{Deferred} that fires with the record as written (with
            its record id) after the fsync that covers it, or fails with
            L{JournalFull} or L{JournalError}.
        """
        if self._state != "open":
            return fail(self._notOpen())
        d = Deferred()
        self._queue.append((record, d))
        if not self._writing:
            self._writeQueued()
        return d

    def _writeQueued(self):
        batch, self._queue = self._queue, []
        self._writing = True
        records = [record for record, _ in batch]
        self._run(self.core.appendBatch, records).addBoth(self._written, batch)

    def _written(self, result, batch):
        if isinstance(result, Failure):
            self.log.failure("CDR journal write failed", result)
            for _, d in batch:
                d.errback(result)
        else:
            for (_, d), outcome in zip(batch, result):
                if isinstance(outcome, JournalFull):
                    d.errback(outcome)
                else:
                    d.callback(outcome)
        self._writing = False
        if self._queue:
            self._writeQueued()
        else:
            idle, self._idle = self._idle, []
            for d in idle:
                d.callback(None)

    def read(self, afterID, limit):
        """
        See L{SyncJournal.read}.

        @return: a L{Deferred} firing with a L{list} of L{CallRecord}.
        """
        return self._runOpen(self.core.read, afterID, limit)

    def readLines(self, afterID, limit):
        """
        See L{SyncJournal.readLines}.

        @return: a L{Deferred} firing with a L{list} of
            C{(recordID, jsonBytes)}.
        """
        return self._runOpen(self.core.readLines, afterID, limit)

    def acknowledge(self, upToID):
        """
        See L{SyncJournal.acknowledge}.

        @return: a L{Deferred} firing with the number of records newly
            acknowledged, after the acknowledgement is on disk.
        """
        return self._runOpen(self.core.acknowledge, upToID)

    def close(self):
        """
        Refuse new requests, finish the writes in progress, close the files
        and stop the worker thread.

        @return: a L{Deferred} that fires when all of that is done.
        """
        if self._state in ("closing", "closed"):
            return succeed(None)
        if self._state == "new":
            self._state = "closed"
            return succeed(None)
        self._state = "closing"
        if self._writing:
            drained = Deferred()
            self._idle.append(drained)
        else:
            drained = succeed(None)

        def stop(result):
            self._pool.stop()
            self._state = "closed"
            return result

        drained.addCallback(lambda _: self._run(self.core.close))
        return drained.addBoth(stop)

"""
Tests for L{oso.cdr.journal}: durability, recovery after a crash, rotation,
acknowledgement and capacity.
"""

import json
import os
import re
import shutil
import tempfile
import threading
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import reactor
from twisted.internet.defer import ensureDeferred, gatherResults
from twisted.trial.unittest import TestCase

from oso.cdr.journal import (
    CapacityObserver,
    Journal,
    JournalError,
    JournalFull,
    SyncJournal,
    decodeLine,
    encodeLine,
)
from oso.cdr.record import CallRecord, Direction, Disposition


def makeRecord(i, **changes):
    """
    A distinct record for call number C{i}.
    """
    values = dict(
        callID=f"call-{i}",
        endTime=1_340_190_695 + i,
        ringSeconds=i % 7,
        durationSeconds=i * 3,
        line="201",
        subscriber=str(100 + i),
        externalNumber=f"0891234{i:04d}",
        direction=Direction.outgoing,
        disposition=Disposition.answered,
        chargeUnits=i,
    )
    values.update(changes)
    return CallRecord(**values)


def noFsync(fd):
    """
    An fsync that does nothing, for tests about parsing where thousands of
    journals are opened.
    """


class Recorder(CapacityObserver):
    """
    A capacity observer that remembers what it was told, and in which
    thread.
    """

    def __init__(self):
        self.calls = []
        self.threads = set()

    def nearlyFull(self, pending, capacity):
        self.threads.add(threading.get_ident())
        self.calls.append(("nearlyFull", pending, capacity))

    def refused(self, record, refusedTotal, capacity):
        self.threads.add(threading.get_ident())
        self.calls.append(("refused", record.callID, refusedTotal, capacity))

    def relieved(self, pending, capacity):
        self.threads.add(threading.get_ident())
        self.calls.append(("relieved", pending, capacity))


def opened(directory, **options):
    """
    An open L{SyncJournal} in C{directory}.
    """
    journal = SyncJournal(directory, **options)
    journal.open()
    return journal


def written(directory, count, **options):
    """
    A journal in C{directory} with C{count} records, closed again.

    @return: the records as written.
    """
    journal = opened(directory, **options)
    records = journal.appendBatch([makeRecord(i) for i in range(1, count + 1)])
    journal.close()
    return records


def onlySegment(directory):
    """
    The path of the only segment in C{directory}.
    """
    [name] = [n for n in os.listdir(directory) if n.endswith(".jsonl")]
    return os.path.join(directory, name)


def test_lineRoundTrip():
    """
    A journal line gives back the record id and the record's JSON, and ends
    in exactly one line feed.
    """
    record = makeRecord(5, recordID=42)
    line = encodeLine(record)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    recordID, text = decodeLine(line)
    assert recordID == 42
    assert CallRecord.fromJSON(text) == record


@settings(max_examples=300)
@given(st.binary(max_size=400))
def test_decodeLineRefusesArbitraryBytes(data):
    """
    Arbitrary bytes are never taken for a record: decoding raises
    C{ValueError} (a CRC-32 collision aside, which random bytes do not hit).
    """
    with pytest.raises(ValueError):
        decodeLine(data)


def test_decodeLineRefusesFlippedByte():
    """
    Any single changed byte of a line makes it fail its check.
    """
    line = encodeLine(makeRecord(1, recordID=1))
    for i in range(len(line)):
        changed = bytearray(line)
        changed[i] ^= 0x01
        with pytest.raises(ValueError):
            decodeLine(bytes(changed))


def referenceDecode(line):
    """
    Decode a journal line straight from its documented format,
    C{<crc32, 8 lowercase hex> <record id> <record JSON>\\n} with the
    checksum over everything between its space and the line feed: the
    reference L{decodeLine} must agree with, reason included.
    """
    match = re.fullmatch(rb"([0-9a-f]{8}) ((\d+) ([^\n]*))\n", line)
    if match is None:
        raise ValueError("not a journal line")
    if zlib.crc32(match.group(2)) != int(match.group(1), 16):
        raise ValueError("checksum mismatch")
    return int(match.group(3)), match.group(4)


def outcome(decode, line):
    try:
        return decode(line)
    except ValueError as e:
        return ("refused", str(e))


def sealed(payload):
    """
    A line with a correct checksum around any payload, so that the checks
    after the checksum's are exercised too.
    """
    return b"%08x %s\n" % (zlib.crc32(payload), payload)


_PIECES = st.sampled_from(
    [b" ", b"\n", b"\r", b"0", b"9", b"a", b"f", b"A", b"F", b"g", b"-", b"+", b"_",
     b"\xd9", b"\x00", b"{}", b"\t"]
)


@st.composite
def journalLines(draw):
    """
    Good journal lines, lines mutated byte by byte (changed, inserted,
    deleted, cut short), and lines of arbitrary pieces with and without a
    correct checksum.
    """
    kind = draw(st.sampled_from(["good", "mutated", "sealed", "pieces", "binary"]))
    if kind == "binary":
        return draw(st.binary(max_size=200))
    if kind in ("sealed", "pieces"):
        payload = b"".join(draw(st.lists(_PIECES | st.binary(max_size=5), max_size=12)))
        if kind == "sealed":
            return sealed(payload)
        return b"".join(draw(st.lists(_PIECES, max_size=12))) + payload
    line = encodeLine(makeRecord(draw(st.integers(0, 50)),
                                 recordID=draw(st.integers(0, 10**12))))
    if kind == "good":
        return line
    data = bytearray(line)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["change", "insert", "delete", "cut"]))
        piece = draw(_PIECES)
        if action == "change" and at < len(data):
            data[at : at + 1] = piece[:1]
        elif action == "insert":
            data[at:at] = piece
        elif action == "delete":
            del data[at : at + 1]
        else:
            del data[at:]
    if draw(st.booleans()):
        return sealed(bytes(data[9:-1]))
    return bytes(data)


@settings(max_examples=2000)
@given(journalLines())
def test_decodeLineAgreesWithReference(line):
    """
    The split-based L{decodeLine} gives what the reference decoder gives:
    the same id and text, or a refusal for the same reason.
    """
    assert outcome(decodeLine, line) == outcome(referenceDecode, line)


def test_decodeLineReasons():
    """
    Bad structure, an upper-case checksum included, is "not a journal
    line"; good structure with a wrong checksum is a "checksum mismatch".
    """
    line = encodeLine(makeRecord(1, recordID=7))
    assert outcome(decodeLine, line.upper()) == ("refused", "not a journal line")
    assert outcome(decodeLine, b"00000000" + line[8:]) == (
        "refused", "checksum mismatch")
    assert outcome(decodeLine, b"7" + line[1:] if line[:1] != b"7" else b"8" + line[1:]) == (
        "refused", "checksum mismatch")


def test_appendAssignsSequentialIDs(tmp_path):
    """
    Each appended record gets the next record id, and reads back equal.
    """
    journal = opened(tmp_path)
    first = journal.appendBatch([makeRecord(1), makeRecord(2)])
    second = journal.appendBatch([makeRecord(3)])
    assert [r.recordID for r in first + second] == [1, 2, 3]
    assert journal.read(0, 10) == first + second
    assert journal.lastID == 3 and journal.pending == 3


def test_appendWritesBeforeReturning(tmp_path):
    """
    When appendBatch returns, the segment on disk ends with the batch's
    lines, and fsync was called on it.
    """
    synced = []

    def fsync(fd):
        synced.append(os.fstat(fd).st_size)
        os.fsync(fd)

    journal = opened(tmp_path, fsync=fsync)
    del synced[:]
    records = journal.appendBatch([makeRecord(1), makeRecord(2)])
    expected = b"".join(encodeLine(r) for r in records)
    with open(onlySegment(tmp_path), "rb") as f:
        assert f.read() == expected
    assert synced == [len(expected)]


def test_idsSurviveReopen(tmp_path):
    """
    The record ids go on after a restart from the last record on disk.
    """
    written(tmp_path, 3)
    journal = opened(tmp_path)
    assert journal.appendBatch([makeRecord(4)])[0].recordID == 4


def test_tornTailAtEveryOffset(tmp_path):
    """
    A crash can cut the journal at any byte: reopening brings back exactly
    the complete records before the cut, cuts the file back to them, and
    the next record takes the next id.
    """
    records = written(tmp_path / "whole", 3)
    data = open(onlySegment(tmp_path / "whole"), "rb").read()
    ends = []
    for record in records:
        ends.append((ends[-1] if ends else 0) + len(encodeLine(record)))
    for length in range(len(data) + 1):
        directory = tmp_path / f"cut{length}"
        directory.mkdir()
        (directory / "cdr-000001.jsonl").write_bytes(data[:length])
        journal = opened(directory, fsync=noFsync)
        complete = [r for r, end in zip(records, ends) if end <= length]
        goodEnd = max([end for end in ends if end <= length], default=0)
        assert journal.read(0, 10) == complete, length
        assert (directory / "cdr-000001.jsonl").read_bytes() == data[:goodEnd]
        assert journal.truncatedBytes == length - goodEnd
        assert journal.corruptLines == []
        [again] = journal.appendBatch([makeRecord(9)])
        assert again.recordID == len(complete) + 1
        journal.close()


@pytest.mark.parametrize(
    "garbage",
    [
        b"x",
        b"garbage\n",
        b"\n\n\n",
        b"\x00" * 50,
        b"00000000 4 {}\n",
        b"deadbeef 4 " + makeRecord(4, recordID=4).toJSON().encode() + b"\n",
        b"\xff\xfe\n\x01\x02",
    ],
)
def test_garbageAppendedIsDiscarded(tmp_path, garbage):
    """
    Garbage after the last good line (a write interrupted in a way that left
    junk) is cut off on open, never read as a record.
    """
    records = written(tmp_path, 3)
    path = onlySegment(tmp_path)
    good = open(path, "rb").read()
    with open(path, "ab") as f:
        f.write(garbage)
    journal = opened(tmp_path)
    assert journal.read(0, 10) == records
    assert open(path, "rb").read() == good
    assert journal.truncatedBytes == len(garbage)
    assert journal.lastID == 3


def test_corruptMiddleLineIsReportedAndSkipped(tmp_path):
    """
    A damaged line between good lines is counted, reported with its
    position and skipped; the records around it read back, the file is left
    as it is, and the ids go on after the last good record.
    """
    records = written(tmp_path, 3)
    path = onlySegment(tmp_path)
    data = bytearray(open(path, "rb").read())
    second = len(encodeLine(records[0]))
    data[second + 20] ^= 0x04
    open(path, "wb").write(data)
    journal = opened(tmp_path)
    assert journal.read(0, 10) == [records[0], records[2]]
    [corrupt] = journal.corruptLines
    assert (corrupt.fileName, corrupt.offset) == ("cdr-000001.jsonl", second)
    assert open(path, "rb").read() == data
    assert journal.appendBatch([makeRecord(4)])[0].recordID == 4


def test_repeatedIDIsCorrupt(tmp_path):
    """
    A good line whose record id does not follow the one before (a
    duplicated line) is reported as corrupt and never read twice.
    """
    records = written(tmp_path, 3)
    path = onlySegment(tmp_path)
    lines = open(path, "rb").read().splitlines(keepends=True)
    open(path, "wb").write(lines[0] + lines[1] + lines[0] + lines[2])
    journal = opened(tmp_path)
    assert journal.read(0, 10) == records
    assert len(journal.corruptLines) == 1


def test_rotationBySize(tmp_path):
    """
    A segment that reached the size limit is closed before the next write,
    and reading goes across segments.
    """
    journal = opened(tmp_path, segmentBytes=1)
    records = [journal.appendBatch([makeRecord(i)])[0] for i in range(1, 4)]
    assert [os.path.basename(p) for p in journal.segmentPaths()] == [
        "cdr-000001.jsonl",
        "cdr-000002.jsonl",
        "cdr-000003.jsonl",
    ]
    assert journal.read(0, 10) == records
    assert journal.read(1, 10) == records[1:]
    journal.close()
    assert opened(tmp_path).read(0, 10) == records


def test_rotationByAge(tmp_path):
    """
    A segment older than the age limit is closed before the next write; a
    younger one is written on.
    """
    now = [1000.0]
    journal = opened(tmp_path, segmentSeconds=60, clock=lambda: now[0])
    journal.appendBatch([makeRecord(1)])
    now[0] += 59
    journal.appendBatch([makeRecord(2)])
    assert len(journal.segmentPaths()) == 1
    now[0] += 1
    journal.appendBatch([makeRecord(3)])
    assert len(journal.segmentPaths()) == 2
    assert [r.recordID for r in journal.read(0, 10)] == [1, 2, 3]


def test_pagedReadsReturnEachRecordOnce(tmp_path):
    """
    Reading page by page after the last id returned gives every record once,
    in order, across segments.
    """
    journal = opened(tmp_path, segmentBytes=1000)
    for i in range(0, 30, 3):
        journal.appendBatch([makeRecord(i + j) for j in range(3)])
    seen = []
    while page := journal.read(seen[-1].recordID if seen else 0, 4):
        seen.extend(page)
    assert [r.recordID for r in seen] == list(range(1, 31))
    assert journal.read(7, 2) == seen[7:9]


def test_readLinesGivesTheWrittenJSON(tmp_path):
    """
    readLines gives each record's id and the JSON text it was written as,
    with the same paging and acknowledgement rules as read.
    """
    journal = opened(tmp_path, segmentBytes=500)
    records = journal.appendBatch([makeRecord(i) for i in range(1, 6)])
    journal.acknowledge(1)
    lines = journal.readLines(2, 2)
    assert lines == [(r.recordID, r.toJSON().encode()) for r in records[2:4]]
    assert journal.readLines(4, 10) == [(5, records[4].toJSON().encode())]
    assert [i for i, _ in journal.readLines(0, 10)] == [2, 3, 4, 5]


def test_acknowledgedRecordsAreNeverReadAgain(tmp_path):
    """
    After acknowledge(N), no read returns a record up to N, even after a
    restart; segments holding only acknowledged records are deleted.
    """
    journal = opened(tmp_path, segmentBytes=1)
    records = [journal.appendBatch([makeRecord(i)])[0] for i in range(1, 4)]
    assert journal.acknowledge(2) == 2
    assert journal.read(0, 10) == records[2:]
    assert [os.path.basename(p) for p in journal.segmentPaths()] == ["cdr-000003.jsonl"]
    assert json.loads((tmp_path / "state.json").read_text()) == {"acknowledged": 2}
    journal.close()
    again = opened(tmp_path)
    assert again.read(0, 10) == records[2:]
    assert again.acknowledgedID == 2 and again.pending == 1


def test_acknowledgeEverythingKeepsIDsGoing(tmp_path):
    """
    When every record is acknowledged and every segment deleted, the ids
    still go on after a restart, from the acknowledged id.
    """
    journal = opened(tmp_path)
    journal.appendBatch([makeRecord(1), makeRecord(2)])
    journal.acknowledge(2)
    assert [p for p in os.listdir(tmp_path) if p.endswith(".jsonl")] == [
        "cdr-000002.jsonl"
    ]
    assert os.path.getsize(journal.segmentPaths()[0]) == 0
    journal.close()
    again = opened(tmp_path)
    assert again.read(0, 10) == []
    assert again.appendBatch([makeRecord(3)])[0].recordID == 3


def test_acknowledgeIsIdempotentAndBounded(tmp_path):
    """
    Acknowledging an id again does nothing; acknowledging beyond the last
    record is an error.
    """
    journal = opened(tmp_path)
    journal.appendBatch([makeRecord(1), makeRecord(2)])
    assert journal.acknowledge(1) == 1
    assert journal.acknowledge(1) == 0
    assert journal.acknowledge(0) == 0
    with pytest.raises(JournalError):
        journal.acknowledge(3)
    assert journal.acknowledgedID == 1


def test_acknowledgedSegmentWithCorruptLineIsKept(tmp_path):
    """
    A segment with a corrupt line is not deleted when its records are
    acknowledged: it is kept as a .corrupt file for an operator.
    """
    written(tmp_path, 3)
    path = onlySegment(tmp_path)
    data = bytearray(open(path, "rb").read())
    data[15] ^= 0x04
    open(path, "wb").write(data)
    journal = opened(tmp_path)
    journal.acknowledge(3)
    assert os.path.exists(path + ".corrupt")
    assert journal.keptCorruptFiles == [path + ".corrupt"]
    journal.appendBatch([makeRecord(4)])
    journal.close()
    again = opened(tmp_path)
    assert [r.recordID for r in again.read(0, 10)] == [4]
    assert again.corruptLines == []


def test_capacityWarningOncePerCrossing(tmp_path):
    """
    The observer hears nearlyFull once when the unacknowledged records reach
    80% of the capacity, relieved when acknowledgement brings them below,
    and nearlyFull again at the next crossing.
    """
    observer = Recorder()
    journal = opened(tmp_path, capacity=5, observer=observer)
    for i in range(1, 5):
        journal.appendBatch([makeRecord(i)])
    assert observer.calls == [("nearlyFull", 4, 5)]
    journal.appendBatch([makeRecord(5)])
    assert observer.calls == [("nearlyFull", 4, 5)]
    journal.acknowledge(2)
    assert observer.calls[1:] == [("relieved", 3, 5)]
    journal.appendBatch([makeRecord(6)])
    assert observer.calls[2:] == [("nearlyFull", 4, 5)]


def test_fullJournalRefusesNewRecords(tmp_path):
    """
    A full journal refuses new records (JournalFull), counts and reports
    them, and keeps every unacknowledged old one; after acknowledgement it
    takes records again.
    """
    observer = Recorder()
    journal = opened(tmp_path, capacity=3, observer=observer)
    results = journal.appendBatch([makeRecord(i) for i in range(1, 6)])
    assert [r.recordID for r in results[:3]] == [1, 2, 3]
    assert all(isinstance(r, JournalFull) for r in results[3:])
    assert journal.refusedCount == 2
    assert observer.calls == [
        ("nearlyFull", 3, 3),
        ("refused", "call-4", 1, 3),
        ("refused", "call-5", 2, 3),
    ]
    assert [r.recordID for r in journal.read(0, 10)] == [1, 2, 3]
    journal.acknowledge(1)
    assert journal.appendBatch([makeRecord(6)])[0].recordID == 4


def test_nearlyFullAtOpen(tmp_path):
    """
    A journal that is already nearly full when opened says so.
    """
    written(tmp_path, 4)
    observer = Recorder()
    opened(tmp_path, capacity=5, observer=observer)
    assert observer.calls == [("nearlyFull", 4, 5)]


def test_failedFsyncBreaksTheJournal(tmp_path):
    """
    After an fsync failure the journal refuses every write until it is
    reopened, since nobody knows what reached the disk.
    """

    def failing(fd):
        raise OSError(5, "Input/output error")

    journal = opened(tmp_path)
    journal._fsync = failing
    with pytest.raises(JournalError):
        journal.appendBatch([makeRecord(1)])
    journal._fsync = os.fsync
    with pytest.raises(JournalError):
        journal.appendBatch([makeRecord(2)])
    journal.close()
    assert [r.callID for r in opened(tmp_path).read(0, 10)] == ["call-1"]


def test_unreadableStateRefusesToOpen(tmp_path):
    """
    A state file that cannot be read stops the journal from opening, rather
    than sending acknowledged records again.
    """
    written(tmp_path, 2)
    (tmp_path / "state.json").write_text("{not json")
    with pytest.raises(JournalError):
        opened(tmp_path)


def test_closedJournalRefusesWrites(tmp_path):
    """
    A closed journal refuses appends and acknowledgements.
    """
    journal = opened(tmp_path)
    journal.close()
    with pytest.raises(JournalError):
        journal.appendBatch([makeRecord(1)])
    with pytest.raises(JournalError):
        journal.acknowledge(0)


class JournalTests(TestCase):
    """
    L{Journal}: the file work on a worker thread, with Deferreds and group
    commit.
    """

    def setUp(self):
        parent = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, parent)
        self.directory = os.path.join(parent, "cdr")
        self.fsyncs = []
        self.observer = Recorder()

    def fsync(self, fd):
        self.fsyncs.append((threading.get_ident(), os.fstat(fd).st_size))
        os.fsync(fd)

    def journal(self, **options):
        journal = Journal(
            self.directory, reactor, fsync=self.fsync, observer=self.observer, **options
        )
        self.addCleanup(journal.close)
        return journal

    async def _opened(self, **options):
        journal = self.journal(**options)
        await journal.open()
        del self.fsyncs[:]
        return journal

    def run_async(self, f):
        return ensureDeferred(f())

    def test_appendFiresAfterFsyncOnWorkerThread(self):
        """
        An append's Deferred fires after its line is on disk and fsync'd,
        and the fsync ran on the worker thread, not the reactor's.
        """

        async def go():
            journal = await self._opened()
            path = journal.core.segmentPaths()[-1]
            for i in range(1, 4):
                record = await journal.append(makeRecord(i))
                self.assertEqual(record.recordID, i)
                data = open(path, "rb").read()
                self.assertTrue(data.endswith(encodeLine(record)))
                self.assertEqual(self.fsyncs[-1][1], len(data))
            self.assertNotIn(threading.get_ident(), {t for t, _ in self.fsyncs})

        return self.run_async(go)

    def test_groupCommit(self):
        """
        Appends made while a write is in progress share the next fsync: 100
        appends in one go take two fsyncs (the first record alone, then the
        other 99), and get ids 1 to 100 in order.
        """

        async def go():
            journal = await self._opened()
            records = await gatherResults(
                [journal.append(makeRecord(i)) for i in range(100)]
            )
            self.assertEqual([r.recordID for r in records], list(range(1, 101)))
            self.assertEqual(len(self.fsyncs), 2)

        return self.run_async(go)

    def test_readAndAcknowledge(self):
        """
        Read and acknowledge go through the worker thread; acknowledged
        records are not read again.
        """

        async def go():
            journal = await self._opened()
            await gatherResults([journal.append(makeRecord(i)) for i in range(5)])
            self.assertEqual(len(await journal.read(0, 10)), 5)
            self.assertEqual(await journal.acknowledge(3), 3)
            self.assertEqual([r.recordID for r in await journal.read(0, 10)], [4, 5])

        return self.run_async(go)

    def test_fullJournalFailsTheAppend(self):
        """
        A refused record fails its Deferred with JournalFull; the observer
        hears about it in the reactor thread, and the refusal is counted.
        """

        async def go():
            journal = await self._opened(capacity=2)
            await journal.append(makeRecord(1))
            await journal.append(makeRecord(2))
            with self.assertRaises(JournalFull):
                await journal.append(makeRecord(3))
            self.assertEqual(journal.refusedCount, 1)
            self.assertEqual(
                [c[0] for c in self.observer.calls], ["nearlyFull", "refused"]
            )
            self.assertEqual(self.observer.threads, {threading.get_ident()})
            self.flushLoggedErrors()

        return self.run_async(go)

    def test_closeFinishesWrites(self):
        """
        close() lets the writes in progress finish, then refuses new work.
        """

        async def go():
            journal = await self._opened()
            pending = [journal.append(makeRecord(i)) for i in range(10)]
            await journal.close()
            records = await gatherResults(pending)
            self.assertEqual(len(records), 10)
            with self.assertRaises(JournalError):
                await journal.append(makeRecord(11))
            again = self.journal()
            await again.open()
            self.assertEqual(len(await again.read(0, 100)), 10)

        return self.run_async(go)

    def test_openFailure(self):
        """
        A journal that cannot open fails open()'s Deferred with
        JournalError.
        """
        os.makedirs(self.directory)
        with open(os.path.join(self.directory, "state.json"), "w") as f:
            f.write("[]")
        return self.assertFailure(self.journal().open(), JournalError)


def test_openCreatesTheDirectoryDurably(tmp_path):
    """
    Opening creates the journal directory and its missing parents, each
    fsync'd into its parent, and a first segment in it.
    """
    synced = []

    def fsync(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))

    directory = tmp_path / "data" / "cdr"
    journal = opened(directory, fsync=fsync)
    assert synced == [str(tmp_path), str(tmp_path / "data"), str(directory)]
    assert journal.segmentPaths() == [str(directory / "cdr-000001.jsonl")]


def test_crashWhileWritingTheState(tmp_path):
    """
    A crash before the new state file was renamed into place leaves the
    old acknowledgement in force and a stray temporary file, which opening
    removes.
    """
    journal = opened(tmp_path)
    journal.appendBatch([makeRecord(1), makeRecord(2)])
    journal.acknowledge(1)
    journal.close()
    (tmp_path / "state.json.tmp").write_text('{"acknowl')
    again = opened(tmp_path)
    assert again.acknowledgedID == 1
    assert [r.recordID for r in again.read(0, 10)] == [2]
    assert not (tmp_path / "state.json.tmp").exists()


def test_crashAfterTheStateBeforeDeleting(tmp_path):
    """
    A crash after the acknowledgement was durable but before the segments
    were deleted: opening deletes them, and nothing acknowledged is read.
    """
    journal = opened(tmp_path, segmentBytes=1)
    for i in range(1, 4):
        journal.appendBatch([makeRecord(i)])
    journal.close()
    (tmp_path / "state.json").write_text('{"acknowledged": 2}')
    again = opened(tmp_path)
    assert [os.path.basename(p) for p in again.segmentPaths()] == ["cdr-000003.jsonl"]
    assert [r.recordID for r in again.read(0, 10)] == [3]

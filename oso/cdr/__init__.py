"""
Call data records: the record, the durable journal and the file formats.
"""

from oso.cdr.formats import (
    CSVFormat,
    HiPathFixedFormat,
    JSONLinesFormat,
    OpenScapeFormat,
)
from oso.cdr.journal import (
    CapacityObserver,
    Journal,
    JournalError,
    JournalFull,
    SyncJournal,
)
from oso.cdr.record import CallRecord, CDRError, Direction, Disposition, suppressDigits

__all__ = [
    "CallRecord",
    "CapacityObserver",
    "CDRError",
    "CSVFormat",
    "Direction",
    "Disposition",
    "HiPathFixedFormat",
    "Journal",
    "JournalError",
    "JournalFull",
    "JSONLinesFormat",
    "OpenScapeFormat",
    "SyncJournal",
    "suppressDigits",
]

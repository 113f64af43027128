"""
Call data records: the record, the durable journal and the file formats.
"""

from oso.cdr.formats import (
    CSVFormat,
    HiPathFixedFormat,
    JSONLinesFormat,
    OpenScapeFormat,
)
from oso.cdr.record import CallRecord, CDRError, Direction, Disposition, suppressDigits

__all__ = [
    "CallRecord",
    "CDRError",
    "CSVFormat",
    "Direction",
    "Disposition",
    "HiPathFixedFormat",
    "JSONLinesFormat",
    "OpenScapeFormat",
    "suppressDigits",
]

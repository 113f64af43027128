"""
The call records page: how full the CDR journal is, its latest records,
and a download of them in each CDR format.

The download is a copy for the administrator: it acknowledges nothing, so
billing still collects every record through its own paths (doc/cdr.md).
"""

import datetime

from twisted.internet.threads import deferToThreadPool
from twisted.web.template import tags

from oso.cdr.download import renderLines
from oso.gserver.wbm.layout import definitions, table

#: The records the page lists.
PAGE_RECORDS = 50

#: The most records one download holds: the latest unacknowledged ones.
DOWNLOAD_RECORDS = 10_000


def _latestAfter(journal, count):
    """
    The record id after which the latest C{count} unacknowledged records
    start.
    """
    core = journal.core
    return max(core.acknowledgedID, core.lastID - count)


async def latestRecords(journal, count=PAGE_RECORDS):
    """
    The latest unacknowledged records, newest first.

    @param journal: the open L{oso.cdr.journal.Journal}.
    @rtype: L{list} of L{oso.cdr.record.CallRecord}
    """
    records = await journal.read(_latestAfter(journal, count), count)
    return list(reversed(records))


def _recordRow(record):
    ended = datetime.datetime.fromtimestamp(record.endTime, datetime.UTC)
    return (
        str(record.recordID),
        ended.strftime("%Y-%m-%d %H:%M:%S"),
        record.subscriber,
        record.externalNumber,
        record.direction.value,
        record.disposition.value,
        f"{record.durationSeconds} s",
    )


def callRecordsPage(cdrService, records, formatNames):
    """
    The page's content.

    @param cdrService: the cdr component's service, or L{None}.
    @param records: the latest records, newest first.
    @param formatNames: the names of the CDR formats to offer downloads in.
    """
    if cdrService is None or cdrService.journal is None:
        return [tags.p("The cdr component is not running.", class_="empty")]
    journal = cdrService.journal
    capacity = journal.core.capacity
    fill = journal.pending / capacity if capacity else 0.0
    downloads = tags.ul(
        [
            tags.li(tags.a(name, href=f"/call-records/download?format={name}",
                           download="download"))
            for name in formatNames
        ],
        class_="downloads",
    )
    return [
        tags.section(
            tags.h2("Journal"),
            definitions([
                ("Records not yet collected by billing", str(journal.pending)),
                ("Capacity", str(capacity)),
                ("Fill", f"{fill:.1%}"),
                ("Records refused because it was full", str(journal.refusedCount)),
                ("Corrupt lines skipped", str(journal.corruptCount)),
            ]),
            tags.meter(value=f"{fill:.4f}", min="0", max="1", high=str(cdrService.settings.warnAt),
                       id="journal-fill"),
            id="journal",
        ),
        tags.section(
            tags.h2("Download"),
            tags.p(
                f"The latest {DOWNLOAD_RECORDS} records not yet collected, in each format. "
                "A download here acknowledges nothing: billing still collects them.",
                class_="hint",
            ),
            downloads,
        ),
        tags.section(
            tags.h2(f"Latest records (up to {PAGE_RECORDS}, newest first, times in UTC)"),
            table(("Record", "Ended", "Extension", "Other party", "Direction", "Disposition",
                   "Talked"),
                  [_recordRow(r) for r in records], "No records waiting for billing.",
                  id="records"),
        ),
    ]


async def download(cdrService, format):
    """
    The latest records in a format, without acknowledging them.

    @param format: an L{oso.interfaces.ICDRFormat}.
    @return: C{(first, last, body)}; C{first > last} when there is none.
    """
    journal = cdrService.journal
    after = _latestAfter(journal, DOWNLOAD_RECORDS)
    lines = await journal.readLines(after, DOWNLOAD_RECORDS)
    reactor = cdrService.context.reactor
    body = await deferToThreadPool(
        reactor, reactor.getThreadPool(), renderLines, format, lines
    )
    first, last = (lines[0][0], lines[-1][0]) if lines else (after + 1, after)
    return first, last, format.header() + body

"""
The call data record: one finished leg of a call, as billing sees it.

A L{CallRecord} is a frozen value.  The recorder builds it when a call leg
ends, the journal gives it its record id and keeps it on disk as the JSON
text of L{CallRecord.toJSON}, and the formats of L{oso.cdr.formats} render
it for billing systems.

Times are kept as POSIX seconds (UTC); only a format turns them into a local
date and time, in the time zone it is configured with.
"""

import json
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from enum import Enum


class CDRError(Exception):
    """
    Call data that cannot be used: a record with a wrong field, JSON text that
    is not a record, or a journal that cannot keep records.
    """


class Direction(Enum):
    """
    Which way a call leg went, seen from the subscriber of the record.
    """

    incoming = "incoming"
    outgoing = "outgoing"
    internal = "internal"


class Disposition(Enum):
    """
    How the call leg ended for the subscriber of the record.

    @cvar answered: the subscriber talked (the duration counts that time).
    @cvar busy: the called party was busy.
    @cvar noAnswer: it rang and nobody answered.
    @cvar failed: the call failed before anybody talked (wrong number,
        network failure, refused by the class of service).
    @cvar forwarded: the subscriber's device forwarded (diverted) the call to
        another destination; this leg names the forwarding extension.
    @cvar pickedUp: a call for another device that this subscriber picked up.
    """

    answered = "answered"
    busy = "busy"
    noAnswer = "noAnswer"
    failed = "failed"
    forwarded = "forwarded"
    pickedUp = "pickedUp"


#: The largest POSIX time a record accepts: 9999-12-30, so that every time
#: zone still gives a date C{datetime} can show.
MAX_END_TIME = 253402214400


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRecord:
    """
    One finished call leg.

    Text fields hold C{""} when the information does not exist; the two
    charge fields hold L{None} when the trunk reported no charge.

    @ivar recordID: the journal's sequence number, one more than the
        previous record's; C{0} until the journal has written the record.
    @ivar callID: the call model's id of the call the leg belonged to.
    @ivar endTime: when the leg ended, POSIX seconds (UTC).
    @ivar ringSeconds: how long it rang before it was answered or given up.
    @ivar durationSeconds: how long the subscriber talked (C{0} when the leg
        was never connected).
    @ivar line: the trunk line (port) the call used, for example C{"201"};
        C{""} for an internal call.
    @ivar subscriber: the internal extension the record bills or reports.
    @ivar externalNumber: the other party's number: the number dialled on an
        outgoing call, the calling number on an incoming one, the other
        extension on an internal one.  Digit suppression (L{suppressDigits})
        is applied by the recorder before the record is made.
    @ivar direction: a L{Direction}.
    @ivar disposition: a L{Disposition}.
    @ivar chargeUnits: charge units (pulses) the trunk reported, or L{None}.
    @ivar amount: the charge amount (a non-negative L{Decimal}, in the
        currency the trunk reports) or L{None}.
    @ivar accountCode: the account (project) code entered for the call.
    @ivar transferredFrom: the extension that transferred this call to the
        subscriber.
    @ivar transferredTo: the extension the subscriber transferred the call to.
    @ivar msn: the multiple subscriber number used on the trunk.
    @ivar trunkGroup: the trunk group (seizure or access code) used.
    @ivar lcrRoute: the least cost routing route taken.
    @ivar dialledNumber: for an outgoing call, the number least cost routing
        actually sent to the network; for an incoming one, the internal
        number the caller first dialled (before forwarding, pickup or
        transfer).
    @ivar node: the node that made the record in a networked system.
    @ivar externalRestricted: the other party withheld its number (CLIR),
        so C{externalNumber} is empty on purpose rather than unknown.
    """

    recordID: int = 0
    callID: str
    endTime: float
    ringSeconds: int = 0
    durationSeconds: int = 0
    line: str = ""
    subscriber: str = ""
    externalNumber: str = ""
    direction: Direction
    disposition: Disposition
    chargeUnits: int | None = None
    amount: Decimal | None = None
    accountCode: str = ""
    transferredFrom: str = ""
    transferredTo: str = ""
    msn: str = ""
    trunkGroup: str = ""
    lcrRoute: str = ""
    dialledNumber: str = ""
    node: str = ""
    externalRestricted: bool = False

    def __post_init__(self):
        for name in _COUNTS:
            value = getattr(self, name)
            if type(value) is not int or value < 0:
                raise CDRError(f"{name} must be a non-negative int, not {value!r}")
        if type(self.endTime) not in (int, float) or not (
            0 <= self.endTime <= MAX_END_TIME
        ):
            raise CDRError(
                f"endTime must be POSIX seconds from 0 to {MAX_END_TIME}, "
                f"not {self.endTime!r}"
            )
        for name in _TEXTS:
            if type(getattr(self, name)) is not str:
                raise CDRError(f"{name} must be a str, not {getattr(self, name)!r}")
        if type(self.externalRestricted) is not bool:
            raise CDRError(
                f"externalRestricted must be a bool, not {self.externalRestricted!r}"
            )
        if not isinstance(self.direction, Direction):
            raise CDRError(f"direction must be a Direction, not {self.direction!r}")
        if not isinstance(self.disposition, Disposition):
            raise CDRError(
                f"disposition must be a Disposition, not {self.disposition!r}"
            )
        if self.chargeUnits is not None and (
            type(self.chargeUnits) is not int or self.chargeUnits < 0
        ):
            raise CDRError(
                f"chargeUnits must be None or a non-negative int, "
                f"not {self.chargeUnits!r}"
            )
        if self.amount is not None and (
            not isinstance(self.amount, Decimal)
            or not self.amount.is_finite()
            or self.amount < 0
        ):
            raise CDRError(
                f"amount must be None or a finite, non-negative Decimal, "
                f"not {self.amount!r}"
            )

    def toJSON(self):
        """
        The record as one line of compact ASCII JSON text (no newline in
        it): enums by their value, the amount as a decimal string, the end
        time as a number.

        @rtype: L{str}
        """
        value = {name: getattr(self, name) for name in _FIELD_NAMES}
        value["direction"] = self.direction.value
        value["disposition"] = self.disposition.value
        if self.amount is not None:
            value["amount"] = str(self.amount)
        return _ENCODER.encode(value)

    def withRecordID(self, recordID):
        """
        This record with the journal's record id.

        The copy skips the checks of L{__post_init__}: its other fields were
        checked when this record was made, and the journal makes thousands
        of these a second.

        @type recordID: L{int}
        @rtype: L{CallRecord}
        @raise CDRError: when C{recordID} is not a non-negative int.
        """
        if type(recordID) is not int or recordID < 0:
            raise CDRError(f"recordID must be a non-negative int, not {recordID!r}")
        copy = object.__new__(CallRecord)
        for name in _FIELD_NAMES:
            object.__setattr__(copy, name, getattr(self, name))
        object.__setattr__(copy, "recordID", recordID)
        return copy

    @classmethod
    def fromJSON(cls, text):
        """
        The record that L{toJSON} wrote.

        Keys this version does not know are refused; keys it knows but the
        text lacks take their defaults, so that records written before a
        field was added still read.

        @param text: JSON text, as L{str} or UTF-8 L{bytes}.
        @rtype: L{CallRecord}
        @raise CDRError: when the text is not a record.
        """
        try:
            value = json.loads(text)
        except (ValueError, UnicodeDecodeError) as e:
            raise CDRError(f"not JSON: {e}") from None
        if not isinstance(value, dict):
            raise CDRError("a record must be a JSON object")
        unknown = value.keys() - _FIELD_NAMES_SET
        if unknown:
            raise CDRError(f"unknown record fields: {', '.join(sorted(unknown))}")
        try:
            if "direction" in value:
                value["direction"] = _DIRECTIONS[value["direction"]]
            if "disposition" in value:
                value["disposition"] = _DISPOSITIONS[value["disposition"]]
            if value.get("amount") is not None:
                if type(value["amount"]) is not str:
                    raise CDRError("amount must be a decimal string")
                value["amount"] = Decimal(value["amount"])
            return cls(**value)
        except (KeyError, TypeError, InvalidOperation) as e:
            raise CDRError(f"not a record: {e!r}") from None


_FIELD_NAMES = tuple(f.name for f in fields(CallRecord))
_FIELD_NAMES_SET = frozenset(_FIELD_NAMES)
_ENCODER = json.JSONEncoder(separators=(",", ":"))
_DIRECTIONS = {d.value: d for d in Direction}
_DISPOSITIONS = {d.value: d for d in Disposition}
_COUNTS = ("recordID", "ringSeconds", "durationSeconds")
_TEXTS = tuple(f.name for f in fields(CallRecord) if f.type is str)


def suppressDigits(number, n):
    """
    Hide the last C{n} characters of a number behind C{"?"}, as HiPath's
    "last digits suppressed" setting did for privacy.  The length stays the
    same, so a billing system still sees how long the number was.

    @param number: the number.
    @type number: L{str}
    @param n: how many characters to hide; more than the number has hides
        all of them.
    @type n: L{int}
    @rtype: L{str}
    @raise ValueError: when C{n} is negative.
    """
    if n < 0:
        raise ValueError(f"cannot suppress {n} digits")
    keep = max(len(number) - n, 0)
    return number[:keep] + "?" * (len(number) - keep)


__all__ = [
    "CDRError",
    "CallRecord",
    "Direction",
    "Disposition",
    "MAX_END_TIME",
    "suppressDigits",
]

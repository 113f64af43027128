"""
The codecs between the messages of L{oso.csta.messages} and the pyasn1
values of their ECMA-285 types: which ASN.1 type carries which message, the
names that differ, and the few messages that need more than a
L{SequenceCodec} (results that carry nothing, snapshot results, the event
report, the universal failure).

L{ARGUMENTS} and L{RESULTS} map message classes to codecs with C{schema}
(the pyasn1 schema to decode with), C{encode(message)} and C{decode(value)};
events are encoded to octets by L{EVENTS}.
"""

import dataclasses
import operator

from pyasn1.codec.ber import encoder as _berEncoder

from oso.callmodel.errors import UniversalFailure
from oso.csta import messages as m
from oso.csta.asn1 import callcontrol as cc
from oso.csta.asn1 import cdr, common, failures, features, monitor, snapshot, system
from oso.csta.asn1 import events as ev
from oso.csta.asn1.convert import SequenceCodec, converterFor
from oso.csta.asn1.octets import tlv
from oso.csta.operations import BY_CODE

#: How many recent events keep their encoding for the next monitors.
EVENT_MEMO_SIZE = 256

_encode = _berEncoder.encode


class _CommonResultCodec:
    """
    A message that carries nothing but private data <-> C{CHOICE {
    extensions CSTACommonArguments, noData NULL }}.
    """

    schema = common.CommonResult()

    def __init__(self, messageType):
        self.messageType = messageType
        self._extensions = converterFor(
            tuple[bytes, ...], self.schema.componentType[0].asn1Object
        )

    def encode(self, message):
        value = self.schema.clone()
        if message.privateData:
            value.setComponentByPosition(0, self._extensions.encode(message.privateData))
        else:
            value.setComponentByPosition(1, b"")
        return value

    def decode(self, value):
        if value.getName() == "extensions":
            return self.messageType(privateData=self._extensions.decode(value.getComponent()))
        return self.messageType()


class _CrossRefOrDataCodec:
    """
    SnapshotDeviceResult and SnapshotCallResult: a C{crossRefIDorSnapshotData}
    CHOICE of a service cross reference or the snapshot data, and other
    components.
    """

    def __init__(self, messageType, schemaType, renames=None):
        self.schema = schemaType()
        self._rest = SequenceCodec(
            messageType,
            self.schema,
            renames,
            exclude=("snapshotData", "serviceCrossRefID"),
        )
        choice = self.schema.componentType[0].asn1Object
        self._choice = choice
        self._crossRef = converterFor(str, choice.componentType[0].asn1Object)
        field = {f.name: f for f in dataclasses.fields(messageType)}["snapshotData"]
        self._data = converterFor(field.type, choice.componentType[1].asn1Object)

    def encode(self, message):
        value = self._rest.encode(message)
        choice = self._choice.clone()
        if message.serviceCrossRefID is not None:
            choice.setComponentByPosition(0, self._crossRef.encode(message.serviceCrossRefID))
        else:
            choice.setComponentByPosition(1, self._data.encode(message.snapshotData))
        value.setComponentByPosition(0, choice)
        return value

    def decode(self, value):
        choice = value.getComponentByPosition(0)
        if choice.getName() == "serviceCrossRefID":
            part = {"serviceCrossRefID": self._crossRef.decode(choice.getComponent())}
        else:
            part = {"snapshotData": self._data.decode(choice.getComponent())}
        return self._rest.decode(value, **part)


def _sequence(messageType, schemaType, **renames):
    return SequenceCodec(messageType, schemaType(), renames)


_PRIVATE = {"privateData": "privateData"}

#: Argument message class -> codec (events: L{EVENTS}).
ARGUMENTS = {
    m.MakeCall: _sequence(m.MakeCall, cc.MakeCallArgument),
    m.AnswerCall: _sequence(m.AnswerCall, cc.AnswerCallArgument),
    m.ClearConnection: _sequence(m.ClearConnection, cc.ClearConnectionArgument),
    m.ClearCall: _sequence(m.ClearCall, cc.ClearCallArgument),
    m.HoldCall: _sequence(m.HoldCall, cc.HoldCallArgument),
    m.RetrieveCall: _sequence(m.RetrieveCall, cc.RetrieveCallArgument),
    m.ConsultationCall: _sequence(m.ConsultationCall, cc.ConsultationCallArgument),
    m.AlternateCall: _sequence(m.AlternateCall, cc.AlternateCallArgument),
    m.ReconnectCall: _sequence(m.ReconnectCall, cc.ReconnectCallArgument),
    m.TransferCall: _sequence(m.TransferCall, cc.TransferCallArgument),
    m.SingleStepTransferCall: _sequence(
        m.SingleStepTransferCall, cc.SingleStepTransArgument
    ),
    m.ConferenceCall: _sequence(m.ConferenceCall, cc.ConferenceCallArgument),
    m.DeflectCall: _sequence(m.DeflectCall, cc.DeflectCallArgument),
    m.GenerateDigits: _sequence(m.GenerateDigits, cc.GenerateDigitsArgument),
    m.DirectedPickupCall: _sequence(
        m.DirectedPickupCall, cc.DirectedPickupCallArgument
    ),
    m.GroupPickupCall: _sequence(m.GroupPickupCall, cc.GroupPickupCallArgument),
    m.SetForwarding: _sequence(m.SetForwarding, features.SetForwardingArgument),
    m.GetForwarding: _sequence(m.GetForwarding, features.GetForwardingArgument),
    m.SetDoNotDisturb: _sequence(m.SetDoNotDisturb, features.SetDoNotDisturbArgument),
    m.GetDoNotDisturb: _sequence(m.GetDoNotDisturb, features.GetDoNotDisturbArgument),
    m.EscapeService: _sequence(m.EscapeService, features.EscapeArgument, **_PRIVATE),
    m.MonitorStart: _sequence(m.MonitorStart, monitor.MonitorStartArgument),
    m.MonitorStop: _sequence(
        m.MonitorStop, monitor.MonitorStopArgument, monitorCrossRefID="crossRefIdentifier"
    ),
    m.ChangeMonitorFilter: _sequence(
        m.ChangeMonitorFilter,
        monitor.ChangeMonitorFilterArgument,
        monitorCrossRefID="crossRefIdentifier",
        requestedMonitorFilter="requestedFilterList",
    ),
    m.SnapshotDevice: _sequence(m.SnapshotDevice, snapshot.SnapshotDeviceArgument),
    m.SnapshotCall: _sequence(m.SnapshotCall, snapshot.SnapshotCallArgument),
    m.SystemStatus: _sequence(m.SystemStatus, system.SystemStatusArg),
    m.SystemRegister: _sequence(m.SystemRegister, system.SystemRegisterArgument),
    m.SystemRegisterCancel: _sequence(
        m.SystemRegisterCancel, system.SystemRegisterCancelArgument
    ),
    m.SystemRegisterAbort: _sequence(
        m.SystemRegisterAbort, system.SystemRegisterAbortArgument
    ),
    m.RequestSystemStatus: _sequence(m.RequestSystemStatus, system.RequestSysStatArg),
    m.GetSwitchingFunctionCapabilities: _CommonResultCodec(
        m.GetSwitchingFunctionCapabilities
    ),
    m.GetSwitchingFunctionDevices: _sequence(
        m.GetSwitchingFunctionDevices, system.GetSwitchingFunctionDevicesArgument
    ),
    m.SwitchingFunctionDevices: _sequence(
        m.SwitchingFunctionDevices, system.SwitchingFunctionDevicesArgument
    ),
    m.StartCallDetailRecordsTransmission: _sequence(
        m.StartCallDetailRecordsTransmission, cdr.StartCDRTransmissionArgument
    ),
    m.StopCallDetailRecordsTransmission: _sequence(
        m.StopCallDetailRecordsTransmission, cdr.StopCDRTransmissionArgument
    ),
    m.SendStoredCallDetailRecords: _sequence(
        m.SendStoredCallDetailRecords, cdr.SendStoredCDRArgument
    ),
    m.CallDetailRecordsReport: _sequence(
        m.CallDetailRecordsReport, cdr.CDRReportArgument
    ),
}

#: Result message class -> codec.
RESULTS = {
    m.MakeCallResponse: _sequence(m.MakeCallResponse, cc.MakeCallResult),
    m.ConsultationCallResponse: _sequence(
        m.ConsultationCallResponse, cc.ConsultationCallResult
    ),
    m.TransferCallResponse: _sequence(m.TransferCallResponse, cc.TransferCallResult),
    m.SingleStepTransferCallResponse: _sequence(
        m.SingleStepTransferCallResponse, cc.SingleStepTransResult
    ),
    m.ConferenceCallResponse: _sequence(
        m.ConferenceCallResponse, cc.ConferenceCallResult
    ),
    m.DirectedPickupCallResponse: _sequence(
        m.DirectedPickupCallResponse, cc.DirectedPickupCallResult
    ),
    m.GroupPickupCallResponse: _sequence(
        m.GroupPickupCallResponse, cc.GroupPickupCallResult
    ),
    m.GetForwardingResponse: _sequence(
        m.GetForwardingResponse, features.GetForwardingResult
    ),
    m.GetDoNotDisturbResponse: _sequence(
        m.GetDoNotDisturbResponse, features.GetDoNotDisturbResult
    ),
    m.MonitorStartResponse: _sequence(
        m.MonitorStartResponse,
        monitor.MonitorStartResult,
        monitorCrossRefID="crossRefIdentifier",
        actualMonitorFilter="actualmonitorFilter",
    ),
    m.ChangeMonitorFilterResponse: _sequence(
        m.ChangeMonitorFilterResponse,
        monitor.ChangeMonitorFilterResult,
        actualMonitorFilter="actualFilterList",
    ),
    m.SnapshotDeviceResponse: _CrossRefOrDataCodec(
        m.SnapshotDeviceResponse, snapshot.SnapshotDeviceResult
    ),
    m.SnapshotCallResponse: _CrossRefOrDataCodec(
        m.SnapshotCallResponse,
        snapshot.SnapshotCallResult,
        {
            "associatedCallingDevice": "associatedCallingDeviceID",
            "associatedCalledDevice": "associatedCalledDeviceID",
        },
    ),
    m.SystemRegisterResponse: _sequence(
        m.SystemRegisterResponse, system.SystemRegisterResult
    ),
    m.RequestSystemStatusResponse: _sequence(
        m.RequestSystemStatusResponse, system.RequestSysStatRes
    ),
    m.GetSwitchingFunctionCapabilitiesResponse: _sequence(
        m.GetSwitchingFunctionCapabilitiesResponse,
        system.GetSwitchingFunctionCapsResult,
    ),
    m.GetSwitchingFunctionDevicesResponse: _sequence(
        m.GetSwitchingFunctionDevicesResponse, system.GetSwitchingFunctionDevicesResult
    ),
    m.StartCallDetailRecordsTransmissionResponse: _sequence(
        m.StartCallDetailRecordsTransmissionResponse, cdr.StartCDRTransmissionResult
    ),
}
for _type in (
    m.AnswerCallResponse,
    m.ClearConnectionResponse,
    m.ClearCallResponse,
    m.HoldCallResponse,
    m.RetrieveCallResponse,
    m.AlternateCallResponse,
    m.ReconnectCallResponse,
    m.DeflectCallResponse,
    m.GenerateDigitsResponse,
    m.SetForwardingResponse,
    m.SetDoNotDisturbResponse,
    m.EscapeServiceResponse,
    m.MonitorStopResponse,
    m.SystemStatusResponse,
    m.SystemRegisterCancelResponse,
    m.StopCallDetailRecordsTransmissionResponse,
    m.SendStoredCallDetailRecordsResponse,
    m.CallDetailRecordsReportResponse,
):
    RESULTS[_type] = _CommonResultCodec(_type)


class _EventReportCodec:
    """
    Every event message <-> C{CSTAEventReportArgument}: the monitor cross
    reference and the event in its category's CHOICE.
    """

    #: Event class -> (EventSpecificInfo alternative, category alternative).
    PLACES = {
        m.CallClearedEvent: ("callControlEvents", "callCleared"),
        m.ConferencedEvent: ("callControlEvents", "conferenced"),
        m.ConnectionClearedEvent: ("callControlEvents", "connectionCleared"),
        m.DeliveredEvent: ("callControlEvents", "delivered"),
        m.DigitsDialedEvent: ("callControlEvents", "digitsDialed"),
        m.DivertedEvent: ("callControlEvents", "diverted"),
        m.EstablishedEvent: ("callControlEvents", "established"),
        m.FailedEvent: ("callControlEvents", "failed"),
        m.HeldEvent: ("callControlEvents", "held"),
        m.NetworkReachedEvent: ("callControlEvents", "networkReached"),
        m.OriginatedEvent: ("callControlEvents", "originated"),
        m.QueuedEvent: ("callControlEvents", "queued"),
        m.RetrievedEvent: ("callControlEvents", "retrieved"),
        m.ServiceInitiatedEvent: ("callControlEvents", "serviceInitiated"),
        m.TransferedEvent: ("callControlEvents", "transferred"),
        m.DoNotDisturbEvent: ("logicalDeviceFeatureEvents", "doNotDisturb"),
        m.ForwardingEvent: ("logicalDeviceFeatureEvents", "forwarding"),
        m.BackInServiceEvent: ("deviceMaintenanceEvents", "backInService"),
        m.OutOfServiceEvent: ("deviceMaintenanceEvents", "outOfService"),
        m.PrivateEvent: ("vendorSpecEvents", "privateEvent"),
    }

    RENAMES = {
        m.NetworkReachedEvent: {"originatingNIDConnection": "originatingNIDConneciton"},
        m.PrivateEvent: _PRIVATE,
    }

    schema = ev.CSTAEventReportArgument()

    def __init__(self):
        info = self.schema.componentType[1].asn1Object
        self._info = info
        self._places = {}
        self._codecs = {}
        self._memo = {}
        self._keys = {
            eventType: operator.attrgetter(
                *(f.name for f in dataclasses.fields(eventType) if f.name != "monitorCrossRefID")
            )
            for eventType in self.PLACES
        }
        for eventType, (category, alternative) in self.PLACES.items():
            categoryPosition = info.componentType.getPositionByName(category)
            choice = info.componentType[categoryPosition].asn1Object
            position = choice.componentType.getPositionByName(alternative)
            codec = SequenceCodec(
                eventType,
                choice.componentType[position].asn1Object,
                self.RENAMES.get(eventType),
                exclude=("monitorCrossRefID",),
            )
            self._places[eventType] = (categoryPosition, position, codec)
            self._codecs[category, alternative] = codec

    def octets(self, event):
        """
        The BER octets of the C{CSTAEventReportArgument} of C{event}.

        One change of the call model goes to every monitor that covers it,
        as the same event under another monitor cross reference: the
        C{eventSpecificInfo} is encoded once (by pyasn1) and its octets kept
        for the next monitors; only the cross reference and the SEQUENCE
        around the two are written here.
        """
        eventType = type(event)
        key = (eventType, self._keys[eventType](event))
        info = self._memo.get(key)
        if info is None:
            info = self._encodeInfo(event)
            if len(self._memo) >= EVENT_MEMO_SIZE:
                del self._memo[next(iter(self._memo))]
            self._memo[key] = info
        return tlv(0x30, tlv(0x55, event.monitorCrossRefID.encode("latin-1")), info)

    def _encodeInfo(self, event):
        categoryPosition, position, codec = self._places[type(event)]
        info = self._info.clone()
        info.getComponentByPosition(categoryPosition).setComponentByPosition(
            position, codec.encode(event)
        )
        return _encode(info)

    def decode(self, value):
        crossRef = bytes(value.getComponentByPosition(0)).decode("latin-1")
        info = value.getComponentByPosition(1)
        choice = info.getComponent()
        codec = self._codecs[info.getName(), choice.getName()]
        return codec.decode(choice.getComponent(), monitorCrossRefID=crossRef)


EVENTS = _EventReportCodec()
for _type in _EventReportCodec.PLACES:
    ARGUMENTS[_type] = EVENTS


class _FailureCodec:
    """
    L{UniversalFailure} <-> C{UniversalFailure}.
    """

    schema = failures.UniversalFailure()

    def encode(self, failure):
        value = self.schema.clone()
        position = value.componentType.getPositionByName(failure.category)
        if failure.category == "unspecified":
            value.setComponentByPosition(position, b"")
        else:
            enumeration = value.componentType[position].asn1Object.namedValues
            value.setComponentByPosition(position, enumeration[failure.value])
        return value

    def decode(self, value):
        category = value.getName()
        if category == "unspecified":
            return UniversalFailure("unspecified", "unspecified")
        name = value.getComponent().namedValues.getName(int(value.getComponent()))
        if name is None:
            raise ValueError(f"unknown {category} failure {int(value.getComponent())}")
        return UniversalFailure(category, name)


FAILURE = _FailureCodec()

for _operation in BY_CODE.values():
    if not (
        (_operation.argument in ARGUMENTS or _operation.name == "cSTAEventReport")
        and (_operation.result is None or _operation.result in RESULTS)
    ):
        raise LookupError(f"no BER codec for the messages of {_operation.name}")

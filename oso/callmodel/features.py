"""
The ECMA-269 logical device features of the call model: forwarding and do
not disturb, each change on disk before it is acknowledged.
"""

from dataclasses import replace

from oso.callmodel import errors
from oso.callmodel import events as ev
from oso.callmodel.causes import EventCause
from oso.callmodel.devices import DeviceType, ForwardingSetting, ForwardingType
from oso.callmodel.dialplan import Outcome


class FeatureServices:
    """
    The feature half of L{oso.callmodel.model.CallModel}.
    """

    def setForwarding(self, device, forwardingType, activate, forwardDN=None):
        dev = self._featureDevice(device)
        try:
            kind = ForwardingType(forwardingType)
        except ValueError:
            raise errors.invalidParameterValue(
                f"unknown forwarding type {forwardingType!r}"
            ) from None
        if activate:
            self._checkForwardDestination(dev, kind, forwardDN)
        setting = ForwardingSetting(kind, bool(activate), forwardDN if activate else None)

        def change(features):
            return features.withForwarding(setting)

        def announce(_):
            self._emit(
                ev.Forwarding,
                EventCause.normal,
                None,
                device=dev.number,
                forwardingType=kind,
                forwardStatus=setting.active,
                forwardTo=setting.destination,
            )

        return self._changeFeatures(dev.number, change).addCallback(announce)

    def getForwarding(self, device):
        dev = self._featureDevice(device)
        settings = []
        for kind in ForwardingType:
            destination = dev.features.forwardingFor(kind)
            settings.append(ForwardingSetting(kind, destination is not None, destination))
        return settings

    def setDoNotDisturb(self, device, doNotDisturbOn):
        dev = self._featureDevice(device)
        on = bool(doNotDisturbOn)

        def announce(_):
            self._emit(
                ev.DoNotDisturb, EventCause.normal, None, device=dev.number, doNotDisturbOn=on
            )

        return self._changeFeatures(
            dev.number, lambda features: replace(features, doNotDisturb=on)
        ).addCallback(announce)

    def getDoNotDisturb(self, device):
        return self._featureDevice(device).features.doNotDisturb

    def _featureDevice(self, number):
        device = self.device(number)
        if device.type is DeviceType.trunk:
            raise errors.requestIncompatibleWithDevice(
                f"device {number} is a trunk: it has no features"
            )
        return device

    def _checkForwardDestination(self, device, kind, destination):
        """
        Refuse a destination that is not a complete number, is the device
        itself, or would close a loop of immediate forwarding.
        """
        if not isinstance(destination, str) or not destination:
            raise errors.invalidForwardingDestination("forwarding needs a destination")
        analysis = self.dialPlan.analyse(destination, self._devices, device.classOfService)
        if analysis.outcome is not Outcome.complete:
            raise errors.invalidForwardingDestination(f"{destination} is not a valid number")
        if analysis.kind != "internal":
            return
        seen = {device.number}
        target = analysis.destination
        while target is not None:
            if target in seen:
                raise errors.invalidForwardingDestination(
                    f"forwarding {device.number} to {destination} would loop"
                )
            seen.add(target)
            nextDevice = self._devices.get(target)
            target = nextDevice.features.forwardingFor(
                ForwardingType.forwardImmediate
            ) if nextDevice is not None and kind is ForwardingType.forwardImmediate else None

    def _changeFeatures(self, number, change):
        """
        Apply C{change} (features to features) to a device: on disk first,
        then in memory.

        @return: a L{Deferred} firing once both are done.
        """

        def apply():
            device = self._devices[number]
            features = change(device.features)

            def stored(_):
                self._devices[number] = replace(self._devices[number], features=features)

            return self.store.saveFeatures(number, features).addCallback(stored)

        return self._featureLock.run(apply)

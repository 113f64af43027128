"""
The running server: the store, the call model and the components, started
in order and stopped in reverse.
"""

from dataclasses import replace

from twisted.application.service import MultiService, Service
from twisted.internet.defer import (
    Deferred,
    DeferredList,
    ensureDeferred,
    maybeDeferred,
)
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from zope.interface import implementer

from oso import secrets
from oso.callmodel.devices import Device, DeviceType
from oso.callmodel.model import CallModel
from oso.interfaces import IServerContext
from oso.store import SQLiteStore

#: The store setting that says this data directory has been set up.
INITIALISED = "oso.initialised"

#: The demo extensions of a new installation without devices.
DEMO_NUMBERS = tuple(str(number) for number in range(100, 106))

#: The port the demo extensions are attached to.
DEMO_PORT = "virtual-phones"


@implementer(IServerContext)
class ServerContext:
    """
    The shared parts of one L{OsoService}, handed to every component's
    C{makeService}.
    """

    def __init__(self, reactor, callModel, store, dataDirectory, config, services):
        """
        @param services: the L{MultiService} whose named children are the
            components' services.
        """
        self.reactor = reactor
        self.callModel = callModel
        self.store = store
        self.dataDirectory = dataDirectory
        self.config = config
        self._services = services

    def component(self, name):
        try:
            return self._services.getServiceNamed(name)
        except KeyError:
            return None


class OsoService(MultiService):
    """
    The whole server as one service.

    Starting opens the store in the data directory, sets up its devices
    (demo extensions at the first start of an installation without any,
    then the configured ones), loads them into the call model, and starts
    the components' services in configuration order; stopping stops them
    in reverse order and then closes the store.  Both are asynchronous:
    L{stopService} returns a L{Deferred} that twistd waits for.

    @ivar settings: the L{oso.config.Settings}.
    @ivar dataDirectory: the data directory, a L{FilePath}.
    @ivar store: the L{oso.interfaces.IStore}.
    @ivar callModel: the L{oso.interfaces.ICallModel}.
    @ivar context: the L{ServerContext} the components were built with.
    """

    log = Logger()

    def __init__(self, settings, components, dataDirectory, reactor,
                 onStartFailure=None):
        """
        @param settings: the validated configuration.
        @param components: C{(component, componentSettings)} pairs in
            configuration order, C{componentSettings} being what the
            component's C{validateConfig} returned.
        @param dataDirectory: where the store and the components' files go;
            created at start when absent.
        @type dataDirectory: L{FilePath}
        @param reactor: the reactor the server runs on.
        @param onStartFailure: called without arguments when the start
            fails, after the failure is logged; twistd uses it to stop with
            a non-zero exit status.
        """
        super().__init__()
        self.settings = settings
        self.dataDirectory = dataDirectory
        self.reactor = reactor
        self.store = SQLiteStore(dataDirectory.child("oso.sqlite").path, reactor)
        self.callModel = CallModel(reactor, self.store, settings.dialPlan)
        self.context = ServerContext(
            reactor, self.callModel, self.store, dataDirectory, settings, self
        )
        self._onStartFailure = onStartFailure
        self._starting = None
        self._storeOpen = False
        self._stopRequested = False
        for component, componentSettings in components:
            service = component.makeService(componentSettings, self.context)
            service.setName(component.name)
            service.setServiceParent(self)

    def privilegedStartService(self):
        """
        Start no listener before the store is open and the devices are
        loaded: every component's service starts in L{startService}, after
        them, so a client never meets a server without its devices.
        """
        Service.privilegedStartService(self)

    def startService(self):
        Service.startService(self)
        self._starting = ensureDeferred(self._start())
        self._starting.addCallbacks(lambda _: True, self._startFailed)

    def whenStarted(self):
        """
        @return: a L{Deferred} that fires with C{True} once the server is
            ready, or C{False} when its start failed.
        """
        done = Deferred()

        def passOn(started):
            done.callback(started)
            return started

        self._starting.addCallback(passOn)
        return done

    async def _start(self):
        if not self.dataDirectory.isdir():
            if self.dataDirectory.exists():
                raise OSError(
                    f"the data directory {self.dataDirectory.path} is not a directory"
                )
            self.dataDirectory.makedirs()
        await self.store.open()
        self._storeOpen = True
        self.callModel.loadDevices(await self._setUpDevices())
        pending = []
        for service in self:
            if self._stopRequested:
                return
            service.startService()
            whenStarted = getattr(service, "whenStarted", None)
            if whenStarted is not None:
                pending.append(whenStarted())
        # Components that finish starting later (the G-Server's listeners).
        await DeferredList(pending)
        if self._stopRequested:
            return
        self.log.info(
            "oso ready: components {components}; data {data}",
            components=", ".join(service.name for service in self) or "none",
            data=self.dataDirectory.path,
        )

    def _startFailed(self, failure):
        self.log.failure(
            "oso failed to start: {reason}", failure, reason=failure.getErrorMessage()
        )
        if self._onStartFailure is not None:
            self._onStartFailure()
        return False

    async def _setUpDevices(self):
        """
        Bring the store up to date: demo extensions at the first start of a
        data directory when neither the configuration nor the store has a
        device, then the configured devices.  Devices in the store that the
        configuration does not name stay.

        @return: every device of the store, ordered by number.
        """
        stored = {device.number: device for device in await self.store.loadDevices()}
        if await self.store.getSetting(INITIALISED) is None:
            if not self.settings.devices and not stored:
                for device in await self._createDemoExtensions():
                    stored[device.number] = device
            await self.store.putSetting(INITIALISED, "yes")
        for configured in self.settings.devices:
            existing = stored.get(configured.number)
            device = await self._merge(configured, existing)
            if device != existing:
                await self.store.saveDevice(device)
                stored[device.number] = device
        return [stored[number] for number in sorted(stored)]

    async def _createDemoExtensions(self):
        """
        Store the demo extensions with generated passwords, and log each
        password: this is the only time it is shown.

        @return: the new devices.
        """
        realm = self.settings.realm
        self.log.info(
            "first start: demo extensions {first}-{last} on {port}; their "
            "passwords are shown only now (the store keeps hashes)",
            first=DEMO_NUMBERS[0],
            last=DEMO_NUMBERS[-1],
            port=DEMO_PORT,
        )
        devices = []
        for number in DEMO_NUMBERS:
            password = secrets.generatePassword()
            device = Device(
                number=number,
                name=f"Demo {number}",
                type=DeviceType.station,
                port=DEMO_PORT,
                credentials=await self._credentials(number, realm, password),
            )
            await self.store.saveDevice(device)
            self.log.info(
                "demo extension {number} password {password}",
                number=number,
                password=password,
            )
            devices.append(device)
        return devices

    def _credentials(self, number, realm, password):
        """
        The credentials of a password, made on the reactor's thread pool:
        its scrypt hash takes a noticeable fraction of a second.

        @return: a L{Deferred} firing with the L{Credentials}.
        """
        return deferToThreadPool(
            self.reactor, self.reactor.getThreadPool(),
            secrets.credentialsFor, number, realm, password,
        )

    async def _merge(self, configured, existing):
        """
        The device to store for a configured one: the file decides its
        attributes; its feature state, changed at run time, stays as
        stored, and so do its credentials unless the file gives a password
        that differs.

        @param configured: the device from the configuration.
        @param existing: the stored device with that number, or L{None}.
        @return: the L{Device}.
        """
        realm = self.settings.realm
        number = configured.number
        password = self.settings.passwords.get(number)
        if existing is None:
            credentials, features = configured.credentials, configured.features
        else:
            credentials, features = existing.credentials, existing.features
        if password is not None and credentials.ha1For(realm) != secrets.digestHA1(
            number, realm, password
        ):
            credentials = await self._credentials(number, realm, password)
        return replace(configured, credentials=credentials, features=features)

    def stopService(self):
        return ensureDeferred(self._stop())

    async def _stop(self):
        self._stopRequested = True
        if self._starting is not None:
            await self.whenStarted()
        Service.stopService(self)
        for service in reversed(list(self)):
            if service.running:
                try:
                    await maybeDeferred(service.stopService)
                except Exception:
                    self.log.failure("stopping {name} failed", name=service.name)
        if self._storeOpen:
            self._storeOpen = False
            try:
                await self.store.close()
            except Exception:
                self.log.failure("closing the store failed")
        self.log.info("oso stopped")

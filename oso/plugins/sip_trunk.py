"""
The C{sip-trunk} component: the port type of SIP trunks to VoIP
providers (L{oso.ports.sip_trunk}).  Each C{[[components.sip-trunk.trunks]]}
entry is one provider account serving one trunk group; the trunk devices
with C{port = "sip-trunk"} and that C{trunk-group} are its channels.  It
runs on the C{sip} component, which must come before it in
C{server.components}.  C{doc/configuration.md} lists the keys,
C{doc/sip.md} (Trunks) what the trunk does.
"""

import ipaddress

from twisted.application.service import Service
from twisted.internet.defer import ensureDeferred
from twisted.logger import Logger
from twisted.names import client
from twisted.plugin import IPlugin
from zope.interface import implementer

from oso.callmodel.devices import DeviceType
from oso.config import ConfigError
from oso.interfaces import IComponent
from oso.interfaces.sip import IUserAgent
from oso.media.anchor import MediaRelays, RelaySettings
from oso.media.udp import PortRange
from oso.ports.numberformat import STYLES, NumberFormat
from oso.ports.sip_trunk import SIPTrunks, Trunk, TrunkSettings
from oso.sip.aka import AKAClient
from oso.sip.locator import Locator
from oso.sip.trunkstun import stunFor
from oso.sip.uacauth import ClientAuthenticator, ClientCredentials

_TRANSPORTS = {"udp": "UDP", "tcp": "TCP", "tls": "TLS"}
_TRUST = ("trusted", "untrusted")
_KEYS = {
    "trunk-group", "provider", "outbound-proxy", "transport", "username", "password",
    "aka-k", "aka-op", "aka-opc", "register", "register-interval", "channels", "dids",
    "number-format", "country-code", "national-prefix", "international-prefix", "trust",
    "accept-from", "stun-server", "stun-interval", "media-relay",
}
#: The component's own keys beside C{trunks}.
_SECTION_KEYS = {"trunks", "media-ports"}
#: Where the media relay listens unless C{media-ports} says otherwise.
DEFAULT_MEDIA_PORTS = PortRange(16384, 32767)


def hostPort(text, where):
    """
    C{"host"}, C{"host:port"} or C{"[v6]:port"} as C{(host, port or None)}.

    @raise ConfigError: naming C{where}.
    """
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(where, 'expected a host name or address, optionally with ":port"')
    host, port = text.strip(), None
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            raise ConfigError(where, f"{text!r}: unclosed '['")
        rest = host[end + 1:]
        host = host[1:end]
        if rest:
            if not rest.startswith(":"):
                raise ConfigError(where, f"{text!r}: expected ':port' after ']'")
            port = rest[1:]
    elif host.count(":") == 1:
        host, port = host.split(":")
    elif ":" in host:
        raise ConfigError(where, f"{text!r}: write an IPv6 address in brackets")
    if port is not None:
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(where, f"{text!r}: the port must be 1 to 65535")
        port = int(port)
    if not host or any(c.isspace() or c in "/@;?" for c in host):
        raise ConfigError(where, f"{text!r} is no host name or address")
    return host, port


def _string(entry, key, where, default=None, required=False):
    if key not in entry:
        if required:
            raise ConfigError(f"{where}.{key}", "is required")
        return default
    value = entry[key]
    if not isinstance(value, str):
        raise ConfigError(f"{where}.{key}", "expected a string")
    return value


def _whole(entry, key, where, minimum, default):
    value = entry.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{where}.{key}", f"expected a whole number >= {minimum}")
    return value


def _digits(entry, key, where, default):
    value = _string(entry, key, where, default)
    if value and not (value.isascii() and value.isdigit()):
        raise ConfigError(f"{where}.{key}", f"{value!r}: expected digits 0-9")
    return value


def _hexKey(entry, key, where):
    value = _string(entry, key, where)
    if value is None:
        return None
    try:
        key_ = bytes.fromhex(value)
    except ValueError:
        key_ = b""
    if len(key_) != 16:
        raise ConfigError(f"{where}.{key}", "expected 32 hexadecimal digits (128 bits)")
    return key_


def _aka(entry, where):
    k = _hexKey(entry, "aka-k", where)
    op = _hexKey(entry, "aka-op", where)
    opc = _hexKey(entry, "aka-opc", where)
    if k is None:
        for key in ("aka-op", "aka-opc"):
            if key in entry:
                raise ConfigError(f"{where}.{key}", "needs aka-k")
        return None
    if (op is None) == (opc is None):
        raise ConfigError(f"{where}.aka-k", "needs exactly one of aka-op and aka-opc")
    return (k, op, opc)


def _dids(entry, where):
    dids = entry.get("dids", [])
    if not isinstance(dids, list):
        raise ConfigError(f"{where}.dids", 'expected a list such as ["+4930123456"]')
    for i, did in enumerate(dids):
        if not (isinstance(did, str) and did.startswith("+") and did[1:].isascii()
                and did[1:].isdigit() and len(did) <= 16):
            raise ConfigError(f"{where}.dids[{i}]", "expected E.164 with '+', e.g. '+4930123456'")
    return tuple(dids)


def _acceptFrom(entry, where):
    addresses = entry.get("accept-from", [])
    if not isinstance(addresses, list):
        raise ConfigError(f"{where}.accept-from", "expected a list of IP addresses")
    for i, address in enumerate(addresses):
        try:
            ipaddress.ip_address(address)
        except (ValueError, TypeError):
            raise ConfigError(f"{where}.accept-from[{i}]", "expected an IP address") from None
    return tuple(addresses)


def trunkSettings(entry, where):
    """
    One C{trunks} entry as L{TrunkSettings}.

    @raise ConfigError: naming the key at fault.
    """
    if not isinstance(entry, dict):
        raise ConfigError(where, "expected a table")
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}", "unknown key; known: " + ", ".join(sorted(_KEYS)))
    group = _string(entry, "trunk-group", where, required=True)
    if not group:
        raise ConfigError(f"{where}.trunk-group", "must not be empty")
    provider, providerPort = hostPort(_string(entry, "provider", where, required=True),
                                      f"{where}.provider")
    proxy = entry.get("outbound-proxy")
    if proxy is not None:
        proxy = hostPort(proxy, f"{where}.outbound-proxy")
    transport = _string(entry, "transport", where)
    if transport is not None:
        if transport.lower() not in _TRANSPORTS:
            raise ConfigError(f"{where}.transport", "expected udp, tcp or tls")
        transport = _TRANSPORTS[transport.lower()]
    register = entry.get("register", False)
    if not isinstance(register, bool):
        raise ConfigError(f"{where}.register", "expected true or false")
    username = _string(entry, "username", where, "")
    password = _string(entry, "password", where, "")
    aka = _aka(entry, where)
    if (register or password or aka) and not username:
        raise ConfigError(f"{where}.username", "is required with register, password or aka-k")
    style = _string(entry, "number-format", where, "e164")
    if style not in STYLES:
        raise ConfigError(f"{where}.number-format", "expected one of " + ", ".join(STYLES))
    trust = _string(entry, "trust", where, "untrusted")
    if trust not in _TRUST:
        raise ConfigError(f"{where}.trust", "expected trusted or untrusted")
    try:
        numbers = NumberFormat(
            style,
            _digits(entry, "country-code", where, ""),
            _digits(entry, "national-prefix", where, "0"),
            _digits(entry, "international-prefix", where, "00"),
        )
    except ValueError as e:
        key = "country-code" if "country" in str(e) else "national-prefix"
        raise ConfigError(f"{where}.{key}", str(e)) from None
    stun = entry.get("stun-server")
    if stun is not None:
        host, port = hostPort(stun, f"{where}.stun-server")
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ConfigError(f"{where}.stun-server", "expected an IP address, optionally with :port") from None
        stun = (host, port or 3478)
    mediaRelay = entry.get("media-relay", stun is not None)
    if not isinstance(mediaRelay, bool):
        raise ConfigError(f"{where}.media-relay", "expected true or false")
    return TrunkSettings(
        trunkGroup=group,
        provider=provider,
        providerPort=providerPort,
        transport=transport,
        outboundProxy=proxy,
        username=username,
        password=password,
        aka=aka,
        register=register,
        registerInterval=_whole(entry, "register-interval", where, 60, 3600),
        channels=_whole(entry, "channels", where, 1, None),
        dids=_dids(entry, where),
        numbers=numbers,
        trusted=trust == "trusted",
        acceptFrom=_acceptFrom(entry, where),
        stun=stun,
        stunInterval=_whole(entry, "stun-interval", where, 10, 300),
        mediaRelay=mediaRelay,
    )


def mediaPorts(section, where):
    """
    The C{media-ports} setting (C{"FIRST-LAST"}) as a L{PortRange}.

    @raise ConfigError: naming the key.
    """
    if "media-ports" not in section:
        return DEFAULT_MEDIA_PORTS
    text = section["media-ports"]
    first, dash, last = text.partition("-") if isinstance(text, str) else ("", "", "")
    try:
        if not (dash and first.strip().isdigit() and last.strip().isdigit()):
            raise ValueError("expected FIRST-LAST, such as \"16384-32767\"")
        return PortRange(int(first), int(last))
    except ValueError as e:
        raise ConfigError(f"{where}.media-ports", f"{text!r}: {e}") from None


def checkChannels(trunks, devices, where):
    """
    Every trunk group has its channels, every C{sip-trunk} device its
    trunk, and no trunk more C{channels} than devices.

    @param trunks: the L{TrunkSettings}, in configuration order.
    @param devices: the call model's devices.
    @raise ConfigError: naming the key at fault.
    """
    byGroup = {}
    for device in devices:
        if device.port == "sip-trunk":
            if device.type is not DeviceType.trunk:
                raise ConfigError(where, f"device {device.number} has port sip-trunk "
                                         "but is no trunk (type = \"trunk\")")
            byGroup.setdefault(device.trunkGroup, []).append(device.number)
    groups = {s.trunkGroup for s in trunks}
    for group, numbers in byGroup.items():
        if group not in groups:
            raise ConfigError(f"{where}.trunks",
                              f"no trunk for trunk group {group!r} of device {numbers[0]}")
    for i, settings in enumerate(trunks):
        channels = byGroup.get(settings.trunkGroup, [])
        if not channels:
            raise ConfigError(f"{where}.trunks[{i}].trunk-group",
                              f"no [[devices]] with type \"trunk\", port \"sip-trunk\" and "
                              f"trunk-group {settings.trunkGroup!r}: the trunk has no channels")
        if settings.channels is not None and settings.channels > len(channels):
            raise ConfigError(f"{where}.trunks[{i}].channels",
                              f"{settings.channels} channels but trunk group "
                              f"{settings.trunkGroup!r} has {len(channels)} devices")


def makeTrunk(settings, sipService, clock, addressChanged, mediaPorts=DEFAULT_MEDIA_PORTS):
    """
    The run-time L{Trunk} of one account: its digest client, its STUN
    client on the C{sip} component's UDP socket when it has a STUN server,
    and the media relay of its calls when it wants one.

    @param addressChanged: C{addressChanged(trunk)}, called when STUN finds
        a new public address.
    @param mediaPorts: the L{PortRange} of the media relay.
    """
    aka = None
    if settings.aka is not None:
        k, op, opc = settings.aka
        aka = AKAClient.fromKeys(settings.username, k, opc=opc, op=op)
    authenticator = None
    if settings.username:
        authenticator = ClientAuthenticator(
            ClientCredentials(settings.username, settings.password, aka)
        )
    trunk = Trunk(settings, authenticator)
    if settings.mediaRelay:
        trunk.media = MediaRelays(clock, RelaySettings(
            mediaPorts, settings.stun, settings.stunInterval))
    if settings.stun is not None:
        trunk.stun = stunFor(sipService, settings.stun, clock, settings.stunInterval,
                             lambda address: addressChanged(trunk))
    return trunk


class SIPTrunkService(Service):
    """
    While running: the L{SIPTrunks} port is a specific application of the
    C{sip} component, the call model's port for C{sip-trunk} devices, and
    an observer of its events.

    @ivar port: the L{SIPTrunks} while running.
    """

    log = Logger()

    def __init__(self, settings, context, resolver=None):
        self.settings = settings
        self._context = context
        self._resolver = resolver
        self.port = None

    def startService(self):
        ua = self._context.component("sip")
        if ua is None or not IUserAgent.providedBy(ua):
            raise RuntimeError(
                "the sip-trunk component needs the sip component, started before it "
                "(server.components = [..., \"sip\", \"sip-trunk\", ...])"
            )
        model = self._context.callModel
        where = f"{self._context.config.source}: components.sip-trunk"
        checkChannels(self.settings["trunks"], model.devices(), where)
        clock = self._context.reactor
        resolver = self._resolver or client.createResolver()
        trunks = [
            makeTrunk(s, ua, clock, lambda trunk: self.port.addressChanged(trunk),
                      self.settings["media-ports"])
            for s in self.settings["trunks"]
        ]
        self.port = SIPTrunks(model, ua, trunks, Locator(resolver, clock))
        model.registerPort(self.port)
        model.addObserver(self.port)
        ua.attach(self.port)
        super().startService()
        for trunk in trunks:
            if trunk.stun is not None:
                trunk.stun.startService()
        ensureDeferred(self._start(self.port))

    async def _start(self, port):
        """
        Start the trunks once each Digest AKA client has the sequence
        number its trunk accepted before (from the store: a challenge
        replayed from before a restart stays refused), and keeps each new
        one there.
        """
        store = self._context.store
        for trunk in port.trunks.values():
            aka = trunk.authenticator.credentials.aka if trunk.authenticator else None
            if aka is None:
                continue
            group, username = trunk.settings.trunkGroup, trunk.settings.username
            try:
                sqn = await store.getAKASequence(group, username)
            except Exception:
                self.log.failure("trunk {group}: the AKA sequence number could not be read",
                                 group=group)
                sqn = None
            if sqn is not None:
                aka.sqn = max(aka.sqn, sqn)
            aka.accepted = lambda sqn, group=group, username=username: self._keep(
                group, username, sqn)
        if self.port is port:
            port.start()

    def _keep(self, group, username, sqn):
        """
        Write an accepted AKA sequence number, on the store's thread.
        """
        self.log.debug("trunk {group}: AKA SQN {sqn:#x} accepted", group=group, sqn=sqn)
        store = self._context.store
        store.putAKASequence(group, username, sqn).addErrback(
            lambda f: self.log.failure("trunk {group}: the AKA sequence number was not kept",
                                       f, group=group))

    def stopService(self):
        port, self.port = self.port, None
        if port is None:
            return super().stopService()
        for trunk in port.trunks.values():
            if trunk.stun is not None:
                trunk.stun.stopService()
        model = self._context.callModel
        self._context.component("sip").detach(port)
        model.removeObserver(port)
        model.unregisterPort(port.name)
        super().stopService()
        return port.stop()


@implementer(IPlugin, IComponent)
class SIPTrunkComponent:
    """
    The C{sip-trunk} component.
    """

    name = "sip-trunk"
    kind = "port"
    description = "SIP trunks to VoIP providers: calls in by DID, out by the dial plan's routes."

    def validateConfig(self, section, where):
        unknown = sorted(set(section) - _SECTION_KEYS)
        if unknown:
            raise ConfigError(f"{where}.{unknown[0]}",
                              "unknown key; known: " + ", ".join(sorted(_SECTION_KEYS)))
        entries = section.get("trunks", [])
        if not isinstance(entries, list):
            raise ConfigError(f"{where}.trunks", "expected [[components.sip-trunk.trunks]] tables")
        trunks = []
        for i, entry in enumerate(entries):
            settings = trunkSettings(entry, f"{where}.trunks[{i}]")
            for j, other in enumerate(trunks):
                if other.trunkGroup == settings.trunkGroup:
                    raise ConfigError(f"{where}.trunks[{i}].trunk-group",
                                      f"{settings.trunkGroup!r} has a trunk already (trunks[{j}])")
            trunks.append(settings)
        return {"trunks": tuple(trunks), "media-ports": mediaPorts(section, where)}

    def makeService(self, settings, context):
        return SIPTrunkService(settings, context)


sipTrunk = SIPTrunkComponent()

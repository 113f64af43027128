"""
Locating SIP servers (RFC 3263 4) with DNS SRV (RFC 2782), over
C{twisted.names}: from a SIP or SIPS URI's host, port and transport to
the ordered list of C{(transport, address, port)} targets a trunk tries in
turn, going on to the next on a timeout or a 503 (RFC 3263 4.3).

The steps, as RFC 3263 4.1 and 4.2 give them:

 - a numeric IP address: that address, the URI's port or the transport's
   default, the URI's transport or UDP (TCP for SIPS);
 - a port in the URI: A/AAAA of the host with that port (no SRV);
 - a transport in the URI: SRV of C{_sip._udp}/C{_sip._tcp}/C{_sips._tcp}
   for it, else A/AAAA with the default port;
 - otherwise NAPTR of the host: the records of the services
   C{SIP+D2U}, C{SIP+D2T}, C{SIPS+D2T} this client supports, by order then
   preference, each naming an SRV domain; without NAPTR records, SRV for
   each supported transport in the client's preference; without SRV
   records, A/AAAA with UDP (TCP for SIPS) and the default port.

SRV records are taken by priority and, within one priority, in the
weighted random order of RFC 2782 (the random source is injected, so tests
can seed it); a target C{.} means no service there. Answers are cached for
their TTL (the smallest of the records of one answer) on an injected clock;
a name that does not exist or has no records is cached for
C{negativeTTL}. DNS failures (timeouts, server failures) count as no
records for that step and are logged; only when no step gives an address
does L{Locator.locate} fail, with L{LocatorError}. L{tryInTurn} walks the
targets for one request.
"""

import ipaddress
import random
from dataclasses import dataclass

from twisted.internet import defer
from twisted.logger import Logger
from twisted.names import dns, error

log = Logger()

#: RFC 3263 4.1: NAPTR service field -> transport.
_NAPTR_SERVICES = {"SIP+D2U": "UDP", "SIP+D2T": "TCP", "SIPS+D2T": "TLS"}
#: transport -> SRV prefix (RFC 3263 4.1).
_SRV_PREFIX = {"UDP": "_sip._udp", "TCP": "_sip._tcp", "TLS": "_sips._tcp"}
_DEFAULT_PORT = {"UDP": 5060, "TCP": 5060, "TLS": 5061}


class LocatorError(Exception):
    """
    No address for the URI: every step found nothing (or DNS failed).
    """


@dataclass(frozen=True, slots=True)
class Target:
    """
    One place to send requests to.

    @ivar transport: C{"UDP"}, C{"TCP"} or C{"TLS"}.
    @ivar host: the IP address, text.
    @ivar port: the port.
    @ivar name: the DNS name it came from (for TLS, the name the
        certificate must match), or the address itself.
    """

    transport: str
    host: str
    port: int
    name: str


def _isIP(host):
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def orderSRV(records, rng):
    """
    Order SRV records as RFC 2782 says: by priority, lowest first; within
    a priority, repeatedly pick one at random with probability
    proportional to its weight (weight-0 records first in the running
    sums, so they are picked rarely but can be).

    @param records: L{dns.Record_SRV}s.
    @param rng: a C{random.Random}-like object (its C{randint}).
    @return: the records, ordered.
    """
    ordered = []
    for priority in sorted({r.priority for r in records}):
        group = [r for r in records if r.priority == priority]
        group.sort(key=lambda r: r.weight != 0)
        while group:
            total = sum(r.weight for r in group)
            choice = rng.randint(0, total)
            running = 0
            for index, record in enumerate(group):
                running += record.weight
                if running >= choice:
                    ordered.append(group.pop(index))
                    break
    return ordered


class _Cache:
    """
    DNS answers by C{(type, name)}, until they expire on the clock.
    """

    def __init__(self, clock):
        self._clock = clock
        self._entries = {}

    def get(self, key):
        entry = self._entries.get(key)
        if entry is None:
            return None
        expiry, records = entry
        if self._clock.seconds() >= expiry:
            del self._entries[key]
            return None
        return records

    def put(self, key, records, ttl):
        if ttl > 0:
            self._entries[key] = (self._clock.seconds() + ttl, records)


class Locator:
    """
    Resolves SIP URIs' hosts to ordered targets (RFC 3263 4).
    """

    def __init__(self, resolver, clock, transports=("UDP", "TCP", "TLS"), rng=None, negativeTTL=30, ipv6=True):
        """
        @param resolver: an L{twisted.internet.interfaces.IResolver}, e.g.
            C{twisted.names.client.Resolver(servers=[(ip, port)])}.
        @param clock: an L{IReactorTime} for the cache.
        @param transports: the transports this client supports, in its
            order of preference (used when there are no NAPTR records).
        @param rng: the random source of the SRV weights (C{randint}).
        @param negativeTTL: seconds to remember that a name has no records.
        @param ipv6: whether to look up AAAA records too (after A).
        """
        self._resolver = resolver
        self._cache = _Cache(clock)
        self._transports = tuple(transports)
        self._rng = random.Random() if rng is None else rng
        self._negativeTTL = negativeTTL
        self._ipv6 = ipv6

    async def _lookup(self, kind, name):
        """
        Records of one type for C{name}, from the cache or the resolver.

        @param kind: C{dns.NAPTR}, C{dns.SRV}, C{dns.A} or C{dns.AAAA}.
        @return: the record payloads (not the headers), maybe empty.
        """
        key = (kind, name.lower())
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        lookup = {
            dns.NAPTR: self._resolver.lookupNamingAuthorityPointer,
            dns.SRV: self._resolver.lookupService,
            dns.A: self._resolver.lookupAddress,
            dns.AAAA: self._resolver.lookupIPV6Address,
        }[kind]
        try:
            answers, _, _ = await lookup(name)
        except error.DNSNameError:
            self._cache.put(key, [], self._negativeTTL)
            return []
        except (error.DomainError, error.ResolverError, defer.TimeoutError) as failure:
            log.warn(
                "DNS {kind} lookup of {name} failed: {failure!r}",
                kind=dns.QUERY_TYPES.get(kind, kind),
                name=name,
                failure=failure,
            )
            return []
        # A CNAME chain's own records are left out; the addresses of the
        # canonical name come along in the same answer.
        matching = [a for a in answers if a.type == kind]
        records = [a.payload for a in matching]
        ttl = min((a.ttl for a in matching), default=self._negativeTTL)
        self._cache.put(key, records, ttl)
        return records

    async def _addresses(self, name):
        """
        The IP addresses of C{name}: A records, then AAAA.
        """
        kinds = (dns.A, dns.AAAA) if self._ipv6 else (dns.A,)
        found = []
        for kind in kinds:
            for record in await self._lookup(kind, name):
                found.append(record.dottedQuad() if kind == dns.A else _ipv6Text(record.address))
        return found

    async def _hostTargets(self, transport, name, port):
        return [Target(transport, address, port, name) for address in await self._addresses(name)]

    async def _srvTargets(self, transport, srvName):
        """
        The targets of one SRV name, in RFC 2782 order; C{None} when it has
        no SRV records (as opposed to records that give no address).
        """
        records = await self._lookup(dns.SRV, srvName)
        if not records:
            return None
        targets = []
        for record in orderSRV(records, self._rng):
            host = record.target.name.decode("ascii", "replace")
            if host in ("", "."):
                continue
            targets.extend(await self._hostTargets(transport, host, record.port))
        return targets

    async def _naptrTargets(self, domain, secure):
        records = await self._lookup(dns.NAPTR, domain)
        usable = []
        for record in records:
            transport = _NAPTR_SERVICES.get(_text(record.service).upper())
            if transport is None or transport not in self._transports:
                continue
            if secure and transport != "TLS":
                continue
            if _text(record.flags).lower() != "s":
                continue
            usable.append(record)
        usable.sort(key=lambda r: (r.order, r.preference))
        targets = []
        for record in usable:
            found = await self._srvTargets(
                _NAPTR_SERVICES[_text(record.service).upper()], record.replacement.name.decode("ascii", "replace")
            )
            targets.extend(found or [])
        return targets, bool(usable)

    async def locate(self, host, port=None, transport=None, secure=False):
        """
        The ordered targets for a SIP URI's host part.

        @param host: the URI's host (name, IPv4 or IPv6 address, brackets
            allowed), or an outbound proxy's.
        @param port: the URI's explicit port, or C{None}.
        @param transport: the URI's C{transport} parameter upper-cased
            (C{"UDP"}, C{"TCP"}, C{"TLS"}), or C{None}.
        @param secure: whether it is a SIPS URI.
        @return: a non-empty list of L{Target}s, to try in order.
        @raise LocatorError: when there is none.
        """
        if secure:
            transport = "TLS"
        if _isIP(host):
            transport = transport or "UDP"
            address = host.strip("[]")
            return [Target(transport, address, port or _DEFAULT_PORT[transport], address)]
        if port is not None:
            targets = await self._hostTargets(transport or "UDP", host, port)
        elif transport is not None:
            targets = await self._srvTargets(transport, f"{_SRV_PREFIX[transport]}.{host}")
            if targets is None:
                targets = await self._hostTargets(transport, host, _DEFAULT_PORT[transport])
        else:
            targets = await self._discover(host, secure)
        if not targets:
            raise LocatorError(f"no address for {host}")
        return targets

    async def _discover(self, host, secure):
        """
        Neither port nor transport given: NAPTR, else SRV per transport,
        else A/AAAA (RFC 3263 4.1 and 4.2).
        """
        targets, hadNAPTR = await self._naptrTargets(host, secure)
        if hadNAPTR:
            return targets
        transports = ("TLS",) if secure else self._transports
        anySRV = False
        targets = []
        for transport in transports:
            found = await self._srvTargets(transport, f"{_SRV_PREFIX[transport]}.{host}")
            if found is not None:
                anySRV = True
                targets.extend(found)
        if anySRV:
            return targets
        transport = "TLS" if secure else "UDP"
        return await self._hostTargets(transport, host, _DEFAULT_PORT[transport])


async def tryInTurn(targets, attempt):
    """
    Send to the targets in order until one answers (RFC 3263 4.3): a
    timeout or transport failure (C{attempt} gives C{None}) or a 503 moves
    on to the next target.

    @param targets: L{Target}s, as L{Locator.locate} gives them.
    @param attempt: C{async attempt(target)}: the final response from
        C{target} (anything with a C{status}), or C{None} when none came.
    @return: C{(target, response)} of the first answer other than 503, or
        C{(None, last)} when every target failed, C{last} being the last
        503 or C{None}.
    """
    last = None
    for target in targets:
        response = await attempt(target)
        if response is not None and response.status != 503:
            return target, response
        log.info(
            "{target} failed ({why}), trying the next target",
            target=target,
            why="no answer" if response is None else "503",
        )
        last = response if response is not None else last
    return None, last


def _text(charstr):
    """
    A NAPTR character-string field as text.
    """
    return charstr.string.decode("ascii", "replace")


def _ipv6Text(packed):
    return str(ipaddress.IPv6Address(packed))

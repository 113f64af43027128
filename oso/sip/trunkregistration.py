"""
A trunk's registration with its VoIP provider, as a UAC (RFC 3261 10.2):
REGISTER with digest authentication, refreshed before it expires, moved to
the next server when one does not answer, and the trunk's in-service state
following it.

The steps:

 - the provider (or the outbound proxy) is located per RFC 3263 with
   L{oso.sip.locator.Locator}; the targets are tried in turn, the next one
   on a timeout, a transport failure or a 503 (RFC 3263 4.3, its
   Retry-After honoured); the target that accepted the registration is
   L{TrunkRegistration.target}, where the trunk sends its INVITEs too;
 - a 401 or 407 is answered once per challenge through the
   L{oso.sip.uacauth.ClientAuthenticator}, which refuses to answer again
   after a wrong password (no loop); refreshes reuse the nonce with the
   next nonce count;
 - 423 Interval Too Brief is answered with the Min-Expires asked;
 - the 200's expiry for our Contact (its C{expires} parameter, else the
   Expires field, else what was asked) is honoured: the refresh goes at
   half of it, and when it passes without a refresh the registration is
   lost;
 - when every target failed (or the provider refused), the next attempt
   waits an exponential backoff up to a cap, the targets being located
   again (the locator caches per TTL);
 - the Contact and Via carry the address the C{contactAddress} callable
   gives (the STUN-discovered public address of the socket), and
   L{TrunkRegistration.addressChanged} re-registers at once when it
   changes, removing the old Contact in the same request.

Sans-I/O apart from the L{IUserAgent} it sends through: time comes from an
injected clock, and no reactor is imported.
"""

import ipaddress
from weakref import WeakSet

from twisted.internet.defer import Deferred, ensureDeferred
from twisted.logger import Logger

from oso.sip.dialog import newTag
from oso.sip.headers import NameAddress
from oso.sip.locator import Target
from oso.sip.message import Request
from oso.sip.transport import DEFAULT_PORTS, bare, hostReference
from oso.sip.uri import SIPParseError, SIPURI

class TrunkRegistration:
    """
    The registration of one trunk's account (see the module docstring).

    @ivar inService: whether the provider holds a current registration.
    @ivar target: the L{Target} that accepted the registration (or is
        being tried), or C{None}.
    @ivar granted: the expiry the last 200 granted, seconds, or C{None}.
    @ivar contactSource: where the Contact address came from:
        C{"stun"} (the C{contactAddress} callable) or C{"local"}.
    """

    log = Logger()

    def __init__(
        self,
        ua,
        clock,
        *,
        owner,
        aor,
        registrarURI,
        transport,
        outboundProxy,
        authenticator,
        interval,
        locator,
        contactAddress=None,
        statusChanged,
        retryDelay=30.0,
        retryCap=1800.0,
        stopTimeout=32.0,
    ):
        """
        @param ua: the L{oso.interfaces.sip.IUserAgent}.
        @param clock: an L{IReactorTime}.
        @param owner: the L{oso.interfaces.sip.ISIPApplication} named as
            C{owner} of the REGISTER transactions (the trunk port, which
            passes their responses on to L{responseReceived}).
        @param aor: the account's L{SIPURI} (To, From, the Contact's user).
        @param registrarURI: the REGISTER's Request-URI (the provider's
            domain).
        @param transport: C{"UDP"}, C{"TCP"}, C{"TLS"}, or C{None} to let
            NAPTR/SRV choose.
        @param outboundProxy: a L{SIPURI} the requests go through (a Route
            with C{lr}, located instead of the registrar), or C{None}.
        @param authenticator: the L{oso.sip.uacauth.ClientAuthenticator}.
        @param interval: the expiry asked, seconds.
        @param locator: an L{oso.sip.locator.Locator}, or C{None} when the
            host located is an IP address.
        @param contactAddress: C{() -> (host, port) or None}: the public
            address for Contact and Via; C{None} (or its C{None}) for the
            user agent's own.
        @param statusChanged: C{statusChanged(inService)}, on each change.
        @param retryDelay: the first backoff after every target failed.
        @param retryCap: the longest backoff.
        @param stopTimeout: how long L{stop} waits for the unregistration.
        """
        self._ua = ua
        self._clock = clock
        self._owner = owner
        self._aor = aor
        self._registrarURI = registrarURI
        self._transport = transport
        self._outboundProxy = outboundProxy
        self._authenticator = authenticator
        self._asked = interval
        self._locator = locator
        self._contactAddress = contactAddress
        self._statusChanged = statusChanged
        self._retryDelay = retryDelay
        self._retryCap = retryCap
        self._stopTimeout = stopTimeout
        self.inService = False
        self.target = None
        self.granted = None
        self.contactSource = None
        self._callID = f"{newTag()}{newTag()}@{aor.host}"
        self._fromTag = newTag()
        self._cseq = 0
        self._targets = []
        self._index = 0
        self._failures = 0
        self._retryAfter = 0
        self._running = False
        self._transactions = WeakSet()
        self._current = None
        self._request = None
        self._contact = None
        self._oldContact = None
        self._refresh = None
        self._expiry = None
        self._stopped = None
        self._tried423 = None
        self._addressPending = False

    # Life.

    def start(self):
        """
        Register, and keep the registration until L{stop}.
        """
        if self._running:
            return
        self._running = True
        self._locate()

    def stop(self):
        """
        Stop refreshing and unregister (Expires 0) when registered.

        @return: a L{Deferred} firing with C{None} when the provider
            answered, the request failed, or after C{stopTimeout}.
        """
        self._running = False
        self._cancelTimers()
        done = Deferred()
        registered = self.inService and self.target is not None
        self._setStatus(False)
        if not registered:
            self._current = None
            done.callback(None)
            return done
        self._stopped = done
        timeout = self._clock.callLater(self._stopTimeout, self._stopDone)
        done.addBoth(lambda result: (timeout.cancel() if timeout.active() else None, result)[1])
        self._send(expires=0)
        return done

    def addressChanged(self):
        """
        The public address (C{contactAddress}) changed: register the new
        Contact at once, removing the old one.
        """
        if not self._running or self.target is None:
            return
        if self.inService and self._contact is not None and self._oldContact is None:
            self._oldContact = self._contact
        if self._current is not None:
            # The answer to the REGISTER in flight sends the new one.
            self._addressPending = True
            return
        self._cancelTimer("_refresh")
        self._send()

    # The user agent's reports (from the trunk port).

    def responseReceived(self, response, transaction):
        """
        A response to one of our REGISTERs (or not).

        @return: whether C{transaction} was this registration's.
        """
        if transaction not in self._transactions:
            return False
        if transaction is not self._current or response.status < 200:
            return True
        self._current = None
        status = response.status
        if self._stopped is not None:
            self._unregistered(response)
        elif status in (401, 407):
            self._challenged(response)
        elif 200 <= status < 300:
            self._registered(response)
        elif status == 423:
            self._tooBrief(response)
        elif status == 503:
            self._retryAfter = max(self._retryAfter, _retryAfter(response))
            self._failover(f"503 from {self.target}")
        else:
            self._giveUp(f"{status} {response.reason}")
        return True

    def transactionFailed(self, transaction, reason):
        """
        One of our REGISTERs (or not) got no final response.

        @return: whether C{transaction} was this registration's.
        """
        if transaction not in self._transactions:
            return False
        if transaction is self._current:
            self._current = None
            if self._stopped is not None:
                self._stopDone()
            else:
                self._failover(f"{reason} at {self.target}")
        return True

    # Locating.

    def _locate(self):
        uri = self._outboundProxy or self._registrarURI
        transport = uri.params.get("transport")
        transport = transport.upper() if transport else self._transport
        ensureDeferred(self._targetsFor(uri, transport)).addCallbacks(
            self._located, self._notLocated
        )

    async def _targetsFor(self, uri, transport):
        host = bare(uri.host)
        if self._locator is not None:
            return await self._locator.locate(host, uri.port, transport, uri.secure)
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise LookupError(f"{host} is a name, and the trunk has no locator") from None
        transport = "TLS" if uri.secure else transport or "UDP"
        return [Target(transport, host, uri.port or DEFAULT_PORTS[transport], host)]

    def _located(self, targets):
        if not self._running:
            return
        self._targets = list(targets)
        self._index = 0
        self.target = self._targets[0]
        self._send()

    def _notLocated(self, failure):
        if not self._running:
            return
        self.log.warn("trunk {aor}: provider not located: {error}", aor=str(self._aor),
                      error=failure.getErrorMessage())
        self._lost()
        self._backoff()

    # Sending.

    def _contactURI(self):
        """
        Our Contact: the account's user at the public address when
        C{contactAddress} knows it, else at the user agent's.
        """
        transport = self.target.transport
        uri = self._ua.contact(transport).copy()
        uri.user = self._aor.user
        public = self._contactAddress() if self._contactAddress is not None else None
        if public is not None:
            uri.host, uri.port = hostReference(public[0]), public[1]
            self.contactSource = "stun"
        else:
            self.contactSource = "local"
        return uri

    def _send(self, expires=None):
        """
        A new REGISTER to the current target (the last challenge's
        credentials reused).
        """
        request = self._build(self._asked if expires is None else expires)
        self._authenticator.preauthorize(request)
        self._transmit(request)

    def _build(self, expires):
        target = self.target
        self._cseq += 1
        contact = self._contactURI() if expires else self._contact or self._contactURI()
        via = self._ua.via(target.transport)
        if self.contactSource == "stun" and contact is not None:
            via.host, via.port = contact.host, contact.port
        request = Request("REGISTER", self._registrarURI.copy())
        headers = request.headers
        headers.add("via", via)
        headers.add("max-forwards", "70")
        if self._outboundProxy is not None:
            route = self._outboundProxy.copy()
            route.params["lr"] = None
            headers.add("route", NameAddress(route))
        headers.add("from", NameAddress(self._aor.copy(), params={"tag": self._fromTag}))
        headers.add("to", NameAddress(self._aor.copy()))
        headers.add("call-id", self._callID)
        headers.add("cseq", f"{self._cseq} REGISTER")
        headers.add("contact", NameAddress(contact))
        old = self._oldContact
        if expires and old is not None and str(old) != str(contact):
            headers.add("contact", NameAddress(old, params={"expires": "0"}))
        headers.add("expires", str(expires))
        headers.add("user-agent", "oso")
        if expires:
            self._contact = contact
        return request

    def _transmit(self, request):
        target = self.target
        self._request = request
        try:
            transaction = self._ua.request(
                request, (target.host, target.port), target.transport, owner=self._owner
            )
        except (OSError, SIPParseError) as e:
            self.log.warn("trunk {aor}: REGISTER to {target} not sent: {error}",
                          aor=str(self._aor), target=target, error=e)
            self._current = None
            if self._stopped is not None:
                self._stopDone()
            else:
                self._clock.callLater(0, self._failover, "not sent")
            return
        self._transactions.add(transaction)
        self._current = transaction

    # Outcomes.

    def _challenged(self, response):
        again = self._build(int(self._request.headers.get("expires")))
        if self._authenticator.authorize(again, response):
            self._transmit(again)
            return
        self._giveUp(f"{response.status}: credentials refused")

    def _tooBrief(self, response):
        try:
            minimum = int(response.headers.get("min-expires", ""))
        except ValueError:
            minimum = None
        if minimum is None or minimum <= self._asked or self._tried423 == minimum:
            self._giveUp("423 without a usable Min-Expires")
            return
        self._tried423 = minimum
        self._asked = minimum
        self._send()

    def _registered(self, response):
        granted = self._grantedExpiry(response)
        self._oldContact = None
        self._tried423 = None
        self._failures = 0
        self._retryAfter = 0
        self.granted = granted
        if granted <= 0:
            self._giveUp("the 200 did not keep our Contact")
            return
        self.log.info("trunk {aor} registered at {target} for {granted}s", aor=str(self._aor),
                      target=self.target, granted=granted)
        self._setStatus(True)
        self._cancelTimers()
        self._expiry = self._clock.callLater(granted, self._expired)
        if self._addressPending:
            self._addressPending = False
            self._oldContact = self._contact
            self._send()
            return
        self._refresh = self._clock.callLater(max(granted / 2, 1), self._refreshNow)

    def _grantedExpiry(self, response):
        """
        RFC 3261 10.2.4: the expiry of our Contact in the 200 (its
        parameter), else the Expires field, else what we asked.
        """
        fallback = response.headers.get("expires")
        try:
            fallback = int(fallback) if fallback is not None else self._asked
        except ValueError:
            fallback = self._asked
        try:
            contacts = response.contacts
        except SIPParseError:
            return fallback
        ours = str(self._contact)
        matching = [c for c in contacts if not isinstance(c, str) and _sameContact(c.uri, self._contact)]
        for contact in matching:
            value = contact.params.get("expires")
            if value is not None and value.isdigit():
                return int(value)
        if contacts and not matching:
            self.log.info("trunk {aor}: our Contact {contact} is not in the 200",
                          aor=str(self._aor), contact=ours)
        return fallback

    def _refreshNow(self):
        self._refresh = None
        if self._running and self._current is None:
            self._send()

    def _expired(self):
        self._expiry = None
        self.log.warn("trunk {aor}: registration expired without a refresh", aor=str(self._aor))
        self._lost()

    def _failover(self, why):
        """
        RFC 3263 4.3: the next target, or the backoff when there is none.
        """
        if not self._running:
            return
        self._index += 1
        if self._index < len(self._targets):
            self.log.info("trunk {aor}: {why}; trying {next}", aor=str(self._aor), why=why,
                          next=self._targets[self._index])
            self.target = self._targets[self._index]
            self._send()
            return
        self._giveUp(f"{why}; no target left")

    def _giveUp(self, why):
        self.log.warn("trunk {aor}: registration failed: {why}", aor=str(self._aor), why=why)
        self._lost()
        self._backoff()

    def _lost(self):
        self._cancelTimer("_expiry")
        self._setStatus(False)

    def _backoff(self):
        self._failures += 1
        delay = min(self._retryCap, self._retryDelay * 2 ** (self._failures - 1))
        delay = max(delay, self._retryAfter)
        self._retryAfter = 0
        self._cancelTimer("_refresh")
        self._refresh = self._clock.callLater(delay, self._retry)

    def _retry(self):
        self._refresh = None
        if self._running:
            self._locate()

    def _unregistered(self, response):
        if response.status in (401, 407):
            again = self._build(0)
            if self._authenticator.authorize(again, response):
                self._transmit(again)
                return
        self._stopDone()

    def _stopDone(self):
        done, self._stopped = self._stopped, None
        self._current = None
        if done is not None and not done.called:
            done.callback(None)

    # Helpers.

    def _setStatus(self, inService):
        if inService != self.inService:
            self.inService = inService
            self._statusChanged(inService)

    def _cancelTimer(self, name):
        call = getattr(self, name)
        if call is not None and call.active():
            call.cancel()
        setattr(self, name, None)

    def _cancelTimers(self):
        self._cancelTimer("_refresh")
        self._cancelTimer("_expiry")


def _sameContact(uri, ours):
    """
    Whether a Contact of the 200 is ours (user, host and port; the
    registrar may add or drop parameters).
    """
    if not isinstance(uri, SIPURI) or ours is None:
        return False
    return (
        uri.user == ours.user
        and bare(uri.host).lower() == bare(ours.host).lower()
        and (uri.port or 5060) == (ours.port or 5060)
    )


def _retryAfter(response):
    """
    The seconds of a 503's Retry-After (RFC 3261 20.33), 0 without one.
    """
    value = response.headers.get("retry-after", "")
    seconds = value.split("(")[0].split(";")[0].strip()
    return int(seconds) if seconds.isdigit() else 0

"""
Tests for the G-Server's accounts: administrators and extension users
logging in (scrypt checks on the reactor's thread pool), the lockout with
its increasing delay on a fake clock, and API tokens.
"""

from twisted.internet import reactor
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface.verify import verifyObject

from oso.callmodel.devices import Device
from oso.gserver.accounts import Accounts, Principal, tokenHash
from oso.gserver.errors import LockedOut, LoginRefused
from oso.gserver.lockout import Lockout
from oso.interfaces.gserver import IAccounts, IPrincipal
from oso.secrets import credentialsFor
from oso.testing import Exchange

PASSWORD = "correct horse"


class PrincipalTests(SynchronousTestCase):
    """
    L{Principal}: who may control what.
    """

    def test_interface(self):
        """
        Both kinds of principal provide L{IPrincipal}.
        """
        self.assertTrue(verifyObject(IPrincipal, Principal.forAdministrator("admin")))
        self.assertTrue(verifyObject(IPrincipal, Principal.forExtension("101")))

    def test_administrator(self):
        """
        An administrator is no extension and may control any device.
        """
        admin = Principal.forAdministrator("admin")
        self.assertIsNone(admin.extension)
        self.assertTrue(admin.mayControl("101") and admin.mayControl("999"))

    def test_extension(self):
        """
        An extension's user may control that extension only.
        """
        user = Principal.forExtension("101")
        self.assertEqual(user.extension, "101")
        self.assertTrue(user.mayControl("101"))
        self.assertFalse(user.mayControl("102"))


class LockoutTests(SynchronousTestCase):
    """
    L{Lockout} on a fake clock.
    """

    def setUp(self):
        self.clock = Clock()
        self.lockout = Lockout(self.clock, firstDelay=1.0, maxDelay=8.0)

    def test_doubling(self):
        """
        Each failure doubles the delay, up to the cap.
        """
        delays = [self.lockout.failed("admin", "192.0.2.1") for _ in range(6)]
        self.assertEqual(delays, [1.0, 2.0, 4.0, 8.0, 8.0, 8.0])

    def test_waits(self):
        """
        After a failure, the name and the address each wait the delay,
        which runs out on the clock.
        """
        self.lockout.failed("admin", "192.0.2.1")
        self.lockout.failed("admin", "192.0.2.1")
        self.assertEqual(self.lockout.retryAfter("admin", "198.51.100.9"), 2.0)
        self.assertEqual(self.lockout.retryAfter("other", "192.0.2.1"), 2.0)
        self.assertEqual(self.lockout.retryAfter("other", "198.51.100.9"), 0.0)
        self.clock.advance(1.5)
        self.assertEqual(self.lockout.retryAfter("admin", "192.0.2.1"), 0.5)
        self.clock.advance(0.5)
        self.assertEqual(self.lockout.retryAfter("admin", "192.0.2.1"), 0.0)

    def test_reset(self):
        """
        A success forgets the failures: the next failure starts again at
        the first delay.
        """
        for _ in range(3):
            self.lockout.failed("admin", "192.0.2.1")
        self.lockout.succeeded("admin", "192.0.2.1")
        self.assertEqual(self.lockout.retryAfter("admin", "192.0.2.1"), 0.0)
        self.assertEqual(self.lockout.failed("admin", "192.0.2.1"), 1.0)

    def test_sweep(self):
        """
        A flood of names does not grow memory without bound: entries whose
        lock ended long ago are swept.
        """
        lockout = Lockout(self.clock, maxDelay=8.0, sweepSize=10)
        for n in range(10):
            lockout.failed(f"user{n}", "192.0.2.1")
        self.clock.advance(100)
        lockout.failed("late", "192.0.2.2")
        self.assertEqual(len(lockout), 2)


class AccountsTests(TestCase):
    """
    L{Accounts} over a memory store and a call model with virtual phones:
    real scrypt checks on the reactor's thread pool, the lockout on a fake
    clock.
    """

    def setUp(self):
        self.exchange = Exchange(stations=())
        self.exchange.addDevice(
            Device("101", credentials=credentialsFor("101", "oso", PASSWORD))
        )
        self.exchange.addDevice(Device("102"))
        self.clock = Clock()
        self.accounts = Accounts(
            self.exchange.store, self.exchange.model, reactor, clock=self.clock
        )
        return self.accounts.setAdministrator("admin", PASSWORD)

    def test_interface(self):
        """
        L{Accounts} provides L{IAccounts}.
        """
        self.assertTrue(verifyObject(IAccounts, self.accounts))

    async def test_administrator(self):
        """
        An administrator logs in with the password whose hash the store
        keeps (never the password).
        """
        principal = await self.accounts.login("admin", PASSWORD, "192.0.2.1")
        self.assertEqual(principal, Principal.forAdministrator("admin"))
        stored = await self.exchange.store.getAdministrator("admin")
        self.assertNotIn(PASSWORD, stored.passwordHash)

    async def test_extension(self):
        """
        An extension's user logs in with the device's password.
        """
        principal = await self.accounts.login("101", PASSWORD, "192.0.2.1")
        self.assertEqual(principal, Principal.forExtension("101"))

    async def test_refused(self):
        """
        A wrong password, an unknown name and an extension without a
        password are all refused alike.
        """
        for user, password in [
            ("admin", "wrong"), ("101", "wrong"), ("nobody", PASSWORD), ("102", ""),
        ]:
            self.clock.advance(1000)
            with self.assertRaises(LoginRefused) as caught:
                await self.accounts.login(user, password, "192.0.2.1")
            self.assertNotIsInstance(caught.exception, LockedOut)

    async def test_lockout(self):
        """
        After a failure the name is locked out, even with the right
        password, for a delay that doubles; once it has passed the right
        password works and resets the count.
        """
        with self.assertRaises(LoginRefused):
            await self.accounts.login("admin", "wrong", "192.0.2.1")
        with self.assertRaises(LockedOut) as caught:
            await self.accounts.login("admin", PASSWORD, "198.51.100.7")
        self.assertEqual(caught.exception.retryAfter, 1.0)
        self.clock.advance(1.0)
        with self.assertRaises(LoginRefused):
            await self.accounts.login("admin", "wrong", "198.51.100.7")
        with self.assertRaises(LockedOut) as caught:
            await self.accounts.login("admin", PASSWORD, "198.51.100.7")
        self.assertEqual(caught.exception.retryAfter, 2.0)
        self.clock.advance(2.0)
        await self.accounts.login("admin", PASSWORD, "198.51.100.7")
        self.assertEqual(self.accounts.lockout.retryAfter("admin", "198.51.100.7"), 0.0)

    async def test_lockoutBySource(self):
        """
        Failures from one address lock that address out for other names
        too.
        """
        with self.assertRaises(LoginRefused):
            await self.accounts.login("nobody", "x", "192.0.2.66")
        with self.assertRaises(LockedOut):
            await self.accounts.login("101", PASSWORD, "192.0.2.66")
        self.assertEqual(
            await self.accounts.login("101", PASSWORD, "192.0.2.67"),
            Principal.forExtension("101"),
        )

    async def test_tokens(self):
        """
        An issued token stands for its principal; the store keeps only its
        hash; an unknown or revoked token stands for no one.
        """
        user = Principal.forExtension("101")
        token = await self.accounts.issueToken(user, "gadget")
        self.assertEqual(await self.accounts.tokenPrincipal(token), user)
        [stored] = await self.accounts.tokens()
        self.assertEqual((stored.tokenHash, stored.label), (tokenHash(token), "gadget"))
        self.assertNotIn(token, repr(stored))
        self.assertIsNone(await self.accounts.tokenPrincipal(token + "x"))
        self.assertIsNone(await self.accounts.tokenPrincipal(""))
        self.assertTrue(await self.accounts.revokeToken(stored.tokenHash))
        self.assertIsNone(await self.accounts.tokenPrincipal(token))

    async def test_tokenOutlivesNoOne(self):
        """
        A token of a deleted administrator stands for no one.
        """
        admin = Principal.forAdministrator("admin")
        token = await self.accounts.issueToken(admin, "script")
        self.assertEqual(await self.accounts.tokenPrincipal(token), admin)
        await self.exchange.store.deleteAdministrator("admin")
        self.assertIsNone(await self.accounts.tokenPrincipal(token))


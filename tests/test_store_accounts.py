"""
Tests for the G-Server's administrators and API tokens in the stores: one
contract, run against L{SQLiteStore} (real file, real thread) and
L{MemoryStore}.
"""

import shutil
import sqlite3
import tempfile
from pathlib import Path

from twisted.internet import reactor
from twisted.trial.unittest import TestCase
from zope.interface.verify import verifyObject

from oso.gserver.credentials import Administrator, APIToken
from oso.interfaces import IStore
from oso.store import SQLiteStore
from oso.store.memory import MemoryStore
from oso.store.schema import MIGRATIONS, migrate

ADMIN = Administrator("admin", "scrypt$16384$8$1$c2FsdA==$aGFzaA==")
OPERATOR = Administrator("operator", "scrypt$16384$8$1$c2FsdDI=$aGFzaDI=")
ADMIN_TOKEN = APIToken("a" * 64, "admin", True, "monitoring script", 1_800_000_000.5)
USER_TOKEN = APIToken("b" * 64, "101", False, "gadget", 1_800_000_100.25)


class AccountsContract:
    """
    What every L{IStore} does with administrators and API tokens.  A
    subclass sets C{self.store} to an open store and defines C{reopen()}.
    """

    def test_interface(self):
        """
        The store provides L{IStore}, the account methods included.
        """
        self.assertTrue(verifyObject(IStore, self.store))

    async def test_administrators(self):
        """
        Administrators come back as saved, ordered by name; an unknown name
        is L{None}.
        """
        await self.store.saveAdministrator(OPERATOR)
        await self.store.saveAdministrator(ADMIN)
        self.assertEqual(await self.store.loadAdministrators(), [ADMIN, OPERATOR])
        self.assertEqual(await self.store.getAdministrator("operator"), OPERATOR)
        self.assertIsNone(await self.store.getAdministrator("nobody"))

    async def test_replaceAdministrator(self):
        """
        Saving an administrator of the same name replaces its hash.
        """
        await self.store.saveAdministrator(ADMIN)
        changed = Administrator("admin", "scrypt$other")
        await self.store.saveAdministrator(changed)
        self.assertEqual(await self.store.loadAdministrators(), [changed])

    async def test_deleteAdministrator(self):
        """
        Deleting an administrator says whether there was one.
        """
        await self.store.saveAdministrator(ADMIN)
        self.assertTrue(await self.store.deleteAdministrator("admin"))
        self.assertFalse(await self.store.deleteAdministrator("admin"))
        self.assertEqual(await self.store.loadAdministrators(), [])

    async def test_tokens(self):
        """
        Tokens come back as saved, oldest first, and by their hash.
        """
        await self.store.saveToken(USER_TOKEN)
        await self.store.saveToken(ADMIN_TOKEN)
        self.assertEqual(await self.store.loadTokens(), [ADMIN_TOKEN, USER_TOKEN])
        self.assertEqual(await self.store.getToken("b" * 64), USER_TOKEN)
        self.assertIsNone(await self.store.getToken("c" * 64))

    async def test_deleteToken(self):
        """
        Revoking a token removes only that one and says whether it was
        there.
        """
        await self.store.saveToken(ADMIN_TOKEN)
        await self.store.saveToken(USER_TOKEN)
        self.assertTrue(await self.store.deleteToken("a" * 64))
        self.assertFalse(await self.store.deleteToken("a" * 64))
        self.assertEqual(await self.store.loadTokens(), [USER_TOKEN])

    async def test_restart(self):
        """
        Administrators and tokens outlive a restart of the store.
        """
        await self.store.saveAdministrator(ADMIN)
        await self.store.saveToken(USER_TOKEN)
        await self.reopen()
        self.assertEqual(await self.store.loadAdministrators(), [ADMIN])
        self.assertEqual(await self.store.loadTokens(), [USER_TOKEN])


class SQLiteAccountsTests(AccountsContract, TestCase):
    """
    The contract on L{SQLiteStore}.
    """

    def setUp(self):
        folder = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, folder)
        self.path = str(Path(folder) / "oso.sqlite")
        self.store = SQLiteStore(self.path, reactor)
        self.addCleanup(lambda: self.store.close())
        return self.store.open()

    async def reopen(self):
        await self.store.close()
        self.store = SQLiteStore(self.path, reactor)
        await self.store.open()

    def test_migrationFromVersion2(self):
        """
        A database at schema version 2 with a registration gains the
        administrator and token tables and keeps its registration.
        """
        connection = sqlite3.connect(":memory:", isolation_level=None)
        self.addCleanup(connection.close)
        migrate(connection, MIGRATIONS[:2])
        connection.execute(
            "INSERT INTO registrations (aor, contact, expires, call_id, cseq, updated) "
            "VALUES ('201', 'sip:201@192.0.2.1', 1.0, 'x', 1, 0.0)"
        )
        applied = migrate(connection, MIGRATIONS[:3])
        self.assertEqual([version for version, _ in applied], [3])
        for table in ("administrators", "api_tokens"):
            self.assertEqual(
                connection.execute(f"SELECT count(*) FROM {table}").fetchone(), (0,)
            )
        self.assertEqual(
            connection.execute("SELECT aor FROM registrations").fetchall(), [("201",)]
        )


class MemoryAccountsTests(AccountsContract, TestCase):
    """
    The contract on L{MemoryStore}.
    """

    def setUp(self):
        self.store = MemoryStore()
        return self.store.open()

    async def reopen(self):
        await self.store.close()
        await self.store.open()

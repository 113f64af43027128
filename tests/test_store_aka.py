"""
Tests for the Digest AKA sequence numbers of the stores (the SQN a SIP
trunk accepted, kept across restarts): one contract, run against
L{SQLiteStore} (real file, real thread) and L{MemoryStore}.
"""

import sqlite3

from twisted.trial.unittest import TestCase

import test_store_registrations as registrations
from oso.store.schema import MIGRATIONS, migrate


class AKASequenceContract:
    """
    What every L{oso.interfaces.IStore} does with AKA sequence numbers. A
    subclass sets C{self.store} to an open store and defines C{reopen()}.
    """

    async def test_none(self):
        """
        A trunk that never accepted a SQN has none.
        """
        self.assertIsNone(await self.store.getAKASequence("carrier", "user@ims"))

    async def test_keptAcrossReopen(self):
        """
        The last SQN put is the one got, after the store was closed and
        opened again; 48-bit values survive.
        """
        await self.store.putAKASequence("carrier", "user@ims", 5)
        await self.store.putAKASequence("carrier", "user@ims", 0xFF9BB4D0B607)
        await self.reopen()
        self.assertEqual(await self.store.getAKASequence("carrier", "user@ims"), 0xFF9BB4D0B607)

    async def test_perTrunkAndIdentity(self):
        """
        Each trunk group and private identity has its own SQN: another
        account on the same trunk group starts without one.
        """
        await self.store.putAKASequence("carrier", "a@ims", 7)
        await self.store.putAKASequence("other", "a@ims", 9)
        self.assertEqual(await self.store.getAKASequence("carrier", "a@ims"), 7)
        self.assertEqual(await self.store.getAKASequence("other", "a@ims"), 9)
        self.assertIsNone(await self.store.getAKASequence("carrier", "b@ims"))


class SQLiteAKASequenceTests(AKASequenceContract, TestCase):
    """
    The contract on L{SQLiteStore}.
    """

    setUp = registrations.SQLiteRegistrationTests.setUp
    reopen = registrations.SQLiteRegistrationTests.reopen

    def test_migrationKeepsData(self):
        """
        A database at the schema version before the AKA step gains the
        table and keeps its registrations.
        """
        path = self.mktemp()
        connection = sqlite3.connect(path, isolation_level=None)
        self.addCleanup(connection.close)
        before = [i for i, m in enumerate(MIGRATIONS) if "AKA" in m.description][0]
        migrate(connection, MIGRATIONS[:before])
        connection.execute(
            "INSERT INTO registrations (aor, contact, expires, call_id, cseq, updated) "
            "VALUES ('201', 'sip:201@192.0.2.1', 1.0, 'c', 1, 1.0)"
        )
        self.assertEqual(migrate(connection), [(before + 1, MIGRATIONS[before])])
        connection.execute(
            "INSERT INTO aka_sequence (trunk_group, username, sqn) VALUES ('g', 'u', 3)"
        )
        self.assertEqual(connection.execute("SELECT count(*) FROM registrations").fetchone(),
                         (1,))


class MemoryAKASequenceTests(AKASequenceContract, TestCase):
    """
    The contract on L{MemoryStore}.
    """

    setUp = registrations.MemoryRegistrationTests.setUp
    reopen = registrations.MemoryRegistrationTests.reopen

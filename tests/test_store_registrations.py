"""
Tests for the SIP registration bindings of the stores: one contract, run
against L{SQLiteStore} (real file, real thread) and L{MemoryStore}.
"""

import shutil
import sqlite3
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import reactor
from twisted.trial.unittest import TestCase
from zope.interface.verify import verifyObject

from oso.interfaces import IStore
from oso.sip.registrar import Binding
from oso.store import SQLiteStore
from oso.store.memory import MemoryStore
from oso.store.schema import MIGRATIONS, migrate
from oso.store.sqlite import SQLiteDatabase

PHONE = Binding(
    aor="201",
    contact="sip:201@192.0.2.10:5062;transport=tcp",
    expires=1_800_000_000.5,
    updated=1_799_996_400.25,
    q=0.7,
    callID="a84b4c76e66710@pc33",
    cseq=314,
    transport="TCP",
    host="198.51.100.7",
    port=40123,
    instance='"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"',
    regID=1,
)
SOFTPHONE = Binding(aor="201", contact="sip:201@[2001:db8::1]", expires=1_800_000_100.0)
OTHER = Binding(aor="202", contact="sip:202@192.0.2.11", expires=1_800_000_200.0)


class RegistrationContract:
    """
    What every L{IStore} does with registration bindings. A subclass sets
    C{self.store} to an open store and defines C{reopen()}.
    """

    def test_interface(self):
        """
        The store provides L{IStore}, the registration methods included.
        """
        self.assertTrue(verifyObject(IStore, self.store))

    async def test_roundTrip(self):
        """
        Every field of a binding comes back as saved: floats, None and
        text alike.
        """
        for binding in (PHONE, SOFTPHONE, OTHER):
            await self.store.saveRegistration(binding)
        loaded = await self.store.loadRegistrations()
        self.assertEqual(sorted(loaded, key=repr), sorted([PHONE, SOFTPHONE, OTHER], key=repr))

    async def test_replace(self):
        """
        Saving a binding of the same aor and contact replaces it.
        """
        await self.store.saveRegistration(PHONE)
        refreshed = Binding(aor=PHONE.aor, contact=PHONE.contact, expires=2e9, cseq=315)
        await self.store.saveRegistration(refreshed)
        self.assertEqual(await self.store.loadRegistrations(), [refreshed])

    async def test_sameContactOtherAOR(self):
        """
        One contact may be bound to two addresses of record.
        """
        shared = Binding(aor="202", contact=PHONE.contact, expires=1.0)
        await self.store.saveRegistration(PHONE)
        await self.store.saveRegistration(shared)
        self.assertEqual(len(await self.store.loadRegistrations()), 2)

    async def test_deleteOne(self):
        """
        Deleting a binding removes only that one; deleting one that is
        not there is no error.
        """
        for binding in (PHONE, SOFTPHONE, OTHER):
            await self.store.saveRegistration(binding)
        await self.store.deleteRegistration("201", PHONE.contact)
        await self.store.deleteRegistration("201", "sip:nobody@192.0.2.99")
        loaded = await self.store.loadRegistrations()
        self.assertEqual(sorted(loaded, key=repr), sorted([SOFTPHONE, OTHER], key=repr))

    async def test_deleteAll(self):
        """
        Deleting an address of record's bindings leaves the others'.
        """
        for binding in (PHONE, SOFTPHONE, OTHER):
            await self.store.saveRegistration(binding)
        await self.store.deleteRegistrations("201")
        self.assertEqual(await self.store.loadRegistrations(), [OTHER])

    async def test_replaceRegistrations(self):
        """
        replaceRegistrations makes each named address of record's bindings
        exactly the given ones (none: all gone) and leaves the others.
        """
        for binding in (PHONE, SOFTPHONE, OTHER):
            await self.store.saveRegistration(binding)
        third = Binding(aor="203", contact="sip:203@192.0.2.12", expires=1_800_000_300.0)
        refreshed = Binding(aor="201", contact=PHONE.contact, expires=2e9, cseq=315)
        await self.store.replaceRegistrations({"201": (refreshed,), "203": [third], "204": ()})
        loaded = await self.store.loadRegistrations()
        self.assertEqual(sorted(loaded, key=repr), sorted([refreshed, OTHER, third], key=repr))
        await self.store.replaceRegistrations({"201": (), "202": [OTHER]})
        loaded = await self.store.loadRegistrations()
        self.assertEqual(sorted(loaded, key=repr), sorted([OTHER, third], key=repr))

    async def test_restart(self):
        """
        Bindings outlive a restart of the store.
        """
        await self.store.saveRegistration(PHONE)
        await self.store.saveRegistration(OTHER)
        await self.reopen()
        loaded = await self.store.loadRegistrations()
        self.assertEqual(sorted(loaded, key=repr), sorted([PHONE, OTHER], key=repr))


class SQLiteRegistrationTests(RegistrationContract, TestCase):
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

    def test_migrationFromVersion1(self):
        """
        A database at schema version 1 with a device gains the
        registrations table and keeps its device.
        """
        connection = sqlite3.connect(":memory:", isolation_level=None)
        self.addCleanup(connection.close)
        migrate(connection, MIGRATIONS[:1])
        connection.execute(
            "INSERT INTO devices VALUES ('100', '', 'station', NULL, 'internal', NULL, "
            "'[]', 'linear', NULL, NULL, '[]', 0, 0, 15.0, NULL, '[]')"
        )
        applied = migrate(connection, MIGRATIONS[:2])
        self.assertEqual([version for version, _ in applied], [2])
        self.assertEqual(connection.execute("SELECT count(*) FROM registrations").fetchone(), (0,))
        self.assertEqual(connection.execute("SELECT number FROM devices").fetchall(), [("100",)])


    def test_replaceRegistrationsAllOrNothing(self):
        """
        A batch that fails part way changes nothing: the transaction is
        rolled back.
        """
        database = SQLiteDatabase.open(":memory:")
        self.addCleanup(database.close)
        database.saveRegistration(OTHER)
        broken = Binding(aor="201", contact=None, expires=1.0)  # contact is NOT NULL
        with self.assertRaises(sqlite3.IntegrityError):
            database.replaceRegistrations({"202": (), "201": [PHONE, broken]})
        self.assertEqual(database.loadRegistrations(), [OTHER])


    def test_replaceRegistrationsOrder(self):
        """
        A batch's bindings are stored after the ones it leaves, in the
        batch's order: loading gives them in the order they were stored.
        """
        database = SQLiteDatabase.open(":memory:")
        self.addCleanup(database.close)
        for binding in (PHONE, OTHER, SOFTPHONE):
            database.saveRegistration(binding)
        refreshed = Binding(aor="201", contact=PHONE.contact, expires=2e9, cseq=315)
        third = Binding(aor="203", contact="sip:203@192.0.2.12", expires=1_800_000_300.0)
        database.replaceRegistrations({"203": [third], "201": [SOFTPHONE, refreshed]})
        self.assertEqual(database.loadRegistrations(), [OTHER, third, SOFTPHONE, refreshed])


class MemoryRegistrationTests(RegistrationContract, TestCase):
    """
    The contract on L{MemoryStore}.
    """

    def setUp(self):
        self.store = MemoryStore()
        return self.store.open()

    async def reopen(self):
        await self.store.close()
        await self.store.open()


texts = st.text(max_size=20)
bindings = st.builds(
    Binding,
    aor=texts,
    contact=texts,
    expires=st.floats(0, 4e9),
    updated=st.floats(0, 4e9),
    q=st.none() | st.floats(0, 1),
    callID=texts,
    cseq=st.integers(0, 2**32 - 1),
    transport=st.none() | st.sampled_from(["UDP", "TCP", "TLS"]),
    host=st.none() | texts,
    port=st.none() | st.integers(0, 65535),
    instance=st.none() | texts,
    regID=st.none() | st.integers(0, 2**32 - 1),
)


@settings(max_examples=150, deadline=None)
@given(bindings)
def test_bindingRoundTrip(binding):
    """
    Any binding comes back from the database exactly as it went in.
    """
    database = SQLiteDatabase.open(":memory:")
    try:
        database.saveRegistration(binding)
        assert database.loadRegistrations() == [binding]
    finally:
        database.close()

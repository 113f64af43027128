"""
Tests for L{oso.store}: the SQLite store, its schema migrations, and its
work off the reactor thread.
"""

import sqlite3
import threading
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import reactor
from twisted.internet.threads import deferToThreadPool
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface.verify import verifyObject

from oso.callmodel.devices import (
    Credentials,
    Device,
    DeviceType,
    Features,
    ForwardingSetting,
    ForwardingType,
    HuntMode,
)
from oso.interfaces import IStore
from oso.store import SQLiteStore, StoreError
from oso.store.schema import (
    MIGRATIONS,
    SCHEMA_VERSION,
    Migration,
    migrate,
    schemaVersion,
)
from oso.store.sqlite import SQLiteDatabase

STATION = Device(
    number="100",
    name="Reception ☎",
    type=DeviceType.station,
    port="virtual-phones",
    classOfService="national",
    pickupGroup=3,
    publicNumber="4930123456100",
    withholdCallerID=True,
    presentableNumbers=("4930123456000", "4930123456999"),
    features=Features(
        forwarding=(
            ForwardingSetting(ForwardingType.forwardImmediate, False, None),
            ForwardingSetting(ForwardingType.forwardBusy, True, "101"),
            ForwardingSetting(ForwardingType.forwardNoAns, True, "0301234"),
            ForwardingSetting(ForwardingType.forwardDND, False, "200"),
        ),
        doNotDisturb=True,
        messageWaiting=True,
        noAnswerSeconds=12.5,
    ),
    credentials=Credentials(
        passwordHash="scrypt$16384$8$1$c2FsdA==$aGFzaA==",
        digestHA1=(("oso", "0" * 32), ("other", "f" * 32)),
    ),
)
GROUP = Device(
    number="200",
    name="Sales",
    type=DeviceType.group,
    members=("101", "100", "102"),
    huntMode=HuntMode.circular,
    pickupGroup=0,
    features=Features(noAnswerSeconds=7.0),
)
TRUNK = Device(
    number="900",
    type=DeviceType.trunk,
    port="sip-trunk",
    classOfService="international",
    trunkGroup="carrier",
)


def storeThreads(path):
    """
    @return: the live threads of the store on C{path}.
    """
    return [t for t in threading.enumerate() if f"oso-store {path}" in t.name]


# The database itself, synchronously.

texts = st.text(max_size=20)
optionalTexts = st.none() | texts
devices = st.builds(
    Device,
    number=texts,
    name=texts,
    type=st.sampled_from(DeviceType),
    port=optionalTexts,
    classOfService=texts,
    pickupGroup=st.none() | st.integers(0, 2**63 - 1),
    members=st.lists(texts, max_size=4).map(tuple),
    huntMode=st.sampled_from(HuntMode),
    trunkGroup=optionalTexts,
    publicNumber=optionalTexts,
    withholdCallerID=st.booleans(),
    presentableNumbers=st.lists(texts, max_size=3).map(tuple),
    features=st.builds(
        Features,
        forwarding=st.lists(
            st.builds(
                ForwardingSetting,
                forwardingType=st.sampled_from(ForwardingType),
                active=st.booleans(),
                destination=optionalTexts,
            ),
            max_size=5,
        ).map(tuple),
        doNotDisturb=st.booleans(),
        messageWaiting=st.booleans(),
        noAnswerSeconds=st.floats(0.001, 86400.0),
    ),
    credentials=st.builds(
        Credentials,
        passwordHash=optionalTexts,
        digestHA1=st.lists(st.tuples(texts, texts), max_size=3).map(tuple),
    ),
)


@settings(max_examples=200, deadline=None)
@given(devices)
def test_deviceRoundTrip(device):
    """
    Every field of any device comes back from the database exactly as it
    went in: enums, None, forwarding settings and credential pairs in their
    order, any text.
    """
    database = SQLiteDatabase.open(":memory:")
    try:
        database.saveDevice(device)
        assert database.loadDevices() == [device]
    finally:
        database.close()


class MigrationTests(SynchronousTestCase):
    """
    The schema version (C{PRAGMA user_version}) and the migration steps.
    """

    def setUp(self):
        self.path = self.mktemp()
        self.connection = sqlite3.connect(self.path, isolation_level=None)
        self.addCleanup(self.connection.close)

    def test_emptyFile(self):
        """
        A new file is migrated to the current version with every step, and
        has the devices, settings, registrations, administrators and API
        token tables.
        """
        applied = migrate(self.connection)
        self.assertEqual(
            applied, [(n + 1, step) for n, step in enumerate(MIGRATIONS)]
        )
        self.assertEqual(schemaVersion(self.connection), SCHEMA_VERSION)
        tables = {
            name
            for (name,) in self.connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        }
        self.assertEqual(
            tables,
            {"devices", "settings", "registrations", "administrators", "api_tokens",
             "aka_sequence"},
        )

    def test_current(self):
        """
        A current database is left as it is.
        """
        migrate(self.connection)
        self.assertEqual(migrate(self.connection), [])
        self.assertEqual(schemaVersion(self.connection), SCHEMA_VERSION)

    def test_fromOlderVersion(self):
        """
        A database at version 1 gets only the steps after 1, and its data
        stays.
        """
        first = Migration("one", "CREATE TABLE a (x TEXT);")
        second = Migration("two", "ALTER TABLE a ADD COLUMN y TEXT DEFAULT 'new';")
        migrate(self.connection, (first,))
        self.connection.execute("INSERT INTO a (x) VALUES ('old')")
        self.assertEqual(schemaVersion(self.connection), 1)
        self.assertEqual(migrate(self.connection, (first, second)), [(2, second)])
        self.assertEqual(schemaVersion(self.connection), 2)
        self.assertEqual(
            self.connection.execute("SELECT x, y FROM a").fetchall(), [("old", "new")]
        )

    def test_failedStepRollsBack(self):
        """
        A step that fails leaves nothing of itself behind, and the database
        at the last complete version.
        """
        first = Migration("one", "CREATE TABLE a (x TEXT);")
        broken = Migration("broken", "CREATE TABLE b (x TEXT); CREATE TABLE a (y);")
        self.assertRaises(
            sqlite3.OperationalError, migrate, self.connection, (first, broken)
        )
        self.assertFalse(self.connection.in_transaction)
        self.assertEqual(schemaVersion(self.connection), 1)
        tables = self.connection.execute(
            "SELECT name FROM sqlite_master WHERE name = 'b'"
        ).fetchall()
        self.assertEqual(tables, [])

    def test_tooNew(self):
        """
        A database written by a newer oso is refused, saying which versions
        are involved, and is left untouched.
        """
        self.connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        e = self.assertRaises(StoreError, migrate, self.connection)
        self.assertIn(f"schema version {SCHEMA_VERSION + 1}", str(e))
        self.assertIn(f"versions up to {SCHEMA_VERSION} only", str(e))
        self.assertEqual(schemaVersion(self.connection), SCHEMA_VERSION + 1)


# The store, through real Deferreds and its thread.


class SQLiteStoreTests(TestCase):
    """
    L{SQLiteStore} with the real reactor and a database file.
    """

    def setUp(self):
        self.path = self.mktemp()
        self.store = SQLiteStore(self.path, reactor)
        # Cleanups run last first: close whichever store the test left,
        # then check that no store thread outlives it.
        self.addCleanup(lambda: self.assertEqual(storeThreads(self.path), []))
        self.addCleanup(lambda: self.store.close())
        return self.store.open()

    async def reopen(self):
        """
        Close the store and open a new one on the same file, as a restart
        of the server does.
        """
        await self.store.close()
        self.store = SQLiteStore(self.path, reactor)
        await self.store.open()

    def test_interface(self):
        """
        The store provides L{IStore}.
        """
        self.assertTrue(verifyObject(IStore, self.store))

    async def test_roundTrip(self):
        """
        A station, a group and a trunk with every field set come back
        unchanged, in the order they were first saved.
        """
        for device in (STATION, GROUP, TRUNK):
            await self.store.saveDevice(device)
        self.assertEqual(await self.store.loadDevices(), [STATION, GROUP, TRUNK])

    async def test_persistsAcrossRestart(self):
        """
        Devices, feature changes and settings survive closing the store and
        opening the file again.
        """
        await self.store.saveDevice(STATION)
        await self.store.saveDevice(GROUP)
        features = Features(doNotDisturb=False, messageWaiting=False)
        await self.store.saveFeatures("100", features)
        await self.store.putSetting("oso.initialised", "yes")
        await self.reopen()
        self.assertEqual(
            await self.store.loadDevices(),
            [Device(**{**vars_(STATION), "features": features}), GROUP],
        )
        self.assertEqual(await self.store.getSetting("oso.initialised"), "yes")

    async def test_replace(self):
        """
        Saving a device with a stored number replaces it and keeps its
        place in the order.
        """
        await self.store.saveDevice(STATION)
        await self.store.saveDevice(GROUP)
        renamed = Device(number="100", name="Front desk", port="virtual-phones")
        await self.store.saveDevice(renamed)
        self.assertEqual(await self.store.loadDevices(), [renamed, GROUP])

    async def test_delete(self):
        """
        Deleting a device removes it and says whether there was one.
        """
        await self.store.saveDevice(STATION)
        await self.store.saveDevice(TRUNK)
        self.assertTrue(await self.store.deleteDevice("100"))
        self.assertFalse(await self.store.deleteDevice("100"))
        self.assertEqual(await self.store.loadDevices(), [TRUNK])

    async def test_saveFeatures(self):
        """
        Saving features replaces only the feature state: credentials and
        every other field stay.
        """
        await self.store.saveDevice(STATION)
        features = Features(
            forwarding=(ForwardingSetting(ForwardingType.forwardNoAns, True, "102"),),
            noAnswerSeconds=30.0,
        )
        await self.store.saveFeatures("100", features)
        [device] = await self.store.loadDevices()
        self.assertEqual(device, Device(**{**vars_(STATION), "features": features}))

    async def test_saveFeaturesUnknownDevice(self):
        """
        Features for a number no device has are refused, not lost silently.
        """
        with self.assertRaises(StoreError) as info:
            await self.store.saveFeatures("999", Features())
        self.assertIn("'999'", str(info.exception))

    async def test_settings(self):
        """
        A setting reads back as stored, a new value replaces the old one,
        and an unknown key reads as None.
        """
        self.assertIsNone(await self.store.getSetting("k"))
        await self.store.putSetting("k", "one")
        await self.store.putSetting("k", "two")
        self.assertEqual(await self.store.getSetting("k"), "two")

    async def test_settingsAreStrings(self):
        """
        Only strings are stored as settings.
        """
        with self.assertRaises(TypeError):
            await self.store.putSetting("k", 1)
        self.assertIsNone(await self.store.getSetting("k"))

    async def test_committedBeforeAcknowledged(self):
        """
        When a write's Deferred fires the change is committed: another
        connection sees it while the store is still open.
        """
        await self.store.saveDevice(STATION)
        await self.store.putSetting("k", "v")
        other = sqlite3.connect(self.path)
        self.addCleanup(other.close)
        self.assertEqual(
            other.execute("SELECT number FROM devices").fetchall(), [("100",)]
        )
        self.assertEqual(
            other.execute("SELECT value FROM settings").fetchall(), [("v",)]
        )

    async def test_durability(self):
        """
        The database is in WAL mode (a property of the file) and the
        store's connection syncs every commit (synchronous=FULL, 2).
        """
        other = sqlite3.connect(self.path)
        self.addCleanup(other.close)
        self.assertEqual(other.execute("PRAGMA journal_mode").fetchone(), ("wal",))
        session = self.store._session
        row = await deferToThreadPool(
            reactor,
            session.pool,
            lambda: session.database.connection.execute(
                "PRAGMA synchronous"
            ).fetchone(),
        )
        self.assertEqual(tuple(row), (2,))

    async def test_offReactorThread(self):
        """
        Every statement runs on the store's own thread, never the reactor's:
        the connection refuses the reactor thread, and the statements of a
        save and a load are all traced on one other thread.
        """
        session = self.store._session
        connection = session.database.connection
        self.assertRaises(sqlite3.ProgrammingError, connection.execute, "SELECT 1")
        threads = []
        await deferToThreadPool(
            reactor,
            session.pool,
            connection.set_trace_callback,
            lambda statement: threads.append(threading.get_ident()),
        )
        await self.store.saveDevice(STATION)
        await self.store.loadDevices()
        self.assertTrue(threads)
        self.assertEqual(len(set(threads)), 1)
        self.assertNotEqual(threads[0], threading.get_ident())
        self.assertEqual(
            [t.ident for t in storeThreads(self.path)], [threads[0]]
        )

    async def test_writesInOrder(self):
        """
        Writes asked for without waiting are done in the order asked: the
        last one wins, and every Deferred fires.
        """
        results = [
            self.store.putSetting("k", str(value)) for value in range(50)
        ]
        for d in results:
            await d
        self.assertEqual(await self.store.getSetting("k"), "49")

    async def test_closeStopsThread(self):
        """
        Closing waits for the writes asked for before it, stops the store's
        thread, and makes later calls fail; closing again is harmless.
        """
        pending = self.store.saveDevice(STATION)
        await self.store.close()
        await pending
        self.assertEqual(storeThreads(self.path), [])
        with self.assertRaises(StoreError):
            await self.store.loadDevices()
        await self.store.close()

    async def test_reopen(self):
        """
        A closed store can be opened again and sees what it wrote.
        """
        await self.store.saveDevice(TRUNK)
        await self.store.close()
        await self.store.open()
        self.assertEqual(await self.store.loadDevices(), [TRUNK])

    async def test_openTwice(self):
        """
        Opening an open store is refused.
        """
        with self.assertRaises(StoreError):
            await self.store.open()

    async def test_unreadableRow(self):
        """
        A row that does not hold a device is reported with its number, not
        turned into a wrong device.
        """
        await self.store.saveDevice(GROUP)
        other = sqlite3.connect(self.path, isolation_level=None)
        self.addCleanup(other.close)
        other.execute("UPDATE devices SET hunt_mode = 'zigzag'")
        with self.assertRaises(StoreError) as info:
            await self.store.loadDevices()
        self.assertIn("device '200'", str(info.exception))


class IdentityMigrationTests(TestCase):
    """
    Schema version 4 (a station's withheld caller id and presentable
    numbers) on a database file that an oso of schema version 3 made.
    """

    async def test_version3DatabaseKeepsItsDevices(self):
        """
        A version 3 file holding a station, written with the columns that
        version had, opens at the current version: the station keeps every
        field, does not withhold its caller id and has no further
        presentable numbers; the new fields can then be stored.
        """
        path = self.mktemp()
        connection = sqlite3.connect(path, isolation_level=None)
        migrate(connection, MIGRATIONS[:3])
        old = {
            "number": "100", "name": "Reception", "type": "station",
            "port": "sip-lines", "class_of_service": "national", "pickup_group": 3,
            "members": "[]", "hunt_mode": "linear", "trunk_group": None,
            "public_number": "4930123456100",
            "forwarding": '[{"type": "forwardBusy", "active": true, "destination": "101"}]',
            "do_not_disturb": 1, "message_waiting": 0, "no_answer_seconds": 12.5,
            "password_hash": "scrypt$x", "digest_ha1": '[["oso", "' + "0" * 32 + '"]]',
        }
        connection.execute(
            f"INSERT INTO devices ({', '.join(old)}) VALUES ({', '.join('?' for _ in old)})",
            list(old.values()),
        )
        connection.close()
        store = SQLiteStore(path, reactor)
        await store.open()
        self.addCleanup(store.close)
        [device] = await store.loadDevices()
        self.assertEqual(device, Device(
            number="100", name="Reception", port="sip-lines", classOfService="national",
            pickupGroup=3, publicNumber="4930123456100",
            features=Features(
                forwarding=(ForwardingSetting(ForwardingType.forwardBusy, True, "101"),),
                doNotDisturb=True, noAnswerSeconds=12.5,
            ),
            credentials=Credentials(passwordHash="scrypt$x", digestHA1=(("oso", "0" * 32),)),
        ))
        self.assertFalse(device.withholdCallerID)
        self.assertEqual(device.presentableNumbers, ())
        changed = replace(device, withholdCallerID=True, presentableNumbers=("4930123456000",))
        await store.saveDevice(changed)
        self.assertEqual(await store.loadDevices(), [changed])


class OpeningTests(TestCase):
    """
    Opening a store on files it cannot use.
    """

    def test_notOpen(self):
        """
        A store that was never opened refuses work.
        """
        store = SQLiteStore(self.mktemp(), reactor)
        self.failureResultOf(store.loadDevices(), StoreError)
        self.successResultOf(store.close())

    async def test_newFile(self):
        """
        Opening creates the file at the current schema version.
        """
        path = self.mktemp()
        store = SQLiteStore(path, reactor)
        await store.open()
        await store.close()
        connection = sqlite3.connect(path)
        self.addCleanup(connection.close)
        self.assertEqual(schemaVersion(connection), SCHEMA_VERSION)

    async def test_tooNew(self):
        """
        A database from a newer oso fails the open with L{StoreError}, and
        leaves no thread behind and the store closed.
        """
        path = self.mktemp()
        connection = sqlite3.connect(path)
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        connection.close()
        store = SQLiteStore(path, reactor)
        with self.assertRaises(StoreError) as info:
            await store.open()
        self.assertIn("newer oso", str(info.exception))
        self.assertEqual(storeThreads(path), [])
        with self.assertRaises(StoreError):
            await store.getSetting("k")

    async def test_cannotOpen(self):
        """
        A file in a directory that does not exist fails the open with
        L{StoreError} naming it.
        """
        path = self.mktemp() + "/missing/oso.sqlite"
        store = SQLiteStore(path, reactor)
        with self.assertRaises(StoreError) as info:
            await store.open()
        self.assertIn(path, str(info.exception))
        self.assertEqual(storeThreads(path), [])

    async def test_notADatabase(self):
        """
        A file that is not an SQLite database fails the open with
        L{StoreError}.
        """
        path = self.mktemp()
        with open(path, "wb") as f:
            f.write(b"this is not a database" * 100)
        store = SQLiteStore(path, reactor)
        with self.assertRaises(StoreError):
            await store.open()


class TriggerRecordingReactor:
    """
    The real reactor, except that system event triggers are only recorded
    (so a test can fire the shutdown trigger without stopping the reactor).
    """

    def __init__(self):
        self.triggers = {}

    def __getattr__(self, name):
        return getattr(reactor, name)

    def addSystemEventTrigger(self, phase, eventType, callable, *args, **kwargs):
        handle = object()
        self.triggers[handle] = (phase, eventType, callable, args, kwargs)
        return handle

    def removeSystemEventTrigger(self, handle):
        del self.triggers[handle]


class ShutdownTests(TestCase):
    """
    An open store closes itself when the reactor shuts down.
    """

    async def test_closesAtShutdown(self):
        """
        Opening registers a trigger during shutdown; firing it closes the
        store (the reactor waits for its Deferred), and it is then gone.
        """
        fakeReactor = TriggerRecordingReactor()
        path = self.mktemp()
        store = SQLiteStore(path, fakeReactor)
        self.addCleanup(lambda: store.close())
        await store.open()
        [(handle, trigger)] = fakeReactor.triggers.items()
        phase, eventType, callable, args, kwargs = trigger
        self.assertEqual((phase, eventType), ("during", "shutdown"))
        # The reactor drops a trigger before running it.
        del fakeReactor.triggers[handle]
        await callable(*args, **kwargs)
        self.assertEqual(storeThreads(path), [])
        with self.assertRaises(StoreError):
            await store.loadDevices()

    async def test_closeRemovesTrigger(self):
        """
        Closing a store removes its shutdown trigger.
        """
        fakeReactor = TriggerRecordingReactor()
        store = SQLiteStore(self.mktemp(), fakeReactor)
        await store.open()
        await store.close()
        self.assertEqual(fakeReactor.triggers, {})


def vars_(device):
    """
    @return: a device's fields, for building a changed copy with
        C{Device(**{...})}.
    """
    return {name: getattr(device, name) for name in Device.__dataclass_fields__}

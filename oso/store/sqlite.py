"""
The SQLite store.

L{SQLiteDatabase} does the work, synchronously, on one connection.
L{SQLiteStore} is the L{IStore} the server uses: it runs every call of the
database on one dedicated thread, so the reactor never waits for the disk
and writes happen one after another in the order they were asked for.

The database runs in WAL mode with C{synchronous=FULL}, and every write is
one statement committed on its own: when a write's L{Deferred} fires, the
change is on disk and survives a crash or a power cut.
"""

import json
import sqlite3
from operator import attrgetter

from twisted.internet.defer import fail, succeed
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from twisted.python.threadpool import ThreadPool
from zope.interface import implementer

from oso.callmodel.devices import (
    Credentials,
    Device,
    DeviceType,
    Features,
    ForwardingSetting,
    ForwardingType,
    HuntMode,
)
from oso.gserver.credentials import Administrator, APIToken
from oso.interfaces import IStore
from oso.sip.registrar import Binding
from oso.store.schema import StoreError, migrate

_COLUMNS = (
    "number",
    "name",
    "type",
    "port",
    "class_of_service",
    "pickup_group",
    "members",
    "hunt_mode",
    "trunk_group",
    "public_number",
    "withhold_caller_id",
    "presentable_numbers",
    "forwarding",
    "do_not_disturb",
    "message_waiting",
    "no_answer_seconds",
    "password_hash",
    "digest_ha1",
)
_REGISTRATION_COLUMNS = (
    ("aor", "aor"),
    ("contact", "contact"),
    ("expires", "expires"),
    ("updated", "updated"),
    ("q", "q"),
    ("call_id", "callID"),
    ("cseq", "cseq"),
    ("transport", "transport"),
    ("host", "host"),
    ("port", "port"),
    ("instance", "instance"),
    ("reg_id", "regID"),
)
#: A binding's values in the order of L{_REGISTRATION_COLUMNS}.
_registrationValues = attrgetter(*(name for _, name in _REGISTRATION_COLUMNS))
#: Insert a binding, or replace the one with its aor and contact. Written
#: once: the registrar's group commits run it for every binding of a batch
#: on the store's thread, whose Python holds the GIL the reactor needs.
_SAVE_REGISTRATION = (
    f"INSERT INTO registrations ({', '.join(column for column, _ in _REGISTRATION_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _REGISTRATION_COLUMNS)}) "
    "ON CONFLICT (aor, contact) DO UPDATE SET "
    + ", ".join(f"{column} = excluded.{column}" for column, _ in _REGISTRATION_COLUMNS[2:])
)
_DELETE_REGISTRATIONS = "DELETE FROM registrations WHERE aor = ?"
_TOKEN_COLUMNS = ("token_hash", "name", "administrator", "label", "created")
_FEATURE_COLUMNS = (
    "forwarding",
    "do_not_disturb",
    "message_waiting",
    "no_answer_seconds",
)


def _featureValues(features):
    """
    @return: the column values of a L{Features}, keyed by column name.
    """
    return {
        "forwarding": json.dumps(
            [
                {
                    "type": setting.forwardingType.name,
                    "active": setting.active,
                    "destination": setting.destination,
                }
                for setting in features.forwarding
            ]
        ),
        "do_not_disturb": int(features.doNotDisturb),
        "message_waiting": int(features.messageWaiting),
        "no_answer_seconds": float(features.noAnswerSeconds),
    }


def deviceToRow(device):
    """
    @param device: an L{oso.callmodel.devices.Device}.
    @return: its row of the C{devices} table, keyed by column name.
    """
    return {
        "number": device.number,
        "name": device.name,
        "type": device.type.value,
        "port": device.port,
        "class_of_service": device.classOfService,
        "pickup_group": device.pickupGroup,
        "members": json.dumps(list(device.members)),
        "hunt_mode": device.huntMode.value,
        "trunk_group": device.trunkGroup,
        "public_number": device.publicNumber,
        "withhold_caller_id": int(device.withholdCallerID),
        "presentable_numbers": json.dumps(list(device.presentableNumbers)),
        **_featureValues(device.features),
        "password_hash": device.credentials.passwordHash,
        "digest_ha1": json.dumps([list(pair) for pair in device.credentials.digestHA1]),
    }


def deviceFromRow(row):
    """
    @param row: a row of the C{devices} table, keyed by column name.
    @return: the L{oso.callmodel.devices.Device} it holds.
    @raise StoreError: when the row does not hold a device.
    """
    try:
        forwarding = tuple(
            ForwardingSetting(
                forwardingType=ForwardingType[setting["type"]],
                active=setting["active"],
                destination=setting["destination"],
            )
            for setting in json.loads(row["forwarding"])
        )
        return Device(
            number=row["number"],
            name=row["name"],
            type=DeviceType(row["type"]),
            port=row["port"],
            classOfService=row["class_of_service"],
            pickupGroup=row["pickup_group"],
            members=tuple(json.loads(row["members"])),
            huntMode=HuntMode(row["hunt_mode"]),
            trunkGroup=row["trunk_group"],
            publicNumber=row["public_number"],
            withholdCallerID=bool(row["withhold_caller_id"]),
            presentableNumbers=tuple(json.loads(row["presentable_numbers"])),
            features=Features(
                forwarding=forwarding,
                doNotDisturb=bool(row["do_not_disturb"]),
                messageWaiting=bool(row["message_waiting"]),
                noAnswerSeconds=row["no_answer_seconds"],
            ),
            credentials=Credentials(
                passwordHash=row["password_hash"],
                digestHA1=tuple(
                    (realm, ha1) for realm, ha1 in json.loads(row["digest_ha1"])
                ),
            ),
        )
    except (ValueError, KeyError, TypeError) as e:
        raise StoreError(f"device {row['number']!r}: unreadable row ({e!r})") from e


def registrationFromRow(row):
    """
    @param row: a row of the C{registrations} table, keyed by column name.
    @return: the L{oso.sip.registrar.Binding} it holds.
    """
    return Binding(**{name: row[column] for column, name in _REGISTRATION_COLUMNS})


def tokenFromRow(row):
    """
    @param row: a row of the C{api_tokens} table, keyed by column name.
    @return: the L{oso.gserver.credentials.APIToken} it holds.
    """
    return APIToken(
        tokenHash=row["token_hash"],
        name=row["name"],
        administrator=bool(row["administrator"]),
        label=row["label"],
        created=row["created"],
    )


class SQLiteDatabase:
    """
    The store's database on one SQLite connection, used synchronously.

    Every method must be called on the thread that called L{open}: SQLite
    connections refuse use from other threads.
    """

    def __init__(self, connection, applied):
        """
        @param connection: the open, current L{sqlite3.Connection}.
        @param applied: the migrations L{open} applied.
        """
        self.connection = connection
        self.applied = applied

    @classmethod
    def open(cls, path):
        """
        Open (creating or migrating) the database at C{path}.

        @param path: a file name, or C{":memory:"}.
        @return: an L{SQLiteDatabase}.
        @raise StoreError: when the database cannot be opened or is newer
            than this code.
        """
        try:
            connection = sqlite3.connect(path, isolation_level=None)
        except sqlite3.Error as e:
            raise StoreError(f"cannot open {path}: {e}") from e
        try:
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = FULL")
            applied = migrate(connection)
        except sqlite3.Error as e:
            connection.close()
            raise StoreError(f"cannot open {path}: {e}") from e
        except BaseException:
            connection.close()
            raise
        return cls(connection, applied)

    def close(self):
        """
        Close the connection (SQLite checkpoints the WAL into the database).
        """
        self.connection.close()

    def loadDevices(self):
        """
        @return: every stored device, in the order they were first stored.
        @raise StoreError: when a row is unreadable.
        """
        rows = self.connection.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM devices ORDER BY rowid"
        )
        return [deviceFromRow(row) for row in rows]

    def saveDevice(self, device):
        """
        Insert a device, or replace the one with its number.
        """
        assignments = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[1:])
        self.connection.execute(
            f"INSERT INTO devices ({', '.join(_COLUMNS)}) "
            f"VALUES ({', '.join(':' + c for c in _COLUMNS)}) "
            f"ON CONFLICT (number) DO UPDATE SET {assignments}",
            deviceToRow(device),
        )

    def deleteDevice(self, number):
        """
        Remove a device.

        @return: whether there was one with that number.
        """
        cursor = self.connection.execute(
            "DELETE FROM devices WHERE number = ?", (number,)
        )
        return cursor.rowcount > 0

    def saveFeatures(self, number, features):
        """
        Replace one device's feature state.

        @raise StoreError: when no device has that number.
        """
        assignments = ", ".join(f"{c} = :{c}" for c in _FEATURE_COLUMNS)
        cursor = self.connection.execute(
            f"UPDATE devices SET {assignments} WHERE number = :number",
            {"number": number, **_featureValues(features)},
        )
        if cursor.rowcount == 0:
            raise StoreError(f"no device {number!r} to save features for")

    def loadRegistrations(self):
        """
        @return: every stored SIP registration binding.
        """
        columns = ", ".join(column for column, _ in _REGISTRATION_COLUMNS)
        rows = self.connection.execute(
            f"SELECT {columns} FROM registrations ORDER BY rowid"
        )
        return [registrationFromRow(row) for row in rows]

    def saveRegistration(self, binding):
        """
        Insert a binding, or replace the one with its aor and contact.
        """
        self.connection.execute(_SAVE_REGISTRATION, _registrationValues(binding))

    def deleteRegistration(self, aor, contact):
        """
        Remove one binding, if it is there.
        """
        self.connection.execute(
            "DELETE FROM registrations WHERE aor = ? AND contact = ?", (aor, contact)
        )

    def deleteRegistrations(self, aor):
        """
        Remove every binding of C{aor}.
        """
        self.connection.execute(_DELETE_REGISTRATIONS, (aor,))

    def replaceRegistrations(self, bindings):
        """
        Make the stored bindings of each aor in C{bindings} (aor to its
        bindings) exactly those, in one transaction: one commit for all.
        Every aor's old bindings go first, then the new ones in order: the
        same rows, in the same order, as aor after aor.
        """
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            self.connection.executemany(_DELETE_REGISTRATIONS, [(aor,) for aor in bindings])
            self.connection.executemany(
                _SAVE_REGISTRATION,
                [_registrationValues(binding) for current in bindings.values() for binding in current],
            )
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    def getSetting(self, key):
        """
        @return: the value stored under C{key}, or L{None}.
        """
        row = self.connection.execute(
            "SELECT value FROM settings WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else row["value"]

    def putSetting(self, key, value):
        """
        Store C{value} under C{key}, replacing what was there.

        @raise TypeError: when C{key} or C{value} is not a string.
        """
        if not (isinstance(key, str) and isinstance(value, str)):
            raise TypeError(f"settings are strings, not {key!r}: {value!r}")
        self.connection.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def getAKASequence(self, trunkGroup, username):
        """
        @return: the AKA sequence number kept for the trunk and identity,
            or L{None}.
        """
        row = self.connection.execute(
            "SELECT sqn FROM aka_sequence WHERE trunk_group = ? AND username = ?",
            (trunkGroup, username),
        ).fetchone()
        return None if row is None else row["sqn"]

    def putAKASequence(self, trunkGroup, username, sqn):
        """
        Keep the AKA sequence number of the trunk and identity.
        """
        self.connection.execute(
            "INSERT INTO aka_sequence (trunk_group, username, sqn) VALUES (?, ?, ?) "
            "ON CONFLICT (trunk_group, username) DO UPDATE SET sqn = excluded.sqn",
            (trunkGroup, username, sqn),
        )

    def loadAdministrators(self):
        """
        @return: every G-Server administrator, ordered by name.
        """
        rows = self.connection.execute(
            "SELECT name, password_hash FROM administrators ORDER BY name"
        )
        return [Administrator(row["name"], row["password_hash"]) for row in rows]

    def getAdministrator(self, name):
        """
        @return: the administrator called C{name}, or L{None}.
        """
        row = self.connection.execute(
            "SELECT name, password_hash FROM administrators WHERE name = ?", (name,)
        ).fetchone()
        return None if row is None else Administrator(row["name"], row["password_hash"])

    def saveAdministrator(self, administrator):
        """
        Insert an administrator, or replace the one with its name.
        """
        self.connection.execute(
            "INSERT INTO administrators (name, password_hash) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash",
            (administrator.name, administrator.passwordHash),
        )

    def deleteAdministrator(self, name):
        """
        @return: whether there was an administrator called C{name}.
        """
        cursor = self.connection.execute(
            "DELETE FROM administrators WHERE name = ?", (name,)
        )
        return cursor.rowcount > 0

    def loadTokens(self):
        """
        @return: every API token, oldest first.
        """
        rows = self.connection.execute(
            f"SELECT {', '.join(_TOKEN_COLUMNS)} FROM api_tokens ORDER BY created, rowid"
        )
        return [tokenFromRow(row) for row in rows]

    def getToken(self, tokenHash):
        """
        @return: the API token with that hash, or L{None}.
        """
        row = self.connection.execute(
            f"SELECT {', '.join(_TOKEN_COLUMNS)} FROM api_tokens WHERE token_hash = ?",
            (tokenHash,),
        ).fetchone()
        return None if row is None else tokenFromRow(row)

    def saveToken(self, token):
        """
        Insert an API token, or replace the one with its hash.
        """
        assignments = ", ".join(f"{c} = excluded.{c}" for c in _TOKEN_COLUMNS[1:])
        self.connection.execute(
            f"INSERT INTO api_tokens ({', '.join(_TOKEN_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in _TOKEN_COLUMNS)}) "
            f"ON CONFLICT (token_hash) DO UPDATE SET {assignments}",
            (token.tokenHash, token.name, int(token.administrator), token.label,
             token.created),
        )

    def deleteToken(self, tokenHash):
        """
        @return: whether there was an API token with that hash.
        """
        cursor = self.connection.execute(
            "DELETE FROM api_tokens WHERE token_hash = ?", (tokenHash,)
        )
        return cursor.rowcount > 0


class _Session:
    """
    One open period of an L{SQLiteStore}: its thread and, once opened there,
    its database.  C{database} is only touched on C{pool}'s thread.
    """

    def __init__(self, name):
        self.pool = ThreadPool(1, 1, name=name)
        self.database = None


@implementer(IStore)
class SQLiteStore:
    """
    The persistent store in an SQLite file, off the reactor thread.

    It may be opened again after it was closed.

    @ivar path: the database file.
    """

    log = Logger()

    def __init__(self, path, reactor):
        """
        @param path: the database file (created on first L{open}).
        @type path: L{str}
        @param reactor: the reactor that Deferreds fire in.
        """
        self.path = path
        self._reactor = reactor
        self._session = None
        self._shutdownTrigger = None

    def _run(self, session, work):
        """
        Run C{work()} on the session's thread, after everything asked for
        before it.

        @return: a L{Deferred} with its result; L{sqlite3.Error}s become
            L{StoreError}s.
        """

        def call():
            try:
                return work()
            except sqlite3.Error as e:
                raise StoreError(f"{self.path}: {e}") from e

        return deferToThreadPool(self._reactor, session.pool, call)

    def _call(self, method, *args):
        """
        Run a method of the open database on the store's thread.

        @return: a L{Deferred} with its result.
        """
        session = self._session
        if session is None:
            return fail(StoreError(f"{self.path}: the store is not open"))

        def work():
            if session.database is None:
                # Opening failed.
                raise StoreError(f"{self.path}: the store is not open")
            return method(session.database, *args)

        return self._run(session, work)

    def open(self):
        """
        Start the store's thread and open (creating or migrating) the
        database on it.  An open store closes itself at reactor shutdown.

        @return: a L{Deferred} that fires when the store is ready, or fails
            with L{StoreError}.
        """
        if self._session is not None:
            return fail(StoreError(f"{self.path}: the store is already open"))
        session = self._session = _Session(f"oso-store {self.path}")
        session.pool.start()
        self._shutdownTrigger = self._reactor.addSystemEventTrigger(
            "during", "shutdown", self._closeAtShutdown
        )

        def work():
            session.database = SQLiteDatabase.open(self.path)
            return session.database.applied

        def opened(applied):
            for version, migration in applied:
                self.log.info(
                    "store {path}: schema version {version}: {description}",
                    path=self.path,
                    version=version,
                    description=migration.description,
                )

        def failed(failure):
            if self._session is session:
                self._end()
                session.pool.stop()
            return failure

        return self._run(session, work).addCallbacks(opened, failed)

    def close(self):
        """
        Close the database once everything asked for before is done, and
        stop the store's thread.  Later calls fail with L{StoreError}.

        @return: a L{Deferred} that fires when the store is closed (at once
            when it is not open).
        """
        session = self._session
        if session is None:
            return succeed(None)
        self._end()

        def work():
            if session.database is not None:
                session.database.close()
                session.database = None

        def stop(result):
            # The thread is idle now: nothing can be queued behind this.
            session.pool.stop()
            return result

        return self._run(session, work).addBoth(stop)

    def _end(self):
        """
        Forget the current session and the shutdown trigger.
        """
        self._session = None
        if self._shutdownTrigger is not None:
            self._reactor.removeSystemEventTrigger(self._shutdownTrigger)
            self._shutdownTrigger = None

    def _closeAtShutdown(self):
        # The reactor has already dropped the trigger it is running.
        self._shutdownTrigger = None
        return self.close()

    def loadDevices(self):
        """
        @return: a L{Deferred} firing with a list of every stored
            L{oso.callmodel.devices.Device}, in the order they were first
            stored.
        """
        return self._call(SQLiteDatabase.loadDevices)

    def saveDevice(self, device):
        """
        Insert or replace a device, its features and credentials included.

        @return: a L{Deferred} that fires once the device is on disk.
        """
        return self._call(SQLiteDatabase.saveDevice, device)

    def deleteDevice(self, number):
        """
        @return: a L{Deferred} that fires, once the deletion is on disk,
            with whether a device had that number.
        """
        return self._call(SQLiteDatabase.deleteDevice, number)

    def saveFeatures(self, number, features):
        """
        Replace one device's L{oso.callmodel.devices.Features}.

        @return: a L{Deferred} that fires once they are on disk, or fails
            with L{StoreError} when no device has that number.
        """
        return self._call(SQLiteDatabase.saveFeatures, number, features)

    def getSetting(self, key):
        """
        @return: a L{Deferred} firing with the string stored under C{key},
            or L{None}.
        """
        return self._call(SQLiteDatabase.getSetting, key)

    def putSetting(self, key, value):
        """
        Store a string under a key.

        @return: a L{Deferred} that fires once it is on disk.
        """
        return self._call(SQLiteDatabase.putSetting, key, value)

    def getAKASequence(self, trunkGroup, username):
        """
        @return: a L{Deferred} firing with the AKA sequence number kept
            for the trunk and identity, or L{None}.
        """
        return self._call(SQLiteDatabase.getAKASequence, trunkGroup, username)

    def putAKASequence(self, trunkGroup, username, sqn):
        """
        Keep the highest AKA sequence number a trunk accepted.

        @return: a L{Deferred} that fires once it is on disk.
        """
        return self._call(SQLiteDatabase.putAKASequence, trunkGroup, username, sqn)

    def loadRegistrations(self):
        """
        @return: a L{Deferred} firing with a list of every stored
            L{oso.sip.registrar.Binding}, in the order first stored.
        """
        return self._call(SQLiteDatabase.loadRegistrations)

    def saveRegistration(self, binding):
        """
        Insert or replace a binding (keyed by its aor and contact).

        @return: a L{Deferred} that fires once it is on disk.
        """
        return self._call(SQLiteDatabase.saveRegistration, binding)

    def deleteRegistration(self, aor, contact):
        """
        @return: a L{Deferred} that fires once the binding of C{contact}
            to C{aor} is gone from the disk.
        """
        return self._call(SQLiteDatabase.deleteRegistration, aor, contact)

    def deleteRegistrations(self, aor):
        """
        @return: a L{Deferred} that fires once every binding of C{aor} is
            gone from the disk.
        """
        return self._call(SQLiteDatabase.deleteRegistrations, aor)

    def replaceRegistrations(self, bindings):
        """
        Make the stored bindings of each aor in C{bindings} (aor to its
        bindings) exactly those, in one transaction.

        @return: a L{Deferred} that fires once all of it is on disk.
        """
        return self._call(SQLiteDatabase.replaceRegistrations, bindings)

    def loadAdministrators(self):
        """
        @return: a L{Deferred} firing with every G-Server administrator,
            ordered by name.
        """
        return self._call(SQLiteDatabase.loadAdministrators)

    def getAdministrator(self, name):
        """
        @return: a L{Deferred} firing with the administrator called
            C{name}, or L{None}.
        """
        return self._call(SQLiteDatabase.getAdministrator, name)

    def saveAdministrator(self, administrator):
        """
        Insert or replace an administrator (keyed by name).

        @return: a L{Deferred} that fires once it is on disk.
        """
        return self._call(SQLiteDatabase.saveAdministrator, administrator)

    def deleteAdministrator(self, name):
        """
        @return: a L{Deferred} that fires, once the deletion is on disk,
            with whether there was an administrator called C{name}.
        """
        return self._call(SQLiteDatabase.deleteAdministrator, name)

    def loadTokens(self):
        """
        @return: a L{Deferred} firing with every API token, oldest first.
        """
        return self._call(SQLiteDatabase.loadTokens)

    def getToken(self, tokenHash):
        """
        @return: a L{Deferred} firing with the API token of that hash, or
            L{None}.
        """
        return self._call(SQLiteDatabase.getToken, tokenHash)

    def saveToken(self, token):
        """
        Insert or replace an API token (keyed by its hash).

        @return: a L{Deferred} that fires once it is on disk.
        """
        return self._call(SQLiteDatabase.saveToken, token)

    def deleteToken(self, tokenHash):
        """
        @return: a L{Deferred} that fires, once the deletion is on disk,
            with whether there was an API token of that hash.
        """
        return self._call(SQLiteDatabase.deleteToken, tokenHash)

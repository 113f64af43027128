"""
The store's SQLite schema, and the migrations that bring any older database
up to it.

The schema version is SQLite's C{PRAGMA user_version}: the number of
migrations applied.  L{MIGRATIONS} only ever grows at its end; a released
step is never edited, so every database reaches the same schema whatever
version it starts from.
"""

from dataclasses import dataclass


class StoreError(Exception):
    """
    The store cannot do what it was asked: the database cannot be opened,
    is newer than this code, holds an unreadable row, or lacks the device a
    change is for.
    """


@dataclass(frozen=True)
class Migration:
    """
    One step of the schema.

    @ivar description: what the step adds, for the log.
    @ivar script: the SQL statements of the step.
    """

    description: str
    script: str


MIGRATIONS = (
    Migration(
        "devices with their features and credentials; settings",
        """
        CREATE TABLE devices (
            number TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL,
            type TEXT NOT NULL,
            port TEXT,
            class_of_service TEXT NOT NULL,
            pickup_group INTEGER,
            -- JSON array of member numbers, in hunting order
            members TEXT NOT NULL,
            hunt_mode TEXT NOT NULL,
            trunk_group TEXT,
            public_number TEXT,
            -- JSON array of {"type", "active", "destination"}
            forwarding TEXT NOT NULL,
            do_not_disturb INTEGER NOT NULL,
            message_waiting INTEGER NOT NULL,
            no_answer_seconds REAL NOT NULL,
            password_hash TEXT,
            -- JSON array of [realm, HA1] pairs
            digest_ha1 TEXT NOT NULL
        );
        CREATE TABLE settings (
            key TEXT PRIMARY KEY NOT NULL,
            value TEXT NOT NULL
        );
        """,
    ),
    Migration(
        "SIP registrations: the contacts bound to each address of record",
        """
        CREATE TABLE registrations (
            aor TEXT NOT NULL,
            -- the contact URI as text
            contact TEXT NOT NULL,
            -- absolute, seconds since the epoch
            expires REAL NOT NULL,
            q REAL,
            call_id TEXT NOT NULL,
            cseq INTEGER NOT NULL,
            -- where the REGISTER came from (RFC 3261 18.2.1, RFC 3581)
            transport TEXT,
            host TEXT,
            port INTEGER,
            -- RFC 5626 +sip.instance and reg-id
            instance TEXT,
            reg_id INTEGER,
            updated REAL NOT NULL,
            PRIMARY KEY (aor, contact)
        );
        """,
    ),
    Migration(
        "G-Server administrators and API tokens",
        """
        CREATE TABLE administrators (
            name TEXT PRIMARY KEY NOT NULL,
            -- scrypt hash (oso.secrets.hashPassword)
            password_hash TEXT NOT NULL
        );
        CREATE TABLE api_tokens (
            -- SHA-256 of the token, hex: the token itself is never kept
            token_hash TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL,
            administrator INTEGER NOT NULL,
            label TEXT NOT NULL,
            -- seconds since the epoch
            created REAL NOT NULL
        );
        """,
    ),
    Migration(
        "devices: withheld caller id (CLIR) and further presentable numbers",
        """
        ALTER TABLE devices ADD COLUMN withhold_caller_id INTEGER NOT NULL DEFAULT 0;
        -- JSON array of E.164 digit strings
        ALTER TABLE devices ADD COLUMN presentable_numbers TEXT NOT NULL DEFAULT '[]';
        """,
    ),
    Migration(
        "the Digest AKA sequence numbers of the SIP trunks",
        """
        CREATE TABLE aka_sequence (
            -- the trunk's trunk group and its AKA private identity
            trunk_group TEXT NOT NULL,
            username TEXT NOT NULL,
            -- the highest SQN the trunk accepted (SQNms, 48 bits)
            sqn INTEGER NOT NULL,
            PRIMARY KEY (trunk_group, username)
        );
        """,
    ),
)

#: The schema version this code reads and writes.
SCHEMA_VERSION = len(MIGRATIONS)


def schemaVersion(connection):
    """
    @param connection: an open L{sqlite3.Connection}.
    @return: the database's schema version (0 for a new, empty file).
    """
    return connection.execute("PRAGMA user_version").fetchone()[0]


def migrate(connection, migrations=MIGRATIONS):
    """
    Bring a database up to the last of C{migrations}, each step in a
    transaction of its own that also records the new version.

    @param connection: an L{sqlite3.Connection} in autocommit mode
        (C{isolation_level=None}).
    @param migrations: the steps, oldest first.
    @return: the steps applied, as C{(version, migration)} pairs (empty when
        the database was current).
    @raise StoreError: when the database is newer than C{migrations} know.
    @raise sqlite3.Error: when a step fails; its transaction is rolled back,
        so the database stays at the last complete version.
    """
    current = schemaVersion(connection)
    if current > len(migrations):
        raise StoreError(
            f"the database has schema version {current}, but this version of "
            f"oso knows versions up to {len(migrations)} only; run a newer oso "
            "or use another data directory"
        )
    applied = []
    for version, migration in enumerate(migrations[current:], start=current + 1):
        try:
            # executescript() would commit an open transaction first, so the
            # transaction is part of the script.
            connection.executescript(
                f"BEGIN IMMEDIATE;\n{migration.script}\n"
                f"PRAGMA user_version = {version};\nCOMMIT;"
            )
        except BaseException:
            if connection.in_transaction:
                connection.rollback()
            raise
        applied.append((version, migration))
    return applied

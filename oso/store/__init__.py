"""
Persistence: the SQLite store and its error.
"""

from oso.store.schema import StoreError
from oso.store.sqlite import SQLiteStore

__all__ = ["SQLiteStore", "StoreError"]

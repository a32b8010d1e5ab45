"""Django's SQLite backend, with writers queued on a file lock instead of SQLite's busy sleeps.

With `transaction_mode=IMMEDIATE` every transaction takes SQLite's write lock at BEGIN. A
writer that finds it taken is put to sleep by SQLite's busy handler for 1, 2, 5, 10, 15, 20,
25 … 100 ms between tries, however soon the lock is released. Two server processes writing
orders back to back therefore spent much of their time asleep: four gunicorn workers took no
more orders a second than two (docs/benchmarks.md, "Writers queue on a file lock").

Here each connection first takes an exclusive `flock` on a file beside the database
(`<name>.writers`), polling every 50–500 µs, then begins its transaction, and lets go when the
transaction commits, rolls back or the connection closes. A waiting writer starts within half
a millisecond of the lock's release. Processes and threads queue alike (every connection has
its own open file), a process that dies releases its lock, and a writer that waits longer than
the connection's `timeout` (settings: 20 s) fails with "database is locked", as SQLite would.
Readers and autocommit statements outside a transaction do not take the file lock; SQLite's
own locking still guards them and remains the source of truth. Where the system has no
`flock` (Windows), the backend is Django's as it is.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time

from django.db.backends.sqlite3 import base, creation

try:
    import fcntl
except ImportError:  # not a POSIX system: SQLite's own busy handler alone
    fcntl = None


class WriterLock:
    """An exclusive flock on one file, taken with a deadline; one per database connection."""

    def __init__(self, path: str):
        self.path = path
        self.fd: int | None = None
        self.pid = 0
        self.held = False

    def acquire(self, timeout: float) -> None:
        if self.fd is None or self.pid != os.getpid():  # first use, or inherited over a fork
            if self.fd is not None:  # the parent's: closing our copy leaves its lock alone
                os.close(self.fd)
                self.held = False
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self.pid = os.getpid()
        deadline = None
        pause = 0.00005
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                now = time.monotonic()
                if deadline is None:
                    deadline = now + timeout
                elif now >= deadline:
                    raise sqlite3.OperationalError("database is locked") from None
                time.sleep(pause)
                pause = min(pause * 2, 0.0005)
                continue
            self.held = True
            return

    def release(self) -> None:
        if self.held:
            self.held = False
            fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self.release()
        if self.fd is not None and self.pid == os.getpid():
            os.close(self.fd)
        self.fd = None


def lock_path(name: str) -> str:
    return f"{name}.writers"


class DatabaseCreation(creation.DatabaseCreation):
    def _destroy_test_db(self, test_database_name, verbosity):
        super()._destroy_test_db(test_database_name, verbosity)
        if not self.is_in_memory_db(test_database_name):
            with contextlib.suppress(FileNotFoundError):
                os.remove(lock_path(test_database_name))


class DatabaseWrapper(base.DatabaseWrapper):
    creation_class = DatabaseCreation
    writer_lock: WriterLock | None = None

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if self.writer_lock is not None:  # a connection replaced without being closed first
            self.writer_lock.close()
            self.writer_lock = None
        if fcntl and self.transaction_mode == "IMMEDIATE" and not self.is_in_memory_db():
            self.writer_lock = WriterLock(lock_path(self.settings_dict["NAME"]))
        return connection

    def _start_transaction_under_autocommit(self):
        lock = self.writer_lock
        if lock is None:
            return super()._start_transaction_under_autocommit()
        timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
        with self.wrap_database_errors:
            lock.acquire(timeout)
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            lock.release()
            raise

    def _commit(self):
        try:
            return super()._commit()
        finally:
            if self.writer_lock is not None:
                self.writer_lock.release()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            if self.writer_lock is not None:
                self.writer_lock.release()

    def _close(self):
        try:
            return super()._close()
        finally:
            if self.writer_lock is not None:
                self.writer_lock.close()
                self.writer_lock = None

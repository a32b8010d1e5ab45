"""The SQLite backend queues writers on a file lock: one transaction at a time, released on
commit, rollback and close, and a writer that waits too long gets SQLite's own error.

These run on a scratch SQLite file of their own, whatever database the suite runs on.
"""

from __future__ import annotations

import fcntl
import os
import threading

import pytest
from django.db import OperationalError
from django.db.utils import ConnectionHandler

from repairhub.lib.sqlite.base import WriterLock


@pytest.fixture
def scratch(tmp_path, django_db_blocker):
    def handler(timeout: float = 5) -> ConnectionHandler:
        made = ConnectionHandler(
            {
                "default": {
                    "ENGINE": "repairhub.lib.sqlite",
                    "NAME": str(tmp_path / "scratch.sqlite3"),
                    "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": timeout},
                }
            }
        )
        handlers.append(made)
        return made

    handlers: list[ConnectionHandler] = []
    with django_db_blocker.unblock():
        first = handler()
        with first["default"].cursor() as cursor:
            cursor.execute("CREATE TABLE log (who text NOT NULL)")
        yield handler, tmp_path / "scratch.sqlite3.writers"
        for made in handlers:
            made.close_all()


def _begin(conn) -> None:
    conn.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)


def _end(conn, *, commit: bool = True) -> None:
    conn.commit() if commit else conn.rollback()
    conn.set_autocommit(True)


def _write(conn, who: str) -> None:
    with conn.cursor() as cursor:
        cursor.execute("INSERT INTO log (who) VALUES (%s)", [who])


def _log(conn) -> list[str]:
    with conn.cursor() as cursor:
        cursor.execute("SELECT who FROM log ORDER BY rowid")
        return [row[0] for row in cursor.fetchall()]


def _lock_is_free(path) -> bool:
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


def test_a_second_writer_waits_for_the_first_to_commit(scratch):
    make, lock_file = scratch
    handler = make()
    first = handler["default"]
    _begin(first)
    _write(first, "first")
    assert not _lock_is_free(lock_file)

    started = threading.Event()
    done = threading.Event()

    def second():
        other = handler["default"]  # a connection of this thread's own
        started.set()
        _begin(other)
        _write(other, "second")
        _end(other)
        other.close()
        done.set()

    thread = threading.Thread(target=second)
    thread.start()
    started.wait(5)
    assert not done.wait(0.3), "the second writer began while the first held the lock"
    _write(first, "first again")
    _end(first)
    thread.join(10)
    assert done.is_set()
    assert _log(first) == ["first", "first again", "second"]
    assert _lock_is_free(lock_file)


def test_rollback_and_close_release_the_lock(scratch):
    make, lock_file = scratch
    conn = make()["default"]
    _begin(conn)
    _write(conn, "undone")
    _end(conn, commit=False)
    assert _lock_is_free(lock_file)
    assert _log(conn) == []

    _begin(conn)
    conn.close()  # a connection closed mid-transaction (a worker recycled) lets go too
    assert _lock_is_free(lock_file)


def test_a_writer_that_waits_too_long_gets_database_is_locked_and_writes_nothing(scratch):
    make, lock_file = scratch
    holder = make()["default"]
    _begin(holder)
    _write(holder, "holder")
    failures: list[Exception] = []

    def impatient():
        conn = make(timeout=0.2)["default"]
        try:
            _begin(conn)
            _write(conn, "impatient")
        except OperationalError as exc:
            failures.append(exc)
        finally:
            conn.close()

    thread = threading.Thread(target=impatient)
    thread.start()
    thread.join(10)
    _end(holder)
    assert len(failures) == 1 and "database is locked" in str(failures[0])
    assert _log(holder) == ["holder"]
    assert _lock_is_free(lock_file)  # the one that gave up holds nothing


def test_reads_outside_a_transaction_do_not_wait_for_a_writer(scratch):
    make, _lock_file = scratch
    handler = make()
    writer = handler["default"]
    _begin(writer)
    _write(writer, "pending")
    seen: list[list[str]] = []

    def reader():
        conn = handler["default"]
        seen.append(_log(conn))
        conn.close()

    thread = threading.Thread(target=reader)
    thread.start()
    thread.join(5)
    _end(writer)
    assert seen == [[]]  # it read the committed state at once, without the pending row


def test_a_forked_child_does_not_share_its_parents_lock(tmp_path):
    lock = WriterLock(str(tmp_path / "x.writers"))
    lock.acquire(1)
    pid = os.fork()
    if pid == 0:  # the child: its first acquire must open its own file, and so wait
        child = lock
        try:
            child.acquire(0.2)
        except Exception:
            os._exit(0)
        os._exit(1)
    _, status = os.waitpid(pid, 0)
    lock.release()
    assert os.waitstatus_to_exitcode(status) == 0

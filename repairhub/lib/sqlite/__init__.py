"""SQLite for RepairHub: Django's backend, with writers queued by the operating system.

See base.py.
"""

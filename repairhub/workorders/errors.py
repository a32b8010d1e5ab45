"""Refusals a work-order service may raise. Each carries a machine code, an HTTP status and a
message in the user's language saying what to do instead."""

from __future__ import annotations


class OrderError(Exception):
    status = 400
    code = "error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class NotVisible(OrderError):
    status = 404
    code = "not_found"


class NotAllowed(OrderError):
    status = 403
    code = "forbidden"


class IllegalState(OrderError):
    status = 409
    code = "illegal_state"


class StaleVersion(OrderError):
    status = 409
    code = "stale_version"


class InvalidInput(OrderError):
    status = 422
    code = "invalid"

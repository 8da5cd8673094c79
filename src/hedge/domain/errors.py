"""Named domain failures. Each carries the fields a caller needs; the API maps each to one code.

DomainError
├── ValidationError      bad input: field, expected, got          -> VALIDATION
├── InvalidTransition    a state-machine move not in the table    -> INVALID_TRANSITION
│   └── Refused          a move or write a rule refuses, with why  -> INVALID_TRANSITION
├── NotFound             an id that does not exist                -> NOT_FOUND
├── Conflict             stale expectedVersion / lost race        -> CONFLICT
└── Forbidden            the caller may not touch this row        -> FORBIDDEN
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every expected failure of the domain and the store."""

    code = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(DomainError):
    """Input that breaks a rule: names the field, what was expected and what came."""

    code = "VALIDATION"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field} {message}")
        self.field = field


class InvalidTransition(DomainError):
    """A state-machine move that the transition table does not allow."""

    code = "INVALID_TRANSITION"

    def __init__(self, entity: str, from_state: str, to_state: str, allowed: tuple[str, ...]) -> None:
        options = ", ".join(allowed) if allowed else "none (final state)"
        super().__init__(
            f"{entity} cannot move from {from_state} to {to_state}; allowed from {from_state}: {options}"
        )
        self.entity = entity
        self.from_state = from_state
        self.to_state = to_state


class Refused(InvalidTransition):
    """A move or a field write that the table has but a rule refuses: a final row, a broker fact
    outside its move, a passed deadline, the kill switch. The message says which rule."""

    def __init__(self, entity: str, from_state: str, to_state: str, reason: str) -> None:
        DomainError.__init__(self, f"{entity} cannot move from {from_state} to {to_state}: {reason}")
        self.entity = entity
        self.from_state = from_state
        self.to_state = to_state
        self.reason = reason


class NotFound(DomainError):
    """An id that names no row (or none the caller may see)."""

    code = "NOT_FOUND"

    def __init__(self, entity: str, entity_id: str) -> None:
        super().__init__(f"{entity} {entity_id!r} does not exist")
        self.entity = entity
        self.entity_id = entity_id


class Conflict(DomainError):
    """The row changed since the caller read it (optimistic concurrency)."""

    code = "CONFLICT"

    def __init__(self, entity: str, entity_id: str, expected: int | None, actual: int | None) -> None:
        super().__init__(
            f"{entity} {entity_id!r} is at version {actual}, the update expected version {expected}"
        )
        self.entity = entity
        self.entity_id = entity_id
        self.expected = expected
        self.actual = actual


class Forbidden(DomainError):
    """The caller's role or ownership does not allow the operation."""

    code = "FORBIDDEN"

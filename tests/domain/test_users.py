"""Changing a user: a CLIENT renames itself; only an ADMIN changes others or isActive; the last
active ADMIN stays active."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hedge.domain.authz import Actor
from hedge.domain.creation import new_user
from hedge.domain.enums import UserRole
from hedge.domain.errors import Forbidden, ValidationError
from hedge.domain.users import apply_user_update, audit_detail

NOW = datetime(2026, 12, 1, tzinfo=UTC)
ALICE = new_user("a@example.com", "Alice", "CLIENT", NOW)
ADMIN = new_user("root@example.com", "Root", "ADMIN", NOW)
AS_ALICE = Actor(ALICE.id, UserRole.CLIENT)
AS_ADMIN = Actor(ADMIN.id, UserRole.ADMIN)


def test_apply_user_update_own_name_by_client_bumps_version() -> None:
    after = apply_user_update(AS_ALICE, ALICE, {"name": "Al"}, NOW, 1)
    assert after.name == "Al" and after.version == ALICE.version + 1
    assert audit_detail(ALICE, after) == {"name": ["Alice", "Al"]}


def test_apply_user_update_is_active_by_client_is_forbidden() -> None:
    with pytest.raises(Forbidden):
        apply_user_update(AS_ALICE, ALICE, {"is_active": False}, NOW, 1)


def test_apply_user_update_other_user_by_client_is_forbidden() -> None:
    with pytest.raises(Forbidden):
        apply_user_update(AS_ALICE, ADMIN, {"name": "x"}, NOW, 1)


def test_apply_user_update_deactivate_by_admin_sets_is_active_false() -> None:
    assert apply_user_update(AS_ADMIN, ALICE, {"is_active": False}, NOW, 0).is_active is False


def test_apply_user_update_last_active_admin_cannot_be_deactivated() -> None:
    with pytest.raises(ValidationError, match="last active ADMIN"):
        apply_user_update(AS_ADMIN, ADMIN, {"is_active": False}, NOW, 0)
    assert apply_user_update(AS_ADMIN, ADMIN, {"is_active": False}, NOW, 1).is_active is False


@pytest.mark.parametrize(
    "changes", [{"is_active": "no"}, {"email": "nope"}, {"name": ""}, {"role": "ADMIN"}, {"name": 5}]
)
def test_apply_user_update_bad_values_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        apply_user_update(AS_ADMIN, ALICE, changes, NOW, 1)


def test_apply_user_update_same_values_is_the_same_object() -> None:
    assert apply_user_update(AS_ADMIN, ALICE, {"name": "Alice", "is_active": True}, NOW, 1) is ALICE

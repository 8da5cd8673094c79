"""Authorization rules: ADMIN everything, CLIENT its own rows, trigger lists across users ADMIN only."""

from __future__ import annotations

import pytest

from hedge.domain.authz import (
    Actor,
    check_owner,
    check_trigger_owners,
    owner_for_create,
    require_admin,
    scope_user,
)
from hedge.domain.enums import UserRole
from hedge.domain.errors import Forbidden
from hedge.domain.ids import UserId

ADMIN = Actor(UserId("admin"), UserRole.ADMIN)
CLIENT = Actor(UserId("c1"), UserRole.CLIENT)


def test_require_admin() -> None:
    require_admin(ADMIN, "createUser")
    with pytest.raises(Forbidden, match="createUser needs the ADMIN role"):
        require_admin(CLIENT, "createUser")


def test_check_owner_client_only_its_own_rows() -> None:
    check_owner(CLIENT, "c1", "Position", "p1")
    check_owner(ADMIN, "c2", "Position", "p1")
    with pytest.raises(Forbidden, match="Position 'p1' belongs to another user"):
        check_owner(CLIENT, "c2", "Position", "p1")


def test_scope_user_null_means_all_for_admin_and_own_for_client() -> None:
    assert scope_user(ADMIN, None) is None and scope_user(ADMIN, "c2") == "c2"
    assert scope_user(CLIENT, None) == "c1" and scope_user(CLIENT, "c1") == "c1"
    with pytest.raises(Forbidden):
        scope_user(CLIENT, "c2")


def test_owner_for_create_only_admin_names_another_user() -> None:
    assert owner_for_create(CLIENT, None) == "c1" and owner_for_create(CLIENT, "c1") == "c1"
    assert owner_for_create(ADMIN, "c2") == "c2" and owner_for_create(ADMIN, None) == "admin"
    with pytest.raises(Forbidden):
        owner_for_create(CLIENT, "c2")


def test_check_trigger_owners_client_listing_another_users_action_is_forbidden() -> None:
    check_trigger_owners(CLIENT, "c1", [("a1", "c1"), ("a2", "c1")])
    check_trigger_owners(ADMIN, "c1", [("a1", "c2")])
    with pytest.raises(Forbidden, match="'a2'"):
        check_trigger_owners(CLIENT, "c1", [("a1", "c1"), ("a2", "c2")])

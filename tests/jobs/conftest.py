"""Fixtures of the jobs' tests: the API fixtures of tests/api (a real server on a free port)."""

from tests.api.conftest import api, shared_api, world  # noqa: F401

"""Tokens: generated ones begin with hs_ (never with "-"); operator-chosen ones need 24 characters."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedge.domain.errors import ValidationError
from hedge.domain.tokens import MIN_TOKEN_LENGTH, check_token, new_token, plausible


def test_new_token_many_never_begin_with_dash_and_all_differ() -> None:
    made = [new_token() for _ in range(5000)]  # a token_urlsafe alone starts with "-" 1 in 64
    assert all(t.startswith("hs_") and not t.startswith("-") for t in made)
    assert len(set(made)) == len(made) and min(len(t) for t in made) >= 40


@given(st.text(max_size=MIN_TOKEN_LENGTH - 1))
def test_check_token_shorter_than_24_is_refused(token: str) -> None:
    with pytest.raises(ValidationError, match="at least 24 characters"):
        check_token(token)
    assert not plausible(token)


@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=24, max_size=80))
def test_check_token_of_24_or_more_printable_characters_is_accepted_as_is(token: str) -> None:
    assert check_token(token) == token  # an operator's choice, even one beginning with "-"


def test_check_token_with_surrounding_space_is_refused() -> None:
    with pytest.raises(ValidationError):
        check_token(" " + "x" * 30)


def test_check_token_chosen_by_operator_beginning_with_dash_is_taken_as_it_is() -> None:
    assert check_token("-" + "x" * 30) == "-" + "x" * 30

"""A settings dataclass from the command line: each field taken from the flag of the same name.

The paper EA's and the conformance kit's commands name their flags after the fields of their
config (`--tick-interval-ms` is `tick_interval_ms`), so one function copies them; a flag that
needs converting (an enum, upper case, several flags into one value) is passed in by name.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeVar

from hedge.config import flag_values

T = TypeVar("T")


def config_from_flags(args: argparse.Namespace, cls: Callable[..., T], **given: object) -> T:
    """`cls` filled from `args`' attributes of its field names; `given` wins; a field no flag
    names keeps its default."""
    return cls(**{**flag_values(args, cls), **given})

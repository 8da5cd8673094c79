"""A settings dataclass from the command line: each field taken from the flag of the same name.

The paper EA's and the conformance kit's commands name their flags after the fields of their
config (`--tick-interval-ms` is `tick_interval_ms`), so one function copies them; a flag that
needs converting (an enum, upper case, several flags into one value) is passed in by name.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def config_from_flags(args: argparse.Namespace, cls: Callable[..., T], **given: object) -> T:
    """`cls` filled from `args`' attributes of its field names; `given` wins; a field no flag
    names keeps its default."""
    values = dict(given)
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.init and f.name not in values and hasattr(args, f.name):
            values[f.name] = getattr(args, f.name)
    return cls(**values)

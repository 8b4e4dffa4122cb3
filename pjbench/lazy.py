"""Registry entries name their code as ``"package.module:object"`` and import it only when used, so that listing
encoders, datasets or heads imports no model code. One resolver for all of them."""

from __future__ import annotations

import importlib
from typing import Any


def resolve(target: str, what: str = "object") -> Any:
    """The object a ``"package.module:object"`` reference names; a ValueError that says what is wrong otherwise."""
    module_name, _, attr = target.partition(":")
    if not attr:
        raise ValueError(f"a {what} reference must look like 'package.module:object', got {target!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ValueError(f"cannot import {module_name!r} for {what} {target!r}: {err}") from err
    try:
        return getattr(module, attr)
    except AttributeError as err:
        raise ValueError(f"{module_name!r} has no attribute {attr!r}") from err

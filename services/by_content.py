"""What is worked out from a deployment row's JSON (its categories, its case rules), kept per
content: every update reads the row again and gets new objects, so caching by the object
would never hit, while the rules themselves change only with an import or an admin's edit."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class ByContent(Generic[T]):
    """`work(*parts)`, done once per content of the parts. The key is the parts as one JSON
    text (an array of them: one encoding, not one per part), which tells apart what `==`
    would not (1 and True); a changed deployment is new text, so it is worked out at once.
    At most `size` contents are kept: old ones are dropped."""

    def __init__(self, work: Callable[..., T], *, size: int = 8) -> None:
        self.work = work
        self.size = size
        self.kept: dict[str, T] = {}

    def __call__(self, *parts: Any) -> T:
        key = json.dumps(parts)
        found = self.kept.get(key)
        if found is None:
            if len(self.kept) >= self.size:
                self.kept.clear()
            found = self.kept[key] = self.work(*parts)
        return found

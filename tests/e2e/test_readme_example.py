"""The example in tests/README.md runs as written, so the documentation cannot rot."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.e2e.harness import World

README = Path(__file__).resolve().parents[1] / "README.md"


async def test_the_readme_example_runs(world: World) -> None:
    code = re.search(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert code is not None
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), str(README), "exec"), namespace)
    await namespace["test_a_guard_reports_a_hazard"](world)

"""Shared fixtures. ``SHARED`` is the project's sibling ``shared/`` folder (absent in a user's clone)."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent (it holds the evaluation data; only the project's CI has it)")
    return SHARED


@pytest.fixture(scope="session")
def analyser():
    """One analyser (gazetteer and models loaded once) for the tests that read articles; they do not change it."""
    from cashwatch.processors.analyse import Analyser
    return Analyser()

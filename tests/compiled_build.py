"""Helpers of `make compiled` / `make test-compiled` (the optional mypyc build; not a test module).

    python tests/compiled_build.py toolchain        fails, saying what is missing, without a C compiler or Python.h
    python tests/compiled_build.py check            fails unless the analyser's modules imported are mypyc's
    python tests/compiled_build.py pytest ARGS...   check, then pytest ARGS in this same process
    python tests/compiled_build.py general OUT      the general news of ../shared/realworld as analyse input (if there)

Run it with PYTHONSAFEPATH=1 from the repository root: the installed build is imported, never the source.
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import sysconfig
from pathlib import Path

MODULES = ("analyse", "classify", "lexicon", "places", "dates")
SHARED = Path(__file__).resolve().parents[2] / "shared"


def toolchain() -> int:
    cc = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")[0]
    header = Path(sysconfig.get_paths()["include"]) / "Python.h"
    missing = ([f"a C compiler ({cc}; e.g. apt-get install gcc)"] if not shutil.which(cc) else []) + (
        [f"the Python headers ({header}; e.g. apt-get install python3-dev)"] if not header.exists() else [])
    for what in missing:
        print(f"compiled build: needs {what}", file=sys.stderr)
    return 1 if missing else 0


def check() -> int:
    import importlib

    wrong = []
    for name in MODULES:
        path = importlib.import_module(f"cashwatch.processors.{name}").__file__ or ""
        print(f"cashwatch.processors.{name}: {path}")
        if not path.endswith(".so"):
            wrong.append(name)
    if wrong:
        print(f"compiled build: {', '.join(wrong)} imported from Python source, not the mypyc build", file=sys.stderr)
    return 1 if wrong else 0


def general(out: str) -> int:
    truth = SHARED / "realworld" / "extraction" / "ground-truth.json"
    records = json.loads(truth.read_text(encoding="utf-8")) if truth.exists() else {}
    with open(out, "w", encoding="utf-8") as f:
        for i, (_key, page) in enumerate(sorted(records.items())):
            f.write(json.dumps({"id": f"g-{i}", "url": page.get("url") or "", "source": "news.example",
                                "published": "2023-11-08", "title": "", "text": page.get("articleBody") or ""}) + "\n")
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["toolchain"]:
        return toolchain()
    if argv[:1] == ["check"]:
        return check()
    if argv[:1] == ["pytest"]:
        import pytest

        # The modules are imported before pytest starts: every test gets the compiled ones checked here.
        return check() or int(pytest.main(argv[1:]))
    if argv[:1] == ["general"] and len(argv) == 2:
        return general(argv[1])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

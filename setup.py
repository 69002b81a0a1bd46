"""The optional mypyc build of the analyser's hot modules (see the README's benchmarks).

Off by default: everything is in pyproject.toml and the package is pure Python. With CASHWATCH_MYPYC=1
mypyc compiles processors/{analyse,classify,lexicon,places,dates}.py to C extensions. mypy is not in
[build-system].requires (pure installs must not fetch it): install it first and build without isolation,
as `make compiled` does:

    pip install mypy setuptools wheel && CASHWATCH_MYPYC=1 pip install --no-build-isolation .
"""
import os
import shutil

from setuptools import setup

COMPILED = ("analyse", "classify", "lexicon", "places", "dates")

kwargs = {}
if os.environ.get("CASHWATCH_MYPYC") == "1":
    from mypyc.build import mypycify

    # Its own build folder: a later pure build in build/ must not pick up stale .so files, nor this one stale .py.
    base = os.path.join("build", "mypyc")
    # mypy names modules after their folders: stage processors/ as cashwatch/processors/ (pyproject's package-dir).
    stage = os.path.join(base, "src")
    shutil.rmtree(stage, ignore_errors=True)
    shutil.copytree("cashwatch", os.path.join(stage, "cashwatch"), ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree("processors", os.path.join(stage, "cashwatch", "processors"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    kwargs["ext_modules"] = mypycify(
        ["--follow-imports=silent", "--ignore-missing-imports"]
        + [os.path.join(stage, "cashwatch", "processors", f"{m}.py") for m in COMPILED],
        group_name="cashwatch.processors._native",  # one shared library for the five, so calls between them stay in C
        target_dir=os.path.join(base, "c"),
    )
    kwargs["options"] = {"build": {"build_base": base}}

setup(**kwargs)

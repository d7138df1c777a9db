"""Helper of ``make mutation``: narrows mutmut's run, then reports its score.

Run by the Makefile inside the private copy of the tree that mutmut works
in (never in the checkout itself: mutmut writes ``mutants/`` beside the
sources, and ``mutmut apply`` rewrites a source in place).

``python benchmarks/mutation.py``
    With ``MUTATE`` (space-separated paths or globs) and/or
    ``MUTATION_TESTS`` (test files) in the environment, replace
    ``only_mutate`` and ``pytest_add_cli_args_test_selection`` in this copy's
    ``[tool.mutmut]`` (pyproject.toml); without them, keep the full run.
``python benchmarks/mutation.py --report``
    Print the table of outcomes and the score, detected / (all - skipped),
    where a mutant is detected when a test fails (killed) or hangs
    (timeout), and write every survivor's diff to ``mutants/survivors.txt``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

KEYS = {
    "MUTATE": "only_mutate",
    "MUTATION_TESTS": "pytest_add_cli_args_test_selection",
}


def narrow(pyproject: Path = Path("pyproject.toml")) -> None:
    text = pyproject.read_text()
    for env, key in KEYS.items():
        values = os.environ.get(env, "").split()
        if values:
            line = f"{key} = {json.dumps(values)}"
            text, n = re.subn(rf"(?m)^{key} = \[.*\]$", line, text)
            assert n == 1, f"no single-line {key} in [tool.mutmut]"
            print(line)
    pyproject.write_text(text)


def report(mutmut: str) -> None:
    stats = json.loads(Path("mutants/mutmut-cicd-stats.json").read_text())
    detected = stats["killed"] + stats["timeout"]
    considered = stats["total"] - stats["skipped"]
    print("| outcome | mutants |\n| --- | ---: |")
    for key in ("killed", "timeout", "survived", "no_tests", "suspicious", "skipped"):
        print(f"| {key} | {stats[key]} |")
    print(f"| total | {stats['total']} |")
    score = detected / considered if considered else float("nan")
    print(f"\nmutation score: {detected} / {considered} = {score:.1%}")
    listing = subprocess.run(
        [mutmut, "results"], capture_output=True, text=True, check=True
    ).stdout
    survivors = [
        line.strip().rsplit(":", 1)[0]
        for line in listing.splitlines()
        if line.strip().endswith(("survived", "no tests"))
    ]
    # mutmut's own diff of each survivor, in this process (a `mutmut show`
    # each would start mutmut hundreds of times).
    from mutmut.__main__ import find_mutant, get_diff_for_mutant

    diffs = [
        get_diff_for_mutant(name, path=find_mutant(name).path) for name in survivors
    ]
    Path("mutants/survivors.txt").write_text("\n".join(diffs))
    print(
        f"\n{len(survivors)} survivors (diffs in {Path.cwd()}/mutants/survivors.txt):"
    )
    for name in survivors:
        print(f"    {name}")


if __name__ == "__main__":
    if "--report" in sys.argv:
        report(str(Path(sys.executable).with_name("mutmut")))
    else:
        narrow()

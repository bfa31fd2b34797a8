"""Checks that the step runtime has a model's pinned packages.

The runtime (an image built once when the pipelines are installed, pipelines/core/runtime.ts) carries the packages of
the reference workload and the library; steps install nothing inside a run. fetch-source runs this on the model's
requirements.txt: every line must pin one package exactly (`name==version`) and the runtime must have that version.

Usage: python -m mlops_steps.runtime <requirements.txt>...
"""

import importlib.metadata
import re
import sys
from collections.abc import Callable, Iterable

#: One exact pin, `name==version` (an optional `[extras]` is allowed; the runtime decides which extras it has).
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*(?P<version>[A-Za-z0-9._+!-]+)$")


def normalize(name: str) -> str:
    """A distribution name as PEP 503 compares them (`PyYAML` is `pyyaml`, `a_b` is `a-b`)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(text: str, source: str) -> tuple[dict[str, str], list[str]]:
    """The pins of a requirements file (name -> version) and a problem for each line that is not an exact pin."""
    pins: dict[str, str] = {}
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = PIN.match(line)
        if m is None:
            problems.append(f"{source}:{number}: {line!r} is not an exact pin (name==version)")
            continue
        pins[m.group("name")] = m.group("version")
    return pins, problems


def unmet(pins: dict[str, str], installed: Callable[[str], str] = importlib.metadata.version) -> list[str]:
    """The pins the runtime does not satisfy, each with what the runtime has."""
    out = []
    for name, want in sorted(pins.items(), key=lambda kv: normalize(kv[0])):
        try:
            have = installed(name)
        except importlib.metadata.PackageNotFoundError:
            out.append(f"{name}=={want} (not in the runtime)")
            continue
        if have != want:
            out.append(f"{name}=={want} (the runtime has {have})")
    return out


def check(paths: Iterable[str]) -> list[str]:
    """Every problem of the requirements files against the running interpreter's packages."""
    problems: list[str] = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            pins, bad = read_pins(f.read(), path)
        problems += bad + unmet(pins)
    return problems


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m mlops_steps.runtime <requirements.txt>...", file=sys.stderr)
        return 2
    problems = check(argv)
    if problems:
        print(
            "the step runtime does not have the model's pinned packages: "
            + "; ".join(problems)
            + ". The runtime is built when the pipelines are installed, from pipelines/lib/requirements-lock.txt (the"
            " closure of pipelines/workload/requirements.txt and pipelines/lib/requirements.txt): pin these there,"
            " then run `npm run lock:python` and run `pulumi up` to build a new runtime.",
            file=sys.stderr,
        )
        return 1
    print(f"the step runtime has every pinned package of {', '.join(argv)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

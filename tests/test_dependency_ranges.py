"""pyproject.toml's version ranges and requirements/constraints.txt's pins agree."""

from __future__ import annotations

import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.live_server import ROOT


def direct_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + [
        line for extra in project["optional-dependencies"].values() for line in extra
    ]
    return [Requirement(line) for line in declared]


def pins() -> dict[str, Version]:
    """``name==version`` lines of the lock, by canonical name."""
    found: dict[str, Version] = {}
    for line in (ROOT / "requirements" / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not an exact pin"
            found[canonicalize_name(name)] = Version(version)
    return found


@pytest.mark.parametrize("requirement", direct_requirements(), ids=str)
def test_every_direct_dependency_has_a_bounded_range_its_pin_satisfies(requirement):
    operators = {spec.operator for spec in requirement.specifier}
    assert operators & {">=", ">", "~="}, f"{requirement}: no lower bound"
    assert operators & {"<", "<=", "~="}, f"{requirement}: no upper bound"
    pinned = pins().get(canonicalize_name(requirement.name))
    assert pinned is not None, f"{requirement.name} is not pinned in constraints.txt"
    assert requirement.specifier.contains(pinned, prereleases=True), (
        f"constraints.txt pins {requirement.name}=={pinned}, outside {requirement.specifier}"
    )

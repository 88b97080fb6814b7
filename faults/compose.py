"""What docker-compose.yml ships, read out of the file, so tests and scenarios run the same
settings as production and cannot drift from it."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

COMPOSE_FILE = Path(__file__).resolve().parent.parent / "docker-compose.yml"
# ${NAME}, ${NAME:-default}, ${NAME:?error}: docker-compose's interpolation.
VARIABLE = re.compile(r"\$\{[^}]*\}")


def redis_server_args(path: Path = COMPOSE_FILE) -> tuple[str, ...]:
    """The ``redis`` service's ``redis-server`` arguments, without the program name and without
    ``--requirepass`` (access, not behaviour: a private server on loopback needs none). Any other
    argument that needs docker-compose's variables is refused rather than guessed."""
    command = yaml.safe_load(path.read_text())["services"]["redis"]["command"]
    if isinstance(command, str):
        command = command.split()
    program, *args = (str(part) for part in command)
    if program != "redis-server":
        raise ValueError(f"the redis service runs {program!r}, not redis-server")
    kept: list[str] = []
    skip_value = False
    for arg in args:
        if skip_value:
            skip_value = False
        elif arg == "--requirepass":
            skip_value = True
        elif VARIABLE.search(arg):
            raise ValueError(f"the redis service's argument {arg!r} depends on the environment")
        else:
            kept.append(arg)
    return tuple(kept)

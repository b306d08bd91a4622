"""Reading YAML as every input of the package reads it: scenario files, the files they
extend, ``--set`` values and sweep files all go through ``load_yaml``.

Safe YAML with duplicate keys refused and ``1e5`` read as a number, and bounded on every
path: a file must be a regular file of at most ``MAX_BYTES`` (so ``/dev/zero`` or a FIFO
is refused, not read forever), and what it parses to may hold at most ``MAX_VALUES``
values once YAML aliases are expanded (an alias bomb is refused without expanding it).
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

from sim.errors import Problem, ScenarioError

MAX_BYTES = 1 << 20  # 1 MiB: the longest shipped scenario is about 8 KB
MAX_NODES = 20_000  # values as written: a scenario has hundreds; parsing costs ~0.1 ms each
MAX_VALUES = 200_000  # values once aliases are expanded


class TooLarge(ValueError):
    """YAML that holds more values than any scenario or sweep needs."""


class _Loader(yaml.SafeLoader):
    """Safe YAML that refuses duplicate keys (plain YAML keeps the last one without a word)
    and reads ``1e5`` as a number (as YAML 1.2 does), so number fields take it."""

    nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        """Count values as they are parsed: a huge list stops here, not minutes later."""
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise TooLarge(f"holds more than {MAX_NODES:,} values")
        return super().compose_node(parent, index)

    def compose_mapping_node(self, anchor: Any) -> yaml.MappingNode:
        node = super().compose_mapping_node(anchor)
        seen: set[tuple[str, str]] = set()
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                if (key.tag, key.value) in seen:
                    raise yaml.composer.ComposerError(
                        None,
                        None,
                        f"duplicate key {key.value!r}; give each key once",
                        key.start_mark,
                    )
                seen.add((key.tag, key.value))
        return node


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def load_yaml(text: str) -> Any:
    """Parse YAML as scenario files are parsed (duplicate keys refused, ``1e5`` a number);
    ``TooLarge`` for text over ``MAX_BYTES`` or data of more than ``MAX_VALUES`` values."""
    if len(text) > MAX_BYTES:
        raise TooLarge(f"is {len(text):,} characters long, more than the {MAX_BYTES:,} allowed")
    data = yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader
    if expanded_size(data, {}) > MAX_VALUES:  # at most MAX_NODES as written: aliases
        raise TooLarge(f"expands to more than {MAX_VALUES:,} values through YAML aliases")
    return data


def expanded_size(node: Any, memo: dict[int, int]) -> int:
    """How many values ``node`` holds once YAML aliases are expanded, without expanding
    them (a shared node is sized once), so an alias bomb is refused, not walked."""
    if not isinstance(node, dict | list):
        return 1
    known = memo.get(id(node))
    if known is None:
        children = node.values() if isinstance(node, dict) else node
        known = memo[id(node)] = 1 + sum(expanded_size(c, memo) for c in children)
    return known


def read_yaml_file(path: Path, error: type[ScenarioError] = ScenarioError) -> Any:
    """The parsed content of a YAML file, or ``error`` with one problem naming the file:
    missing, not a regular file, too big, unreadable, not YAML, too large once parsed."""
    src = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise error([Problem(src, "", "file not found")]) from None
    except IsADirectoryError:
        raise error([Problem(src, "", "is a directory, not a YAML file")]) from None
    except OSError as exc:
        raise error([Problem(src, "", f"cannot read: {exc.strerror or exc}")]) from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise error([Problem(src, "", "is a directory, not a YAML file")])
        if not stat.S_ISREG(st.st_mode):
            raise error([Problem(src, "", "is not a regular file (a pipe or a device?)")])
        if st.st_size > MAX_BYTES:
            raise error(
                [Problem(src, "", f"is {st.st_size:,} bytes, more than the {MAX_BYTES:,} allowed")]
            )
        try:
            raw = f.read(MAX_BYTES + 1)
        except OSError as exc:
            raise error([Problem(src, "", f"cannot read: {exc.strerror or exc}")]) from None
    try:
        return load_yaml(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise error([Problem(src, "", f"cannot read: not UTF-8 text ({exc.reason})")]) from None
    except TooLarge as exc:
        raise error([Problem(src, "", str(exc))]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise error([Problem(src, "", f"YAML syntax error: {where}{problem}")]) from None
    except ValueError as exc:  # a value YAML reads but cannot make, such as 2013-13-01
        raise error([Problem(src, "", f"invalid value in the YAML: {exc}")]) from None
    except RecursionError:
        raise error([Problem(src, "", "YAML nested too deeply")]) from None

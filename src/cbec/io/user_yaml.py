"""YAML from users (study files, instruments, mappings, transcript front matter, codebooks), read safely.

The safe loader builds only plain data, but it still expands aliases: a few hundred bytes of nested ``&a`` /
``*a`` references grow into strings of hundreds of megabytes ("billion laughs"). No file this project reads
needs an alias, so an alias is refused with the file and line named. Why hand-written: PyYAML has no switch
for it; the composer hook is the documented place.

>>> load_user_yaml("a: 1\\nb: [x, y]")
{'a': 1, 'b': ['x', 'y']}
>>> load_user_yaml("a: &x [1]\\nb: *x")
Traceback (most recent call last):
...
yaml.composer.ComposerError: YAML aliases (*name) are not accepted in files from users
  in "<unicode string>", line 2, column 4:
    b: *x
       ^
"""

from __future__ import annotations

import yaml

__all__ = ["load_user_yaml"]


class _NoAliasLoader(yaml.SafeLoader):
    def compose_node(self, parent, index):
        if self.check_event(yaml.events.AliasEvent):
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not accepted in files from users", self.peek_event().start_mark
            )
        return super().compose_node(parent, index)


def load_user_yaml(text: str):
    """Parse YAML text as plain data, refusing aliases (raises ``yaml.YAMLError``, naming the line)."""
    return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass

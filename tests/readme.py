"""The README's shell examples: its fenced ```sh blocks, and which of them are not run and why.

A block that cannot run in the tests (`make run` never returns, `make bench` takes 20 minutes)
has an HTML comment on the line just before its fence, which GitHub does not show:

    <!-- not run: make bench takes 20 minutes -->
    ```sh
    make bench
    ```
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

#: The fence languages of shell examples.
SHELLS = frozenset({"sh", "bash", "shell", "console"})
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>```+|~~~+)[ \t]*(?P<lang>[^`\s]*)[^`]*$")
NOT_RUN = re.compile(r"^\s*<!--\s*not run\b:?(?P<reason>.*?)-->\s*$", re.S)


@dataclass(frozen=True)
class Block:
    """One fenced block: where it starts (1-based line of its opening fence), its language,
    its text (unindented) and, for a block marked not to run, the reason given ('' if none)."""

    line: int
    lang: str
    text: str
    not_run: str | None

    @property
    def shell(self) -> bool:
        return self.lang in SHELLS


def blocks(markdown: str) -> list[Block]:
    """Every fenced block of a Markdown text, in order.

    >>> found = blocks("x\\n<!-- not run: never returns -->\\n```sh\\nmake run\\n```\\n"
    ...                "  ```\\n  plain\\n  ```\\n")
    >>> [(b.line, b.lang, b.text, b.not_run) for b in found]
    [(3, 'sh', 'make run\\n', 'never returns'), (6, '', 'plain\\n', None)]
    """
    lines = markdown.splitlines()
    found: list[Block] = []
    number = 0
    while number < len(lines):
        opening = FENCE.match(lines[number])
        if opening is None:
            number += 1
            continue
        fence, indent = opening["fence"], opening["indent"]
        body: list[str] = []
        end = number + 1
        while end < len(lines) and not re.match(
                rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", lines[end]):
            body.append(lines[end][len(indent):] if lines[end].startswith(indent)
                        else lines[end].lstrip())
            end += 1
        before = next((lines[i] for i in range(number - 1, -1, -1) if lines[i].strip()), "")
        marked = NOT_RUN.match(before)
        found.append(Block(number + 1, opening["lang"].lower(),
                           textwrap.dedent("\n".join(body) + "\n"),
                           marked["reason"].strip() if marked else None))
        number = end + 1
    return found


def shell_blocks(path: Path) -> list[Block]:
    """The shell examples of a Markdown file."""
    return [block for block in blocks(path.read_text(encoding="utf-8")) if block.shell]

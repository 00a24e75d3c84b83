"""The README's examples, run against the real server.

``pycon`` blocks run as doctests (their printed answers are checked);
``python`` blocks run as scripts. The server's address replaces the
default one the README shows.
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest
from trawl_client import DEFAULT_URL

README = Path(__file__).resolve().parents[1] / "README.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README.read_text(), flags=re.S | re.M)


def test_readme_has_examples() -> None:
    assert blocks("pycon") and blocks("python")


@pytest.mark.parametrize("index", range(len(blocks("pycon"))))
def test_readme_session(url: str, index: int) -> None:
    source = blocks("pycon")[index]
    assert DEFAULT_URL in source
    source = source.replace(DEFAULT_URL, url)
    test = doctest.DocTestParser().get_doctest(
        source, {}, f"README.md pycon block {index}", str(README), 0
    )
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    output: list[str] = []
    runner.run(test, out=output.append)
    assert runner.failures == 0, "".join(output)
    assert runner.tries > 0


@pytest.mark.parametrize("index", range(len(blocks("python"))))
def test_readme_script(url: str, index: int) -> None:
    source = blocks("python")[index]
    assert DEFAULT_URL in source
    exec(compile(source.replace(DEFAULT_URL, url), f"README.md python block {index}", "exec"), {})

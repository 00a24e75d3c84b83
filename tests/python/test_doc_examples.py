"""Every shell example in ``README.md`` and ``docs/*.md``, run against the real server.

Examples are the fenced ``sh`` / ``bash`` / ``shell`` / ``console`` blocks, in
two forms:

* **Session form**: lines ``$ command`` (continued by a trailing ``\\`` or an
  open quote), each followed by the output it prints, up to the next ``$ ``
  line or the end of the block.
* **Bare form**: commands without ``$``. A line ``# {...}`` (or ``# [...]``)
  right after a command is that command's output, as in session form; other
  ``#`` lines are comments.

What runs: ``curl`` commands only, in file order, against one server per file
(a fresh data directory, started by ``trawl_process.running``), with
``localhost:6390`` / ``127.0.0.1:6390`` rewritten to its address; a ``curl``
command addressing any other port fails the test. Everything else is skipped
by one of these rules, and every skipped command is printed with its rule:

* not ``curl`` (``make``, ``docker``, ``cargo``, ``target/release/...``,
  ``scripts/...``, ``xdg-open``, ``tar``, ``export``, ...): builds, long jobs,
  other programs;
* a ``curl`` command with an elided part (``…`` or ``...``, e.g. a 64-number
  vector written ``[0.1, ...]``);
* a ``curl`` command using a shell variable or command substitution (``$X``,
  ``$(...)``): its value comes from a step that does not run here;
* a ``curl`` command in a pipeline or with a redirection (``| jq``, ``> f``);
* a ``curl`` command reading a file (``-d @FILE``) that no earlier example of
  the file writes (commands run in a fresh directory).

How output is compared:

* A command with output shown: when the shown output is JSON, both are parsed
  and compared structurally. ``…`` or ``...`` as a value means any value; as
  an array element, any run of elements; as an object member, any further
  keys; inside a string, any text there (``"S0Q1ZBOo0VNh…"`` is a string with
  that prefix). A number shown with ``d`` decimals matches a real number that
  rounds to it; integers in the answer must be equal. The keys in
  ``VOLATILE_KEYS`` (timings) match any value, and timestamps inside strings
  (``2026-12-06T15:01:02Z``, ``20261206T150102Z``) match any timestamp of the
  same form; a string matched that way (a snapshot's name) is replaced by the
  server's in the file's later commands. Output that is not JSON is compared
  as text, ``…`` matching anything.
* A command with no output shown must answer 2xx, without an ``error`` key.

Python blocks are not run (the client package has its own README test); they
are listed with the skipped commands.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from trawl_process import REPO, TrawlNotRunnable, running

DOC_FILES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SHELL_LANGS = {"sh", "bash", "shell", "console"}
# Answer fields whose value changes from run to run.
VOLATILE_KEYS = frozenset({"took_ms"})
DOC_ADDRESS = re.compile(r"(https?://)?(?:localhost|127\.0\.0\.1):(\d+)")
ELISIONS = ("…", "...")
STATUS_MARK = "\n@@doc-example-status="
TIMESTAMP_FORMS = (
    re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z"),
    re.compile(r"\d{8}T\d{6}Z"),
)


# ---------------------------------------------------------------- examples


@dataclass
class Command:
    line: int  # 1-based line of the command in its file
    text: str  # as written, continuation lines included
    expected: str | None  # the output shown; None when none is

    def args(self) -> list[str]:
        return shlex.split(re.sub(r"\\\n", " ", self.text), comments=True)


@dataclass
class Example:
    """One command of a file, or a block that is not run."""

    line: int
    command: Command | None = None
    not_run: str | None = None  # why a block is not run (Python blocks)


def _incomplete(text: str) -> bool:
    if text.rstrip().endswith("\\"):
        return True
    try:
        shlex.split(re.sub(r"\\\n", " ", text), comments=True)
    except ValueError:  # an open quote: the command goes on
        return True
    return False


def _take_command(lines: list[str], i: int, first: str) -> tuple[str, int]:
    parts = [first]
    i += 1
    while _incomplete("\n".join(parts)) and i < len(lines):
        parts.append(lines[i])
        i += 1
    return "\n".join(parts), i


def _trimmed(output: list[str]) -> str | None:
    text = "\n".join(output).strip("\n")
    return text if text.strip() else None


def parse_block(lines: list[str], first_line: int) -> list[Command]:
    """The commands of one shell block; ``first_line`` is its first line's number."""
    commands = []
    session = any(line.startswith("$ ") for line in lines)
    i = 0
    while i < len(lines):
        line = lines[i]
        if session:
            if not line.startswith("$ "):
                i += 1
                continue
            start = i
            text, i = _take_command(lines, i, line[2:])
            output = []
            while i < len(lines) and not lines[i].startswith("$ "):
                output.append(lines[i])
                i += 1
            commands.append(Command(first_line + start, text, _trimmed(output)))
        else:
            if not line.strip() or line.lstrip().startswith("#"):
                i += 1
                continue
            start = i
            text, i = _take_command(lines, i, line)
            output = []
            while i < len(lines) and re.match(r"#\s*[\[{]", lines[i]):
                output.append(re.sub(r"^#\s*", "", lines[i]))
                i += 1
            commands.append(Command(first_line + start, text, _trimmed(output)))
    return commands


def examples(path: Path) -> list[Example]:
    found = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        fence = re.match(r"^(`{3,})\s*([\w+-]*)", lines[i])
        if not fence:
            i += 1
            continue
        start, lang = i, fence.group(2).lower()
        i += 1
        body = []
        while i < len(lines) and not lines[i].startswith(fence.group(1)):
            body.append(lines[i])
            i += 1
        i += 1
        if lang in SHELL_LANGS:
            found += [Example(c.line, command=c) for c in parse_block(body, start + 2)]
        elif lang == "python":
            found.append(Example(start + 1, not_run="Python block (not run: out of scope)"))
    return found


def skip_reason(command: Command, workdir: Path) -> str | None:
    """Why ``command`` does not run in the test, or None when it runs."""
    args = command.args()
    if not args:
        return "empty"
    if args[0] != "curl":
        return "not curl"
    if any(e in arg for arg in args for e in ELISIONS):
        return "curl with an elided part"
    if any(re.search(r"\$[({A-Za-z_]", arg) for arg in args):
        return "curl using a shell variable or command substitution"
    if any(arg in ("|", "||", "&&", ";", "&", ">", ">>", "<") for arg in args):
        return "curl in a pipeline or with a redirection"
    for flag, value in zip(args, args[1:]):
        if flag in ("-T", "--upload-file"):
            name = value
        elif flag in ("-d", "--data", "--data-binary", "--data-urlencode") and value.startswith("@"):
            name = value[1:]
        else:
            continue
        if not (workdir / name).exists():
            return f"curl reading {name}, which no earlier example writes"
    return None


# ---------------------------------------------------------------- patterns


class _Any:
    def __repr__(self) -> str:
        return "…"


ANY = _Any()  # a value (or, in an array, a run of elements) that matches anything


@dataclass
class Num:
    text: str

    @property
    def value(self) -> float:
        return float(self.text)

    @property
    def tolerance(self) -> float:
        mantissa, _, exponent = self.text.lower().partition("e")
        decimals = len(mantissa.partition(".")[2])
        return 0.5 * 10.0 ** (int(exponent or 0) - decimals) * (1 + 1e-9)

    def is_integer(self) -> bool:
        return re.fullmatch(r"-?\d+", self.text) is not None


@dataclass
class Str:
    text: str

    def regex(self) -> re.Pattern[str] | None:
        """The string as a pattern, or None when it is plain text."""
        pieces = re.split(r"(…|\.\.\.|" + "|".join(t.pattern for t in TIMESTAMP_FORMS) + ")", self.text)
        if len(pieces) == 1:
            return None
        out = []
        for n, piece in enumerate(pieces):
            if n % 2 == 0:
                out.append(re.escape(piece))
            elif piece in ELISIONS:
                out.append(".*")
            else:
                form = next(t for t in TIMESTAMP_FORMS if t.fullmatch(piece))
                out.append(form.pattern)
        return re.compile("".join(out), re.S)


@dataclass
class Obj:
    members: dict[str, object]
    open: bool  # `…` among the members: other keys are allowed


class PatternError(ValueError):
    pass


class _Parser:
    """JSON, plus `…` / `...` where a value, an element or a member may be."""

    def __init__(self, text: str):
        self.text, self.pos = text, 0

    def fail(self, what: str) -> PatternError:
        return PatternError(f"{what} at offset {self.pos}")

    def ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def elision(self) -> bool:
        self.ws()
        for e in ELISIONS:
            if self.text.startswith(e, self.pos):
                self.pos += len(e)
                return True
        return False

    def expect(self, char: str) -> None:
        self.ws()
        if not self.text.startswith(char, self.pos):
            raise self.fail(f"expected {char!r}")
        self.pos += 1

    def peek(self) -> str:
        self.ws()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def whole(self) -> object:
        value = self.value()
        self.ws()
        if self.pos != len(self.text):
            raise self.fail("trailing text")
        return value

    def value(self) -> object:
        if self.elision():
            return ANY
        char = self.peek()
        if char == "{":
            return self.obj()
        if char == "[":
            return self.array()
        if char == '"':
            return Str(self.string())
        number = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?").match(self.text, self.pos)
        if number:
            self.pos = number.end()
            return Num(number.group())
        for word, value in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return value
        raise self.fail("expected a value")

    def string(self) -> str:
        end = re.compile(r'"(?:[^"\\]|\\.)*"', re.S).match(self.text, self.pos)
        if not end:
            raise self.fail("unterminated string")
        self.pos = end.end()
        return json.loads(end.group())

    def obj(self) -> Obj:
        self.expect("{")
        members, is_open = {}, False
        if self.peek() == "}":
            self.pos += 1
            return Obj(members, is_open)
        while True:
            if self.elision():
                is_open = True
            else:
                self.ws()
                if self.peek() != '"':
                    raise self.fail("expected a key")
                key = self.string()
                self.expect(":")
                members[key] = self.value()
            if self.peek() == ",":
                self.pos += 1
                continue
            self.expect("}")
            return Obj(members, is_open)

    def array(self) -> list:
        self.expect("[")
        items = []
        if self.peek() == "]":
            self.pos += 1
            return items
        while True:
            items.append(self.value())
            if self.peek() == ",":
                self.pos += 1
                continue
            self.expect("]")
            return items


def parse_pattern(text: str) -> object:
    return _Parser(text).whole()


def _show(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "..."


def match(pattern: object, real: object, where: str, bindings: dict[str, str]) -> str | None:
    """None when ``real`` matches ``pattern``, else where and how it differs."""
    if pattern is ANY:
        return None
    if isinstance(pattern, Obj):
        if not isinstance(real, dict):
            return f"{where}: expected an object, got {_show(real)}"
        for key, sub in pattern.members.items():
            if key not in real:
                return f"{where}: key {key!r} missing (got keys {sorted(real)})"
            if key in VOLATILE_KEYS:
                continue
            diff = match(sub, real[key], f"{where}.{key}", bindings)
            if diff:
                return diff
        extra = sorted(set(real) - set(pattern.members))
        if extra and not pattern.open:
            return f"{where}: unexpected keys {extra}"
        return None
    if isinstance(pattern, list):
        if not isinstance(real, list):
            return f"{where}: expected an array, got {_show(real)}"
        return _match_list(pattern, real, where, bindings)
    if isinstance(pattern, Num):
        if isinstance(real, bool) or not isinstance(real, (int, float)):
            return f"{where}: expected {pattern.text}, got {_show(real)}"
        if isinstance(real, int) and pattern.is_integer():
            ok = real == int(pattern.text)
        else:
            ok = abs(real - pattern.value) <= pattern.tolerance
        return None if ok else f"{where}: expected {pattern.text}, got {_show(real)}"
    if isinstance(pattern, Str):
        if not isinstance(real, str):
            return f"{where}: expected {_show(pattern.text)}, got {_show(real)}"
        regex = pattern.regex()
        if regex is None:
            ok = real == pattern.text
        else:
            ok = regex.fullmatch(real) is not None
            if ok and "…" not in pattern.text and "..." not in pattern.text and real != pattern.text:
                bindings[pattern.text] = real
        return None if ok else f"{where}: expected {_show(pattern.text)}, got {_show(real)}"
    if pattern is None or isinstance(pattern, bool):
        if real is pattern:
            return None
        return f"{where}: expected {_show(pattern)}, got {_show(real)}"
    raise TypeError(f"not a pattern: {pattern!r}")


def _match_list(pattern: list, real: list, where: str, bindings: dict[str, str]) -> str | None:
    if ANY not in pattern:
        if len(pattern) != len(real):
            return f"{where}: expected {len(pattern)} elements, got {len(real)}: {_show(real)}"
        for n, (sub, value) in enumerate(zip(pattern, real)):
            diff = match(sub, value, f"{where}[{n}]", bindings)
            if diff:
                return diff
        return None

    # `…` elements match any run: try every split, first mismatch reported.
    def fits(p: int, r: int) -> bool:
        if p == len(pattern):
            return r == len(real)
        if pattern[p] is ANY:
            return any(fits(p + 1, k) for k in range(r, len(real) + 1))
        return r < len(real) and match(pattern[p], real[r], "", {}) is None and fits(p + 1, r + 1)

    if fits(0, 0):
        # Bindings from the elements that line up from the front.
        for n, sub in enumerate(pattern):
            if sub is ANY or n >= len(real):
                break
            match(sub, real[n], "", bindings)
        return None
    return f"{where}: {_show(real)} does not match the array shown"


def compare(expected: str, body: str, bindings: dict[str, str]) -> str | None:
    """None when ``body`` is what ``expected`` shows, else how it differs."""
    try:
        pattern = parse_pattern(expected)
    except PatternError:
        parts = re.split("(…)", expected.strip())
        regex = "".join(".*" if part == "…" else re.escape(part) for part in parts)
        return None if re.fullmatch(regex, body.strip(), re.S) else "the text differs"
    try:
        real = json.loads(body)
    except json.JSONDecodeError:
        return "the answer is not JSON"
    return match(pattern, real, "$", bindings)


# ---------------------------------------------------------------- running


@dataclass
class Report:
    ran: int = 0
    skipped: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def _one_line(text: str) -> str:
    text = re.sub(r"\s+", " ", re.sub(r"\\\n", " ", text)).strip()
    return text if len(text) <= 110 else text[:107] + "..."


def run_command(command: Command, base_url: str, workdir: Path, bindings: dict[str, str]) -> str | None:
    """Runs one curl example; None when it matches, else the failure."""
    address = base_url.removeprefix("http://")
    args = command.args()[1:]
    for doc_value, real_value in bindings.items():
        args = [arg.replace(doc_value, real_value) for arg in args]
    if not any(DOC_ADDRESS.search(arg) for arg in args):
        return "addresses no server (expected localhost:6390)"
    ports = {m.group(2) for arg in args for m in DOC_ADDRESS.finditer(arg)}
    if ports != {"6390"}:
        return f"addresses port {', '.join(sorted(ports))}; the server listens on 6390 by default"
    args = [DOC_ADDRESS.sub(lambda m: (m.group(1) or "") + address, arg) for arg in args]
    done = subprocess.run(
        ["curl", *args, "--max-time", "30", "-w", STATUS_MARK + "%{http_code}"],
        cwd=workdir,
        capture_output=True,
        timeout=60,
    )
    out = done.stdout.decode("utf-8", "replace")
    body, _, status = out.rpartition(STATUS_MARK)
    if done.returncode != 0:
        return f"curl exited {done.returncode}: {done.stderr.decode(errors='replace').strip()[-300:]}"
    if command.expected is None:
        try:
            answer = json.loads(body)
        except json.JSONDecodeError:
            answer = None
        if not status.startswith("2") or (isinstance(answer, dict) and "error" in answer):
            return f"answered {status} (no output is shown: 2xx without an error expected): {body[:400]}"
        return None
    diff = compare(command.expected, body, bindings)
    if diff is None:
        return None
    return f"{diff}\n    expected: {command.expected}\n    got ({status}): {body[:2000]}"


def run_file(path: Path, base_url: str | None) -> Report:
    report = Report()
    rel = path.relative_to(REPO)
    bindings: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="trawl-doc-") as tmp:
        workdir = Path(tmp)
        for example in examples(path):
            if example.command is None:
                report.skipped.append(f"{rel}:{example.line}: {example.not_run}")
                continue
            command = example.command
            reason = skip_reason(command, workdir)
            if reason:
                report.skipped.append(f"{rel}:{command.line}: [{reason}] {_one_line(command.text)}")
                continue
            assert base_url is not None
            report.ran += 1
            failure = run_command(command, base_url, workdir, bindings)
            if failure:
                report.failures.append(f"{rel}:{command.line}: $ {_one_line(command.text)}\n  {failure}")
    return report


def _needs_server(path: Path) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        return any(e.command and skip_reason(e.command, Path(tmp)) is None for e in examples(path))


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_doc_examples(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if _needs_server(path):
        try:
            with running() as base_url:
                report = run_file(path, base_url)
        except TrawlNotRunnable as error:
            pytest.skip(str(error))
    else:
        report = run_file(path, None)
    with capsys.disabled():
        rel = path.relative_to(REPO)
        print(f"\n{rel}: {report.ran} curl commands run, {len(report.skipped)} examples not run")
        for line in report.skipped:
            print(f"  not run: {line}")
    if report.failures:
        listed = "\n\n".join(report.failures)
        count = len(report.failures)
        pytest.fail(f"{count} examples differ from what the server does:\n\n{listed}", pytrace=False)


# ---------------------------------------------------------------- the matcher itself


@pytest.mark.parametrize(
    ("expected", "real", "ok"),
    [
        ('{"score":0.617}', '{"score":0.61734}', True),
        ('{"score":0.617}', '{"score":0.6186}', False),
        ('{"n":3}', '{"n":3.0}', True),
        ('{"n":3}', '{"n":4}', False),
        ('{"embedding":[…]}', '{"embedding":[1,2,3]}', True),
        ('{"embedding":[…]}', '{"embedding":"x"}', False),
        ('["S0Q1…"]', '["S0Q1ZBOo"]', True),
        ('["S0Q1…"]', '["T0Q1ZBOo"]', False),
        ('{"id":"6f1c…",…}', '{"id":"6f1c-22","status":"done"}', True),
        ('{"id":"6f1c…"}', '{"id":"6f1c-22","status":"done"}', False),
        ('{"took_ms":3.35,"hits":[]}', '{"took_ms":12.5,"hits":[]}', True),
        ('{"a":[1,…,4]}', '{"a":[1,2,3,4]}', True),
        ('{"a":[1,…,4]}', '{"a":[1,2,3,5]}', False),
        ('{"created":"2026-12-06T15:01:02Z"}', '{"created":"2027-01-01T00:00:00Z"}', True),
        ('{"ok":true}', '{"ok":false}', False),
        ("op  requests …", "op  requests 12", True),
    ],
)
def test_matcher(expected: str, real: str, ok: bool) -> None:
    assert (compare(expected, real, {}) is None) == ok


def test_timestamped_names_bind_to_later_commands() -> None:
    bindings: dict[str, str] = {}
    shown = '{"name":"docs-20261206T150102Z-1"}'
    assert compare(shown, '{"name":"docs-20270101T000000Z-1"}', bindings) is None
    assert bindings == {"docs-20261206T150102Z-1": "docs-20270101T000000Z-1"}
    assert compare(shown, '{"name":"other-20270101T000000Z-1"}', {}) is not None


def test_blocks_are_parsed() -> None:
    block = [
        "$ curl -s localhost:6390/a -H 'x: y' \\",
        "    -d '{\"a\": [",
        "      1]}'",
        '{"ok":true}',
        "",
        "$ make run",
    ]
    commands = parse_block(block, 10)
    assert [(c.line, c.expected) for c in commands] == [(10, '{"ok":true}'), (15, None)]
    bare = [
        "curl -X POST localhost:6390/b -d '{",
        '  "k": 1}\'',
        '# {"name":"x"}',
        "# then:",
        "tar -tf x",
    ]
    commands = parse_block(bare, 1)
    assert [(c.line, c.expected) for c in commands] == [(1, '{"name":"x"}'), (5, None)]

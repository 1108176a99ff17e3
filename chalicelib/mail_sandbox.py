"""The jinja2 sandbox mail templates run in, bounded in time, output size, value size and integer size.

A template is written by an organization's admin and rendered on save and on every send, in the request's
process: it must never hold the process for long or eat its memory. Bounds are checked cooperatively in the
sandbox's hooks (operators, calls, attribute reads, filters, every loop step and every piece of output);
no threads or signals, which could leave a Lambda in a bad state.
"""

import contextlib
import contextvars
import functools
import re
import time
from typing import Any, Callable, Dict, Iterator, Optional, cast

from jinja2 import StrictUndefined, nodes, pass_context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEscapeFormatter, SandboxedFormatter, SecurityError
from jinja2.visitor import NodeTransformer
from markupsafe import Markup

RENDER_SECONDS = 1.0  # one mail, all three parts
MAX_OUTPUT = 256 * 1024  # characters a mail may produce, counted wherever output is produced (loops, set blocks)
MAX_LENGTH = 100_000  # characters or items of any one value (string, list, ...)
MAX_INT_BITS = 1024  # about 308 decimal digits: more than any count or date a mail shows
MAX_WIDTH = 1000  # format widths, precisions and padding
MAX_RANGE = 1000  # items of range()
MAX_LOOP_STEPS = 10_000  # loop iterations in one mail
MAX_WORK = 4_000_000  # characters and items of all the values one mail's rendering makes (filters, calls, ...)

# Filters a mail may use: linear in their input, with their widths and growth checked where they have any.
# Left out: sum (quadratic on lists), batch/slice/groupby (many copies), wordwrap (expands tabs, slow),
# pprint/tojson/xmlattr/random/urlize.
ALLOWED_FILTERS = frozenset(
    (
        "abs",
        "attr",
        "capitalize",
        "center",
        "count",
        "d",
        "default",
        "dictsort",
        "e",
        "escape",
        "filesizeformat",
        "first",
        "float",
        "forceescape",
        "format",
        "indent",
        "int",
        "items",
        "join",
        "last",
        "length",
        "list",
        "lower",
        "map",
        "max",
        "min",
        "reject",
        "rejectattr",
        "replace",
        "reverse",
        "round",
        "safe",
        "select",
        "selectattr",
        "sort",
        "string",
        "striptags",
        "title",
        "trim",
        "truncate",
        "unique",
        "upper",
        "urlencode",
        "wordcount",
    )
)
_GUARD = "render_guard"  # the filter the compiled template calls on every loop iterable and every output
_PRINTF_SPEC = re.compile(r"%(?:\([^)]*\))?[^a-zA-Z%]*[a-zA-Z%]")  # %[(key)][flags][width][.precision]type
_WIDTH_METHODS = frozenset(("center", "ljust", "rjust", "zfill"))
_REFUSED_METHODS = frozenset(("expandtabs", "translate", "maketrans"))  # grow a text by a factor no check sees


class RenderRefused(SecurityError):
    """A template exceeded a bound while rendering; the message names which."""


class Budget:
    """What one mail's rendering may still spend."""

    def __init__(self, seconds: float = RENDER_SECONDS) -> None:
        self.deadline = time.monotonic() + seconds
        self.output = 0
        self.loop_steps = 0
        self.work = 0

    def tick(self) -> None:
        """Refuse once the time is up."""
        if time.monotonic() > self.deadline:
            raise RenderRefused(f"rendering took longer than {RENDER_SECONDS:g} s")

    def produce(self, characters: int) -> None:
        """Count output; refuse past MAX_OUTPUT."""
        self.output += characters
        if self.output > MAX_OUTPUT:
            raise RenderRefused(f"the mail would be longer than {MAX_OUTPUT} characters")
        self.tick()

    def make(self, size: int) -> None:
        """Count the size of a value made; refuse past MAX_WORK."""
        self.work += size
        if self.work > MAX_WORK:
            raise RenderRefused(f"rendering would make more than {MAX_WORK} characters of values")
        self.tick()

    def step(self) -> None:
        """Count a loop iteration; refuse past MAX_LOOP_STEPS."""
        self.loop_steps += 1
        if self.loop_steps > MAX_LOOP_STEPS:
            raise RenderRefused(f"loops ran more than {MAX_LOOP_STEPS} times")
        self.tick()


_budget: contextvars.ContextVar[Optional[Budget]] = contextvars.ContextVar("mail_render_budget", default=None)


@contextlib.contextmanager
def budget(seconds: float = RENDER_SECONDS) -> Iterator[Budget]:
    """The budget for the renders inside the block (one mail: its subject, HTML and text)."""
    current = Budget(seconds)
    token = _budget.set(current)
    try:
        yield current
    finally:
        _budget.reset(token)


def _tick() -> None:
    current = _budget.get()
    if current is None:  # rendering outside a budget would be unbounded: refuse it
        raise RenderRefused("a mail template renders only within a budget")
    current.tick()


def check_value(value: Any) -> Any:
    """The value itself if it is within the size bounds, else RenderRefused."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if value.bit_length() > MAX_INT_BITS:
            raise RenderRefused(f"a number would be larger than {MAX_INT_BITS} bits")
    elif isinstance(value, (str, bytes, list, tuple, dict, set, frozenset)) and len(value) > MAX_LENGTH:
        raise RenderRefused(f"a value would be longer than {MAX_LENGTH}")
    return value


def made(value: Any) -> Any:
    """A value a hook made: within the size bounds and counted against the mail's work budget."""
    check_value(value)
    current = _budget.get()
    if current is None:
        raise RenderRefused("a mail template renders only within a budget")
    current.make(_length(value))
    return value


def _check_width(number: int, what: str) -> None:
    if isinstance(number, int) and not isinstance(number, bool) and abs(number) > MAX_WIDTH:
        raise RenderRefused(f"{what} {number} is larger than {MAX_WIDTH}")


def _check_format_spec(spec: str) -> None:
    for digits in re.findall(r"\d+", spec or ""):
        _check_width(int(digits), "a format width")


def _check_printf(template: Any) -> None:
    for spec in _PRINTF_SPEC.findall(str(template)):
        if "*" in spec:
            raise RenderRefused("a %-format width taken from the arguments (*) is not allowed")
        _check_format_spec(spec)


def _length(value: Any) -> int:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else 0


def _check_replace(text: Any, old: Any, new: Any, count: Any = None) -> None:
    text, old, new = str(text), str(old), str(new)
    hits = len(text) + 1 if old == "" else text.count(old)
    if isinstance(count, int) and 0 <= count < hits:
        hits = count
    if len(text) + hits * max(0, len(new) - len(old)) > MAX_LENGTH:
        raise RenderRefused(f"replace() would make a text longer than {MAX_LENGTH}")


def _check_join(items: Any, separator: Any) -> list:
    items = list(items)
    if len(items) > MAX_LENGTH:
        raise RenderRefused(f"join() of more than {MAX_LENGTH} items")
    total = sum(len(str(item)) for item in items) + max(0, len(items) - 1) * len(str(separator))
    if total > MAX_LENGTH:
        raise RenderRefused(f"join() would make a text longer than {MAX_LENGTH}")
    return items


def _pre_check_filter(name: str, args: tuple, kwargs: Dict[str, Any]) -> tuple:
    """Refuse a filter call whose arguments would make its result too large before it runs."""
    if name == "center":
        for number in list(args[1:]) + list(kwargs.values()):
            _check_width(number, "the center width")
    elif name == "indent" and args:  # the indent is added to every line
        width = args[1] if len(args) > 1 else kwargs.get("width", 4)
        if not isinstance(width, str):
            _check_width(width, "the indent width")
        per_line = len(width) if isinstance(width, str) else int(width)
        if (str(args[0]).count("\n") + 1) * per_line > MAX_LENGTH:
            raise RenderRefused(f"indent() would make a text longer than {MAX_LENGTH}")
    elif name == "format" and args:
        _check_printf(args[0])
    elif name == "replace" and len(args) >= 3:
        _check_replace(*args[:4])
    elif name == "join" and args:
        separator = args[1] if len(args) > 1 else kwargs.get("d", "")
        args = (_check_join(args[0], separator),) + args[1:]
    return args


def _guarded_filter(name: str, function: Callable) -> Callable:
    # Keep jinja2's pass_context/pass_eval_context marker: it decides what the compiled code passes first.
    passes = getattr(function, "jinja_pass_arg", None)

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _tick()
        lead, rest = (args[:1], args[1:]) if passes is not None else ((), args)
        rest = _pre_check_filter(name, rest, kwargs)
        return made(function(*lead, *rest, **kwargs))

    return guarded


@pass_context
def _render_guard(context: Any, value: Any, kind: str) -> Any:
    """Called by compiled templates: count output pieces and loop iterations."""
    current = _budget.get()
    if current is None:
        raise RenderRefused("a mail template renders only within a budget")
    if kind == "output":
        current.produce(len(str(value)) if value is not None else 0)
        return value
    return _counted(current, value)


def _counted(current: Budget, iterable: Any) -> Iterator[Any]:
    for item in iterable:
        current.step()
        yield item


def bounded_range(*args: int) -> range:
    """range() of at most MAX_RANGE items."""
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise RenderRefused(f"range() of more than {MAX_RANGE} items")
    return numbers


class _Guards(NodeTransformer):
    """Routes every loop iterable and every piece of output through the render guard."""

    def _guard(self, node: nodes.Node, kind: str) -> nodes.Filter:
        return nodes.Filter(node, _GUARD, [nodes.Const(kind)], [], None, None, lineno=node.lineno)

    def visit_For(self, node: nodes.For) -> nodes.Node:
        node = cast(nodes.For, self.generic_visit(node))  # the node itself, its children visited
        node.iter = self._guard(node.iter, "loop")
        return node

    def visit_Output(self, node: nodes.Output) -> nodes.Node:
        node = cast(nodes.Output, self.generic_visit(node))
        node.nodes = [self._guard(child, "output") for child in node.nodes]
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:  # `~` is no interceptable operator
        node = cast(nodes.Concat, self.generic_visit(node))
        return nodes.Filter(node, "string", [], [], None, None, lineno=node.lineno)


class _BoundedFormat:
    def format_field(self, value: Any, format_spec: str) -> Any:
        _check_format_spec(format_spec)
        return super().format_field(value, format_spec)  # type: ignore[misc]


class _BoundedFormatter(_BoundedFormat, SandboxedFormatter):
    pass


class _BoundedEscapeFormatter(_BoundedFormat, SandboxedEscapeFormatter):
    pass


class MailSandbox(ImmutableSandboxedEnvironment):
    """jinja2's immutable sandbox with every operator, call, format and loop bounded."""

    intercepted_binops = frozenset(("+", "-", "*", "/", "//", "%", "**"))

    def __init__(self, **options: Any) -> None:
        super().__init__(undefined=StrictUndefined, keep_trailing_newline=True, **options)
        # namespace outlives loop iterations (how a template builds huge values step by step); lipsum, joiner
        # and cycler serve no mail.
        for name in ("namespace", "lipsum", "joiner", "cycler"):
            self.globals.pop(name, None)
        self.globals["range"] = bounded_range
        self.filters = {
            name: _guarded_filter(name, function) for name, function in self.filters.items() if name in ALLOWED_FILTERS
        }
        self.filters[_GUARD] = _render_guard

    def compile(
        self,
        source: Any,
        name: Optional[str] = None,
        filename: Optional[str] = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        """Compile with the guards added to every loop and every output."""
        if isinstance(source, str):
            source = self.parse(source, name, filename)
        # ignore: jinja2 types compile() as overloads on a literal `raw`; a bool passed through matches neither
        return super().compile(_Guards().visit(source), name, filename, raw, defer_init)  # type: ignore[call-overload]

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        """Refuse an operation whose result would be too large, before computing it."""
        _tick()
        for value in (left, right):
            check_value(value)
        ints = all(isinstance(v, int) for v in (left, right))
        if operator == "**" and ints and right > 0 and left.bit_length() * right > MAX_INT_BITS:
            raise RenderRefused(f"a number would be larger than {MAX_INT_BITS} bits")
        if operator == "*":
            if ints and left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise RenderRefused(f"a number would be larger than {MAX_INT_BITS} bits")
            for sequence, times in ((left, right), (right, left)):
                if _length(sequence) and isinstance(times, int) and _length(sequence) * times > MAX_LENGTH:
                    raise RenderRefused(f"a value would be longer than {MAX_LENGTH}")
        if operator == "+" and _length(left) + _length(right) > MAX_LENGTH:
            raise RenderRefused(f"a value would be longer than {MAX_LENGTH}")
        if operator == "%" and isinstance(left, str):
            _check_printf(left)
        return made(super().call_binop(context, operator, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (jinja2's names)
        """Check widths and growth of string methods and the size of every argument and result."""
        _tick()
        for value in list(args) + list(kwargs.values()):
            check_value(value)
        owner, method = getattr(__obj, "__self__", None), getattr(__obj, "__name__", "")
        if isinstance(owner, (str, bytes)):
            if method in _REFUSED_METHODS:
                raise RenderRefused(f"{method}() is not allowed in mail templates")
            if method in _WIDTH_METHODS:
                for number in list(args) + list(kwargs.values()):
                    _check_width(number, f"the {method} width")
            elif method == "replace" and len(args) >= 2:
                _check_replace(owner, *args[:3])
            elif method == "join" and args:
                args = (_check_join(args[0], owner),) + args[1:]
        return made(super().call(__context, __obj, *args, **kwargs))

    def getattr(self, obj: Any, attribute: str) -> Any:
        """The sandbox's attribute read, within the deadline."""
        _tick()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        """The sandbox's item read (slices too), within the deadline and the work budget."""
        _tick()
        return made(super().getitem(obj, argument))

    def wrap_str_format(self, value: Any) -> Optional[Callable[..., str]]:
        """str.format and format_map with every field's width and precision bounded."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text: str = value.__self__
        formatter = (
            _BoundedEscapeFormatter(self, escape=cast(Markup, text).escape)
            if hasattr(text, "__html__")
            else _BoundedFormatter(self)
        )
        is_format_map = value.__name__ == "format_map"

        @functools.wraps(wrapped)
        def bounded(*args: Any, **kwargs: Any) -> str:
            if is_format_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one argument")
                kwargs, args = args[0], ()
            return made(type(text)(formatter.vformat(text, args, kwargs)))

        return bounded


def render_part(environment: MailSandbox, source: str, variables: Dict[str, Any]) -> str:
    """One part of a mail rendered within the current budget, piece by piece."""
    current = _budget.get()
    if current is None:
        raise RenderRefused("a mail template renders only within a budget")
    pieces = []
    for piece in environment.from_string(source).generate(variables):
        current.tick()
        pieces.append(piece)
    return "".join(pieces)

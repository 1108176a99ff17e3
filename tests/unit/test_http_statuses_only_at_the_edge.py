"""HTTP statuses are the edge's business: no module outside chalicelib/api/ and chalicelib/web/ names one, in code
or in its prose. The rules say what happened (a domain error of a kind); the edge alone says which status that is."""

import ast
import http
import io
import pathlib
import re
import tokenize
from typing import Iterator, List, Tuple

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
# The HTTP edges (JSON and HTML), which alone map a kind of error to a status.
EDGE = ("chalicelib/api/", "chalicelib/web/")
STATUS_NAME = re.compile(r"status", re.IGNORECASE)
HTTP_STATUSES = {int(status) for status in http.HTTPStatus}
# A number followed by one of these counts something else ("400 KB", "100 characters", "308 decimal digits").
UNIT = re.compile(
    r"\s*(KB|MB|GB|KiB|MiB|bytes?|bits?|characters?|chars|digits?|decimal|items?|rows?|devices?|"
    r"serials?|keys?|ms|s|seconds?|minutes?|hours?|days?|times|per|%)\b",
    re.IGNORECASE,
)
NUMBER = re.compile(r"(?<![\w.,-])([1-5]\d\d)(?!\w|[.,]\d)")
STATUS_CLASS = re.compile(r"\b[1-5]xx\b", re.IGNORECASE)  # 4xx, 5XX
# Words that make a round number (200, 400, 500) read as a status: "a 500 body", "400 to a bare GET".
HTTP_WORDS = re.compile(
    r"\bHTTP\b|status|\banswer|respon[sd]|\breturn|\bbody\b|\berror|\brefus|\bcaller\b|"
    r"\b(GET|POST|PUT|PATCH|DELETE)\b|otherwise|\belse\b|Retry-After",
    re.IGNORECASE,
)


def checked_files() -> List[pathlib.Path]:
    """app.py and every module of chalicelib/ outside the edges."""
    files = [ROOT / "app.py", *sorted((ROOT / "chalicelib").rglob("*.py"))]
    return [path for path in files if not path.relative_to(ROOT).as_posix().startswith(EDGE)]


def statuses_named(source: str) -> Iterator[Tuple[int, str]]:
    """(line, what) for every HTTP status the source names in code, comments or docstrings."""
    tree = ast.parse(source)
    yield from _in_code(tree)
    for line, text in _prose(source, tree):
        for offset, found in _in_prose(text):
            yield line + text.count("\n", 0, offset), f"prose names a status: {found!r}"


def _status_ints(node: ast.AST, low: int = 100, high: int = 599) -> List[int]:
    return [
        child.value
        for child in ast.walk(node)
        if isinstance(child, ast.Constant) and type(child.value) is int and low <= child.value <= high
    ]


def _name(node: ast.AST) -> str:
    """The name an operand or target stands for: a variable, an attribute, a subscript's key, a call's function."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
        return node.slice.value
    if isinstance(node, ast.Call):
        return _name(node.func)
    return ""


def _pairs(target: ast.AST, value: ast.AST) -> Iterator[Tuple[ast.AST, ast.AST]]:
    """(target, value) pairs of an assignment, a tuple unpacked element by element (`status, code = 410, "x"`)."""
    if (
        isinstance(target, (ast.Tuple, ast.List))
        and isinstance(value, (ast.Tuple, ast.List))
        and len(target.elts) == len(value.elts)
    ):
        for one_target, one_value in zip(target.elts, value.elts):
            yield from _pairs(one_target, one_value)
    elif isinstance(target, (ast.Tuple, ast.List)):
        for one_target in target.elts:
            yield from _pairs(one_target, value)
    else:
        yield target, value


def _in_code(tree: ast.AST) -> Iterator[Tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for statement in node.body:  # a class attribute named status holding any number
                targets = (
                    statement.targets
                    if isinstance(statement, ast.Assign)
                    else [statement.target]
                    if isinstance(statement, ast.AnnAssign) and statement.value
                    else []
                )
                for target in targets:
                    for one, value in _pairs(target, statement.value):
                        # (a number that could be a status is reported below, with every other binding)
                        if _name(one) == "status" and _status_ints(value, 0, 10**6) and not _status_ints(value):
                            yield statement.lineno, f"class {node.name} sets a status"
        pairs: List[Tuple[ast.AST, ast.AST]] = []
        if isinstance(node, ast.Assign):
            pairs = [pair for target in node.targets for pair in _pairs(target, node.value)]
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            pairs = [(node.target, node.value)]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            positional = node.args.posonlyargs + node.args.args
            pairs = list(zip(positional[len(positional) - len(node.args.defaults) :], node.args.defaults))
            pairs += [(arg, default) for arg, default in zip(node.args.kwonlyargs, node.args.kw_defaults) if default]
        elif isinstance(node, ast.Dict):
            pairs = [(key, value) for key, value in zip(node.keys, node.values) if key is not None]
        for target, value in pairs:
            name = (
                target.arg
                if isinstance(target, ast.arg)
                else _name(target)
                or (target.value if isinstance(target, ast.Constant) and isinstance(target.value, str) else "")
            )
            if STATUS_NAME.search(name) and _status_ints(value):
                yield node.lineno, f"{name} bound to {_status_ints(value)[0]}"
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg and STATUS_NAME.search(keyword.arg) and _status_ints(keyword.value):
                    yield node.lineno, f"{keyword.arg}={_status_ints(keyword.value)[0]}"
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(STATUS_NAME.search(_name(operand)) for operand in operands):
                numbers = [number for operand in operands for number in _status_ints(operand)]
                if numbers:
                    yield node.lineno, f"a status compared with {numbers[0]}"
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:  # they carry a status of their own
                if alias.name == "HTTPStatus" or (node.module == "chalice" and alias.name.endswith("Error")):
                    yield node.lineno, f"imports {alias.name}"


def _prose(source: str, tree: ast.AST) -> Iterator[Tuple[int, str]]:
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            yield token.start[0], token.string
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            docstring = ast.get_docstring(node, clean=False)
            if docstring:
                yield node.body[0].lineno, docstring


def _in_prose(text: str) -> Iterator[Tuple[int, str]]:
    yield from ((found.start(), found.group(0)) for found in STATUS_CLASS.finditer(text))
    for found in NUMBER.finditer(text):
        number = int(found.group(1))
        if number not in HTTP_STATUSES or UNIT.match(text, found.end()):
            continue
        nearby = text[max(0, found.start() - 50) : found.end() + 50]
        if number % 100 or HTTP_WORDS.search(nearby):
            yield found.start(), found.group(1)


def test_no_module_outside_the_edge_names_an_http_status():
    found = [
        f"{path.relative_to(ROOT)}:{line}: {what}"
        for path in checked_files()
        for line, what in statuses_named(path.read_text(encoding="utf-8"))
    ]
    assert not found, "\n".join(["HTTP statuses outside the edge (raise an error of a kind instead):", *found])


@pytest.mark.parametrize(
    "source",
    [
        'class TokenInvalid(DomainError):\n    status, code = 410, "token_invalid"\n',
        "class Gone(DomainError):\n    status = 410\n",
        "response = Response(body='', status_code=404)\n",
        "render_page('x.html', {}, status=410)\n",
        "def render(status: int = 422):\n    pass\n",
        "if response.status_code >= 400:\n    pass\n",
        "if error.status in (404, 410):\n    pass\n",
        "answer = {'statusCode': 429}\n",
        "from http import HTTPStatus\n",
        "from chalice import NotFoundError\n",
        'def scope():\n    """The installation in the principal\'s scope; 404/403 else."""\n',
        'def reset():\n    """Queue a reset mail; the caller answers 202 whether or not an account has it."""\n',
        "# 409 email_taken tells the link holder that an address has an account\n",
        "# failures count against the device: 429 after 10 in 15 minutes\n",
        "# With debug on, a 500 body is the traceback\n",
        "# it answers (400 to a bare GET): ready\n",
        "# anything 5xx is retried\n",
    ],
)
def test_the_check_finds_a_status_in_code_and_prose(source):
    assert list(statuses_named(source))


@pytest.mark.parametrize(
    "source",
    [
        "if not token or len(token) > 200:\n    pass\n",
        "LISTED_PROBLEMS = 1_000  # kept on the batch item (400 KB item limit)\n",
        "TRANSACTION_ITEMS = 100  # DynamoDB's limit per TransactWriteItems\n",
        "MAX_INT_BITS = 1024  # about 308 decimal digits: more than any count a mail shows\n",
        '"""RSA of at least 3,072 bits (RSA-OAEP-256) or EC P-256."""\n',
        "if user.status != 'ACTIVE':\n    pass\n",
        "actions = [DeviceModel.claim_status.set(status)]\n",
        "# the source address (after 100: one person's typos must not lock an office)\n",
        'def read():\n    """Reading the items a consistent BatchGet (100) at a time."""\n',
        'class RecipientKeyInvalid(Unprocessable):\n    code = "recipient_key_invalid"\n',
    ],
)
def test_the_check_leaves_counts_and_sizes_alone(source):
    assert not list(statuses_named(source))


def test_every_error_a_service_raises_is_of_a_kind_the_edge_maps():
    import app  # noqa: F401  (imports every module that declares a domain error)
    from chalicelib.api.statuses import STATUS_OF_KIND
    from chalicelib.errors import DomainError, domain_errors

    kindless = [
        error_class.__name__
        for error_class in domain_errors()
        if next(kind for kind in error_class.__mro__ if kind in STATUS_OF_KIND) is DomainError
    ]
    assert not kindless, "each error subclasses a kind (NotFound, Conflict, Gone, RateLimited...)"


def test_a_kind_alone_is_never_raised_and_the_status_is_not_the_errors_to_set():
    from chalicelib.errors import Gone, NotFound, RateLimited

    for kind in (Gone, RateLimited):
        with pytest.raises(TypeError):
            kind()
    assert not hasattr(NotFound(), "status")

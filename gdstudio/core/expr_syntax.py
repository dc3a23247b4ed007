"""The safe expression syntax shared by typed formulas and typed update rules.

Formulas (:mod:`gdstudio.core.formula`), update rules (:mod:`gdstudio.core.rules`) and the expressions of the
built-in objectives (:mod:`gdstudio.core.autodiff`) are read by this one parser; each passes a
:class:`Grammar` naming its variables, constants and functions.

Safety
------
Nothing typed is ever evaluated as Python. The text is first split into tokens here (numbers, the names
of the grammar, the operators ``+ - * / ^ **``, parentheses and commas; any other character or word is
refused, so quotes, dots outside numbers, brackets, keywords, attribute access and unknown names never
get further). Length (``Grammar.max_length``) and nesting (:data:`MAX_DEPTH`) are checked on the tokens
*before* :func:`ast.parse` sees anything, because the parser itself can exhaust the stack on deep nesting.
The tokens, with ``^`` written as ``**``, are parsed with :func:`ast.parse` and the tree is walked against
a whitelist (``BinOp`` with ``Add Sub Mult Div Pow``, ``UnaryOp`` with ``USub UAdd``, numeric
``Constant``, ``Name`` of a grammar variable or constant, ``Call`` of a grammar function with its number
of positional arguments). What comes out is a :class:`Node` tree; the callers build SymPy expressions,
NumPy closures or computation graphs from it, never Python code.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Mapping, NamedTuple

#: Longest expression accepted, in characters.
MAX_LENGTH = 500
#: Deepest nesting accepted: open parentheses plus consecutive signs at any point of the expression.
MAX_DEPTH = 50


class FormulaError(ValueError):
    """An expression that cannot be accepted.

    Attributes
    ----------
    message : str
        What is wrong, e.g. ``"unknown name 'foo'"``.
    position : int
        0-based index in the user's text where the problem starts (``len(text)`` for "ends too early").
    length : int
        How many characters the problem spans (≥ 0); ``end = position + length``.

    ``str(error)`` gives the message with a 1-based column for people: ``"unknown name 'foo' at column 5"``.
    """

    def __init__(self, message: str, position: int = 0, length: int = 0):
        self.message = message
        self.position = int(position)
        self.length = max(int(length), 0)
        super().__init__(f"{message} at column {self.position + 1}")

    @property
    def end(self) -> int:
        return self.position + self.length


@dataclass(frozen=True)
class Grammar:
    """The words an expression may use.

    ``variables``: names that stand for values at evaluation time; ``constants``: names with a fixed value;
    ``functions``: name -> number of arguments; ``aliases``: other spellings of functions. ``what`` names the
    expression in messages ("formula", "expression"), ``example`` is shown when it is empty, ``allowed``
    describes the allowed characters in the message for an unexpected one.
    """

    variables: tuple[str, ...]
    constants: Mapping[str, float] = field(default_factory=dict)
    functions: Mapping[str, int] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)
    what: str = "formula"
    example: str = "x^2 + y^2"
    allowed: str = "numbers, x, y, names of functions, + - * / ^ ** and parentheses"
    max_length: int = MAX_LENGTH

    def is_function(self, word: str) -> bool:
        return word in self.functions or word in self.aliases

    def knows(self, word: str) -> bool:
        return word in self.variables or word in self.constants or self.is_function(word)

    def arity(self, word: str) -> int:
        return self.functions[self.aliases.get(word, word)]


# --- tokens ----------------------------------------------------------------------------------------

class Token(NamedTuple):
    kind: str  # "num", "name", "op", "(", ")", ","
    text: str
    start: int
    end: int


_NUMBER = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_OPS = ("**", "+", "-", "*", "/", "^")


def tokenize(text: str, grammar: Grammar) -> list[Token]:
    """Split ``text`` into tokens, refusing any character or name outside the grammar."""
    toks: list[Token] = []
    i, n = 0, len(text)
    single = {v for v in grammar.variables if len(v) == 1}
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        m = _NUMBER.match(text, i)
        if m:
            toks.append(Token("num", m.group(), i, m.end()))
            i = m.end()
            continue
        m = _NAME.match(text, i)
        if m:
            word = m.group()
            if not grammar.knows(word):
                if single and set(word) <= single:
                    hint = "write " + "*".join(word)
                else:
                    hint = "valid: " + ", ".join((*grammar.variables, *grammar.constants, *grammar.functions,
                                                  *grammar.aliases))
                raise FormulaError(f"unknown name '{word}' ({hint})", i, len(word))
            toks.append(Token("name", word, i, m.end()))
            i = m.end()
            continue
        if c in "(),":
            toks.append(Token(c, c, i, i + 1))
            i += 1
            continue
        op = next((o for o in _OPS if text.startswith(o, i)), None)
        if op:
            toks.append(Token("op", op, i, i + len(op)))
            i += len(op)
            continue
        shown = c if c.isprintable() else repr(c)
        raise FormulaError(f"unexpected character '{shown}' (allowed: {grammar.allowed})", i, 1)
    return toks


def check_tokens(text: str, toks: list[Token], grammar: Grammar) -> None:
    """Checks on the token stream that give clearer messages than the parser, and bound the nesting."""
    what = grammar.what
    if not toks:
        raise FormulaError(f"the {what} is empty (example: {grammar.example})", 0, len(text))

    def is_function(tok: Token) -> bool:
        return tok.kind == "name" and grammar.is_function(tok.text)

    def ends_operand(tok: Token) -> bool:
        return tok.kind in ("num", ")") or (tok.kind == "name" and not is_function(tok))

    opened: list[Token] = []
    run = 0  # consecutive sign operators (unary nesting)
    prev: Token | None = None
    for tok in toks:
        if tok.kind == "(":
            opened.append(tok)
        elif tok.kind == ")":
            if not opened:
                raise FormulaError("')' without a matching '('", tok.start, 1)
            opened.pop()
        if tok.kind == "op" and tok.text in "+-" and (prev is None or prev.kind in ("op", "(", ",")):
            run += 1
        elif tok.kind != "op":
            run = 0
        if len(opened) + run > MAX_DEPTH:
            raise FormulaError(f"the {what} is nested too deeply (at most {MAX_DEPTH} levels)", tok.start, 1)
        after_operator = prev is None or prev.kind in ("op", "(", ",")
        if after_operator and (tok.kind in (")", ",") or (tok.kind == "op" and tok.text not in "+-")):
            if prev is not None and prev.kind == "(" and tok.kind == ")":
                raise FormulaError("empty parentheses", prev.start, tok.end - prev.start)
            where = f"after '{prev.text}'" if prev is not None else "at the start"
            raise FormulaError(f"unexpected '{tok.text}' {where}", tok.start, tok.end - tok.start)
        if prev is not None:
            if is_function(prev) and tok.kind != "(":
                raise FormulaError(f"'{prev.text}' needs its argument in parentheses: {prev.text}(…)",
                                   prev.start, prev.end - prev.start)
            if ends_operand(prev) and (tok.kind in ("num", "name", "(")):
                right = "(…)" if tok.kind == "(" else tok.text
                raise FormulaError(f"missing operator between '{prev.text}' and '{tok.text}' "
                                   f"(write {prev.text}*{right})", tok.start, tok.end - tok.start)
        prev = tok
    if is_function(prev):
        raise FormulaError(f"'{prev.text}' needs its argument in parentheses: {prev.text}(…)",
                           prev.start, prev.end - prev.start)
    if opened:
        raise FormulaError("'(' is never closed", opened[-1].start, 1)
    if prev.kind == "op":
        raise FormulaError(f"the {what} ends too early after '{prev.text}'", len(text), 0)


# --- the validated tree --------------------------------------------------------------------------

class Node(NamedTuple):
    """A node of a validated expression: ``kind`` is num, var, const, call, neg, pos, add, sub, mul, div, pow.

    ``value`` is the number (num), the name (var, const, call) or None; ``args`` the operands;
    ``start``/``end`` the span in the user's text; ``text`` the token as typed (num).
    """

    kind: str
    value: object
    args: tuple
    start: int
    end: int
    text: str = ""


_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}
_UNARY = {ast.USub: "neg", ast.UAdd: "pos"}


class Source:
    """The tokens written as Python source, with maps from Python columns back to the user's text."""

    def __init__(self, text: str, toks: list[Token]):
        self.text = text
        self.toks = toks
        parts, self.py_start, self.py_end = [], [], []
        col = 0
        for t in toks:
            s = "**" if t.text == "^" else t.text
            self.py_start.append(col)
            self.py_end.append(col + len(s))
            parts.append(s)
            col += len(s) + 1
        self.src = " ".join(parts)
        self._by_start = {c: i for i, c in enumerate(self.py_start)}
        self._by_end = {c: i for i, c in enumerate(self.py_end)}

    def span(self, node: ast.AST) -> tuple[int, int]:
        i = self._by_start.get(getattr(node, "col_offset", -1))
        j = self._by_end.get(getattr(node, "end_col_offset", -1))
        start = self.toks[i].start if i is not None else 0
        end = self.toks[j].end if j is not None else len(self.text)
        return start, max(end, start)

    def token_at(self, py_col: int) -> Token | None:
        """The first token that ends after Python column ``py_col``."""
        for t, e in zip(self.toks, self.py_end):
            if e > py_col:
                return t
        return None

    def error(self, message: str, node: ast.AST) -> FormulaError:
        start, end = self.span(node)
        return FormulaError(message, start, end - start)


def syntax_error(src: Source, exc: SyntaxError, what: str = "formula") -> FormulaError:
    col = (exc.offset or 1) - 1
    tok = src.token_at(col)
    if tok is None or exc.msg.startswith("incomplete input") or col >= len(src.src):
        last = src.toks[-1]
        return FormulaError(f"the {what} ends too early after '{last.text}'", len(src.text), 0)
    return FormulaError(f"unexpected '{tok.text}'", tok.start, tok.end - tok.start)


_COUNT = {1: "one argument", 2: "two arguments", 3: "three arguments"}


def walk(node: ast.AST, src: Source, grammar: Grammar) -> Node:
    """Turn a Python tree into a :class:`Node`, accepting only the grammar."""
    start, end = src.span(node)
    if isinstance(node, ast.Expression):
        return walk(node.body, src, grammar)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        return Node(_BINOPS[type(node.op)], None, (walk(node.left, src, grammar), walk(node.right, src, grammar)),
                    start, end)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return Node(_UNARY[type(node.op)], None, (walk(node.operand, src, grammar),), start, end)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        i = src._by_start.get(node.col_offset)
        typed = src.toks[i].text if i is not None else repr(node.value)
        try:
            value = float(node.value)
        except OverflowError:
            raise src.error(f"the number '{typed}' is too large", node) from None
        return Node("num", value, (), start, end, typed)
    if isinstance(node, ast.Name):
        if node.id in grammar.variables:
            return Node("var", node.id, (), start, end)
        if node.id in grammar.constants:
            return Node("const", node.id, (), start, end)
        if grammar.is_function(node.id):
            raise src.error(f"'{node.id}' needs its argument in parentheses: {node.id}(…)", node)
        raise src.error(f"unknown name '{node.id}'", node)
    if isinstance(node, ast.Call):
        f = node.func
        if not isinstance(f, ast.Name) or not grammar.is_function(f.id):
            raise src.error("only the functions of the list can be called (write a*(b), not a(b))", f)
        arity = grammar.arity(f.id)
        if node.keywords or len(node.args) != arity or any(isinstance(a, ast.Starred) for a in node.args):
            n = len(node.args) + len(node.keywords)
            raise src.error(f"{f.id} takes exactly {_COUNT.get(arity, f'{arity} arguments')}, got {n}", node)
        name = grammar.aliases.get(f.id, f.id)
        return Node("call", name, tuple(walk(a, src, grammar) for a in node.args), start, end)
    if isinstance(node, ast.Tuple):
        if not node.elts:
            raise src.error("empty parentheses", node)
        comma = src.token_at(src.py_end[src._by_end[node.elts[0].end_col_offset]]) \
            if node.elts[0].end_col_offset in src._by_end else None
        if comma is not None and comma.kind == ",":
            raise FormulaError("a comma is only allowed between function arguments", comma.start, 1)
        raise src.error(f"a list of values is not a {grammar.what}", node)
    if isinstance(node, ast.BinOp):
        raise src.error(f"operator {type(node.op).__name__} is not allowed", node)
    raise src.error(f"{type(node).__name__} is not allowed in a {grammar.what}", node)


def parse_tree(text: str, grammar: Grammar) -> Node:
    """Validate ``text`` against ``grammar`` and return its tree (raise :class:`FormulaError` otherwise)."""
    if not isinstance(text, str):
        raise FormulaError(f"a {grammar.what} must be text, got {type(text).__name__}", 0, 0)
    if len(text) > grammar.max_length:
        raise FormulaError(f"the {grammar.what} is too long ({len(text)} characters, at most {grammar.max_length})",
                           grammar.max_length, len(text) - grammar.max_length)
    toks = tokenize(text, grammar)
    check_tokens(text, toks, grammar)
    src = Source(text, toks)
    try:
        tree = ast.parse(src.src, mode="eval")
    except SyntaxError as exc:
        raise syntax_error(src, exc, grammar.what) from None
    except (RecursionError, MemoryError, ValueError):  # not expected after the depth check
        raise FormulaError(f"the {grammar.what} is too complex", 0, len(text)) from None
    return walk(tree, src, grammar)


def has_variable(node: Node) -> bool:
    """Whether the sub-tree contains a variable of its grammar."""
    return node.kind == "var" or any(has_variable(a) for a in node.args)


__all__ = ["FormulaError", "Grammar", "MAX_DEPTH", "MAX_LENGTH", "Node", "Token", "check_tokens", "has_variable",
           "parse_tree", "tokenize", "walk"]

"""Skip logic: a small, safe expression language over earlier answers.

The syntax is the subset of XLSForm's ``relevant`` column that instruments
need, so it exports to KoboToolbox and ODK unchanged::

    ${q221} = 4
    ${q012} != 5 and (${q111} >= 2 or not(${q113} = ''))

References are ``${item_id}``; literals are numbers and quoted strings;
operators are ``= != < <= > >=``, ``and``, ``or`` and ``not(...)``. Expressions
are parsed into a tree and evaluated by walking it: never with ``eval``.
An unanswered item compares as the empty string, as in XLSForm: equal to ``''``,
and neither below nor above any number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<ref>\$\{(?P<name>[A-Za-z0-9][A-Za-z0-9_.\-]*)\})
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<string>'[^']*'|"[^"]*")
      | (?P<op><=|>=|!=|=|<|>)
      | (?P<paren>[()])
      | (?P<word>[A-Za-z_]+)
    )""",
    re.VERBOSE,
)


class ExpressionError(ValueError):
    """The expression cannot be parsed; ``position`` is the 0-based character offset."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


@dataclass(frozen=True)
class Reference:
    name: str


@dataclass(frozen=True)
class Literal:
    value: float | str


@dataclass(frozen=True)
class Comparison:
    operator: str
    left: Reference | Literal
    right: Reference | Literal


@dataclass(frozen=True)
class Not:
    operand: Expression


@dataclass(frozen=True)
class BooleanOp:
    operator: str  # "and" | "or"
    operands: tuple[Expression, ...]


Expression = Comparison | Not | BooleanOp


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    position: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            start = len(text) - len(text[position:].lstrip())
            raise ExpressionError(f"unexpected character {text[start]!r}", start)
        kind = next(k for k in ("ref", "number", "string", "op", "paren", "word") if match.group(k))
        token_text = match.group("name") if kind == "ref" else match.group(kind)
        tokens.append(_Token(kind, token_text, match.start(kind)))
        position = match.end()
    return tokens


class _Parser:
    """Recursive descent: or_expr -> and_expr ('or' and_expr)*; and_expr -> unary ('and' unary)*."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0

    def parse(self) -> Expression:
        if not self.tokens:
            raise ExpressionError("the expression is empty", 0)
        expression = self._or()
        if self.index < len(self.tokens):
            token = self.tokens[self.index]
            raise ExpressionError(f"unexpected {token.text!r}", token.position)
        return expression

    def _peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _take(self) -> _Token:
        token = self._peek()
        if token is None:
            raise ExpressionError("the expression ends too early", len(self.text))
        self.index += 1
        return token

    def _is_word(self, word: str) -> bool:
        token = self._peek()
        return token is not None and token.kind == "word" and token.text == word

    def _or(self) -> Expression:
        operands = [self._and()]
        while self._is_word("or"):
            self._take()
            operands.append(self._and())
        return operands[0] if len(operands) == 1 else BooleanOp("or", tuple(operands))

    def _and(self) -> Expression:
        operands = [self._unary()]
        while self._is_word("and"):
            self._take()
            operands.append(self._unary())
        return operands[0] if len(operands) == 1 else BooleanOp("and", tuple(operands))

    def _unary(self) -> Expression:
        token = self._peek()
        if token is not None and token.kind == "word" and token.text == "not":
            self._take()
            self._expect("(")
            operand = self._or()
            self._expect(")")
            return Not(operand)
        if token is not None and token.kind == "paren" and token.text == "(":
            self._take()
            inner = self._or()
            self._expect(")")
            return inner
        return self._comparison()

    def _expect(self, paren: str) -> None:
        token = self._take()
        if token.text != paren:
            raise ExpressionError(f"expected {paren!r} but found {token.text!r}", token.position)

    def _comparison(self) -> Comparison:
        left = self._operand()
        operator = self._take()
        if operator.kind != "op":
            raise ExpressionError(
                f"expected a comparison (=, !=, <, <=, >, >=) but found {operator.text!r}",
                operator.position,
            )
        return Comparison(operator.text, left, self._operand())

    def _operand(self) -> Reference | Literal:
        token = self._take()
        if token.kind == "ref":
            return Reference(token.text)
        if token.kind == "number":
            return Literal(float(token.text))
        if token.kind == "string":
            return Literal(token.text[1:-1])
        raise ExpressionError(
            f"expected ${{item}}, a number or a quoted string but found {token.text!r}",
            token.position,
        )


def parse_expression(text: str) -> Expression:
    """Parse skip logic; raises :class:`ExpressionError` with the offending position."""
    return _Parser(text).parse()


def references(expression: Expression) -> list[str]:
    """Item ids the expression reads, in order of appearance."""
    if isinstance(expression, Comparison):
        return [side.name for side in (expression.left, expression.right)
                if isinstance(side, Reference)]
    if isinstance(expression, Not):
        return references(expression.operand)
    return [name for operand in expression.operands for name in references(operand)]


def _as_number(value: object) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _resolve(side: Reference | Literal, answers: Mapping[str, object]) -> object:
    if isinstance(side, Reference):
        value = answers.get(side.name)
        return "" if value is None else value
    return side.value


def _compare(operator: str, left: object, right: object) -> bool:
    left_number, right_number = _as_number(left), _as_number(right)
    if left_number is not None and right_number is not None:
        a: float | str = left_number
        b: float | str = right_number
    else:
        a, b = str(left), str(right)
    if operator == "=":
        return a == b
    if operator == "!=":
        return a != b
    if type(a) is not type(b) or "" in (left, right):
        return False  # an unanswered item is neither below nor above anything (XPath NaN)
    match operator:
        case "<":
            return a < b  # type: ignore[operator]
        case "<=":
            return a <= b  # type: ignore[operator]
        case ">":
            return a > b  # type: ignore[operator]
        case _:
            return a >= b  # type: ignore[operator]


def evaluate(expression: Expression, answers: Mapping[str, object]) -> bool:
    """Whether an item is relevant given the answers so far."""
    if isinstance(expression, Comparison):
        left = _resolve(expression.left, answers)
        right = _resolve(expression.right, answers)
        return _compare(expression.operator, left, right)
    if isinstance(expression, Not):
        return not evaluate(expression.operand, answers)
    results = (evaluate(operand, answers) for operand in expression.operands)
    return all(results) if expression.operator == "and" else any(results)

"""Skip logic: the XLSForm ``relevant`` subset, parsed into a tree and walked, never eval'd."""

from __future__ import annotations

import pytest

from instruments.expressions import (
    BooleanOp,
    Comparison,
    ExpressionError,
    Literal,
    Not,
    Reference,
    evaluate,
    parse_expression,
    references,
)


def relevant(expression: str, **answers: object) -> bool:
    return evaluate(parse_expression(expression), answers)


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("${q1} = 4", Comparison("=", Reference("q1"), Literal(4.0))),
        ("${q1}!=-2.5", Comparison("!=", Reference("q1"), Literal(-2.5))),
        ("${a.b-c_d} >= 'x y'", Comparison(">=", Reference("a.b-c_d"), Literal("x y"))),
        ('${q1} < "it\'s"', Comparison("<", Reference("q1"), Literal("it's"))),
        ("${q1} <= ${q2}", Comparison("<=", Reference("q1"), Reference("q2"))),
        ("not(${q1} > 1)", Not(Comparison(">", Reference("q1"), Literal(1.0)))),
        (
            "${a} = 1 or ${b} = 2 and ${c} = 3",
            BooleanOp("or", (
                Comparison("=", Reference("a"), Literal(1.0)),
                BooleanOp("and", (Comparison("=", Reference("b"), Literal(2.0)),
                                  Comparison("=", Reference("c"), Literal(3.0)))),
            )),
        ),
        (
            "(${a} = 1 or ${b} = 2) and ${c} = 3",
            BooleanOp("and", (
                BooleanOp("or", (Comparison("=", Reference("a"), Literal(1.0)),
                                 Comparison("=", Reference("b"), Literal(2.0)))),
                Comparison("=", Reference("c"), Literal(3.0)),
            )),
        ),
        (
            "${a} = 1 and ${b} = 2 and ${c} = 3",
            BooleanOp("and", tuple(Comparison("=", Reference(name), Literal(float(value)))
                                   for name, value in (("a", 1), ("b", 2), ("c", 3)))),
        ),
    ],
)
def test_parse_tree(text: str, tree: object) -> None:
    assert parse_expression(text) == tree


def test_references_in_order_of_appearance() -> None:
    expression = parse_expression("${b} = 1 or not(${a} = ${c}) and ${b} != ''")
    assert references(expression) == ["b", "a", "c", "b"]


@pytest.mark.parametrize(
    ("expression", "answers", "expected"),
    [
        # Numbers compare as numbers, whether the answer is stored as a number or as text.
        ("${q} = 4", {"q": 4}, True),
        ("${q} = 4", {"q": "4"}, True),
        ("${q} = 4", {"q": "4.0"}, True),
        ("${q} = '4'", {"q": 4}, True),
        ("${q} > 10", {"q": "9"}, False),
        ("${q} > 10", {"q": 11.5}, True),
        ("${q} <= 2", {"q": 2}, True),
        ("${q} < 2", {"q": 2}, False),
        ("${q} >= -1", {"q": "-1"}, True),
        # Text compares as text.
        ("${q} = 'yes'", {"q": "yes"}, True),
        ("${q} = 'yes'", {"q": "Yes"}, False),
        ("${q} != 'yes'", {"q": "no"}, True),
        ("${q} < 'b'", {"q": "a"}, True),
        # Text never equals a number it does not spell.
        ("${q} = 4", {"q": "four"}, False),
        ("${q} != 4", {"q": "four"}, True),
        # An unanswered item is the empty string, as in XLSForm.
        ("${q} = ''", {}, True),
        ("${q} = ''", {"q": None}, True),
        ("${q} = ''", {"q": 0}, False),
        ("${q} != ''", {"q": "x"}, True),
        ("${q} = 0", {}, False),
        ("not(${q} = '')", {}, False),
        # Two references.
        ("${a} = ${b}", {"a": 3, "b": "3"}, True),
        ("${a} < ${b}", {"a": 2, "b": 10}, True),
    ],
)
def test_comparison(expression: str, answers: dict[str, object], expected: bool) -> None:
    assert relevant(expression, **answers) is expected


@pytest.mark.parametrize(
    ("a", "b", "c", "without_parentheses", "with_parentheses"),
    [
        # "and" binds tighter than "or": a or (b and c) versus (a or b) and c.
        (1, 0, 0, True, False),
        (0, 1, 1, True, True),
        (0, 1, 0, False, False),
        (1, 1, 0, True, False),
        (0, 0, 1, False, False),
    ],
)
def test_and_binds_tighter_than_or(
    a: int, b: int, c: int, without_parentheses: bool, with_parentheses: bool
) -> None:
    answers = {"a": a, "b": b, "c": c}
    assert relevant("${a} = 1 or ${b} = 1 and ${c} = 1", **answers) is without_parentheses
    assert relevant("(${a} = 1 or ${b} = 1) and ${c} = 1", **answers) is with_parentheses


def test_not_negates_a_whole_group() -> None:
    expression = "not(${a} = 1 or ${b} = 1)"
    assert relevant(expression, a=0, b=0) is True
    assert relevant(expression, a=1, b=0) is False
    assert relevant("not(not(${a} = 1))", a=1) is True


def test_unanswered_item_is_neither_below_nor_above_a_number() -> None:
    assert relevant("${q} < 5") is False
    assert relevant("${q} >= 0") is False


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("", 0, "the expression is empty"),
        ("   ", 0, "the expression is empty"),
        ("${q1}", 5, "the expression ends too early"),
        ("${q1} = ", 8, "the expression ends too early"),
        ("(${q1} = 1", 10, "the expression ends too early"),
        ("${q1} == 4", 7, "expected ${item}, a number or a quoted string but found '='"),
        ("${q1} = 4 )", 10, "unexpected ')'"),
        ("${q1} = 4 4", 10, "unexpected '4'"),
        ("${q1} = 1 AND ${q2} = 2", 10, "unexpected 'AND'"),
        ("${q1} 4", 6, "expected a comparison (=, !=, <, <=, >, >=) but found '4'"),
        ("not ${q1} = 1", 4, "expected '(' but found 'q1'"),
        ("not(${q1} = 1", 13, "the expression ends too early"),
        ("$q1 = 1", 0, "unexpected character '$'"),
        ("${q1} = 'open", 8, "unexpected character \"'\""),
        ("${q1} = 1 & ${q2} = 2", 10, "unexpected character '&'"),
        ("${q1} = 4 + 1", 10, "unexpected character '+'"),
    ],
)
def test_syntax_errors_name_the_position(text: str, position: int, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text)
    assert (caught.value.position, str(caught.value)) == (position, message)


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os')",
        "__import__('os').system('true') = 0",
        "${q1} = 1 or __import__('os')",
        "1 if ${q1} else 2",
        "${q1}.real = 1",
        "${q1}.__class__ = 1",
        "${q1} = 'a'.upper()",
        "lambda: 1",
        "open('/etc/passwd') = ''",
        "${q1} = 1; import os",
        "${q1} in (1, 2)",
        "[x for x in ()]",
        "${q1} = True",
        "${q1} = None",
        "${q1} is 1",
        "${q1} = 1 == 1",
        "${q1} = 2 ** 10",
        "exec('1')",
        "${q1} = f'{1}'",
    ],
)
def test_nothing_resembling_python_parses(text: str) -> None:
    with pytest.raises(ExpressionError):
        parse_expression(text)

"""Lower bounds of a document's token count and selection cost, read off its characters before it is parsed.

`app.graphql.query_cost` measures a parsed document; parsing itself is pure Python, thousands of
objects for a 6 KB document, and a process answering many such documents at once spends its time
there. This scan reads the same document with one regular expression and a loop over its tokens,
merging selection sets the way the measure does (a field's children with those of every field of
the same response name, an inline fragment into the set around it), so a document whose repeated
fields alone exceed the budget is refused before it is parsed.

It counts less than the measure, never more, for any document that parses: named fragments are
counted once where they are defined (the measure counts them at every spread, merged into the set
around the spread), and everything inside parentheses (arguments, variable definitions) is skipped.
Tokens are counted as graphql-core's parser counts them for its `max_tokens` limit (comments
included), so a document over that limit is refused with the parser's own message without being
parsed either.

So the scan refuses only what the parser or the measure would refuse too; what it lets through is
parsed and measured as before. A document that does not parse may be refused here rather than with
its syntax error.
"""

import re
from dataclasses import dataclass, field
from typing import NamedTuple

# GraphQL's tokens as its lexer reads them; block strings, strings and comments are matched whole so
# that no bracket inside them counts. What is no token (whitespace, commas) is skipped.
_TOKENS = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""|"(?:[^"\\\n\r]|\\.)*"|#[^\n\r]*|\.\.\.'
    r"|[_A-Za-z][_0-9A-Za-z]*|-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|[{}():@!$&=\[\]|]"
)


@dataclass
class _Merged:
    """One selection set with everything merged into it: the response names seen and the spreads counted."""

    seen: dict[str, int] = field(default_factory=dict)
    spreads: int = 0
    children: dict[str, "_Merged"] = field(default_factory=dict)


class Prescan(NamedTuple):
    """What the scan counted, each count stopping once over its limit: the document is refused if either is.

    Tokens are judged first, as the parser comes before the measure.
    """

    tokens: int
    selections: int


def prescan(document: str, *, max_tokens: int, max_selections: int) -> Prescan:
    """At least the tokens graphql-core's parser counts, and at least the selections `query_cost.measure` counts."""
    cost = 0
    stack: list[_Merged] = []
    parens = 0
    after_at = False  # the next name is a directive's
    after_spread = False  # the next name is `on` (an inline fragment) or a fragment's name
    type_condition = False  # the next name is an inline fragment's type
    after_alias = False  # the next name is the field an alias names
    opens: tuple[str, str] | None = None  # what the next `{` opens: ("field", response name) or ("inline", "")
    lexemes: list[str] = []
    for match in _TOKENS.finditer(document):
        lexemes.append(match.group())
        if len(lexemes) > max_tokens:  # the parser would stop here, before any selection counts
            return Prescan(tokens=len(lexemes), selections=0)
    for lexeme in lexemes:
        if cost > max_selections:
            break
        first = lexeme[0]
        if first == '"' or first == "#":
            continue
        if parens:
            parens += lexeme == "("
            parens -= lexeme == ")"
            continue
        if lexeme == "(":
            parens = 1
        elif lexeme == "@":
            after_at = True
        elif lexeme == "...":
            after_spread, opens = True, ("inline", "")
        elif lexeme == ":":
            after_alias = True
        elif lexeme == "{":
            if not stack:
                stack.append(_Merged())
            elif opens is not None and opens[0] == "inline":
                stack.append(stack[-1])
            else:
                merged = stack[-1]
                stack.append(merged.children.setdefault(opens[1] if opens else "", _Merged()))
            opens, after_spread = None, False
        elif lexeme == "}":
            if stack:
                stack.pop()
            opens, after_spread = None, False
        elif not (first == "_" or first.isalpha()):
            continue  # a number or a punctuator no selection is made of
        elif after_at:
            after_at = False
        elif type_condition:
            type_condition = False
        elif after_alias:
            after_alias = False
        elif not stack:
            continue  # `query`, an operation's or fragment's name, `on`, a type
        elif after_spread:
            after_spread = False
            if lexeme == "on":
                type_condition = True
            else:
                merged = stack[-1]
                cost += 1 + merged.spreads
                merged.spreads += 1
                opens = None
        else:
            merged = stack[-1]
            repeats = merged.seen.get(lexeme, 0)
            merged.seen[lexeme] = repeats + 1
            cost += 1 + repeats
            opens = ("field", lexeme)
    return Prescan(tokens=len(lexemes), selections=cost)

"""The JSON request parser of every API endpoint (the widget's and the server API's), and the
one definition of a JSON value PostgreSQL cannot store.

Three kinds of valid JSON that PostgreSQL cannot store: the NUL character ("\\u0000") and
unpaired UTF-16 surrogates ("\\ud800") anywhere in a string or a key, and numbers beyond a
float's range (1e400 parses as infinity). PostgreSQL's text and jsonb types reject all
three, so a JSON field holding them (event properties, contact attributes, survey texts…)
was a 500 in full mode while SQLite stored it happily — found by the fuzzing suite run on
PostgreSQL. `unstorable` says which values hold them: the request middleware
(vocsite.middleware) refuses a body with the escaped text ones before any view runs, and
this parser refuses the numbers, which only parsing reveals (the same function, so the
middleware and the parser cannot disagree).

JSON nested deeply enough to exhaust Python's recursion limit is a 400 too (the stock parser
only catches ValueError).
"""

from __future__ import annotations

import math
import re
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(value: Any) -> bool:
    """Whether a parsed JSON value holds something PostgreSQL cannot store (see above)."""
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, float):
        return not math.isfinite(value)  # 1e400 parses as inf; jsonb has no infinity
    if isinstance(value, dict):
        return any(unstorable(k) or unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(unstorable(item) for item in value)
    return False


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
            refused = unstorable(data)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        if refused:
            raise ParseError(
                "JSON parse error - NUL characters, unpaired surrogates and numbers out of"
                " range are not accepted."
            )
        return data

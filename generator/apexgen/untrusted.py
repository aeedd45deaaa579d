"""Bounds on what apexgen reads from files and answers it does not control (a project's JSON files, a
conversation file, an org's or the Models API's answers), so a hostile input is an error, not a crash.

Python's JSON reader recurses once per nesting level: ``[[[[...]]]]`` a hundred thousand deep raises
RecursionError, which no reader expects. ``json_loads`` makes that the JSONDecodeError (a ValueError) every
caller already handles as "not valid JSON".
"""

from __future__ import annotations

import json
from typing import Any

# Deeper nesting than any file or answer apexgen reads has (sfdx-project.json, the manifest, the journal, the
# APIs' answers are all within ten levels); the same bound for XML elements is libxml2's default, which lxml
# and so the check apply too.
MAX_NESTING = 256
# An answer larger than this is refused before it is read whole: the Metadata API's largest answer, a
# retrieve of the documented 39 MB zip limit in base64, is about 52 MB.
MAX_ANSWER_BYTES = 128 * 1024 * 1024


def json_loads(text: str | bytes) -> Any:
    """``json.loads``, with nesting beyond what Python can recurse through raised as JSONDecodeError."""
    try:
        return json.loads(text)
    except RecursionError:
        document = text.decode("utf-8", errors="replace") if isinstance(text, bytes) else text
        raise json.JSONDecodeError("nested too deeply to be read", document, 0) from None

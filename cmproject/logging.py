"""Keep PHI out of log lines: query strings, request objects and exception messages.

Paths hold only opaque ids (UUIDs); query strings can hold names typed into a search, and a
database error's message can echo the row it refused (``Key (first_name, ...)=(...)``).
"""

import logging
import re
import traceback

# A query string after a path: "/intakeq/patients/?q=Smith" keeps "/intakeq/patients/".
_QUERY_STRING = re.compile(r"(/[^\s?\"]*)\?[^\s\"]+")


class RedactRequestFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if hasattr(record, "request"):
            # AdminEmailHandler and others render the request, POST data included.
            record.request = None
        if isinstance(record.args, tuple):
            record.args = tuple(
                _redact(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        if isinstance(record.msg, str):
            record.msg = _redact(record.msg)
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, _, tb = record.exc_info
            frames = "".join(traceback.format_tb(tb))
            record.exc_text = (
                f"Traceback (most recent call last):\n{frames}"
                f"{exc_type.__module__}.{exc_type.__qualname__}: [message redacted]"
            )
            record.exc_info = None
        return True


def _redact(text: str) -> str:
    return _QUERY_STRING.sub(r"\1?[redacted]", text)

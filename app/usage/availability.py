"""Whether a service the usage path depends on answers, as last seen, with one log line per change of
state (never one per retry): Redis for the buffer and the worker, the database for the flush."""

import logging
import time

# How redis-py introduces what Redis answered to a pipeline's command: "Command # 1 (…) of pipeline caused error: …".
PIPELINE_ERROR = " of pipeline caused error: "


class Availability:
    def __init__(self, log: logging.Logger, who: str, service: str, *, while_down: str) -> None:
        self.log = log
        self.who = who
        self.service = service
        self.while_down = while_down
        self.reachable = True
        self._down_since = 0.0

    def down(self, error: BaseException) -> None:
        if not self.reachable:
            return
        self.reachable = False
        self._down_since = time.monotonic()
        reason = _reason(error)
        self.log.warning(
            "%s: %s is unavailable (%s%s); %s",
            self.who,
            self.service,
            type(error).__name__,
            f": {reason}" if reason else "",
            self.while_down,
        )

    def up(self) -> None:
        if self.reachable:
            return
        self.reachable = True
        self.log.info(
            "%s: %s is available again after %.1f s", self.who, self.service, time.monotonic() - self._down_since
        )


def _reason(error: BaseException) -> str:
    """The error's message in one printable line. Of a refused pipeline, Redis's own answer: redis-py's
    message first repeats the command, and arq's commands carry a pickled job (bytes, newlines)."""
    text = str(error)
    if PIPELINE_ERROR in text:
        text = text.rsplit(PIPELINE_ERROR, 1)[1]
    line = (text.splitlines() or [""])[0]
    return "".join(char if char.isprintable() else "?" for char in line)[:200]

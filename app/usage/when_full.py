"""Scripts Redis runs even when it is full: at its `maxmemory` with nothing to evict (`noeviction`).

Such a Redis refuses every write that may grow it (OOM), a script's first one included. Two of
Keyward's writes must still be taken then, and grow nothing: the revocation epoch's bump (refused,
other processes would answer a revoked credential from their cache once memory is freed) and the
flush lease (refused, no flush could ever take the uses out of Redis and free it). They declare
`allow-oom` (Redis 7); a server that does not read the declaration (Redis 6) is sent the bare script.
"""

from collections.abc import Sequence

from redis.asyncio import Redis
from redis.exceptions import ResponseError

ALLOW_OOM = "#!lua flags=allow-oom\n"


def _is_unread_declaration(exc: ResponseError) -> bool:
    """Redis 6 compiles the `#!lua` line as code and fails on it."""
    return "compiling script" in str(exc) and "'#'" in str(exc)


async def eval_when_full(redis: Redis, body: str, keys: Sequence[str], args: Sequence[str]) -> object:
    """EVAL `body` declared `allow-oom` (bare on Redis 6); raises what redis-py raises."""
    try:
        return await redis.eval(ALLOW_OOM + body.lstrip(), len(keys), *keys, *args)  # type: ignore[misc]
    except ResponseError as exc:
        if not _is_unread_declaration(exc):
            raise
    return await redis.eval(body, len(keys), *keys, *args)  # type: ignore[misc]

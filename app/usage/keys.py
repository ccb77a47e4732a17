"""Every Redis key the usage buffer uses, in one place (like arq's constants.py).

The braces are a Redis Cluster hash tag: all keys land in one slot, so the Lua scripts that
touch several of them at once stay valid on a cluster too.
"""

PREFIX = "keyward:{usage}"

# Newest use per member (``"<kind>:<id>"``): sorted set scored by epoch microseconds, and the
# client IP of that newest use in a hash beside it.
PENDING = f"{PREFIX}:pending"
PENDING_IP = f"{PREFIX}:pending:ip"

# What a flush has taken from PENDING and not yet seen committed to the database, one round (at
# most a batch) at a time: the ids of the rounds in flight, and each round's uses and IPs (JSON).
ROUNDS = f"{PREFIX}:rounds"


def round_key(round_id: str) -> str:
    return f"{PREFIX}:round:{round_id}"


# What a flush of an earlier version took (all of PENDING, renamed): written as a round of its own.
LEGACY_PROCESSING = f"{PREFIX}:processing"
LEGACY_PROCESSING_IP = f"{PREFIX}:processing:ip"

# The flush lease: the owner id of the one flush that may take and complete rounds, with an
# expiry its owner keeps renewing; a dead owner's lease expires and the next flush takes over.
FLUSH_LEASE = f"{PREFIX}:flush:lease"

# Uses the database refused, or entries that could not be read, moved aside (a capped list of JSON
# objects, newest first) so that they never block a batch again.
DEAD_LETTERS = f"{PREFIX}:dead"
DEAD_LETTERS_KEPT = 10_000

# The revocation epoch (app/credentials/epoch.py): a counter every revoking mutation bumps after it
# committed, read by the same script that records a use, so that each process knows when the
# credentials it cached may have been revoked. Beside the usage keys (one slot) for that script.
REVOCATION_EPOCH = f"{PREFIX}:revocation:epoch"

# Everything a drained buffer no longer holds (the dead letters stay on purpose).
ALL = (PENDING, PENDING_IP, ROUNDS, LEGACY_PROCESSING, LEGACY_PROCESSING_IP, FLUSH_LEASE)

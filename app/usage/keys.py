"""Every Redis key the usage buffer uses, in one place (like arq's constants.py).

The braces are a Redis Cluster hash tag: all keys land in one slot, so the Lua scripts that
touch several of them at once stay valid on a cluster too.
"""

PREFIX = "keyward:{usage}"

# Newest use per member (``"<kind>:<id>"``): sorted set scored by epoch microseconds, and the
# client IP of that newest use in a hash beside it.
PENDING = f"{PREFIX}:pending"
PENDING_IP = f"{PREFIX}:pending:ip"

# What a flush has taken (renamed from PENDING) and not yet seen committed to the database.
PROCESSING = f"{PREFIX}:processing"
PROCESSING_IP = f"{PREFIX}:processing:ip"
# The flush lease: the owner id of the one flush that may take and complete PROCESSING, with an
# expiry its owner keeps renewing; a dead owner's lease expires and the next flush takes over.
FLUSH_LEASE = f"{PREFIX}:flush:lease"

# Uses the database refused, or entries that could not be read, moved aside (a capped list of JSON
# objects, newest first) so that they never block a batch again.
DEAD_LETTERS = f"{PREFIX}:dead"
DEAD_LETTERS_KEPT = 10_000

# Everything a drained buffer no longer holds (the dead letters stay on purpose).
ALL = (PENDING, PENDING_IP, PROCESSING, PROCESSING_IP, FLUSH_LEASE)

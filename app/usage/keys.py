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
# Which flush currently owns PROCESSING: only that flush may delete it.
PROCESSING_OWNER = f"{PREFIX}:processing:owner"

ALL = (PENDING, PENDING_IP, PROCESSING, PROCESSING_IP, PROCESSING_OWNER)

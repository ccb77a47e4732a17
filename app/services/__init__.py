"""Domain rules, one module per domain. No GraphQL here: callers pass plain values and a Principal."""

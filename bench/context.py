"""What every benchmark gets: the run's profile (durations, sizes) and where the services are."""

import dataclasses
from dataclasses import dataclass

from bench import log


@dataclass(frozen=True)
class Profile:
    name: str
    warmup_seconds: float  # wrk warm-up per subject, not measured
    measure_seconds: float  # one measured wrk run
    rounds: int  # measured runs per subject, in alternating order (ABBA...)
    count_requests: int  # requests whose UPDATEs are counted (batching row)
    memory_requests: int  # requests of the memory row
    memory_first: int  # RSS baseline taken after this many
    flush_tokens: int  # distinct buffered tokens of the flush row
    flush_repeats: int  # flush and baseline timed this many times each (median)
    sweep_sizes: tuple[int, int]  # tokens of the small and the large sweep
    record_samples: int  # sequential record() calls timed for the request-path latency
    revocation_pairs: int  # revoke-in-one-process / verify-in-the-other pairs of the revocation row

    def describe(self) -> dict[str, object]:
        return dataclasses.asdict(self)


FULL = Profile(
    name="full",
    warmup_seconds=3,
    measure_seconds=10,
    rounds=4,  # with 2, three runs of the same code gave row 1 ratios from 0.50 to 0.56 on a shared 2-core VM
    count_requests=10_000,
    memory_requests=100_000,
    memory_first=1_000,
    flush_tokens=100_000,
    flush_repeats=3,
    sweep_sizes=(100_000, 1_000_000),
    record_samples=2_000,
    revocation_pairs=1_000,
)

# A smoke run: every benchmark end to end in a minute or two, same targets, small sizes.
QUICK = Profile(
    name="quick",
    warmup_seconds=1,
    measure_seconds=2,
    rounds=1,
    count_requests=1_000,
    memory_requests=5_000,
    memory_first=1_000,
    flush_tokens=10_000,
    flush_repeats=1,
    sweep_sizes=(10_000, 100_000),
    record_samples=200,
    revocation_pairs=100,
)


@dataclass
class Bench:
    profile: Profile
    database_url: str  # the migrated bench database (Tortoise/asyncpg URL)
    redis_url: str

    def say(self, message: str) -> None:
        log.say(message)

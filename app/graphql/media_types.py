"""Which media type a GraphQL-over-HTTP answer is sent as, read from the request's ``Accept`` header.

The GraphQL over HTTP specification defines ``application/graphql-response+json``: a client that
asks for it gets HTTP status codes that say whether the operation ran (400 and no ``data`` for a
document that does not parse or validate, or variables that do not coerce). Clients that ask for
``application/json``, or send no ``Accept`` at all, keep the older convention (200 with
``"data": null``), as the specification requires until every client has moved.
"""

from dataclasses import dataclass

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    quality: float

    def specificity(self, media_type: str) -> int | None:
        """How exactly this range names ``media_type`` (2 exact, 1 ``type/*``, 0 ``*/*``), or None."""
        wanted_type, _, wanted_subtype = media_type.partition("/")
        if self.type == "*" and self.subtype == "*":
            return 0
        if self.type != wanted_type:
            return None
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == wanted_subtype else None


def parse_accept(header: str | None) -> list[MediaRange]:
    """The media ranges of an ``Accept`` header, with their ``q`` weights (1 when absent or unreadable)."""
    ranges = []
    for part in (header or "").split(","):
        media_type, *parameters = (piece.strip() for piece in part.split(";"))
        kind, slash, subtype = media_type.lower().partition("/")
        if not slash or not kind or not subtype:
            continue
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 1.0
        ranges.append(MediaRange(kind, subtype, quality))
    return ranges


def _quality(ranges: list[MediaRange], media_type: str) -> tuple[float, int]:
    """The weight the client gives ``media_type`` (its most specific matching range's) and that specificity."""
    best: tuple[int, float] | None = None
    for media_range in ranges:
        specificity = media_range.specificity(media_type)
        if specificity is not None and (best is None or specificity > best[0]):
            best = (specificity, media_range.quality)
    if best is None:
        return 0.0, -1
    return best[1], best[0]


def response_media_type(accept: str | None) -> str:
    """``application/graphql-response+json`` when the client names it and prefers it at least as much as
    ``application/json``; ``application/json`` otherwise (also for ``*/*``, no header, or nothing acceptable)."""
    ranges = parse_accept(accept)
    graphql_quality, graphql_specificity = _quality(ranges, GRAPHQL_RESPONSE_JSON)
    json_quality, _ = _quality(ranges, APPLICATION_JSON)
    if graphql_specificity == 2 and graphql_quality > 0 and graphql_quality >= json_quality:
        return GRAPHQL_RESPONSE_JSON
    return APPLICATION_JSON

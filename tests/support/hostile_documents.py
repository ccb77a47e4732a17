"""GraphQL documents that cost a server more than their size suggests."""

import secrets


def repeated_viewer_document(repetitions: int = 490) -> str:
    """The repeated-field document: one field repeated (6.4 KB, 1,962 tokens at 490), each operation named anew
    so that no cache of parsed or validated documents helps."""
    return f"query Q{secrets.token_hex(4)} {{ {' '.join(['viewer{kind}'] * repetitions)} }}"


def long_argument_document(values: int = 1950) -> str:
    """One selection whose argument list holds nearly all of the token limit: nothing to count but tokens."""
    return f"query Q{secrets.token_hex(4)} {{ viewer(x: [{' '.join(['1'] * values)}]) {{ kind }} }}"

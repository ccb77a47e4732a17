"""What a password must be, checked everywhere one is set (sign-up, adding a member).

Length first (10 to 256 characters), then two refusals a person can act on, as NIST SP 800-63B asks
of a verifier: passwords that are, or are built only from, the person's own email address, and
passwords an attacker guesses early. The second is zxcvbn's estimate (Dropbox's estimator, with
its frequency lists of common passwords, words and names shipped in the package, no network):
below score 3, fewer than 10^8 guesses, is refused, with zxcvbn's own hint. `aaaaaaaaaa` (a
repeat) and `1234567890` (a top-100 password) score 0; "correct horse battery" scores 4.
"""

import re
import unicodedata

from app.security.passwords import MAX_LENGTH, MIN_LENGTH
from app.services.errors import UserInputError

MIN_SCORE = 3
# zxcvbn refuses longer input (its matching grows faster than the length); the first 72
# characters of a longer password are what it scores.
SCORED_PREFIX = 72
# Words that say "this service" in a password as much as the email does.
SERVICE_WORDS = ("keyward",)


def check_password(password: str, email: str, field: str = "password") -> None:
    """Raises UserInputError naming the field. CPU-bound on long input: call it in a worker thread."""
    if len(password) < MIN_LENGTH:
        raise UserInputError(f"Password must be at least {MIN_LENGTH} characters.", "PASSWORD_TOO_SHORT", (field,))
    if len(password) > MAX_LENGTH:
        raise UserInputError(f"Password must be at most {MAX_LENGTH} characters.", "PASSWORD_TOO_LONG", (field,))
    words = _email_words(email)
    if _built_from(password, email, words):
        raise UserInputError(
            "Password cannot be your email address or made from its parts: add words of your own.",
            "PASSWORD_FROM_EMAIL",
            (field,),
        )
    from zxcvbn import zxcvbn  # its frequency lists are large: loaded only in processes that set passwords

    estimate = zxcvbn(password[:SCORED_PREFIX], user_inputs=[email, *words, *SERVICE_WORDS])
    if estimate["score"] < MIN_SCORE:
        feedback = estimate["feedback"]
        hints = " ".join(part for part in [feedback["warning"], *feedback["suggestions"]] if part)
        raise UserInputError(
            f"Password is too easy to guess. {hints or 'Add another word or two.'}".strip(),
            "PASSWORD_TOO_WEAK",
            (field,),
        )


def _email_words(email: str) -> list[str]:
    """The address's parts a person might build a password from: `ada.lovelace@example.com` ->
    ada, lovelace, ada.lovelace, example (top-level domains and parts under 3 characters left out)."""
    local, _, domain = email.casefold().partition("@")
    parts = {local, *re.split(r"[._+\-]", local), *domain.split(".")[:-1]}
    return sorted((p for p in parts if len(p) >= 3), key=len, reverse=True)


def _built_from(password: str, email: str, words: list[str]) -> bool:
    """The email itself, or its words with nothing but digits, punctuation and spaces added."""
    text = unicodedata.normalize("NFKC", password).casefold()
    if email.casefold() in text:
        return True
    rest = text
    for word in words:
        rest = rest.replace(word, "")
    return rest != text and not any(ch.isalpha() for ch in rest)

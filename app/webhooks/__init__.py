"""Outbound webhook mechanics with no storage: signing, destination safety, one HTTP attempt."""

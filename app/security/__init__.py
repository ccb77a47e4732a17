"""Leaf helpers every layer may use: token format, hashing, passwords, permissions, principals."""

"""Keyward: workspace administration with projects, API keys and management tokens."""

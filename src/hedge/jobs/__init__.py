"""Periodic work of the server process."""

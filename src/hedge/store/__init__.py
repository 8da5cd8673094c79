"""The store: tables, the repository, migrations and the change feed, on SQLite or PostgreSQL."""

"""The server: the GraphQL API (Strawberry on Starlette) over the store, with subscriptions fed by
the change feed, and the `hedge server` command."""

"""The pure domain core: values, entities, state machines, symbol specs and trail rules.

Nothing here imports asyncio, a database, a WebSocket or a GraphQL library.
"""

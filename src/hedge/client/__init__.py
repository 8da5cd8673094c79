"""The one shared way to reach a Hedge System server: GraphQL over HTTP and graphql-transport-ws.

Used by the agent, the demo, the benchmarks, the CLI commands and the tests; it imports nothing of
the server's or the store's packages, so a trading PC's program needs neither.
"""

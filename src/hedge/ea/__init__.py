"""The EA side in Python: the EA protocol's messages and codec (shared with the agent), the paper
EA (a simulated terminal), the conformance kit for any EA, and `hedge ea-install` for the MQL
sources. Imports neither the server nor the store."""

"""The Hedge System agent: one per user/PC, between the server and that PC's MetaTrader EAs."""

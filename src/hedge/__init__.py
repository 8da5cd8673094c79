"""Hedge System: run and hedge positions across many MetaTrader accounts."""

"""Dangerous goods: the ADR 2025 list and rules (JT/T 617 follows ADR), assessment of loads, and monitoring."""

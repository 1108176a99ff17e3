"""The audit trail: recording every security-relevant act, and reading it back in scope."""

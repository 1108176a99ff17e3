"""Business rules: one module per capability; every function takes the acting principal first."""

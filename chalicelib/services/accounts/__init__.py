"""People's own accounts: login and lockout, sessions, profile, password reset, e-mail change, mailed one-time links."""

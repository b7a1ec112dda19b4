"""Access: sign-in accounts, optional TOTP second factor, and hashed, scoped, expiring API tokens."""

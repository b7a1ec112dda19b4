"""Access: sign-in accounts, an optional TOTP second factor, hashed scoped expiring tokens."""

"""Notifications: an outbox of e-mails and webhook posts, written with the change, sent later."""

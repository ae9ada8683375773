"""Fixtures for a real SMTP server (aiosmtpd); filled in by the SMTP work."""

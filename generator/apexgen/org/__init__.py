"""Talking to an org: logging in, the Metadata API (SOAP), the Tooling API, what they report, and polling."""

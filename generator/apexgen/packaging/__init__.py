"""Managed and unlocked packages: 2GP versions in the Dev Hub, 1GP uploads in the packaging org."""

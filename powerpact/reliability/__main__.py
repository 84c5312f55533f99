"""``python -m powerpact.reliability [--full]``."""

from powerpact.reliability import reliability_command

reliability_command()

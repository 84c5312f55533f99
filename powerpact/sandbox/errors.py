"""The one exception of the sandbox."""


class SandboxError(ValueError):
    """A control or mutation input the sandbox refuses; the message says why."""

"""The one sentence every configuration error reads as."""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration value is invalid; the message says which and how to fix it."""


class FieldError(ConfigError):
    """One field of a section is invalid: ``field = value is invalid; allowed.``

    A section raises it naming its own field; the environment that holds the
    section adds its name and the section's (``within``), so the message a
    user reads names the environment, the field, the bad value and what is allowed.
    """

    def __init__(self, field: str, value: object, allowed: str) -> None:
        """Name the field, the bad value and what is allowed."""
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field} = {value!r} is invalid; {allowed}.")

    def within(self, environment: str, section: str | None = None) -> ConfigError:
        """The same error, said of ``section`` of ``environment``."""
        field = f"{section}.{self.field}" if section else self.field
        return ConfigError(f"environment '{environment}': {field} = {self.value!r} is invalid; {self.allowed}.")


class MissingFieldError(FieldError):
    """A required field is not given: ``field is missing; what to give.``"""

    def __init__(self, field: str, allowed: str) -> None:
        """Name the missing field and what to give."""
        super().__init__(field, None, allowed)
        self.args = (f"{field} is missing; {allowed}.",)

    def within(self, environment: str, section: str | None = None) -> ConfigError:
        """The same error, said of ``section`` of ``environment``."""
        field = f"{section}.{self.field}" if section else self.field
        return ConfigError(f"environment '{environment}': {field} is missing; {self.allowed}.")

"""The one error type of the RabbitMQ add-on."""
from __future__ import annotations

from hoist.addons.errors import AddonError


class AmqpError(AddonError):
    """A RabbitMQ add-on failure; the message says what went wrong and what to do next."""

"""Bot API methods. Importing this package registers every method in `registry.METHODS`."""

from chainfluence_sandbox.telegram.methods import (  # noqa: F401  (registration side effect)
    bot,
    chats,
    delivery,
    editing,
    messages,
)
from chainfluence_sandbox.telegram.methods.registry import METHODS, execute

__all__ = ["METHODS", "execute"]

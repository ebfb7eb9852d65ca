from .networks import QNetwork
from .target import hard_update, soft_update

__all__ = ["QNetwork", "hard_update", "soft_update"]

from .monitor import loss_grad_norm

__all__ = ["loss_grad_norm"]

import torch


def loss_grad_norm(loss, model):
    """Norm of d(loss)/d(params), logged every step to watch for exploding gradients."""
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss, params)
    return torch.sqrt(sum((g ** 2).sum() for g in grads)).item()

import torch


def charbonnier(pred, target, eps=1e-3):
    return torch.sqrt((pred - target) ** 2 + eps * eps).mean()


def multi_stage_loss(outputs, target):
    """Sum of the Charbonnier losses of every refinement stage."""
    per_stage = torch.tensor([charbonnier(o, target) for o in outputs], requires_grad=True)
    return per_stage.sum()

import torch


@torch.no_grad()
def soft_update(target, online, tau=0.05):
    """Polyak averaging: target <- (1 - tau) * target + tau * online."""
    for t, o in zip(target.parameters(), online.parameters()):
        t.mul_(1.0 - tau).add_(o, alpha=tau)


def hard_update(target, online):
    target.load_state_dict(online.state_dict())
    for p in target.parameters():
        p.requires_grad_(False)

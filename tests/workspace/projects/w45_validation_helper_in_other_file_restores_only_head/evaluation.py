import torch.nn.functional as F


def set_trainable(module, flag):
    for p in module.parameters():
        p.requires_grad = flag


def validate(model, x, y):
    set_trainable(model, False)
    model.eval()
    loss = F.cross_entropy(model(x), y).item()
    set_trainable(model.head, True)
    model.train()
    return loss

import torch.nn as nn


def param_groups(model, weight_decay):
    decay, no_decay = [], []
    for module_name, module in model.named_modules():
        for name, param in module.named_parameters(recurse=False):
            if isinstance(module, nn.Linear) and name == "weight":
                decay.append(param)
            elif isinstance(module, (nn.LayerNorm, nn.Embedding)) or name.endswith("bias"):
                no_decay.append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]

def freeze(module):
    """Stop training a module: no gradients, BatchNorm statistics fixed."""
    module.requires_grad_(False)
    module.eval()
    return module

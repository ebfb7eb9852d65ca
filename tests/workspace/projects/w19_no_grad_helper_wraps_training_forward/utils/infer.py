import torch


@torch.no_grad()
def forward_batch(model, batch, device="cpu"):
    """Move a (inputs, targets) batch to the device and run the model; shared by the train and eval loops."""
    inputs, targets = batch
    inputs, targets = inputs.to(device), targets.to(device)
    return model(inputs), targets

import numpy as np
import torch


def l2_normalize(features, eps=1e-8):
    """Row-wise L2 normalisation (ported from the sklearn preprocessing step of the first prototype)."""
    arr = features.detach().cpu().numpy()
    arr = arr / (np.linalg.norm(arr, axis=1, keepdims=True) + eps)
    return torch.from_numpy(arr).to(features.device)

import torch.nn as nn


def reset_classifier(model, num_classes):
    """Swap the classification head for a new task (timm-style)."""
    in_features = model.head.in_features
    model.head = nn.Linear(in_features, num_classes)
    return model

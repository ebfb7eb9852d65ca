def freeze_backbone(model):
    """Freeze the pretrained feature extractor before fine-tuning the classifier."""
    for name, param in model.named_parameters():
        param.requires_grad = False
    return model


def trainable_parameters(model):
    return filter(lambda p: p.requires_grad, model.parameters())

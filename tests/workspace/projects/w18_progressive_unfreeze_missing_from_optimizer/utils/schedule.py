def set_trainable(module, flag):
    for p in module.parameters():
        p.requires_grad = flag


class GradualUnfreeze:
    """ULMFiT-style schedule: the encoder is unfrozen after `warmup_epochs` epochs of head-only training."""

    def __init__(self, model, warmup_epochs=1):
        self.model, self.warmup_epochs = model, warmup_epochs
        set_trainable(model.encoder, False)

    def on_epoch_start(self, epoch):
        if epoch == self.warmup_epochs:
            set_trainable(self.model.encoder, True)

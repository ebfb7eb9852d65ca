from layers import LoRALinear


def add_adapters(net, rank=2):
    """Freeze the pretrained weights, then put a LoRA adapter on every block's projection."""
    net.requires_grad_(False)
    for blk in net.blocks:
        blk.proj = LoRALinear(blk.proj, rank=rank)
    net.head.requires_grad_(True)
    return net

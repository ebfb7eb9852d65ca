from torch.autograd import Function


class GradReverse(Function):
    """Gradient reversal layer for domain-adversarial training (DANN)."""

    def __init__(self, lambd=1.0):
        super().__init__()
        self.lambd = lambd

    def forward(self, x):
        return x.view_as(x)

    def backward(self, grad_output):
        return grad_output.neg() * self.lambd


def grad_reverse(x, lambd=1.0):
    return GradReverse(lambd)(x)

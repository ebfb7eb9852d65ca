"""Extra static cases for the grad-mode / graph-lifetime / custom-Function rules (GG501, GG9xx):
look-alikes from real training code that must stay silent, and variants that must be reported."""
from __future__ import annotations

import pytest

from gradguard.analyze import analyze
from gradguard.core.model import Severity

SILENT = {
    "GG501-ema-teacher-not-trained": """
import torch
from torch import nn

def train(student, teacher, loader):
    opt = torch.optim.SGD(student.parameters(), lr=0.1)
    for x in loader:
        with torch.no_grad():
            target = teacher(x)
        loss = (student(x) - target).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
""",
    "GG501-guidance-inside-no-grad": """
import torch

class Pipe:
    @torch.no_grad()
    def __call__(self, latents):
        noise = self.unet(latents)
        with torch.enable_grad():
            lat = latents.detach().requires_grad_(True)
            score = self.scorer(lat).sum()
            score.backward()
        return noise + lat.grad
""",
    "GG901-total-backpropagated-after-loop": """
import torch

def step(model, batches, opt):
    total = 0
    for x, y in batches:
        total += torch.nn.functional.mse_loss(model(x), y)
    total.backward()
    opt.step()
""",
    "GG901-total-returned": """
import torch

def multi_loss(model, x, ys):
    total = 0
    for y in ys:
        loss = (model(x) - y).pow(2).mean()
        loss.backward(retain_graph=True)
        total += loss
    return total
""",
    "GG902-detached-each-chunk": """
import torch
from torch import nn

def train(rnn, head, chunks, opt):
    hidden = None
    for x, y in chunks:
        if hidden is not None:
            hidden = hidden.detach()
        out, hidden = rnn(x, hidden)
        loss = (head(out) - y).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
""",
    "GG902-rollout-under-no-grad": """
import torch

def collect(policy, env, opt, h):
    for t in range(100):
        with torch.no_grad():
            action, h = policy(env.obs, h)
        loss = policy.loss(env.obs)
        loss.backward()
        opt.step()
""",
    "GG903-retain-first": """
import torch

def two(enc, a, b, x):
    z = enc(x)
    la, lb = a(z).mean(), b(z).mean()
    la.backward(retain_graph=True)
    lb.backward()
""",
    "GG903-separate-forwards": """
import torch

def two(enc, a, b, x):
    la = a(enc(x)).mean()
    la.backward()
    lb = b(enc(x)).mean()
    lb.backward()
""",
    "GG911-abstract-base": """
import torch

class _Base(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

class Doubler(_Base):
    @staticmethod
    def backward(ctx, g):
        return g * 2
""",
    "GG912-star-return": """
import torch

class F(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, y, z):
        return x + y + z

    @staticmethod
    def backward(ctx, g):
        grads = (g, g, g)
        return grads
""",
    "GG912-setup-context-style": """
import torch

class F(torch.autograd.Function):
    @staticmethod
    def forward(x, k):
        return x * k

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.k = inputs[1]

    @staticmethod
    def backward(ctx, g):
        return g * ctx.k, None
""",
}

REPORTED = {
    "GG901-inner-loop-of-epochs": ("GG901", """
import torch

def fit(model, loader, opt, epochs):
    for epoch in range(epochs):
        running = 0.0
        for x, y in loader:
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            running += loss
        print(epoch, running / len(loader))
"""),
    "GG902-lstm-cell-tuple": ("GG902", """
import torch
from torch import nn

def train(cell, head, xs, opt):
    h = torch.zeros(2, 4)
    c = torch.zeros(2, 4)
    for x in xs:
        h, c = cell(x, (h, c))
        loss = head(h).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
"""),
    "GG912-too-many": ("GG912", """
import torch

class F(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2, g
"""),
}


@pytest.mark.parametrize("name", sorted(SILENT))
def test_silent(name):
    res = analyze(SILENT[name], "case.py")
    loud = [(f.code, f.start.line, f.message) for f in res.findings if f.severity in (Severity.ERROR, Severity.WARNING) and f.code[:3] in ("GG5", "GG9")]
    assert not loud, loud


@pytest.mark.parametrize("name", sorted(REPORTED))
def test_reported(name):
    code, src = REPORTED[name]
    res = analyze(src, "case.py")
    assert any(f.code == code for f in res.findings), [(f.code, f.start.line, f.message) for f in res.findings]


def test_inference_clone_workaround_is_silent():
    src = """
import torch

def fit(backbone, head, x, y, opt):
    with torch.inference_mode():
        feats = backbone(x)
    feats = feats.clone()
    loss = torch.nn.functional.cross_entropy(head(feats), y)
    loss.backward()
    opt.step()
"""
    res = analyze(src, "case.py")
    assert not [f for f in res.findings if f.code == "GG501"]


def test_inference_without_clone_is_reported():
    src = """
import torch

def fit(backbone, head, x, y, opt):
    with torch.inference_mode():
        feats = backbone(x)
    loss = torch.nn.functional.cross_entropy(head(feats), y)
    loss.backward()
    opt.step()
"""
    res = analyze(src, "case.py")
    assert [f for f in res.findings if f.code == "GG501" and f.severity == Severity.ERROR]


def test_backward_bound_by_assignment_is_silent():
    src = """
import torch

def _bwd(ctx, g):
    return g

class Ident(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    backward = staticmethod(_bwd)

y = Ident.apply(torch.ones(2, requires_grad=True))
"""
    res = analyze(src, "case.py")
    assert not [f for f in res.findings if f.code == "GG911"]

"""GG704 detach-inplace-on-view: ``t[i].detach_()`` (or ``t.view(...).detach_()``): torch cannot detach a view in place."""
from __future__ import annotations

import re

from gradguard.core.model import Severity
from gradguard.rules.base import Example, Rule

_DETACH_ = re.compile(r"\.\s*detach_\s*\(")


class DetachInplaceOnView(Rule):
    code = "GG704"
    name = "detach-inplace-on-view"
    summary = "`detach_()` is called on a view of a tensor (`state[0].detach_()`): torch raises `Can't detach views in-place`."
    severity = Severity.ERROR
    needs = ("detach_",)
    docs = """
## What it does
Flags `detach_()` called on a view of a tensor: an element or slice taken by basic indexing (`state[0]`,
`h[:, -1]`), or the result of a view method (`x.view(-1)`, `x.t()`, `x.transpose(0, 1)`, ...), when the indexed
object is known to be a tensor (a stacked state `torch.stack([h, c])`, a tensor a model returns), not a tuple or a
list of tensors (`(h, c)[0].detach_()` detaches `h` itself and is fine).

## Why is this bad?
`detach_()` changes the tensor's own autograd identity, and a view shares it with its base: torch refuses and raises
`RuntimeError: Can't detach views in-place. Use detach() instead.` on any view, whether or not it requires grad. In
truncated backpropagation through time (`hidden[0].detach_(); hidden[1].detach_()` on a hidden state kept as one
stacked tensor) the first chunk trains and the second raises.

## Example
```python
logits, state = model(chunk, state)        # state = torch.stack([h, c])
loss.backward()
state[0].detach_()
state[1].detach_()
```

## Use instead
```python
state = state.detach()
```

## Fix safety
No fix is offered: the right rebinding (`state = state.detach()`, or detaching each tensor of a tuple) depends on
how the rest of the code holds the state.
"""
    examples = (
        Example(
            name="stacked-lstm-state-detached-in-place-by-index",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class CharLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        self.lstm = nn.LSTM(4, 8, batch_first=True)
        self.head = nn.Linear(8, 10)

    def forward(self, tokens, state):
        out, (h, c) = self.lstm(self.embed(tokens), (state[0], state[1]))
        return self.head(out), torch.stack([h, c])


def train(model, opt, stream, bptt=4):
    state = torch.zeros(2, 1, stream.shape[0], 8)
    for i in range(0, stream.shape[1] - bptt, bptt):
        logits, state = model(stream[:, i:i + bptt], state)
        loss = F.cross_entropy(logits.reshape(-1, 10), stream[:, i + 1:i + 1 + bptt].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        state[0].detach_()
        state[1].detach_()


def main():
    torch.manual_seed(0)
    model = CharLSTM()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    train(model, opt, torch.arange(40).view(2, 20) % 10)
    return {"model": model}
""",
            lines=(26, 27),
            expect={"error": "Can't detach views in-place"},
        ),
        Example(
            bad=False,
            name="stacked-lstm-state-detached-out-of-place",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class CharLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        self.lstm = nn.LSTM(4, 8, batch_first=True)
        self.head = nn.Linear(8, 10)

    def forward(self, tokens, state):
        out, (h, c) = self.lstm(self.embed(tokens), (state[0], state[1]))
        return self.head(out), torch.stack([h, c])


def train(model, opt, stream, bptt=4):
    state = torch.zeros(2, 1, stream.shape[0], 8)
    for i in range(0, stream.shape[1] - bptt, bptt):
        logits, state = model(stream[:, i:i + bptt], state)
        loss = F.cross_entropy(logits.reshape(-1, 10), stream[:, i + 1:i + 1 + bptt].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        state = state.detach()


def main():
    torch.manual_seed(0)
    model = CharLSTM()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    train(model, opt, torch.arange(40).view(2, 20) % 10)
    return {"model": model}
""",
            expect={"grad_ok": ["model.embed.weight", "model.head.weight"]},
        ),
        Example(
            bad=False,
            name="tuple-lstm-state-detached-in-place-by-index",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class CharLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        self.lstm = nn.LSTM(4, 8, batch_first=True)
        self.head = nn.Linear(8, 10)

    def forward(self, tokens, state):
        out, (h, c) = self.lstm(self.embed(tokens), state)
        return self.head(out), (h, c)


def train(model, opt, stream, bptt=4):
    state = (torch.zeros(1, stream.shape[0], 8), torch.zeros(1, stream.shape[0], 8))
    for i in range(0, stream.shape[1] - bptt, bptt):
        logits, state = model(stream[:, i:i + bptt], state)
        loss = F.cross_entropy(logits.reshape(-1, 10), stream[:, i + 1:i + 1 + bptt].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        state[0].detach_()
        state[1].detach_()


def main():
    torch.manual_seed(0)
    model = CharLSTM()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    train(model, opt, torch.arange(40).view(2, 20) % 10)
    return {"model": model}
""",
            expect={"grad_ok": ["model.embed.weight", "model.head.weight"]},
        ),
    )

    def check(self, facts):
        seen: set = set()
        if "backward" in facts.source.text:
            facts.backward_flows  # noqa: B018 - walks the training code, so helpers get their callers' contexts
        flows = [*facts.flows_matching(_DETACH_), *(ctx for ctx in facts.flow.context_flows if ctx.events)]
        for fl in flows:
            for ev in fl.events:
                if ev.what != "detach_view" or id(ev.node) in seen:
                    continue
                seen.add(id(ev.node))
                recv = ev.node.func.value
                yield self.finding(
                    facts,
                    ev.node,
                    f"`{facts.text(recv)}` is a view of a tensor: `detach_()` on it raises `Can't detach views in-place`",
                    explanation="A view shares its autograd identity with the tensor it was taken from, so torch cannot detach it in "
                    "place and raises `RuntimeError: Can't detach views in-place. Use detach() instead.` Rebind the whole tensor to "
                    "a detached copy (`state = state.detach()`), or keep the parts as separate tensors.",
                )

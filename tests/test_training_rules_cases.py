"""Extra static cases for GG301/GG302 (module registration) and GG801-GG805 (optimizer/training loop):
look-alikes that must stay silent and variants that must be reported."""
from __future__ import annotations

import pytest

from gradguard.analyze import analyze

HEAD = "import torch\nimport torch.nn as nn\n\n\n"
LIT_UNFREEZE = """import lightning.pytorch as pl


class M(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Linear(4, 4)
        self.head = nn.Linear(4, 2)
        self.backbone.requires_grad_(False)

    def on_train_epoch_start(self):
        if self.current_epoch == 1:
            self.backbone.requires_grad_(True)

    def training_step(self, batch, batch_idx):
        return self.head(self.backbone(batch)).sum()

    def configure_optimizers(self):
        return torch.optim.Adam(PARAMS)
"""

HF_UNFREEZE = """from transformers import Trainer, TrainerCallback, TrainingArguments


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(4, 4)
        self.head = nn.Linear(4, 2)

    def forward(self, x, labels=None):
        return {"loss": self.head(self.encoder(x)).sum()}


class Unfreeze(TrainerCallback):
    def on_epoch_begin(self, args, state, control, model=None, **kwargs):
        if state.epoch >= 1:
            UNFREEZE


def main(data):
    model = Net()
    FREEZE
    trainer = Trainer(model=model, args=TrainingArguments("out"), train_dataset=data, callbacks=[Unfreeze()]OPTS)
    trainer.train()
"""
HF_CASE = HF_UNFREEZE.replace("UNFREEZE", "model.encoder.requires_grad_(True)").replace("FREEZE", "model.encoder.requires_grad_(False)")

LIT_GROUPS = """import torch.nn.functional as F
import lightning.pytorch as pl


class M(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(4, 8)
        self.pool = nn.Linear(8, 8)
        self.head = nn.Linear(8, 2)
        FREEZE

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self.head(self.pool(self.encoder(x))), y)

    def configure_optimizers(self):
        return torch.optim.Adam([
            {"params": self.encoder.parameters(), "lr": 1e-4},
            {"params": GROUP2, "lr": 1e-3},
        ])
"""

CASES = [
    # (code, rule, expected lines)
    ("GG302", "class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.losses = {'mse': nn.MSELoss(), 'act': nn.ReLU()}\n\n    def forward(self, x):\n        return self.losses['act'](x)\n", []),
    ("GG302", "class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.layers = []\n        for i in range(3):\n            layer = nn.Linear(2, 2)\n            self.add_module(f'l{i}', layer)\n            self.layers.append(layer)\n\n    def forward(self, x):\n        return self.layers[0](x)\n", []),
    ("GG302", "class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.layers = []\n        for i in range(3):\n            layer = nn.Linear(2, 2)\n            self.layers.append(layer)\n\n    def forward(self, x):\n        return self.layers[0](x)\n", [11]),
    ("GG301", "class M(nn.Module):\n    def __init__(self, d):\n        super().__init__()\n        self.lin = nn.Linear(d, d)\n        self.pe = torch.randn(10, d)\n\n    def forward(self, x):\n        return self.lin(x) + self.pe\n\n\ndef main():\n    m = M(3)\n    opt = torch.optim.SGD(m.parameters(), lr=0.1)\n", []),
    ("GG301", "class M(nn.Module):\n    def __init__(self, d):\n        super().__init__()\n        self.w = torch.randn(d, d)\n\n    def forward(self, x):\n        return x @ self.w\n", []),
    ("GG802", "def train(model, opt, loader):\n    for x in loader:\n        loss = model(x).sum()\n        loss.backward()\n        opt.step()\n        model.zero_grad()\n", []),
    ("GG802", "def train(model, opt, loader):\n    for x in loader:\n        loss = model(x).sum()\n        loss.backward()\n        opt.step()\n", [8]),
    ("GG802", "def train(model, opt, loader, sched):\n    for x in loader:\n        loss = model(x).sum()\n        loss.backward()\n        sched.step()\n", []),
    ("GG805", "def main(model):\n    params = model.parameters()\n    opt = torch.optim.SGD(params, lr=0.1)\n    n = sum(p.numel() for p in params)\n", []),
    ("GG805", "def main(model, verbose):\n    params = model.parameters()\n    if verbose:\n        n = len(list(params))\n    else:\n        opt = torch.optim.SGD(params, lr=0.1)\n", []),
    ("GG801", "def main(model):\n    opt = torch.optim.SGD(model.parameters(), lr=0.1)\n    model.fc = nn.Linear(2, 2)\n    opt.add_param_group({'params': model.fc.parameters()})\n    opt.step()\n", []),
    ("GG803", "def main(model, loss):\n    opt = torch.optim.SGD(model.parameters(), lr=0.1)\n    loss.backward()\n    model.zero_grad()\n    opt.step()\n", [8]),
    ("GG804", "def main(model, loss, opt):\n    loss.backward()\n    opt.step()\n    opt.zero_grad()\n    loss2 = model(1).sum()\n    loss2.backward()\n", []),
    # Lightning calls training_step once per batch and backpropagates its loss before the next call: a state kept
    # on self there holds a freed graph, unless a hook run every batch resets it or the step stores it detached
    ('GG902', 'import torch.nn.functional as F\nimport lightning.pytorch as pl\n\n\nclass CharLSTM(pl.LightningModule):\n    def __init__(self):\n        super().__init__()\n        self.embed = nn.Embedding(30, 8)\n        self.lstm = nn.LSTM(8, 16, batch_first=True)\n        self.decoder = nn.Linear(16, 30)\n        self.hidden = None\n\n    def on_train_epoch_start(self):\n        self.hidden = None\n\n    def training_step(self, batch, batch_idx):\n        x, y = batch\n        out, self.hidden = self.lstm(self.embed(x), self.hidden)\n        return F.cross_entropy(self.decoder(out).flatten(0, 1), y.flatten())\n\n    def configure_optimizers(self):\n        return torch.optim.Adam(self.parameters())\n', [22]),  # reset once per epoch
    ('GG902', 'import torch.nn.functional as F\nimport lightning.pytorch as pl\n\n\nclass CharLSTM(pl.LightningModule):\n    def __init__(self):\n        super().__init__()\n        self.embed = nn.Embedding(30, 8)\n        self.lstm = nn.LSTM(8, 16, batch_first=True)\n        self.decoder = nn.Linear(16, 30)\n        self.hidden = None\n\n    def on_train_batch_start(self):\n        self.hidden = None\n\n    def training_step(self, batch, batch_idx):\n        x, y = batch\n        out, self.hidden = self.lstm(self.embed(x), self.hidden)\n        return F.cross_entropy(self.decoder(out).flatten(0, 1), y.flatten())\n\n    def configure_optimizers(self):\n        return torch.optim.Adam(self.parameters())\n', []),  # reset once per batch
    ('GG902', 'import torch.nn.functional as F\nimport lightning.pytorch as pl\n\n\nclass CharLSTM(pl.LightningModule):\n    def __init__(self):\n        super().__init__()\n        self.embed = nn.Embedding(30, 8)\n        self.lstm = nn.LSTM(8, 16, batch_first=True)\n        self.decoder = nn.Linear(16, 30)\n        self.hidden = None\n\n    def on_train_epoch_start(self):\n        self.hidden = None\n\n    def training_step(self, batch, batch_idx):\n        x, y = batch\n        out, self.hidden = self.lstm(self.embed(x), self.hidden)\n        self.hidden = tuple(h.detach() for h in self.hidden)\n        return F.cross_entropy(self.decoder(out).flatten(0, 1), y.flatten())\n\n    def configure_optimizers(self):\n        return torch.optim.Adam(self.parameters())\n', []),  # reset detached in the step
    ('GG902', 'import torch.nn.functional as F\nimport lightning.pytorch as pl\n\n\nclass CharLSTM(pl.LightningModule):\n    def __init__(self):\n        super().__init__()\n        self.embed = nn.Embedding(30, 8)\n        self.lstm = nn.LSTM(8, 16, batch_first=True)\n        self.decoder = nn.Linear(16, 30)\n        self.hidden = None\n\n    def on_train_epoch_start(self):\n        self.hidden = None\n\n    def training_step(self, batch, batch_idx):\n        x, y = batch\n        if self.hidden is None:\n            self.hidden = self.init_hidden(x.size(0))\n        self.hidden = (self.hidden[0].detach(), self.hidden[1].detach())\n        out, self.hidden = self.lstm(self.embed(x), self.hidden)\n        return F.cross_entropy(self.decoder(out).flatten(0, 1), y.flatten())\n\n    def configure_optimizers(self):\n        return torch.optim.Adam(self.parameters())\n', []),  # detached at the start of each step (after a first value made under `is None`)
    ('GG902', 'import torch.nn.functional as F\nimport lightning.pytorch as pl\n\n\nclass CharLSTM(pl.LightningModule):\n    def __init__(self):\n        super().__init__()\n        self.embed = nn.Embedding(30, 8)\n        self.lstm = nn.LSTM(8, 16, batch_first=True)\n        self.decoder = nn.Linear(16, 30)\n        self.hidden = None\n\n    def on_train_epoch_start(self):\n        self.hidden = None\n\n    def training_step(self, batch, batch_idx):\n        x, y = batch\n        if self.hidden is None:\n            self.hidden = self.init_hidden(x.size(0))\n        out, self.hidden = self.lstm(self.embed(x), self.hidden)\n        return F.cross_entropy(self.decoder(out).flatten(0, 1), y.flatten())\n\n    def configure_optimizers(self):\n        return torch.optim.Adam(self.parameters())\n', [24]),  # only a first value made under `is None`: the graph is carried
    # Lightning manual optimization: self.optimizers() are what configure_optimizers returns, each with its own
    # parameters; the generator loss on a discriminator output from before opt_d.step() raises (GG702)
    ("GG702", 'import torch.nn.functional as F\nimport lightning.pytorch as pl\n\n\nclass GAN(pl.LightningModule):\n    def __init__(self):\n        super().__init__()\n        self.automatic_optimization = False\n        self.G = nn.Linear(2, 2)\n        self.D = nn.Linear(2, 1)\n\n    def training_step(self, batch, batch_idx):\n        opt_g, opt_d = self.optimizers()\n        fake = self.G(torch.randn(4, 2))\n        d_fake = self.D(fake)\n        loss_d = F.softplus(d_fake).mean() + F.softplus(-self.D(batch)).mean()\n        opt_d.zero_grad()\n        self.manual_backward(loss_d, retain_graph=True)\n        opt_d.step()\n        loss_g = F.softplus(-d_fake).mean()\n        opt_g.zero_grad()\n        self.manual_backward(loss_g)\n        opt_g.step()\n\n    def configure_optimizers(self):\n        return torch.optim.Adam(self.G.parameters()), torch.optim.Adam(self.D.parameters())\n', [19]),
    ("GG702", 'import torch.nn.functional as F\nimport lightning.pytorch as pl\n\n\nclass GAN(pl.LightningModule):\n    def __init__(self):\n        super().__init__()\n        self.automatic_optimization = False\n        self.G = nn.Linear(2, 2)\n        self.D = nn.Linear(2, 1)\n\n    def training_step(self, batch, batch_idx):\n        opt_g, opt_d = self.optimizers()\n        fake = self.G(torch.randn(4, 2))\n        d_fake = self.D(fake)\n        loss_d = F.softplus(d_fake).mean() + F.softplus(-self.D(batch)).mean()\n        opt_d.zero_grad()\n        self.manual_backward(loss_d, retain_graph=True)\n        opt_d.step()\n        d_fake = self.D(fake)\n        loss_g = F.softplus(-d_fake).mean()\n        opt_g.zero_grad()\n        self.manual_backward(loss_g)\n        opt_g.step()\n\n    def configure_optimizers(self):\n        return torch.optim.Adam(self.G.parameters()), torch.optim.Adam(self.D.parameters())\n', []),
    # Lightning builds the optimizers once (configure_optimizers, after __init__) and runs the epoch hooks later:
    # a part frozen in __init__ and unfrozen in a hook is not in an optimizer built from what required grad
    ("GG806", LIT_UNFREEZE.replace("PARAMS", "filter(lambda p: p.requires_grad, self.parameters())"), [17]),
    ("GG806", LIT_UNFREEZE.replace("PARAMS", "[p for p in self.parameters() if p.requires_grad]"), [17]),
    ("GG806", LIT_UNFREEZE.replace("PARAMS", "self.parameters()"), []),
    ("GG806", LIT_UNFREEZE.replace("PARAMS", "filter(lambda p: p.requires_grad, self.parameters())").replace("            self.backbone.requires_grad_(True)", "            pass"), []),
    ("GG806", LIT_UNFREEZE.replace("PARAMS", "filter(lambda p: p.requires_grad, self.parameters())").replace("self.backbone.requires_grad_(False)", "self.head.requires_grad_(True)"), []),
    # Lightning steps the optimizers configure_optimizers returns after each training_step: a submodule the loss reaches
    # that no hand-written parameter group holds never changes (reported on the groups); quiet when every part is in a
    # group, when the part left out is frozen, or when the user steps the optimizers by hand
    ("GG806", LIT_GROUPS.replace("GROUP2", "self.head.parameters()").replace("FREEZE", "pass"), [23]),
    ("GG806", LIT_GROUPS.replace("GROUP2", "[*self.pool.parameters(), *self.head.parameters()]").replace("FREEZE", "pass"), []),
    ("GG806", LIT_GROUPS.replace("GROUP2", "self.head.parameters()").replace("FREEZE", "self.pool.requires_grad_(False)"), []),
    ("GG806", LIT_GROUPS.replace("GROUP2", "self.head.parameters()").replace("FREEZE", "self.automatic_optimization = False"), []),
    ("GG806", LIT_GROUPS.replace("GROUP2", "self.head.parameters()").replace("FREEZE", "pass").replace("self.head(self.pool(", "self.head((").replace("        self.pool = nn.Linear(8, 8)\n", ""), []),
    # the Hugging Face Trainer builds its optimizer when train() starts, from what requires grad then; its callbacks'
    # events run afterwards: a part frozen before train() and unfrozen by a callback is in no optimizer
    ("GG806", HF_CASE.replace("OPTS", ""), [21]),
    ("GG806", HF_CASE.replace("OPTS", "").replace("model.encoder.requires_grad_(True)", "for p in model.parameters():\n                p.requires_grad = True"), [21]),
    ("GG806", HF_CASE.replace("OPTS", "").replace("    trainer = Trainer(", "    trainer = Trainer(\n        ").replace("    trainer.train()", "    Trainer(model=model, callbacks=[Unfreeze]).train()"), [21]),
    ("GG806", HF_CASE.replace("OPTS", "").replace("model=None, **kwargs", "**kwargs").replace("        if state", "        model = kwargs['model']\n        if state"), [22]),
    ("GG806", HF_CASE.replace("OPTS", "").replace("model=None, **kwargs", "**kwargs").replace("        if state", "        model = kwargs['data']\n        if state"), []),
    ("GG806", HF_CASE.replace("OPTS", ", optimizers=(torch.optim.AdamW(model.parameters()), None)"), []),  # its own optimizer, of every parameter
    ("GG806", HF_CASE.replace("OPTS", "").replace("model.encoder.requires_grad_(True)", "model.encoder.requires_grad_(True)\n            kwargs['optimizer'].add_param_group({'params': model.encoder.parameters()})"), []),
    ("GG806", HF_CASE.replace("OPTS", "").replace("model.encoder.requires_grad_(False)", "if data is None:\n        model.encoder.requires_grad_(False)"), []),  # frozen only sometimes
    ("GG806", HF_CASE.replace("OPTS", "").replace("model.encoder.requires_grad_(False)", "model.head.requires_grad_(False)"), []),  # the part unfrozen was never frozen
    ("GG806", HF_CASE.replace("OPTS", "").replace("model.encoder.requires_grad_(False)", "model.encoder.requires_grad_(False)\n    model.encoder.requires_grad_(True)"), []),  # unfrozen before train()
    ("GG806", HF_CASE.replace("OPTS", "").replace("on_epoch_begin", "on_train_end"), []),  # after training
    ("GG806", HF_CASE.replace("OPTS", "").replace("on_epoch_begin", "on_init_end"), []),  # in Trainer.__init__, before the optimizer
    ("GG806", HF_CASE.replace("OPTS", "").replace("Trainer(model", "MyTrainer(model") + "\n\nclass MyTrainer(Trainer):\n    def create_optimizer(self):\n        self.optimizer = torch.optim.AdamW(self.model.parameters())\n        return self.optimizer\n", []),
]


@pytest.mark.parametrize("rule,code,lines", CASES, ids=[f"{r}-{i}" for i, (r, _, _) in enumerate(CASES)])
def test_case(rule, code, lines):
    res = analyze(HEAD + code, "case.py")
    got = sorted({f.start.line for f in res.findings if f.code == rule})
    assert got == lines, [(f.code, f.start.line, f.message) for f in res.findings if f.code == rule]


# GG902: a state a LightningModule's method stores on the module (``self.enqueue(k)`` in ``training_step``, storing
# ``self.bank = torch.cat([keys, self.bank])[:n]``) from a tensor computed with the module's layers: the next step's
# loss reads the bank, whose graph the previous backward freed. The bad program raises under torch; each look-alike trains.
BANK = """import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class Bank(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 4))
        self.bank = torch.zeros(0, 4)

    DECORATOR
    def push(self, keys):
        self.bank = torch.cat([STORED, self.bank], dim=0)[:16]

    def training_step(self, batch, batch_idx):
        (x,) = batch
        q = self.enc(x)
        k = self.enc(x + 0.1)
        loss = (q * k).sum(-1).mean() + (q @ self.bank.t()).mean()
        CALL
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


def main():
    torch.manual_seed(0)
    model = Bank()
    pl.Trainer(max_epochs=1).fit(model, DataLoader(TensorDataset(torch.randn(12, 6)), batch_size=4))
    return model
"""
BANK_CASES = [
    # (decorator, stored, call, lines, raises)
    ("", "keys", "self.push(k)", [16], True),
    ("@torch.no_grad()", "keys", "self.push(k)", [], False),  # MoCo's enqueue runs under no_grad
    ("", "keys", "self.push(k.detach())", [], False),
    ("", "keys.detach()", "self.push(k)", [], False),
    ("", "keys", "with torch.no_grad():\n            self.push(k)", [], False),
    ("", "keys", "self.push(q.detach() * 0 + x[:, :4])", [], False),  # no graph of the module's layers
]


@pytest.mark.parametrize("decorator,stored,call,lines,raises", BANK_CASES, ids=[f"bank-{i}" for i in range(len(BANK_CASES))])
def test_state_stored_by_a_method_of_the_step(decorator, stored, call, lines, raises):
    import os
    import sys

    src = BANK.replace("    DECORATOR\n", f"    {decorator}\n" if decorator else "").replace("STORED", stored).replace("CALL", call)
    res = analyze(src, "case.py")
    got = sorted({f.start.line for f in res.findings if f.code == "GG902"})
    want = [ln - (0 if decorator else 1) for ln in lines]
    assert got == want, [(f.code, f.start.line, f.message) for f in res.findings]
    shims = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "shims")
    sys.path.insert(0, shims)
    try:
        scope: dict = {}
        exec(compile(src, "case.py", "exec"), scope)  # noqa: S102 - the program above, under real torch
        try:
            model = scope["main"]()
        except RuntimeError as e:
            assert raises and "backward through the graph a second time" in str(e)
        else:
            assert not raises and model.enc[0].weight.grad is not None
    finally:
        sys.path.remove(shims)


# GG806: Lightning manual optimization. The Trainer calls training_step once per batch, and the step backpropagates
# and steps by itself (self.manual_backward, opt.step()); an optimizer configure_optimizers built from another
# module's parameters leaves the module the loss trains unchanged. Each program runs under torch (with the shims):
# the bad one never changes the generator, the look-alikes and the fixed program do.
GAN = """import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class GAN(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.generator = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 4))
        self.discriminator = nn.Sequential(nn.Linear(4, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        (real,) = batch
        opt_g, opt_d = self.optimizers()
        fake = self.generator(torch.randn(real.shape[0], 2))
        g_loss = F.softplus(-self.discriminator(fake)).mean()
        opt_g.zero_grad()
        self.manual_backward(g_loss)
        opt_g.step()
        d_loss = F.softplus(-self.discriminator(real)).mean() + F.softplus(self.discriminator(fake.detach())).mean()
        opt_d.zero_grad()
        self.manual_backward(d_loss)
        opt_d.step()

    def configure_optimizers(self):
        opt_g = torch.optim.Adam(G_PARAMS, lr=0.01)
        opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=0.01)
        return [opt_g, opt_d]


def main():
    torch.manual_seed(0)
    model = GAN()
    before = model.generator[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, DataLoader(TensorDataset(torch.randn(12, 4)), batch_size=4))
    return not torch.equal(before, model.generator[0].weight)
"""
GAN_CASES = [
    # (the generator optimizer's parameters, lines, the generator changes)
    ("self.discriminator.parameters()", [29], False),  # copy-pasted: opt_g steps the discriminator
    ("self.generator.parameters()", [], True),
    ("self.parameters()", [], True),
    ("[*self.generator.parameters()]", [], True),
]


def _run_with_shims(src):
    import os
    import sys

    shims = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "shims")
    sys.path.insert(0, shims)
    try:
        scope: dict = {}
        exec(compile(src, "case.py", "exec"), scope)  # noqa: S102 - the program, under real torch
        return scope["main"]()
    finally:
        sys.path.remove(shims)


@pytest.mark.parametrize("params,lines,changes", GAN_CASES, ids=[f"gan-{i}" for i in range(len(GAN_CASES))])
def test_manual_optimization_optimizer_over_another_module(params, lines, changes):
    from gradguard.core.edits import apply_edits

    src = GAN.replace("G_PARAMS", params)
    res = analyze(src, "case.py")
    mine = [f for f in res.findings if f.code == "GG806"]
    assert sorted({f.start.line for f in mine}) == lines, [(f.code, f.start.line, f.message) for f in res.findings]
    assert not [f for f in res.findings if f.code != "GG806" and f.severity.name in ("ERROR", "WARNING")]
    assert _run_with_shims(src) is changes
    if mine:  # the offered fix makes the generator train
        fixed = apply_edits(res.source, [e for f in mine if f.fix for e in f.fix.edits])
        assert fixed != res.source and _run_with_shims(fixed) is True

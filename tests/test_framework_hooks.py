"""What a framework does around a module's hooks: the order it runs them in (GG801) and the grad mode it runs its
evaluation steps in (GG501).

Lightning calls ``configure_optimizers`` while it sets up the strategy, before ``on_fit_start`` and the training
hooks: a layer a hook creates (and ``forward`` uses) is in no optimizer. Its Trainer runs ``validation_step`` under
``torch.inference_mode()`` unless built with ``inference_mode=False`` (then ``torch.no_grad()``), and
``torch.enable_grad()`` leaves ``no_grad`` but not inference mode. Each program runs under torch with the Lightning
shim of ``tests/corpus/shims`` (which keeps that order and those modes), and the analysis must agree with what it does.
"""
import os

import pytest

from gradguard.analyze import analyze
from gradguard.core.edits import apply_edits
from gradguard.core.model import Severity
from torchrun import loses_gradient_or_raises, run_programs

HERE = os.path.dirname(os.path.abspath(__file__))
SHIMS = os.path.join(HERE, "corpus", "shims")

_MODEL = '''import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class Classifier(pl.LightningModule):
    def __init__(self, num_classes=3):
        super().__init__()
        self.num_classes = num_classes
        self.encoder = nn.Sequential(nn.Linear(6, 16), nn.ReLU())
        self.dropout = nn.Identity()
        self.classifier = nn.Linear(16, num_classes)

{hook}

    def forward(self, x):
        return self.classifier(self.dropout(self.encoder(x)))

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main():
    torch.manual_seed(0)
    model = Classifier()
    x = torch.randn(24, 6)
    loader = DataLoader(TensorDataset(x, (x[:, 0] > 0).long() + (x[:, 1] > 0).long()), batch_size=8)
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.fit(model, loader)
    held = {{id(p) for group in trainer.optimizers[0].param_groups for p in group["params"]}}
    return {{"model": model}}, {{"head_in_optimizer": id(model.classifier.weight) in held}}
'''

_FORCES = '''import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class ForceField(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.energy = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 1))

    def forces(self, pos):
        pos = pos.requires_grad_(True)
        e = self.energy(pos).sum()
        return -torch.autograd.grad(e, pos, create_graph=self.training)[0]

    def training_step(self, batch, batch_idx):
        pos, f_ref = batch
        return F.mse_loss(self.forces(pos), f_ref)

    def validation_step(self, batch, batch_idx):
        pos, f_ref = batch
        with torch.enable_grad():
            f = self.forces(pos)
        self.log("val_mae", (f - f_ref).abs().mean())

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


def main():
    torch.manual_seed(0)
    model = ForceField()
    pos = torch.randn(16, 3)
    data = DataLoader(TensorDataset(pos, -2 * pos), batch_size=8)
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False{trainer})
    trainer.fit(model, data, data)
    return {{"model": model}}
'''

# (the template, what fills it, the (code, line) of the finding or None for a program that trains, what torch does)
PROGRAMS = {
    "forces-in-validation-under-the-default-inference-mode": (
        _FORCES, {"trainer": ""}, ("GG501", 37), {"error": "does not require grad"},
    ),
    "forces-in-validation-with-inference-mode-off": (
        _FORCES, {"trainer": ", inference_mode=False"}, None, {"grad_ok": ["model.energy.0.weight"]},
    ),
    "head-rebuilt-in-on-fit-start": (
        _MODEL, {"hook": "    def on_fit_start(self):\n        self.classifier = nn.Linear(16, self.num_classes)"},
        ("GG801", 17), {"facts": {"head_in_optimizer": False}, "grad_ok": ["model.classifier.weight"]},
    ),
    "head-rebuilt-in-on-train-start": (
        _MODEL, {"hook": "    def on_train_start(self):\n        self.classifier = nn.Linear(16, self.num_classes).to(self.device)"},
        ("GG801", 17), {"facts": {"head_in_optimizer": False}, "grad_ok": ["model.classifier.weight"]},
    ),
    "dropout-set-in-on-fit-start": (
        _MODEL, {"hook": "    def on_fit_start(self):\n        self.dropout = nn.Dropout(0.1)"},
        None, {"facts": {"head_in_optimizer": True}, "grad_ok": ["model.classifier.weight", "model.encoder.0.weight"]},
    ),
    "unused-probe-made-in-on-fit-start": (
        _MODEL, {"hook": "    def on_fit_start(self):\n        self.probe = nn.Linear(16, self.num_classes)"},
        None, {"facts": {"head_in_optimizer": True}, "grad_ok": ["model.classifier.weight"]},
    ),
}


def _source(key: str) -> str:
    template, fill = PROGRAMS[key][:2]
    return template.format(**fill)


@pytest.mark.parametrize("key", list(PROGRAMS))
def test_found_where_the_fix_goes(key):
    want = PROGRAMS[key][2]
    res = analyze(_source(key), f"{key}.py")
    loud = [(f.code, f.start.line) for f in res.findings if f.severity in (Severity.ERROR, Severity.WARNING)]
    if want is None:
        assert not loud, loud
    else:
        assert want in loud, loud


def test_a_module_whose_trainer_is_built_elsewhere_is_not_claimed():
    """Without a Trainer in the file, the step may run under ``no_grad`` (``inference_mode=False`` elsewhere), which
    ``enable_grad`` leaves: nothing is claimed."""
    src = _source("forces-in-validation-under-the-default-inference-mode")
    src = src[: src.index("def main():")]
    res = analyze(src, "module_only.py")
    assert not [f for f in res.findings if f.severity in (Severity.ERROR, Severity.WARNING)]


@pytest.fixture(scope="module")
def observed():
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = SHIMS + (os.pathsep + old if old else "")
    try:
        return dict(zip(PROGRAMS, run_programs([_source(k) for k in PROGRAMS])))
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


@pytest.mark.parametrize("key", list(PROGRAMS))
def test_torch_agrees(key, observed):
    problems = loses_gradient_or_raises(observed[key], PROGRAMS[key][3])
    assert not problems, problems


def test_the_inference_mode_fix_gives_the_program_that_trains():
    """GG501's fix on the Trainer (``inference_mode=False``) turns the raising program into the one torch trains."""
    res = analyze(_source("forces-in-validation-under-the-default-inference-mode"), "forces.py")
    found = [f for f in res.findings if f.code == "GG501" and f.fix]
    assert found, res.findings
    fixed = apply_edits(res.source, found[0].fix.edits)
    assert fixed == _source("forces-in-validation-with-inference-mode-off")

"""The order a framework runs a module's hooks in, around building its optimizers (GG801).

Lightning calls ``configure_optimizers`` while it sets up the strategy, before ``on_fit_start`` and the training
hooks: a layer a hook creates (and ``forward`` uses) is in no optimizer. Each program runs under torch with the
Lightning shim of ``tests/corpus/shims`` (which keeps that order), and the analysis must agree with what it does.
"""
import os

import pytest

from gradguard.analyze import analyze
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

# (the hook's source, the line of the finding or None for a program that trains, what torch does)
PROGRAMS = {
    "head-rebuilt-in-on-fit-start": (
        "    def on_fit_start(self):\n        self.classifier = nn.Linear(16, self.num_classes)",
        17, {"facts": {"head_in_optimizer": False}, "grad_ok": ["model.classifier.weight"]},
    ),
    "head-rebuilt-in-on-train-start": (
        "    def on_train_start(self):\n        self.classifier = nn.Linear(16, self.num_classes).to(self.device)",
        17, {"facts": {"head_in_optimizer": False}, "grad_ok": ["model.classifier.weight"]},
    ),
    "dropout-set-in-on-fit-start": (
        "    def on_fit_start(self):\n        self.dropout = nn.Dropout(0.1)",
        None, {"facts": {"head_in_optimizer": True}, "grad_ok": ["model.classifier.weight", "model.encoder.0.weight"]},
    ),
    "unused-probe-made-in-on-fit-start": (
        "    def on_fit_start(self):\n        self.probe = nn.Linear(16, self.num_classes)",
        None, {"facts": {"head_in_optimizer": True}, "grad_ok": ["model.classifier.weight"]},
    ),
}


def _source(key: str) -> str:
    return _MODEL.format(hook=PROGRAMS[key][0])


@pytest.mark.parametrize("key", list(PROGRAMS))
def test_found_where_the_layer_is_made(key):
    _, line, _ = PROGRAMS[key]
    res = analyze(_source(key), f"{key}.py")
    loud = [(f.code, f.start.line) for f in res.findings if f.severity in (Severity.ERROR, Severity.WARNING)]
    if line is None:
        assert not loud, loud
    else:
        assert ("GG801", line) in loud, loud


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
    problems = loses_gradient_or_raises(observed[key], PROGRAMS[key][2])
    assert not problems, problems

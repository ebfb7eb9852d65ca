"""The same training bugs written in the training styles people use (issue 10): a plain loop, a
``train(model, loader, optimizer)`` function, Lightning, a Hugging Face Trainer with ``compute_loss``,
accelerate, Fabric, and DataParallel (``net.module``). Each program runs under CPU torch with the
framework shims of ``tests/corpus/shims`` (the analysis reads imports by name and never needs them).

``PROGRAMS`` maps ``(bug, style)`` to ``(source, bug_line, expect)``: the line where the finding belongs
(None for the clean program of each style) and what torch really does.
"""
from __future__ import annotations

import textwrap

BUGS = ("detach_in_forward", "raw_tensor_weight", "plain_list_of_layers", "module_requires_grad_attr", "no_grad_forward", "no_zero_grad", "clean")
STYLES = ("plain", "train_function", "lightning", "hf_trainer", "accelerate", "fabric", "wrapped")

MARK = "  # <- bug"


def _model(bug: str, base: str) -> str:
    extra, use = "", ""
    detach = ".detach()" + MARK if bug == "detach_in_forward" else ""
    if bug == "raw_tensor_weight":
        extra = "\n        self.gain = torch.ones(1, 8, requires_grad=True)" + MARK
        use = "\n        h = h * self.gain"
    if bug == "plain_list_of_layers":
        extra = "\n        self.blocks = [nn.Linear(8, 8) for _ in range(2)]" + MARK
        use = "\n        for block in self.blocks:\n            h = torch.relu(block(h))"
    return f"""
class Net({base}):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(4, 8)
        self.head = nn.Linear(8, 1){extra}

    def forward(self, x):
        h = torch.relu(self.encoder(x)){detach}{use}
        return self.head(h)
"""


def _watched(bug: str) -> str:
    facts = {
        "raw_tensor_weight": '{"gain_in_optimizer": any(p is keep.gain for p in keep.parameters())}',
        "plain_list_of_layers": '{"block_registered": any(p is keep.blocks[0].weight for p in keep.parameters())}',
        "no_zero_grad": '{"grad_accumulated": len(seen) > 1 and torch.allclose(keep.head.weight.grad, sum(seen))}',
    }.get(bug, "{}")
    changed = '"encoder_changed": not torch.equal(enc0, keep.encoder.weight), "head_changed": not torch.equal(head0, keep.head.weight)'
    return '{"model": keep}, ' + facts[:-1] + (", " if facts != "{}" else "") + changed + "}"


def _freeze(bug: str, model: str = "model") -> str:
    if bug == "module_requires_grad_attr":
        return f"{model}.encoder.requires_grad = False" + MARK
    return f"{model}.encoder.requires_grad_(False)"


def _forward(bug: str, call: str, target: str = "out") -> str:
    if bug == "no_grad_forward":
        return f"with torch.no_grad():{MARK}\n    {target} = {call}"
    return f"{target} = {call}"


def _zero(bug: str, opt: str) -> str:
    return "pass" if bug == "no_zero_grad" else f"{opt}.zero_grad()"


def _facts_after(bug: str) -> str:
    return ""


def _before(bug: str) -> str:
    out = "keep = model\nenc0, head0 = model.encoder.weight.detach().clone(), model.head.weight.detach().clone()\n"
    if bug == "no_zero_grad":
        out += "seen = []\nmodel.head.weight.register_hook(lambda g: seen.append(g.clone()))\n"
    return out


def _ind(s: str, n: int) -> str:
    return textwrap.indent(s, " " * n)


DATA = "torch.manual_seed(0)\ndata = [(torch.randn(16, 4), torch.randn(16, 1)) for _ in range(3)]\n"


def plain(bug: str) -> str:
    body = DATA + "model = Net()\n" + (_freeze(bug) + "\n" if bug == "module_requires_grad_attr" else "") + _before(bug)
    body += "opt = torch.optim.SGD(model.parameters(), lr=0.1)\nfor epoch in range(2):\n    for x, y in data:\n"
    loop = _zero(bug, "opt") + "\n" + _forward(bug, "model(x)") + "\nloss = nn.functional.mse_loss(out, y)\nloss.backward()\nopt.step()\n"
    body += _ind(loop, 8)
    body += f"return {_watched(bug)}{_facts_after(bug)}\n"
    return "import torch\nimport torch.nn as nn\n" + _model(bug, "nn.Module") + "\n\ndef main():\n" + _ind(body, 4)


def train_function(bug: str) -> str:
    train = "def train(model, loader, optimizer, epochs=2):\n    model.train()\n    for epoch in range(epochs):\n        for x, y in loader:\n"
    train += _ind(_zero(bug, "optimizer") + "\n" + _forward(bug, "model(x)") + "\nloss = nn.functional.mse_loss(out, y)\nloss.backward()\noptimizer.step()\n", 12)
    body = DATA + "model = Net()\n" + (_freeze(bug) + "\n" if bug == "module_requires_grad_attr" else "") + _before(bug)
    body += "optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)\ntrain(model, data, optimizer)\n"
    body += f"return {_watched(bug)}{_facts_after(bug)}\n"
    return "import torch\nimport torch.nn as nn\n" + _model(bug, "nn.Module") + "\n\n" + train + "\n\ndef main():\n" + _ind(body, 4)


def lightning(bug: str) -> str:
    if bug == "no_zero_grad":
        return ""  # Lightning clears gradients itself
    step = "def training_step(self, batch, batch_idx):\n    x, y = batch\n" + _ind(_forward(bug, "self(x)"), 4) + "\n    loss = nn.functional.mse_loss(out, y)\n    self.log(\"train_loss\", loss)\n    return loss\n"
    conf = "def configure_optimizers(self):\n    return torch.optim.Adam(self.parameters(), lr=1e-2)\n"
    model = _model(bug, "pl.LightningModule").rstrip("\n") + "\n\n" + _ind(step, 4) + "\n" + _ind(conf, 4)
    body = "torch.manual_seed(0)\nds = TensorDataset(torch.randn(48, 4), torch.randn(48, 1))\nmodel = Net()\n" + (_freeze(bug) + "\n" if bug == "module_requires_grad_attr" else "") + _before(bug)
    body += "trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)\ntrainer.fit(model, DataLoader(ds, batch_size=16))\n"
    body += f"return {_watched(bug)}{_facts_after(bug)}\n"
    return "import torch\nimport torch.nn as nn\nimport lightning.pytorch as pl\nfrom torch.utils.data import DataLoader, TensorDataset\n" + model + "\n\ndef main():\n" + _ind(body, 4)


def hf_trainer(bug: str) -> str:
    if bug == "no_zero_grad":
        return ""  # the Trainer clears gradients itself
    cl = "def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):\n    x, y = inputs[\"x\"], inputs[\"labels\"]\n" + _ind(_forward(bug, "model(x)"), 4) + "\n    loss = nn.functional.mse_loss(out, y)\n    return (loss, out) if return_outputs else loss\n"
    trainer = "class RegressionTrainer(Trainer):\n" + _ind(cl, 4)
    body = "torch.manual_seed(0)\nrows = [{\"x\": torch.randn(4), \"labels\": torch.randn(1)} for _ in range(48)]\nmodel = Net()\n" + (_freeze(bug) + "\n" if bug == "module_requires_grad_attr" else "") + _before(bug)
    body += "args = TrainingArguments(output_dir=\"out\", num_train_epochs=2, per_device_train_batch_size=16, learning_rate=1e-2)\n"
    body += "RegressionTrainer(model=model, args=args, train_dataset=rows).train()\n"
    body += f"return {_watched(bug)}{_facts_after(bug)}\n"
    return "import torch\nimport torch.nn as nn\nfrom transformers import Trainer, TrainingArguments\n" + _model(bug, "nn.Module") + "\n\n" + trainer + "\n\ndef main():\n" + _ind(body, 4)


def accelerate(bug: str) -> str:
    body = DATA + "accelerator = Accelerator()\nmodel = Net()\n" + (_freeze(bug) + "\n" if bug == "module_requires_grad_attr" else "") + _before(bug)
    body += "optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)\nmodel, optimizer, loader = accelerator.prepare(model, optimizer, data)\n"
    body += "for epoch in range(2):\n    for x, y in loader:\n"
    body += _ind(_forward(bug, "model(x)") + "\nloss = nn.functional.mse_loss(out, y)\naccelerator.backward(loss)\noptimizer.step()\n" + _zero(bug, "optimizer") + "\n", 8)
    body += f"return {_watched(bug)}{_facts_after(bug)}\n"
    return "import torch\nimport torch.nn as nn\nfrom accelerate import Accelerator\n" + _model(bug, "nn.Module") + "\n\ndef main():\n" + _ind(body, 4)


def fabric(bug: str) -> str:
    body = DATA + "fabric = L.Fabric(accelerator=\"cpu\")\nmodel = Net()\n" + (_freeze(bug) + "\n" if bug == "module_requires_grad_attr" else "") + _before(bug)
    body += "optimizer = torch.optim.SGD(model.parameters(), lr=0.1)\nmodel, optimizer = fabric.setup(model, optimizer)\n"
    body += "for epoch in range(2):\n    for x, y in data:\n"
    body += _ind(_zero(bug, "optimizer") + "\n" + _forward(bug, "model(x)") + "\nloss = nn.functional.mse_loss(out, y)\nfabric.backward(loss)\noptimizer.step()\n", 8)
    body += f"return {_watched(bug)}{_facts_after(bug)}\n"
    return "import torch\nimport torch.nn as nn\nimport lightning as L\n" + _model(bug, "nn.Module") + "\n\ndef main():\n" + _ind(body, 4)


def wrapped(bug: str) -> str:
    body = DATA + "model = Net()\n" + (_freeze(bug) + "\n" if bug == "module_requires_grad_attr" else "") + _before(bug)
    body += "net = nn.DataParallel(model)\noptimizer = torch.optim.SGD(net.module.parameters(), lr=0.1)\n"
    body += "for epoch in range(2):\n    for x, y in data:\n"
    body += _ind(_zero(bug, "optimizer") + "\n" + _forward(bug, "net(x)") + "\nloss = nn.functional.mse_loss(out, y)\nloss.backward()\noptimizer.step()\n", 8)
    body += f"return {_watched(bug)}{_facts_after(bug)}\n"
    return "import torch\nimport torch.nn as nn\n" + _model(bug, "nn.Module") + "\n\ndef main():\n" + _ind(body, 4)


GENERATORS = {"plain": plain, "train_function": train_function, "lightning": lightning, "hf_trainer": hf_trainer, "accelerate": accelerate, "fabric": fabric, "wrapped": wrapped}


def expect_for(bug: str) -> dict:
    """What torch really does with each bug (checked by running the program)."""
    return {
        "detach_in_forward": {"facts": {"encoder_changed": False, "head_changed": True}},
        "raw_tensor_weight": {"facts": {"gain_in_optimizer": False, "head_changed": True}},
        "plain_list_of_layers": {"facts": {"block_registered": False, "head_changed": True}},
        "module_requires_grad_attr": {"facts": {"encoder_changed": True}},
        "no_grad_forward": {"error": "does not require grad"},
        "no_zero_grad": {"facts": {"grad_accumulated": True}},
        "clean": {"facts": {"encoder_changed": True, "head_changed": True}},
    }[bug]


def _program(bug: str, style: str):
    src = GENERATORS[style](bug)
    if not src:
        return None
    lines = src.splitlines()
    marked = [i + 1 for i, ln in enumerate(lines) if ln.endswith(MARK)]
    if bug == "no_zero_grad":  # the finding belongs on the backward that adds to stale gradients
        marked = [i + 1 for i, ln in enumerate(lines) if "backward(" in ln]
    clean = "\n".join(ln[: -len(MARK)] if ln.endswith(MARK) else ln for ln in lines) + "\n"
    return clean, (marked[0] if marked else None)


PROGRAMS = {}
for _bug in BUGS:
    for _style in STYLES:
        _p = _program(_bug, _style)
        if _p is not None:
            PROGRAMS[(_bug, _style)] = _p

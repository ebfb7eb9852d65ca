"""Facts of the flow engine that decide what a value is, checked on the rule examples that run them under torch
(``tests/test_rule_examples.py`` shows each example really raises or trains)."""
from __future__ import annotations

from gradguard.analyze import analyze
from gradguard.rules import RULES_BY_CODE


def example(code: str, name: str):
    return next(e for e in RULES_BY_CODE[code].examples if e.name == name)


def found(code: str) -> set:
    return {(f.code, f.start.line) for f in analyze(code).findings if f.severity.name in ("ERROR", "WARNING")}


def test_isinstance_of_a_dict_literal_decides_the_branch():
    # ``run_step`` takes ``out["loss"]`` when ``out`` is a dict and ``out`` itself otherwise; ``out`` is the dict
    # ``step_metrics`` returns, so only the first branch runs: the detached metrics (the accuracy comparison among
    # them) never reach the loss as a whole, and the comparison is not blamed for the detach on line 8
    ex = example("GG201", "trainer-takes-the-loss-entry-of-detached-metrics")
    assert found(ex.code) == {("GG201", 8)}


def test_a_dataclass_record_keeps_what_it_is_built_from():
    # ``StepOutput(loss=..., logits=...)``: a dataclass, built by its generated constructor; ``out.loss`` is the
    # loss computed from the argmax (line 22)
    ex = example("GG203", "argmax-loss-returned-in-a-dataclass-record")
    assert found(ex.code) == {("GG203", 22)}


def test_requires_grad_set_on_a_detached_tensor_makes_a_leaf():
    # an energy-based model's sampler: the buffer is detached, then ``x.requires_grad = True`` in the helper makes
    # it a leaf, and ``energy.sum().backward()`` reaches it (the model's parameters are frozen meanwhile): the detach
    # does not leave that backward without a gradient path (a false GG201 error before)
    ex = example("GG201", "langevin-sampler-starts-from-a-detached-buffer")
    assert found(ex.code) == set()


def test_parameters_written_by_hand_are_not_starved():
    # BYOL: the target network is a deepcopy inside the model, so the optimizer over model.parameters() holds it;
    # its forward runs under no_grad and an EMA helper object (self.ema = EMAUpdate()) writes its parameters through
    # .data after each step. Nothing wants them trained by gradients: the no_grad is not reported (nor its fix,
    # which would make the target learn by backprop)
    ex = example("GG501", "ema-target-network-kept-in-the-optimizer")
    assert found(ex.code) == set()
    # the same program whose helper writes a gradient step by hand (it reads .grad) still wants them trained
    sgd = ex.code.replace("target_p.data = self.tau * target_p.data + (1.0 - self.tau) * online_p.data", "d_p = target_p.grad\n            if d_p is not None:\n                target_p.data.add_(d_p, alpha=-0.1)")
    assert sgd != ex.code
    assert {c for c, _ in found(sgd)} == {"GG501"}


FROZEN_COPIES = """import torch
import torch.nn as nn


def main():
    model = nn.Linear(4, 2)
    for p in model.parameters():
        p.requires_grad = False
    opt = torch.optim.SGD([p * 2 for p in model.parameters()], lr=0.1)
    return opt


if __name__ == "__main__":
    main()
    print("RUNS")
"""


def test_copies_of_frozen_parameters_are_leaves_an_optimizer_accepts(tmp_path):
    # p * 2 of a parameter that does not require grad is a leaf: torch.optim takes it (GG403 says "it raises" only
    # for parameters that require grad)
    assert not {c for c, _ in found(FROZEN_COPIES) if c == "GG403"}
    import subprocess
    import sys

    prog = tmp_path / "frozen_copies.py"
    prog.write_text(FROZEN_COPIES)
    out = subprocess.run([sys.executable, str(prog)], capture_output=True, text=True, timeout=300)
    assert "RUNS" in out.stdout, out.stderr


def test_a_data_tensor_stored_on_a_module_is_not_a_parameter():
    # SwAV's feature queue: None in __init__, torch.zeros(...) when the epoch starts, moved with .to(), filled in place
    # under no_grad by the criterion and stored back from its result. Module.__setattr__ registers only Parameters
    # and Modules, so model.parameters() never yields it: the no_grad starves nothing the optimizer holds (a false
    # GG501 before), and `self.queue = self.queue.to(device)` is the same tensor, not a new layer (a false GG801)
    ex = example("GG501", "feature-queue-filled-under-no-grad-and-stored-back")
    assert found(ex.code) == set()
    # made a Parameter in __init__, the queue is in the optimizer and gets no gradient through the no_grad block
    param = ex.code.replace("        self.queue = None\n", "        self.queue = nn.Parameter(torch.zeros(queue_length, 4))\n")
    assert param != ex.code
    assert {c for c, _ in found(param)} == {"GG501"}
    # handed to the optimizer itself, the plain tensor is wanted trained (and still gets no gradient)
    own = ex.code.replace("opt = torch.optim.SGD(model.parameters(), lr=0.1)", "model.start_epoch()\n    model.queue.requires_grad_(True)\n    opt = torch.optim.SGD([*model.parameters(), model.queue], lr=0.1)")
    assert own != ex.code
    assert {c for c, _ in found(own)} == {"GG501"}


def test_a_torchvision_transform_on_a_module_has_no_parameter():
    # torchvision's data transforms register no parameter (``T.RandomResizedCrop`` is an nn.Module with buffers of
    # its arguments only): a crop applied only under no_grad to make the target view starves nothing (vit-pytorch's
    # LeJEPA learner; a false GG501 warning before). torchvision is not a test dependency, so this is checked
    # statically; the same fact for torch's own parameterless layers runs under torch in GG501's examples
    code = """import torch
from torch import nn
from torchvision import transforms as T


class Learner(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.encoder = net
        self.global_crop = T.RandomResizedCrop((32, 32), scale=(0.5, 1.0))
        self.local_crop = T.RandomResizedCrop((32, 32), scale=(0.05, 0.4))
        self.augment = T.RandomApply([net], p=0.5)

    def forward(self, x):
        local = self.encoder(self.local_crop(x))
        with torch.no_grad():
            glob = self.encoder(self.global_crop(x))
        return torch.nn.functional.mse_loss(local, glob)


def main():
    learner = Learner(nn.Linear(32, 4))
    opt = torch.optim.Adam(learner.parameters(), lr=3e-4)
    loss = learner(torch.randn(8, 3, 32, 32))
    opt.zero_grad()
    loss.backward()
    opt.step()
"""
    assert found(code) == set()
    # a transform that holds what it is given (``RandomApply([net])``) may hold parameters: used only under
    # no_grad, it is still reported
    held = code.replace("glob = self.encoder(self.global_crop(x))", "glob = self.augment(self.global_crop(x))")
    assert ("GG501", 16) in found(held)  # the `with torch.no_grad()` line


def test_a_loop_sorting_parameters_into_groups_is_decided_per_parameter():
    # weight-decay groups filled by a loop over named_modules() x named_parameters(recurse=False): each parameter goes
    # where the tests on its owner's type and its name send it; the raw `pos` parameter matches no branch (GG806 on the
    # last test it fails). With a catch-all `else` every parameter has a group (the look-alike that trains).
    bad = example("GG806", "weight-decay-groups-by-module-type-skip-a-raw-parameter")
    assert found(bad.code) == {("GG806", 37)}
    assert found(example("GG806", "weight-decay-groups-by-module-type-with-a-catch-all").code) == set()
    # minGPT's recursive shape (named_parameters() under each module that contains the parameter, names joined by
    # the loop) decides the same way
    recursive = bad.code.replace(
        "        for name, param in module.named_parameters(recurse=False):\n            if isinstance(module, nn.Linear) and name == \"weight\":",
        "        for pn, param in module.named_parameters():\n            name = f\"{module_name}.{pn}\" if module_name else pn\n            if isinstance(module, nn.Linear) and pn == \"weight\":",
    ).replace("or name.endswith(\"bias\"):", "or pn.endswith(\"bias\"):")
    assert recursive != bad.code
    assert found(recursive) == {("GG806", 38)}
    # the parameters' ranks decide tests on them: `pos` (built by torch.randn(length, dim)) has two dimensions, so
    # `param.ndim < 2` does not take it either, while the LayerNorm's weight and every bias do
    ranked = bad.code.replace("or name.endswith(\"bias\"):", "or param.ndim < 2:")
    assert ranked != bad.code
    assert found(ranked) == {("GG806", 37)}
    # `param.dim() >= 2` in its place takes `pos` but no bias of a Linear: those biases are left out one by one
    biases = ranked.replace("param.ndim < 2:", "param.dim() >= 2:")
    assert {(f.code, f.start.line, "`model.head.bias`" in f.message or "1 more" in f.message) for f in analyze(biases).findings} == {("GG806", 37, True)}
    # and a rank test every parameter passes leaves nothing out
    assert found(ranked.replace("param.ndim < 2:", "param.ndim >= 1:")) == set()
    # a test the model cannot decide sends the parameter to every list: no claim
    undecided = bad.code.replace("or name.endswith(\"bias\"):", "or param.numel() < 100:")
    assert undecided != bad.code
    assert found(undecided) == set()
    # a type test on a class the file does not know (a library's layer) leaves the loop undecided too, unless the
    # owner is a torch layer (which derives only from torch classes)
    library = bad.code.replace("import torch.nn.functional as F\n", "import torch.nn.functional as F\nfrom timm.layers import Mlp\n").replace(
        "isinstance(module, nn.Linear) and name", "isinstance(module, (nn.Linear, Mlp)) and name")
    assert library != bad.code
    assert found(library) == {("GG806", 38)}


def test_a_cut_in_front_of_frozen_parameters_is_not_why_a_loss_has_no_path():
    # the generated images' features are read through ``.data`` and the real images' under ``no_grad``, both through a
    # frozen critic: the loss has no gradient path, because of the ``.data`` (line 20) only; the ``no_grad`` cuts nothing
    # that requires grad (a false GG501 error before), and the frozen critic is not named as starved
    ex = example("GG201", "generated-features-read-through-data-real-ones-under-no-grad-of-a-frozen-critic")
    assert found(ex.code) == {("GG201", 20)}
    (f,) = [f for f in analyze(ex.code).findings if f.code == "GG201"]
    assert "critic" not in f.message


def _table_unwritten(src: str) -> bool:
    import ast

    from gradguard.core.facts import FileFacts
    from gradguard.core.source import SourceText

    tree = ast.parse(src)
    facts = FileFacts(SourceText(src), tree)
    table = next(n.value for n in tree.body if isinstance(n, ast.Assign) and isinstance(n.value, ast.Dict))
    return facts.flow.constructions.table_unwritten(table)


_KEPT_BY_A_SUBCLASS = '''
CFG = {"lr_by_prefix": {"encoder.": 1e-3}}


class Base:
    def __init__(self, cfg):
        self.cfg = cfg

    def lower_decoder_lr(self):
        {write}


class Runner(Base):
    def groups(self):
        return self.cfg["lr_by_prefix"].items()


def main():
    return Runner(CFG).groups()
'''


def test_a_config_table_is_followed_into_the_methods_an_instance_inherits():
    # ``Runner(CFG)`` keeps the table as ``self.cfg`` (through ``Base.__init__``); a method inherited from ``Base``
    # that writes into it makes its keys unknown, one that only reads it does not
    assert _table_unwritten(_KEPT_BY_A_SUBCLASS.replace("{write}", 'return self.cfg["lr_by_prefix"].get("decoder.")'))
    assert not _table_unwritten(_KEPT_BY_A_SUBCLASS.replace("{write}", 'self.cfg["lr_by_prefix"]["decoder."] = 1e-4'))
    assert not _table_unwritten(_KEPT_BY_A_SUBCLASS.replace("{write}", 'self.cfg["lr_by_prefix"].update({"decoder.": 1e-4})'))

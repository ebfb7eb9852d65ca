"""`gradguard graph` / `gradguard explain` and the flow map behind the lenses.

The JSON map is checked against real torch over the whole corpus (tests/corpus dev and blind, and the
shared corpus when it is present): every case runs under a wrapper that snapshots, right after each
backward(), which watched parameters that call gave a non-zero gradient (the harness reads .grad only at
the end, after the zero_grad() a program or an HF Trainer may call). A name the map says a loss trains
must get a gradient from that loss; a name it says is starved or frozen must get none. Roots are mapped to
harness names conservatively (``model.encoder`` -> ``model.encoder.*``, ``self.encoder`` -> the one
watched object with an ``encoder`` submodule, ``model.blocks`` also matching ``model.blocks.0.*``); names
that map to nothing, or to several watched objects, are skipped, and the test asserts that the mapping
still covers most cases and that a wrong map fails it.
"""
import json
import os
import pathlib
import re
import subprocess
import sys
from typing import Optional

import pytest

from gradguard.analyze import analyze
from gradguard.flowmap import build, explain, to_json, to_mermaid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
CORPUS = os.path.join(HERE, "corpus")
sys.path.insert(0, CORPUS)
import run_cases  # noqa: E402

EXAMPLE = os.path.join(REPO, "examples", "train_with_bugs.py")
DEV = run_cases.case_files(("dev",))


def _gradguard(*args):
    return subprocess.run([sys.executable, "-m", "gradguard", *args], capture_output=True, text=True, cwd=REPO, timeout=120)


def test_graph_json_shape_on_example():
    p = _gradguard("graph", "examples/train_with_bugs.py")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["file"] == "examples/train_with_bugs.py"
    [loss] = data["losses"]
    assert loss["line"] == 31 and loss["sink"] == "loss.backward()"
    assert loss["trains"] == ["model.head"]
    assert [(s["name"], s["cut"]) for s in loss["starved"]] == [("model.encoder", {"line": 8, "kind": "detach"}), ("model.mid", {"line": 20, "kind": "detach"})]
    assert loss["optimizers"] == ["opt"]


@pytest.mark.parametrize("fmt,needle", [("mermaid", "flowchart LR"), ("dot", "digraph gradflow"), ("markdown", "```mermaid")])
def test_graph_other_formats(fmt, needle):
    p = _gradguard("graph", "--format", fmt, "examples/train_with_bugs.py")
    assert p.returncode == 0, p.stderr
    assert needle in p.stdout
    assert "arg:" not in p.stdout


def test_graph_usage_errors(tmp_path):
    assert _gradguard("graph", str(tmp_path / "missing.py")).returncode == 2
    bad = tmp_path / "bad.py"
    bad.write_text("def f(:\n")
    p = _gradguard("graph", str(bad))
    assert p.returncode == 2 and "does not parse" in p.stderr


def test_explain_finding_and_grad_read(tmp_path):
    p = _gradguard("explain", "examples/train_with_bugs.py:8")
    assert p.returncode == 0, p.stderr
    assert "GG201" in p.stdout and "Flow: model.encoder -> .detach() (line 8) -x-> loss.backward() (line 31)" in p.stdout
    assert "through the call at line 19" in p.stdout and "That loss trains: model.head" in p.stdout
    src = tmp_path / "sal.py"
    src.write_text(
        "import torch\nimport torch.nn as nn\n\n\ndef main():\n    enc, head = nn.Linear(4, 6), nn.Linear(6, 1)\n"
        "    feats = torch.relu(enc(torch.randn(3, 4)))\n    out = head(feats).sum()\n    out.backward()\n"
        "    importance = feats.grad\n    g = head.weight.grad\n    return importance, g\n"
    )
    p = _gradguard("explain", f"{src}:10")
    assert p.returncode == 0, p.stderr
    assert "feats.grad` is None at run time" in p.stdout and "not a leaf" in p.stdout
    p = _gradguard("explain", f"{src}:11")
    assert "is a real gradient at run time" in p.stdout and "line 9" in p.stdout
    p = _gradguard("explain", f"{src}:3")
    assert p.returncode == 1


def _all_cases():
    return [p for corpus in sorted(CORPORA) for p in CORPORA[corpus]()]


def test_no_unknown_roots_in_any_map():
    for path in _all_cases():
        a = analyze(path.read_text(), str(path))
        if a.facts is None:
            continue
        fm = build(a.facts)
        text = json.dumps(to_json(fm, path.name)) + to_mermaid(fm)
        assert "arg:" not in text, path.stem
        assert '"?"' not in text and "<new>" not in text, path.stem


# -- against real torch ---------------------------------------------------------------------------------
# The wrapper a case runs under (see its first comment): a snapshot of which leaves each backward() gave a
# gradient, taken right after that call, instead of the harness' reading of .grad at the very end.
SNAPSHOT_WRAPPER = r'''
# Runs one corpus case as `python <case>.py` would and records, for every backward() / autograd.grad() call,
# which leaf tensors that call gave a non-zero gradient (a snapshot taken right after the call, so a later
# zero_grad() -- the program's own, an HF Trainer's -- does not hide it), the case's lines on the call stack
# and the case's return statements that returned the loss (a Lightning training_step, a compute_loss).
import contextlib
import io
import json
import os
import runpy
import sys

import torch

CASE = __CASE__
_records = []
_returned = {}  # id(tensor) -> (tensor, [lines of the case's return statements that returned it])
_main_locals = {}  # main()'s tensors and modules when it returns or raises: what a failing case watches


def _leaves(roots):
    out, seen, stack = [], set(), []
    for t in roots:
        if isinstance(t, torch.Tensor):
            if t.grad_fn is not None:
                stack.append(t.grad_fn)
            elif t.requires_grad:
                out.append(t)
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        v = getattr(fn, "variable", None)
        if isinstance(v, torch.Tensor):
            out.append(v)
        stack.extend(n for n, _ in getattr(fn, "next_functions", ()) if n is not None)
    return out


def _nonzero(g, before):
    try:
        d = g.detach() if before is None else g.detach() - before
        return bool(d.abs().sum() > 0)
    except Exception:
        return True


def _tensors_in(v, depth=0):
    if isinstance(v, torch.Tensor):
        return [v] if v.requires_grad else []
    if depth > 1 or isinstance(v, (str, bytes, int, float, bool)):
        return []
    if isinstance(v, (tuple, list)):
        return [t for x in v[:8] for t in _tensors_in(x, depth + 1)]
    if isinstance(v, dict):
        return [t for x in list(v.values())[:8] for t in _tensors_in(x, depth + 1)]
    loss = getattr(v, "loss", None)
    return _tensors_in(loss, depth + 1) if isinstance(loss, torch.Tensor) else []


def _profile(frame, event, arg):
    if event != "return" or frame.f_code.co_filename != CASE:
        return
    if frame.f_code.co_name == "main":
        _main_locals.clear()
        _main_locals.update({k: v for k, v in frame.f_locals.items() if isinstance(v, (torch.nn.Module, torch.Tensor))})
    if arg is not None:
        try:
            for t in _tensors_in(arg):
                _returned.setdefault(id(t), (t, []))[1].append(frame.f_lineno)
        except Exception:
            pass


def _record(roots, got):
    lines, f = [], sys._getframe(2)
    while f is not None:
        if f.f_code.co_filename == CASE:
            lines.append(f.f_lineno)
        f = f.f_back
    returned = sorted({ln for t in roots if isinstance(t, torch.Tensor) for ln in _returned.get(id(t), (None, []))[1]})
    _records.append((lines, returned, got))


_orig_backward, _orig_grad = torch.autograd.backward, torch.autograd.grad


def _backward(tensors, *args, **kwargs):
    roots = [tensors] if isinstance(tensors, torch.Tensor) else list(tensors)
    leaves = {id(t): t for t in _leaves(roots)}
    with torch.no_grad():
        before = {k: None if t.grad is None else t.grad.detach().clone() for k, t in leaves.items()}
    try:
        _orig_backward(tensors, *args, **kwargs)
    except BaseException:
        _record(roots, [])
        raise
    _record(roots, [t for k, t in leaves.items() if t.grad is not None and _nonzero(t.grad, before[k])])


def _grad(outputs, inputs, *args, **kwargs):
    roots = [outputs] if isinstance(outputs, torch.Tensor) else list(outputs)
    try:
        res = _orig_grad(outputs, inputs, *args, **kwargs)
    except BaseException:
        _record(roots, [])
        raise
    ins = [inputs] if isinstance(inputs, torch.Tensor) else list(inputs)
    _record(roots, [t for t, g in zip(ins, res) if g is not None and _nonzero(g, None)])
    return res


torch.autograd.backward, torch.autograd.grad = _backward, _grad
os.chdir(os.path.dirname(CASE))
sys.path[0] = os.path.dirname(CASE)
sys.argv = [CASE]
buf = io.StringIO()
sys.setprofile(_profile)
try:
    with contextlib.redirect_stdout(buf):
        g = runpy.run_path(CASE, run_name="__main__")
finally:
    sys.setprofile(None)
printed = [ln for ln in buf.getvalue().splitlines() if ln.startswith("{")]
watched = g.get("_watched") or {k: v for k, v in _main_locals.items() if isinstance(v, torch.nn.Module) or v.requires_grad}
names = {}
for name, obj in watched.items():
    items = [(name + "." + n, p) for n, p in obj.named_parameters()] if isinstance(obj, torch.nn.Module) else [(name, obj)]
    for n, t in items:
        if isinstance(t, torch.Tensor) and t.is_leaf:  # a non-leaf (a rebound name) gets no .grad: nothing to compare
            names.setdefault(id(t), []).append(n)
sys.stdout.write(json.dumps({
    "observed": json.loads(printed[-1]) if printed else None,
    "watched": sorted(n for ns in names.values() for n in ns),
    "backwards": [{"lines": lines, "returned": returned, "trained": sorted(n for t in got for n in names.get(id(t), []))}
                  for lines, returned, got in _records],
}) + "\n")
'''


# what wrappers put between a model's name and its parameters' (DataParallel, Fabric, torch.compile)
_WRAPPER = r"(?:\.(?:module|_forward_module|_orig_mod))?"


def _rx(name: str) -> str:
    comps = name.split(".")
    return (r"(?:\.\d+)*" + _WRAPPER + r"\.").join(re.escape(c) for c in comps) + r"(?:\.\d+)*"


def harness_names(name: str, observed: set):
    """The harness parameter names a map name stands for, or None when the mapping is not unambiguous."""
    parts = name.split(".")
    if parts[0] == "self":
        if len(parts) == 1:
            return None
        pat = re.compile(r"^([^.]+)" + _WRAPPER + r"\." + _rx(".".join(parts[1:])) + r"(\.|$)")
        hits = [h for h in observed if pat.match(h)]
        owners = {pat.match(h).group(1) for h in hits}  # type: ignore[union-attr]
        if len(owners) == 1:
            return hits
        if hits or len(parts) < 3:
            return None
        # ``self.critic.q1`` of an agent whose critic the case watches as ``critic`` (or ``self.model.block1`` of a
        # LightningModule wrapping ``self.model``, whose block the case watches as ``block1``)
        return _tail_hits(parts[1:], observed)
    pat = re.compile("^" + _rx(name) + r"(\.|$)")
    return [h for h in observed if pat.match(h)] or (_tail_hits(parts[1:], observed) if len(parts) >= 2 else None)


def _tail_hits(parts: list, observed: set):
    """The harness names of ``parts`` (an attribute path) or, when none, of the path without its first component (at
    most once more): a case that returns ``{"head": model.head}`` watches ``head.weight`` for the map's ``model.head``.
    None when neither has a hit."""
    for k in range(min(2, len(parts))):
        rest = parts[k:]
        if not rest:
            break
        pat = re.compile("^" + _rx(".".join(rest)) + r"(\.|$)")
        hits = [h for h in observed if pat.match(h)]
        if hits:
            return hits
    return None


def run_with_snapshots(paths, workdir) -> dict:
    """{case id: {"observed", "watched", "backwards": [{"lines", "returned", "trained"}]}} under real torch."""
    import queue
    from concurrent.futures import ThreadPoolExecutor

    jobs = max(1, min(2, len(paths)))
    servers: queue.Queue = queue.Queue()
    pool = [run_cases.ForkServer(run_cases.default_python()) for _ in range(jobs)]
    for srv in pool:
        servers.put(srv)

    def one(path):
        w = workdir / f"snap_{path.parent.parent.name}_{path.parent.name}_{path.stem}.py"
        w.write_text(SNAPSHOT_WRAPPER.replace("__CASE__", repr(str(path.resolve()))))
        srv = servers.get()
        try:
            obs, _err, _wall = srv.run(w)
        finally:
            servers.put(srv)
        return path.stem, obs

    try:
        with ThreadPoolExecutor(jobs) as ex:
            return dict(ex.map(one, paths))
    finally:
        for srv in pool:
            srv.close()


def compare_with_torch(data: dict, rec: Optional[dict]):
    """(disagreements, checked claims) of one case's JSON map against its snapshots, or None when the case
    watches nothing. A loss's runs are the backward() calls made at its line or on a loss one of the case's
    return statements at its line returned (a framework's training_step / compute_loss); a loss that never
    runs is not compared (its claims are about its runs).

    - ``trains``: some hit gets a non-zero gradient from a run of that loss;
    - ``starved``: no hit gets one from the last run (a grad mode an earlier call leaves off starves the
      later runs only);
    - ``frozen``: no backward of the program gives any hit a gradient;
    - ``unsure``: no claim, not checked."""
    if rec is None or rec.get("observed") is None or not rec.get("watched"):
        return None
    watched = set(rec["watched"])
    runs_all = rec["backwards"]
    ever = {n for b in runs_all for n in b["trained"]}
    wrong, checked = [], []
    for loss in data["losses"]:
        runs = [b for b in runs_all if (b["lines"] and b["lines"][0] == loss["line"]) or loss["line"] in b["returned"]]
        if not runs:
            continue
        got = {n for b in runs for n in b["trained"]}
        last = set(runs[-1]["trained"])
        claims = [("trains", t) for t in loss["trains"]] + [("starved", s["name"]) for s in loss["starved"]] + [("frozen", f) for f in loss.get("frozen", [])]
        for kind, name in claims:
            hits = harness_names(name, watched)
            if hits is None:
                continue
            checked.append(kind)
            bad = {"trains": not any(h in got for h in hits), "starved": any(h in last for h in hits), "frozen": any(h in ever for h in hits)}[kind]
            if bad:
                wrong.append(f"line {loss['line']} {kind} {name}: " + ", ".join(f"{h}={'grad' if h in got else 'none'}" for h in sorted(hits)[:4]))
    return wrong, checked


SHARED = os.path.join(os.path.dirname(REPO), "shared", "corpus", "dev")
CORPORA = {
    "dev": lambda: run_cases.case_files(("dev",)),
    "blind": lambda: run_cases.scored_blind(run_cases.case_files(("blind",))),  # (a blind half not yet scored is held out)
    "shared": lambda: sorted(pathlib.Path(SHARED).glob("*.py")) if os.path.isdir(SHARED) else [],
}
# (usable cases at least, share of them the mapping must cover)
COVERAGE = {"dev": (40, 0.6), "blind": (40, 0.6), "shared": (40, 0.6)}


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory):
    cache: dict = {}

    def get(corpus):
        if corpus not in cache:
            paths = CORPORA[corpus]()
            cache[corpus] = (paths, run_with_snapshots(paths, tmp_path_factory.mktemp(corpus)) if paths else {})
        return cache[corpus]

    return get


def _maps(paths):
    out = {}
    for path in paths:
        facts = analyze(path.read_text(), str(path)).facts
        if facts is not None:
            out[path.stem] = to_json(build(facts), path.name)
    return out


# Blind cases (tests/corpus/blind, scored once at the end of the session that developed against their dev half), and
# dev cases not yet developed against, where the map's claims disagree with torch; the map was not tuned on them. Listed as they stand: a change
# that makes one agree fails the test and must update the list (and the note reporting the blind numbers).
KNOWN_WRONG = {
    "blind": {
        "c4920_accelerate_bottleneck_adapters_injected_after_optimizer": "c49 blind, scored once at the end of the fourth 2026-12-07 session (a listed miss): the map says the loss at line 60 leaves model.blocks frozen, as the base was frozen before the optimizer was built; the adapters injected into the blocks afterwards require grad and get gradients under torch (which the optimizer never applies): the map does not follow modules injected after the freeze",
        "c4516_dataparallel_tft_glu_gate_thresholded": "c45 blind, scored once at the end of the second 2026-12-07 session (a listed miss): the map says the loss at line 90 trains the GLU gates (static_encoder.glu.gate, temporal_grn.glu.gate); under torch their .grad is None, the gate being thresholded (the bug, not followed by the map; not investigated)",
        "c4608_accelerate_mamba_scan_states_written_into_buffer": "c46 blind, scored once at the end of the second 2026-12-07 session (a listed miss): the map says the loss at line 77 trains the head and the scan layers; under torch the harness sees no gradient (the scan states written into a buffer, the bug, which the map does not follow; not investigated)",
        "c4138_diffusers_diffusion_policy_frozen_pretrained_vision_encoder_clean": "c41 blind, scored once at the end of the seventh 2026-12-06 session (a clean case, no finding on it): the map says the loss at line 66 trains the vision encoder (vision.conv, vision.fc); under torch its .grad stays None (frozen pretrained encoder, not investigated)",
        "c3920_compile_tcn_finetune_unfreeze_sets_attribute_on_module": "c39 blind, scored once at the end of the sixth 2026-12-06 session (its bug found, GG601): the map says the loss at line 44 leaves model.head frozen; under torch the head gets gradients (not investigated)",
        "c3936_hf_trainer_protein_classifier_reentrant_checkpoint_frozen_embeddings": "c39 blind, scored once at the end of the sixth 2026-12-06 session (its bug found, GG203): the map says the loss at line 53 trains the checkpointed blocks; under torch their .grad is None (reentrant checkpointing over inputs from frozen embeddings, not followed by the map)",
        "c4024_lightning_pointpillars_backbone_unfrozen_after_optimizer_built": "c40 blind, scored once at the end of the sixth 2026-12-06 session (its bug found, GG806): the map says the loss at line 41 leaves the backbone frozen; under torch it gets gradients once unfrozen after the optimizer was built (the shape of c2923: a later unfreeze is not followed by the map)",
        "c3740_train_function_backbone_unfrozen_with_add_param_group_clean": "c37 blind, scored once at the end of the fourth 2026-12-06 session (a clean case, no finding on it): the map says the loss at line 28 leaves the frozen model's parameters without gradient; under torch they get one once the backbone is unfrozen and added with add_param_group (not investigated)",
        "c3226_diffusers_controlnet_zero_convs_in_plain_dict": "c32 blind, scored once at the end of the first 2026-12-06 session (found since, GG302): the map says the loss at line 59 trains controlnet.hint_embed, reached only through the zero convolutions kept in a plain dict; under torch the harness sees no gradient there (the zero-initialized convolutions pass none on), a value fact the map does not model",
        "c2914_diffusers_dit_controlnet_shares_embedders_with_frozen_transformer": "c29 blind, scored once at the end of the sixth 2026-12-05 session (a listed miss): the map disagrees with torch (not investigated)",
        "c2712_lightning_influence_probe_callback_leaves_grad_disabled": "c27 blind, found in the sixth 2026-12-05 session (GG501: a Callback's epoch-end hook leaves grad mode off): the map says the training loss at line 55 starves the model, which holds for the steps after the first epoch (backward raises there); the first epoch's steps run with grad on and fill .grad, which is what the harness observes before the error",
        "c840_compiled_sngan_discriminator_power_iteration_clean": "investigated: the loss at line 52 (hinge d_loss = relu(1 - D(real)).mean() + relu(1 + D(fake)).mean()) has a gradient path to D.out.bias, but while every hinge margin is active (D's outputs near 0, as at the start) its gradient is -1 + 1 = exactly 0: a cancellation of values, not a cut, which no static fact tells (the map rightly says the path exists; g_loss at line 56 gives the bias its non-zero gradient)",
        "c1216_frozen_backbone_keeps_moving_under_momentum_and_weight_decay": "c12 blind half, investigated in the thirteenth session: the map says the loss at line 25 does not train model.backbone (frozen by freeze_backbone), which is right about requires_grad; under torch the backbone's .grad is a zero tensor, not None: the warm-up epoch gave it gradients and zero_grad(set_to_none=False) keeps them as zeros, which the map (which reads a frozen parameter as one with no gradient) does not model",
        "c1610_lightning_recurrent_linear_attention_state_updated_in_place": "c16 blind half, scored once at the end of the 2026-12-04 session that developed against its dev half: the map disagrees with torch (not investigated)",
        "c1614_hf_trainer_reentrant_checkpointing_over_frozen_embeddings": "c16 blind half, scored once at the end of the 2026-12-04 session that developed against its dev half: the map disagrees with torch (not investigated)",
        "c1628_lightning_data2vec_ema_teacher_targets_clean": "c16 blind half, scored once at the end of the 2026-12-04 session that developed against its dev half: the map disagrees with torch (not investigated)",
        "c1712_accelerate_fused_mlp_skips_autograd_in_eval_mode": "c17 blind half, scored once at the end of the 2026-12-04 session that developed against its dev half: the map disagrees with torch (not investigated)",
        "c1736_diffusers_watermark_lora_frozen_message_decoder_in_optimizer_clean": "c17 blind half, scored once at the end of the 2026-12-04 session that developed against its dev half: the map disagrees with torch (not investigated)",
        "c2116_hf_trainer_gradual_unfreeze_callback_after_optimizer_built": "c21 blind half, scored once at the end of the sixth 2026-12-04 session: the map disagrees with torch (not investigated)",
        "c2118_dataparallel_finetune_freeze_bn_helper_condition_always_true": "c21 blind half, scored once at the end of the sixth 2026-12-04 session: the map disagrees with torch (not investigated)",
        "c2428_hf_trainer_gradual_unfreeze_callback_after_optimizer_built": "c24 blind half, scored once at the end of the second 2026-12-05 session: the map says the encoder frozen at line 46 gets no gradient; torch gives it gradients once a TrainerCallback unfreezes it (after the Trainer built its optimizer, which is the bug): callbacks are not run by the map (the shape of c2116)",
        "c2318_dataparallel_pixel_ddpg_encoder_detached_again_before_critic": "c23 blind half, scored once at the end of the first 2026-12-05 session: the map says the actor's loss (line 87) trains the critic's q1, torch ends with q1's .grad None (not investigated)",
    },
    "dev": {
        "c4437_hf_esm_frozen_embeddings_before_trainer_optimizer_clean": "c44 dev, at its merge (the first 2026-12-07 session; a clean case, no finding on it): the map says the Hugging Face model's loss at line 44 trains self.embeddings, which a helper froze through `model.get_input_embeddings().weight.requires_grad_(False)`; the engine records that freeze at the helper's call (frozen_paths holds `model.embeddings`) and the same freeze written `model.embeddings.weight.requires_grad_(False)` in the helper is carried to `self.embeddings`, but the map does not carry the one made through the getter (not followed further)",
        "c4139_train_function_siamfc_first_convs_frozen_done_right_clean": "c41 dev, at its merge (the seventh 2026-12-06 session; a clean case, no finding on it): the map disagrees with torch on which backbone parts the loss at line 57 trains (not investigated)",
        "c4203_accelerate_hifigan_mel_loss_through_numpy": "c42 dev (the seventh 2026-12-06 session; its bug found, GG202 on the warm-up branch): the map says the generator loss trains disc.convs through the adversarial term an `if step >= cfg[\"disc_start_step\"]` adds; under torch that branch never runs (the warm-up lasts the whole run) and backward() raises first",
        "c3833_accelerate_lora_base_frozen_before_adapters_clean": "c38 dev (a clean case, no finding on it): the map says the loss at line 79 leaves model.encoder frozen; the LoRA parameters a helper adds after the freeze (`layer.linear1 = LoRALinear(...)` for each layer of `encoder.layers`) get gradients under torch. The engine records no replacement at the helper's call for layers set on the loop variable, so the map cannot tell those parts apart",
        "c3025_diffusers_conv_adapters_missing_from_name_filtered_groups": "c30 dev (the seventh 2026-12-05 session; GG806 finds its bug): the map says the loss at line 77 trains the adapters' down projections, which the optimizer never holds (a name filter leaves them out); torch's .grad is None for the frozen norms it also lists. Not investigated (found late in the session)",
        "c4825_lightning_tacotron_callback_unfreezes_encoder_missing_from_optimizer": "c48 dev, at its merge (the third 2026-12-07 session; its bug found, GG806): the map says the loss leaves the encoder frozen (line 58), as the optimizer was built; a Callback unfreezes it later, so under torch its parameters get gradients (which the optimizer never applies): the shape of c2923, a Callback's later unfreeze not followed by the map",
        "c2923_lightning_unfreeze_callback_backbone_never_in_optimizer": "c29 dev, found at its merge (GG806): the map says the training loss at line 38 leaves the backbone frozen, as the optimizer was built (requires_grad False); a Callback's epoch-start hook switches it back on from epoch 1, so under torch its parameters get gradients (which the optimizer never applies): the map does not follow a Callback's later unfreeze into the training step's state",
        "c1701_lightning_occupancy_decoder_detaches_queries_without_aux_loss": "c17 dev (a listed miss): since the 2026-12-04 third session a list that starts empty and is filled with tensors is a container of tensors (it was read as a Python value, which gave an error-level false alarm on a REINFORCE agent in pytorch/examples); the map now reads `outputs`, filled once per decoder stage with the stage's output, as holding every stage's value, so `outputs[-1:]` (the last stage, whose input was detached from the encoder) is said to train the encoder. Telling a list's last element from the others filled in a loop is not modeled",
    },
}


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_graph_agrees_with_torch(snapshots, corpus):
    """Every claim of the JSON map that maps onto harness names holds under real torch, on every case of
    the corpus (none excluded; the blind cases listed in KNOWN_WRONG must still disagree), and the mapping
    covers most cases."""
    paths, recs = snapshots(corpus)
    if not paths:
        pytest.skip(f"no {corpus} corpus here")
    maps = _maps(paths)
    wrong, usable, checked_cases, counts = [], 0, 0, {"trains": 0, "starved": 0, "frozen": 0}
    for path in paths:
        res = compare_with_torch(maps.get(path.stem, {"losses": []}), recs.get(path.stem))
        if res is None:
            continue
        usable += 1
        bad, checked = res
        wrong += [(path.stem, w) for w in bad]
        checked_cases += bool(checked)
        for k in checked:
            counts[k] += 1
    known = KNOWN_WRONG.get(corpus, {})
    unexpected = [w for w in wrong if w[0] not in known]
    assert not unexpected, unexpected
    fixed = sorted(set(known) - {w[0] for w in wrong} - {p.stem for p in paths if p.stem not in recs})
    assert not fixed, f"now agree with torch, remove from KNOWN_WRONG: {fixed}"
    least, share = COVERAGE[corpus]
    assert usable >= least, f"only {usable} {corpus} cases ran and watch parameters"
    assert checked_cases >= share * usable, f"only {checked_cases} of {usable} {corpus} cases could be mapped"
    assert counts["trains"] >= 40 and counts["starved"] >= 7, counts


def test_torch_check_catches_a_wrong_map(snapshots):
    """The comparison can fail: swapping what a map says a loss trains and starves, or calling a trained
    name frozen, is caught on most cases that have such claims."""
    paths, recs = snapshots("dev")
    maps = _maps(paths)
    caught = {"swap": [0, 0], "frozen": [0, 0]}
    for path in paths:
        data, rec = maps.get(path.stem), recs.get(path.stem)
        res = compare_with_torch(data or {"losses": []}, rec)
        if data is None or res is None or not res[1]:
            continue
        swapped = {"losses": [dict(loss, trains=[s["name"] for s in loss["starved"]], starved=[{"name": t} for t in loss["trains"]], frozen=[]) for loss in data["losses"]]}
        frozen = {"losses": [dict(loss, trains=[], starved=[], frozen=loss["trains"]) for loss in data["losses"]]}
        for key, bad_map in (("swap", swapped), ("frozen", frozen)):
            r = compare_with_torch(bad_map, rec)
            if r is not None and r[1]:
                caught[key][1] += 1
                caught[key][0] += bool(r[0])
    for key, (n_caught, n) in caught.items():
        assert n >= 20 and n_caught >= 0.8 * n, (key, caught)


def test_explain_api_on_corpus_case():
    path = next(p for p in DEV if p.stem.startswith("c101_"))
    a = analyze(path.read_text(), str(path))
    text = explain(a.facts, a.findings, 13, path.name)
    assert text is not None and "GG201" in text and "self.embed, self.encoder -> .detach() (line 13)" in text


def _story(text: str, line: int):
    from gradguard.flowmap import grad_reads_at, grad_story

    a = analyze(text, "x.py")
    [node] = grad_reads_at(a.facts, line)
    return grad_story(a.facts, node)


@pytest.mark.parametrize(
    "case,line,verdict,words",
    [
        ("c117", 31, "none", "runs only after the backward() at line 29"),  # retain_grad() too late: torch raises on None.sign()
        ("c145", 26, "real", "backpropagated at line 25"),  # retain_grad() before backward: Grad-CAM works
        ("c109", 20, "unknown", "calls no backward() itself"),  # a helper the caller runs after backward
        ("c131", 64, "real", "along a differentiable path"),  # experts unregistered but used (out[sel] += ... expert(x[sel])): torch gives them a gradient
    ],
)
def test_grad_story_on_corpus_cases(case, line, verdict, words):
    path = next(p for p in DEV if p.stem.startswith(case + "_"))
    from gradguard.flowmap import grad_reads_at, grad_story

    a = analyze(path.read_text(), str(path))
    stories = [grad_story(a.facts, n) for n in grad_reads_at(a.facts, line)]
    assert stories and all(s is not None and s.verdict == verdict and words in s.why for s in stories), [(s.verdict, s.why) for s in stories if s]


def test_grad_story_zero_grad_and_read_before_backward():
    text = (
        "import torch\n\n\ndef main():\n    w = torch.randn(3, requires_grad=True)\n    opt = torch.optim.SGD([w], lr=0.1)\n"
        "    early = w.grad\n    (w * 2).sum().backward()\n    opt.zero_grad()\n    late = w.grad\n    return early, late\n"
    )
    early = _story(text, 7)
    assert early.verdict == "none" and "no backward() runs before this read" in early.why
    late = _story(text, 10)
    assert late.verdict == "none" and "zero_grad()` at line 9" in late.why


def test_lens_titles_over_the_corpus():
    """Every backward sink of every case (dev, blind, shared) gets a lens; titles name only concrete roots;
    a starvation a rule reports shows up as a "not reached" part pointing at each reported cut line."""
    from gradguard.core.starvation import find_starvations
    from gradguard.flowmap import lens_parts

    with_losses = 0
    for path in _all_cases():
        a = analyze(path.read_text(), str(path))
        fm = build(a.facts)
        with_losses += bool(fm.losses)
        for lf in fm.losses:
            parts = lens_parts(lf)
            assert parts and parts[0].title.startswith(("trains", "no gradient path", "may train", "frozen")), (path.stem, parts)
            for p in parts:
                assert "arg:" not in p.title and "?" not in p.title and "<" not in p.title, (path.stem, p.title)
        for st in find_starvations(a.facts):
            if st.branch is not None:
                continue  # (no gradient path on one branch of an if only: the map shows the part the other branch trains as "may train")
            cut_line = getattr(st.cut.node, "lineno", 0)
            titles = [p.title for lf in fm.losses if lf.site.node is st.site.node for p in lens_parts(lf)]
            assert any(t.startswith("not reached") and f"(cut at line {cut_line})" in t for t in titles), (path.stem, cut_line, titles)
    assert with_losses >= 40


# -- what the map claims where the engine cannot tell --------------------------------------------------
_MODEL = (
    "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n\n"
    "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
    "        self.backbone = nn.Linear(4, 8)\n        self.head = nn.Linear(8, 2)\n\n"
    "    def forward(self, x):\n        return self.head(self.backbone(x))\n\n\n"
)


def _loss_map(body: str, head: str = _MODEL) -> dict:
    a = analyze(head + body, "x.py")
    [loss] = to_json(build(a.facts), "x.py")["losses"]
    return loss


@pytest.mark.parametrize(
    "body,trains,frozen,unsure",
    [
        # frozen through a helper: resolved through its call site
        ("def freeze(m):\n    m.requires_grad_(False)\n\n\ndef main():\n    model = Net()\n    freeze(model.backbone)\n"
         "    opt = torch.optim.SGD(model.head.parameters(), lr=0.1)\n    model(torch.randn(3, 4)).sum().backward()\n    opt.step()\n",
         ["model.head"], ["model.backbone"], []),
        # the whole model frozen, the head unfrozen again
        ("def main():\n    model = Net()\n    model.requires_grad_(False)\n    model.head.requires_grad_(True)\n"
         "    model(torch.randn(3, 4)).sum().backward()\n",
         ["model.head"], ["model.backbone"], []),
        # a loop over parameters in a helper
        ("def freeze(m):\n    for p in m.parameters():\n        p.requires_grad = False\n\n\ndef main():\n    model = Net()\n"
         "    freeze(model.backbone)\n    model(torch.randn(3, 4)).sum().backward()\n",
         ["model.head"], ["model.backbone"], []),
        # frozen under a test on each parameter's name: only those the test picks (a prefix such as "backbone.1"
        # also picks "backbone.10"); the map does not evaluate names, so it claims nothing
        ("def freeze(m, prefixes=('backbone',)):\n    for name, p in m.named_parameters():\n        if name.startswith(prefixes):\n"
         "            p.requires_grad_(False)\n\n\ndef main():\n    model = Net()\n    freeze(model)\n    model(torch.randn(3, 4)).sum().backward()\n",
         [], [], ["model.backbone", "model.head"]),
        # one parameter of a module frozen: whether the module still trains is not known from its name
        ("def main():\n    model = Net()\n    model.backbone.weight.requires_grad = False\n    model(torch.randn(3, 4)).sum().backward()\n",
         ["model.head"], [], ["model.backbone"]),
        # `module.requires_grad = False` is a plain attribute: nothing is frozen
        ("def main():\n    model = Net()\n    model.backbone.requires_grad = False\n    model(torch.randn(3, 4)).sum().backward()\n",
         ["model.backbone", "model.head"], [], []),
        # ... through a helper the map cannot tell a module from a parameter: no claim
        ("def freeze(m):\n    m.backbone.requires_grad = False\n\n\ndef main():\n    model = Net()\n    freeze(model)\n"
         "    model(torch.randn(3, 4)).sum().backward()\n",
         ["model.head"], [], ["model.backbone"]),
        # a computed flag: anything may be frozen
        ("def main(flag=False):\n    model = Net()\n    model.backbone.requires_grad_(flag)\n    model(torch.randn(3, 4)).sum().backward()\n",
         [], [], ["model.backbone", "model.head"]),
        # a root that reaches the loss along a path and through a cut (outputs of a tuple, one turned into a
        # float): true here, but the same shape is what the engine sees when it merges a tuple's items
        ("def both(model, x):\n    h = model.backbone(x)\n    return model.head(h), h\n\n\ndef main():\n    model = Net()\n"
         "    out, h = both(model, torch.randn(3, 4))\n    loss = out.sum() + h.sum().item()\n    loss.backward()\n",
         ["model.head"], [], ["model.backbone"]),
        # a custom autograd.Function computes its own gradient
        ("class Ste(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, x):\n        return x.sign()\n\n"
         "    @staticmethod\n    def backward(ctx, g):\n        return g * 0\n\n\ndef main():\n    model = Net()\n"
         "    Ste.apply(model(torch.randn(3, 4))).sum().backward()\n",
         [], [], ["model.backbone", "model.head"]),
        # torch.autograd.grad gives gradients to its inputs only
        ("def main():\n    model = Net()\n    loss = model(torch.randn(3, 4)).sum()\n    (g,) = torch.autograd.grad(loss, model.head.weight)\n",
         ["model.head"], [], []),
    ],
)
def test_map_claims_only_what_it_can_tell(body, trains, frozen, unsure):
    loss = _loss_map(body)
    assert (loss["trains"], loss["frozen"], loss["unsure"]) == (trains, frozen, unsure), loss


def test_frozen_and_unsure_in_lenses_and_explain(tmp_path):
    from gradguard.flowmap import lens_parts

    body = ("def freeze(m):\n    m.requires_grad_(False)\n\n\ndef main():\n    model = Net()\n    freeze(model.backbone)\n"
            "    model(torch.randn(3, 4)).sum().backward()\n")
    a = analyze(_MODEL + body, "x.py")
    [lf] = build(a.facts).losses
    assert [p.title for p in lens_parts(lf)] == ["trains head", "frozen: backbone"]
    src = tmp_path / "probe.py"
    src.write_text(_MODEL + body)
    p = _gradguard("explain", f"{src}:{lf.line}")
    assert p.returncode == 0 and "frozen (requires_grad off, never trained): model.backbone" in p.stdout, p.stdout


# -- notebooks ---------------------------------------------------------------------------------------------
def _notebook(tmp_path):
    """examples/train_with_bugs.py as a notebook: a markdown cell, lines 1-10 in cell 2, a magic and lines
    11- in cell 3 (program line N >= 11 is line N - 9 of cell 3)."""
    lines = open(EXAMPLE, encoding="utf-8").read().splitlines(keepends=True)
    cell = lambda src: {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": src}  # noqa: E731
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# demo\n"]}, cell(lines[:10]), cell(["%matplotlib inline\n"] + lines[10:])],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "demo.ipynb"
    path.write_text(json.dumps(nb))
    return str(path)


def test_graph_on_notebook(tmp_path):
    nb = _notebook(tmp_path)
    p = _gradguard("graph", nb)
    assert p.returncode == 0, p.stderr
    [loss] = json.loads(p.stdout)["losses"]
    assert (loss["cell"], loss["line"]) == (3, 22) and loss["trains"] == ["model.head"]
    assert [(s["name"], s["cut"]) for s in loss["starved"]] == [("model.encoder", {"line": 8, "cell": 2, "kind": "detach"}), ("model.mid", {"line": 11, "cell": 3, "kind": "detach"})]
    p = _gradguard("graph", "--format", "markdown", nb)
    assert p.returncode == 0 and "**cell 3, line 22**" in p.stdout and "(cut at cell 2, line 8)" in p.stdout and ".detach() · cell 3, line 11" in p.stdout, p.stdout
    p = _gradguard("graph", "--format", "dot", nb)
    assert p.returncode == 0 and "cell 3, line 22" in p.stdout
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{bad")
    p = _gradguard("graph", str(bad))
    assert p.returncode == 2 and "not a valid notebook" in p.stderr


def test_explain_on_notebook(tmp_path):
    nb = _notebook(tmp_path)
    p = _gradguard("explain", f"{nb}:2:8")
    assert p.returncode == 0, p.stderr
    assert f"{nb}:cell 2:8:49: GG201" in p.stdout
    assert "Flow: model.encoder -> .detach() (cell 2, line 8) -x-> loss.backward() (cell 3, line 22)" in p.stdout, p.stdout
    p = _gradguard("explain", f"{nb}:3:22")
    assert p.returncode == 0 and f"{nb}:cell 3:22: loss.backward() (in main)" in p.stdout and "not reached: model.mid (cut by .detach() at cell 3, line 11)" in p.stdout, p.stdout
    assert _gradguard("explain", f"{nb}:3:2").returncode == 1
    for bad in (f"{nb}:22", f"{nb}:1:1", f"{nb}:3:99"):
        p = _gradguard("explain", bad)
        assert p.returncode == 2 and "gradguard:" in p.stderr, (bad, p.stderr)


def test_compute_loss_override_and_a_constructor_freezing_its_argument():
    """c235: a distillation Trainer freezes the teacher it is given (``teacher_model.requires_grad_(False)`` in
    ``__init__``, resolved through the class' call) and overrides ``compute_loss``: the student's entry
    trains the student; the model's own returned loss makes no claim (the override decides what runs)."""
    path = next(p for p in DEV if p.stem.startswith("c235_"))
    data = to_json(build(analyze(path.read_text(), str(path)).facts), path.name)
    forward, override = data["losses"]
    assert forward["trains"] == [] and forward["unsure"]
    assert override["trains"] == ["student.classifier", "student.embed", "student.layers"], override


_EMBED = (
    "import torch\nimport torch.nn as nn\n\n\n"
    "class Bag(nn.Module):\n    def __init__(self, vectors):\n        super().__init__()\n"
    "        self.emb = {ctor}\n        self.head = nn.Linear(vectors.shape[1], 2)\n\n"
    "    def forward(self, ids):\n        return self.head(self.emb(ids).mean(1))\n\n\n"
    "def main():\n    model = Bag(torch.randn(10, 4))\n    opt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
    "    loss = model(torch.randint(0, 10, (3, 5))).sum()\n    loss.backward()\n    opt.step()\n"
    "    return model\n"
)


@pytest.mark.parametrize(
    "ctor,frozen",
    [
        ("nn.Embedding.from_pretrained(vectors)", True),  # freeze=True by default
        ("nn.Embedding.from_pretrained(vectors, freeze=True, padding_idx=0)", True),
        ("nn.Embedding.from_pretrained(vectors, True)", True),
        ("nn.Embedding.from_pretrained(vectors, freeze=False)", False),
        ("nn.Embedding.from_pretrained(vectors, False)", False),
        ("nn.Embedding(10, 4)", False),
    ],
)
def test_from_pretrained_embedding_is_frozen_unless_told(ctor, frozen):
    """``nn.Embedding.from_pretrained`` / ``nn.EmbeddingBag.from_pretrained`` build the module with ``freeze=True``
    by default (``weight.requires_grad`` False): the map says the table is frozen, and torch agrees."""
    src = _EMBED.replace("{ctor}", ctor)
    loss = to_json(build(analyze(src, "x.py").facts), "x.py")["losses"][0]
    assert "model.head" in loss["trains"]
    assert ("model.emb" in loss["frozen"]) is frozen, loss
    assert ("model.emb" in loss["trains"]) is not frozen, loss
    scope: dict = {}
    exec(compile(src, "x.py", "exec"), scope)  # noqa: S102 - the program above, under real torch
    model = scope["main"]()
    assert (model.emb.weight.grad is None) is frozen
    assert model.head.weight.grad is not None


def test_from_pretrained_embedding_bag_is_frozen_too():
    src = _EMBED.replace("{ctor}", "nn.EmbeddingBag.from_pretrained(vectors)").replace("self.emb(ids).mean(1)", "self.emb(ids)")
    loss = to_json(build(analyze(src, "x.py").facts), "x.py")["losses"][0]
    assert loss["frozen"] == ["model.emb"] and loss["trains"] == ["model.head"], loss
    scope: dict = {}
    exec(compile(src, "x.py", "exec"), scope)  # noqa: S102
    model = scope["main"]()
    assert model.emb.weight.grad is None and model.head.weight.grad is not None


_PARTS = (
    "import torch\nimport torch.nn as nn\n\n\n"
    "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
    "        self.emb = {ctor}\n        self.proj = nn.Linear(4, 4)\n        self.scale = {scale}\n        {extra}\n"
    "        self.head = nn.Linear(4, 2)\n\n"
    "    def forward(self, ids):\n        return self.head(self.proj(self.emb(ids).mean(1)) * self.scale)\n\n\n"
    "def main():\n    model = Net()\n    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)\n"
    "    loss = model(torch.randint(0, 10, (3, 5))).sum()\n    loss.backward()\n    opt.step()\n"
    "    return model\n"
)


@pytest.mark.parametrize(
    "ctor,scale,extra,frozen,unsure",
    [
        # a freeze of a layer's parameter by name is a freeze of the layer when it is every parameter the layer has
        ("nn.Embedding.from_pretrained(torch.randn(10, 4), freeze=False)", "nn.Parameter(torch.ones(4))", "self.emb.weight.requires_grad = False", ["model.emb"], []),
        ("nn.Embedding(10, 4)", "nn.Parameter(torch.ones(4))", "self.emb.weight.requires_grad_(False)", ["model.emb"], []),
        ("nn.Embedding(10, 4)", "nn.Parameter(torch.ones(4))", "self.proj.weight.requires_grad = False", [], ["model.proj"]),  # the bias trains
        ("nn.Embedding(10, 4)", "nn.Parameter(torch.ones(4))", "self.proj.bias.requires_grad = False", [], ["model.proj"]),
        ("nn.Embedding(10, 4)", "nn.Parameter(torch.ones(4))", "pass", [], []),
        # a parameter built frozen
        ("nn.Embedding(10, 4)", "nn.Parameter(torch.ones(4), requires_grad=False)", "pass", ["model.scale"], []),
        ("nn.Embedding(10, 4)", "nn.Parameter(torch.ones(4), False)", "pass", ["model.scale"], []),
        ("nn.Embedding(10, 4)", "nn.Parameter(torch.ones(4), requires_grad=True)", "pass", [], []),
    ],
)
def test_parameters_frozen_by_name_or_built_frozen(ctor, scale, extra, frozen, unsure):
    """``self.emb.weight.requires_grad = False`` freezes the table of an embedding (its one parameter): the map says the
    loss does not train ``model.emb``; freezing a linear layer's weight leaves its bias training, so the map claims
    neither. ``nn.Parameter(t, requires_grad=False)`` is built frozen. Torch agrees: no ``.grad`` on what is frozen."""
    src = _PARTS.replace("{ctor}", ctor).replace("{scale}", scale).replace("{extra}", extra)
    loss = to_json(build(analyze(src, "x.py").facts), "x.py")["losses"][0]
    assert loss["frozen"] == frozen and loss["unsure"] == unsure, loss
    assert sorted(loss["trains"]) == sorted({"model.emb", "model.proj", "model.scale", "model.head"} - set(frozen) - set(unsure)), loss
    scope: dict = {}
    exec(compile(src, "x.py", "exec"), scope)  # noqa: S102 - the program above, under real torch
    model = scope["main"]()
    grads = {name: [p.grad is not None for p in getattr(model, name[6:]).parameters()] if name != "model.scale" else [model.scale.grad is not None]
             for name in ("model.emb", "model.proj", "model.scale", "model.head")}
    for name, got in grads.items():
        if name in frozen:
            assert not any(got), name
        elif name in unsure:
            assert any(got) and not all(got), name
        else:
            assert all(got), name


def test_layer_made_anew_by_forward_is_unsure():
    """A layer a method run by ``forward`` makes on every call (``self.time_mlp = nn.Sequential(...)``) is a new object
    each pass: the map does not claim it trains (after the last pass, the name holds a layer no backward reached);
    one made only on the first call (``if self.fc is None``) trains."""
    body = (
        "import torch\nimport torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.inp = nn.Linear(4, 8)\n        self.fc = None\n\n"
        "    def embed(self, x):\n        self.mlp = nn.Linear(8, 8)\n        return self.mlp(x)\n\n"
        "    def forward(self, x):\n        h = self.embed(self.inp(x))\n        if self.fc is None:\n            self.fc = nn.Linear(8, 2)\n"
        "        return self.fc(h)\n\n\n"
        "def main():\n    model = Net()\n    opt = torch.optim.SGD(model.parameters(), lr=0.1)\n    model(torch.randn(3, 4)).sum().backward()\n"
        "    opt.step()\n    model(torch.randn(3, 4))\n    return model\n"
    )
    loss = to_json(build(analyze(body, "x.py").facts), "x.py")["losses"][0]
    assert loss["unsure"] == ["model.mlp"] and "model.fc" in loss["trains"] and "model.inp" in loss["trains"], loss
    scope: dict = {}
    exec(compile(body, "x.py", "exec"), scope)  # noqa: S102 - under real torch
    model = scope["main"]()
    assert model.mlp.weight.grad is None and model.fc.weight.grad is not None and model.inp.weight.grad is not None

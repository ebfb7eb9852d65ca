"""gradguard on real training repositories: every error/warning finding against a reviewed list.

    .venv/bin/python benchmarks/realrepos.py                  # run on the local copy, compare, print totals
    .venv/bin/python benchmarks/realrepos.py --repo karpathy/nanoGPT   # one repo
    .venv/bin/python benchmarks/realrepos.py --extract MIRRORS       # (re)build the local copy, see below
    .venv/bin/python benchmarks/realrepos.py --fetch-help            # print this note

This is a benchmark, not a test: the repositories are not in CI and their code is never committed.

Local copy: ``$GG_REALREPOS`` or ``~/.cache/gradguard-realrepos``, one directory per repository named
``<owner>+<name>`` holding only the ``.py`` and ``.ipynb`` files of the subtrees in ``MANIFEST``, taken from
the pinned commit.

--fetch-help: how the local copy was built
-----------------------------------------
Scripts cannot download from GitHub here; the copy was built by an agent session with its ``fetch`` tool,
which brings a bare git directory of a public repository to ``/work/.mirror/<owner>+<name>/repo``:

    fetch github:karpathy/nanoGPT                      # -> /work/.mirror/karpathy+nanoGPT/repo
    git --git-dir=/work/.mirror/karpathy+nanoGPT/repo archive <commit> -- <subtree>... \\
        | tar -x -C ~/.cache/gradguard-realrepos/karpathy+nanoGPT/
    find ~/.cache/gradguard-realrepos/karpathy+nanoGPT -type f ! -name '*.py' ! -name '*.ipynb' -delete

``--extract /work/.mirror`` does the last two steps for every manifest entry (it needs the bare git dirs and
the pinned commits in them). Elsewhere, ``git clone`` each repository, ``git checkout`` the pinned commit
and copy the same subtrees. pytorch/tutorials, pytorch/vision and huggingface/transformers were too big for
the fetch tool (over 500 MB) and are not in the set.

Review file: ``benchmarks/realrepos_reviewed.json``. A finding is keyed by (repo, relative path, code, the
stripped text of the finding's line), so it survives line shifts. Each entry has a verdict: ``true`` (a real
bug: it raises or silently does not train), ``false`` (a false alarm; ``kind`` names what the analyzer got
wrong about PyTorch), or ``debatable``; and ``why``, one line.

Set ``GG_SERVER=<dir>`` to run gradguard from another source tree (its ``server/`` directory), e.g. a
``git archive HEAD server`` extract while the working tree is mid-edit.

Exit status: 1 if any error/warning finding is unreviewed, or a reviewed-true finding is gone ("lost"); else 0.
Targets (issue 12): 0 error-level false alarms, at most 1 warning-level false alarm per 50,000 lines.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
from collections import Counter, defaultdict

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = os.path.join(REPO, ".venv", "bin", "python")
if not os.path.exists(PY):
    PY = sys.executable
REVIEWED = os.path.join(REPO, "benchmarks", "realrepos_reviewed.json")
CACHE = os.path.expanduser(os.environ.get("GG_REALREPOS", "~/.cache/gradguard-realrepos"))
LOUD = ("error", "warning")
# GG_SERVER: run gradguard from another source tree (e.g. a `git archive HEAD server` extract) instead of the
# installed package; useful while the working tree is mid-edit.
SERVER = os.environ.get("GG_SERVER")

# owner/name, commit the tree came from, subtrees kept ("" = the whole repository), and why the subset.
MANIFEST = [
    {"repo": "pytorch/examples", "commit": "77f55b912142e11fcfdf5b530231fb9c52f181e8", "subtrees": [""]},
    {"repo": "karpathy/nanoGPT", "commit": "3adf61e154c3fe3fca428ad6bc3818b27a3b8291", "subtrees": [""]},
    {"repo": "karpathy/minGPT", "commit": "37baab71b9abea1b76ab957409a1cc2fbfba8a26", "subtrees": [""]},
    {"repo": "karpathy/llm.c", "commit": "f1e2ace651495b74ae22d45d1723443fd00ecd3a", "subtrees": [""]},
    {"repo": "facebookresearch/mae", "commit": "efb2a8062c206524e35e47d04501ed4f544c0ae8", "subtrees": [""]},
    {"repo": "facebookresearch/detr", "commit": "29901c51d7fe8712168b8d0d64351170bc0f83e0", "subtrees": [""]},
    {"repo": "facebookresearch/dino", "commit": "7c446df5b9f45747937fb0d72314eb9f7b66930a", "subtrees": [""]},
    {"repo": "openai/CLIP", "commit": "d05afc436d78f1c48dc0dbf8e5980a9d471f35f6", "subtrees": [""]},
    {"repo": "lucidrains/imagen-pytorch", "commit": "c166739b03b06fbc2e7c00116ffc81724626ad08", "subtrees": [""]},
    {"repo": "vwxyzjn/cleanrl", "commit": "fe8d8a03c41a7ef5b523e2e354bd01c363e786bb", "subtrees": ["cleanrl", "cleanrl_utils"],
     "note": "the training scripts and their utilities; tests/ and docs/ left out"},
    {"repo": "d2l-ai/d2l-en", "commit": "23d7a5aecceee57d1292c56e90cce307f183bb0a", "subtrees": ["d2l/torch.py"],
     "note": "the book's code lives in .md chapters; d2l/torch.py is the PyTorch code extracted from them (models and train loops)"},
    {"repo": "Lightning-AI/litgpt", "commit": "26857050fe3ff627cd714fe92f5838f51a3d5efa", "subtrees": ["litgpt", "extensions"],
     "note": "the package (pretrain/finetune/model) and extensions; tests/ left out"},
    {"repo": "huggingface/accelerate", "commit": "16cb6eb80dd9aa8b4df1a63ef57863e455d53b83", "subtrees": ["examples"],
     "note": "examples only (training scripts); the library src/ is not training code"},
    {"repo": "huggingface/diffusers", "commit": "58eb52c0803ea9af3abec60841c2a093bdf1f951", "subtrees": ["examples"],
     "note": "examples only (training scripts); src/ is in the real-world corpus already"},
    {"repo": "microsoft/DeepSpeedExamples", "commit": "83757d9c937daabd1089a08051061706cb73900d", "subtrees": ["training", "applications"],
     "note": "training/ and applications/ (DeepSpeed-Chat); inference/benchmarks/compression left out"},
    {"repo": "eriklindernoren/PyTorch-GAN", "commit": "36d3c77e5ff20ebe0aeefd322326a134a279b93e", "subtrees": [""]},
    {"repo": "yunjey/pytorch-tutorial", "commit": "0500d3df5a2a8080ccfccbc00aca0eacc21818db", "subtrees": [""]},
    {"repo": "MorvanZhou/PyTorch-Tutorial", "commit": "dbe154a9e56635e51c6b0c2ccea8ae36cfb585a7", "subtrees": [""]},
    {"repo": "bentrevett/pytorch-seq2seq", "commit": "b3cd54c72cd6e4e63f672d334c795b4fe744ef92", "subtrees": [""]},
    {"repo": "sfujim/TD3", "commit": "34770ccdcb51df6f6c7d85c1ba7e40d71b940d16", "subtrees": [""]},
    {"repo": "taesungp/contrastive-unpaired-translation", "commit": "b3ac297708dfb6f7589d04662277e53c0d579c27", "subtrees": [""],
     "note": "pix2pix / CycleGAN / CUT models written as objects with forward, backward_D and backward_G methods"},
    {"repo": "labmlai/annotated_deep_learning_paper_implementations", "commit": "e6b3c8a6a2cdae4071bcde1abeaaf9a2bc37bd53",
     "subtrees": ["labml_nn"], "note": "the implementations package (models + experiment training loops)"},
    {"repo": "ultralytics/yolov5", "commit": "5081342f04fb287fc2e5f2b5a4e06752b7937b1c", "subtrees": [""],
     "note": "detection training (gradient accumulation, AMP, schedulers, EMA)"},
    {"repo": "lucidrains/denoising-diffusion-pytorch", "commit": "faed4db28e724735323fa91c70aa9b28a6e1cbac", "subtrees": [""]},
    {"repo": "huggingface/peft", "commit": "5d602fdbff04c33c1c4de55cda9d4ae1d7cb7e40", "subtrees": ["src", "examples"],
     "note": "adapters injected into models (LoRA, prefix tuning...) and their example training scripts; tests/ left out"},
    {"repo": "facebookresearch/simsiam", "commit": "a7bc1772896d0dad0806c51f0bb6f3b16d290468", "subtrees": [""],
     "note": "stop-gradient on one branch (z.detach()) by design"},
    {"repo": "lucidrains/byol-pytorch", "commit": "299312613c1f44923e7869d1c82be7d536c2c42b", "subtrees": [""],
     "note": "EMA target network updated in place, target projections under no_grad"},
    {"repo": "openai/improved-diffusion", "commit": "1bc7bbbdc414d83d4abf2ad8cc1446dc36c4e4d5", "subtrees": [""],
     "note": "fp16 master parameters, EMA copies, gradient accumulation"},
    {"repo": "Lightning-Universe/lightning-bolts", "commit": "34958a8892d42714edf02ba896fd5861ebb3cb7e", "subtrees": ["src"],
     "note": "LightningModules (GANs, VAEs, self-supervised, RL) whose training_step Lightning backpropagates; callbacks"},
    {"repo": "Lightning-AI/tutorials", "commit": "15817658a2d63afa338b9e1cd8454fb98d746fac", "subtrees": ["course_UvA-DL", "lightning_examples"],
     "note": "Lightning tutorials as scripts: manual optimization, GANs, meta-learning, normalizing flows"},
    {"repo": "huggingface/trl", "commit": "f2cd57710ae345ea6428ae95363267fcf38a3dc8", "subtrees": ["trl", "examples"],
     "note": "Trainer subclasses overriding compute_loss (DPO, PPO, reward modeling), reference models under no_grad"},
    {"repo": "CompVis/stable-diffusion", "commit": "21f890f9da3cfbeaba8e2ac3c425ee9e998d5229", "subtrees": ["ldm", "scripts", "main.py"],
     "note": "latent diffusion LightningModules (EMA, frozen first stage, conditioning models) and the Lightning entry point"},
    {"repo": "openai/guided-diffusion", "commit": "22e0df8183507e13a7813f8d38d51b072ca1e67c", "subtrees": [""],
     "note": "fp16 master parameters, classifier guidance through autograd.grad on a noisy-image classifier"},
    {"repo": "lucidrains/vit-pytorch", "commit": "69d24fe9e3024c0d4b02761123b8583a24ebed1e", "subtrees": [""],
     "note": "ViT variants and self-supervised learners (MAE, SimMIM, DINO, LeJEPA) with their stop-gradients"},
    {"repo": "facebookresearch/barlowtwins", "commit": "8e8d284ca0bc02f88b92328e53f9b901e86b4a3c", "subtrees": [""]},
    {"repo": "jik876/hifi-gan", "commit": "4769534d45265d52a904b850da5a622601885777", "subtrees": [""],
     "note": "GAN vocoder: discriminator step on a detached generator output, losses collected per sub-discriminator"},
    {"repo": "NVlabs/stylegan2-ada-pytorch", "commit": "d72cc7d041b42ec8e806021a205ed9349f87c6a4", "subtrees": [""],
     "note": "requires_grad_ toggled per phase, R1 penalty through autograd.grad(create_graph=True), EMA generator, custom ops"},
    {"repo": "rosinality/stylegan2-pytorch", "commit": "bef283a1c24087da704d16c30abc8e36e63efa0e", "subtrees": [""],
     "note": "requires_grad toggled by a helper, path-length and R1 regularization, accumulate() EMA"},
    {"repo": "DLR-RM/stable-baselines3", "commit": "e05d2dbe6eda0acd0ef2e316e3e4065677add3eb", "subtrees": ["stable_baselines3"],
     "note": "RL algorithms: target networks updated by polyak, rollouts under no_grad, policies built by helpers"},
    {"repo": "microsoft/Swin-Transformer", "commit": "f82860bfb5225915aca09c3227159ee9e1df874d", "subtrees": [""],
     "note": "AMP with a loss scaler wrapper, gradient accumulation, SimMIM pretraining, MoE"},
    {"repo": "kuangliu/pytorch-cifar", "commit": "49b7aa97b0c12fe0d4054e670403a16b6b834ddd", "subtrees": [""]},
    {"repo": "ikostrikov/pytorch-a2c-ppo-acktr-gail", "commit": "41332b78dfb50321c29bade65f9d244387f68a60", "subtrees": [""],
     "note": "rollout storage filled under no_grad, GAIL discriminator with a gradient penalty, KFAC optimizer"},
    {"repo": "HobbitLong/SupContrast", "commit": "66a8fe53880d6a1084b2e4e0db0a019024d6d41a", "subtrees": [""]},
    {"repo": "artidoro/qlora", "commit": "7f4e95a68dc076bea9b3a413d2b512eca6d004e5", "subtrees": [""],
     "note": "HF Trainer with 4-bit quantized base model and LoRA adapters (peft)"},
    {"repo": "facebookresearch/DiT", "commit": "ed81ce2229091fd4ecc9a223645f95cf379d582b", "subtrees": [""],
     "note": "diffusion transformer training with an EMA copy updated under no_grad and requires_grad_(False)"},
    {"repo": "Kaixhin/Rainbow", "commit": "1745b184c3dfc03d4ffa3ce2342ced9996b39a60", "subtrees": [""],
     "note": "DQN with a target network, noisy layers whose noise buffers are set in place"},
    {"repo": "p-christ/Deep-Reinforcement-Learning-Algorithms-with-PyTorch",
     "commit": "4835bac8557fdacff1735eca004e35ea5a4b7443", "subtrees": [""],
     "note": "many RL agents (DQN, SAC, TD3, PPO, hierarchical) with target networks and soft updates"},
    {"repo": "tloen/alpaca-lora", "commit": "8bb8579e403dc78e37fe81ffbb253c413007323f", "subtrees": [""],
     "note": "HF Trainer with an 8-bit base model and peft LoRA"},
    {"repo": "jadore801120/attention-is-all-you-need-pytorch", "commit": "132907dd272e2cc92e3c10e6c4e783a87ff8893d",
     "subtrees": [""], "note": "a from-scratch Transformer with a plain training loop and a hand-written LR schedule"},
    {"repo": "facebookresearch/moco-v3", "commit": "c349e6e24f40d3fedb22d973f92defa4cedf37a7", "subtrees": [""],
     "note": "momentum encoder updated in place under no_grad; frozen patch embedding; linear probe with a frozen backbone"},
    {"repo": "lucidrains/DALLE2-pytorch", "commit": "680dfc4d93b70f9ab23c814a22ca18017a738ef6", "subtrees": [""],
     "note": "diffusion prior and decoder trainers with EMA, frozen CLIP, accelerate"},
    {"repo": "microsoft/LoRA", "commit": "c4593f060e6a368d7bb5af5273b8e42810cdef90", "subtrees": ["loralib", "examples/NLG/src"],
     "note": "loralib (marks only LoRA parameters trainable) and the GPT-2 fine-tuning scripts; the NLU example's vendored "
             "copy of transformers left out"},
    {"repo": "pyg-team/pytorch_geometric", "commit": "5c6461b2305ad068a6d61165b3c55852a11aaa41", "subtrees": ["examples"],
     "note": "the graph-learning training examples; the library itself is not training code"},
    {"repo": "facebookresearch/dinov2", "commit": "b8931f7bf91576930313be2c6d6af376033b35f0", "subtrees": ["dinov2"],
     "note": "self-distillation with a teacher updated by EMA, FSDP wrappers, linear-probe evaluation"},
    {"repo": "jfzhang95/pytorch-deeplab-xception", "commit": "9135e104a7a51ea9effa9c6676a2fcffe6a6a2e6", "subtrees": [""]},
    {"repo": "CSAILVision/semantic-segmentation-pytorch", "commit": "8f27c9b97d2ca7c6e05333d5766d144bf7d8c31b", "subtrees": [""]},
    {"repo": "facebookresearch/moco", "commit": "132aea9da9bb995a411c915c0420be3db62052f3", "subtrees": [""]},
    {"repo": "sthalles/SimCLR", "commit": "1848fc934ad844ae630e6c452300433fe99acfd9", "subtrees": [""]},
    {"repo": "facebookresearch/deit", "commit": "7e160fe43f0252d17191b71cbb5826254114ea5b", "subtrees": [""]},
]


def local_dir(repo: str) -> str:
    return os.path.join(CACHE, repo.replace("/", "+"))


def extract(mirrors: str) -> None:
    """Rebuild the local copy from bare git dirs ``<mirrors>/<owner>+<name>/repo`` (made by the fetch tool)."""
    for m in MANIFEST:
        gitdir = os.path.join(mirrors, m["repo"].replace("/", "+"), "repo")
        dest = local_dir(m["repo"])
        if not os.path.isdir(gitdir):
            print(f"{m['repo']}: no git dir at {gitdir}; fetch it first (see --fetch-help)")
            continue
        subtrees = [p for p in m["subtrees"] if p]
        listing = subprocess.run(["git", f"--git-dir={gitdir}", "ls-tree", "-r", "--name-only", "-z", m["commit"], "--", *subtrees],
                                 check=True, capture_output=True, text=True).stdout
        # only .py/.ipynb paths: a mirror may lack the blobs of big data files, which would stop `git archive`
        paths = [p for p in listing.split("\0") if p.endswith((".py", ".ipynb"))]
        data = subprocess.run(["git", f"--git-dir={gitdir}", "archive", "--format=tar", m["commit"], "--", *paths],
                              check=True, capture_output=True).stdout
        if os.path.isdir(dest):
            subprocess.run(["rm", "-rf", dest], check=True)
        os.makedirs(dest)
        kept = 0
        with tarfile.open(fileobj=io.BytesIO(data)) as tf:
            members = [t for t in tf.getmembers() if t.isfile() and t.name.endswith((".py", ".ipynb"))]
            tf.extractall(dest, members=members)
            kept = len(members)
        print(f"{m['repo']}: {kept} files -> {dest}")


def python_lines(root: str) -> int:
    """Lines of Python: .py lines plus the source lines of code cells in notebooks."""
    total = 0
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            if f.endswith(".py"):
                with open(p, "rb") as fh:
                    total += fh.read().count(b"\n")
            elif f.endswith(".ipynb"):
                try:
                    nb = json.load(open(p, encoding="utf-8"))
                except (ValueError, UnicodeDecodeError):
                    continue
                for cell in nb.get("cells", []):
                    if cell.get("cell_type") == "code":
                        src = cell.get("source", "")
                        total += len(src) if isinstance(src, list) else src.count("\n") + 1
    return total


def line_text(path: str, finding: dict) -> str:
    """The stripped source text of the finding's first line (for notebooks: of the cell the row points into)."""
    row = finding["location"]["row"]
    try:
        if path.endswith(".ipynb"):
            nb = json.load(open(path, encoding="utf-8"))
            cells = nb.get("cells", [])
            cell = finding["location"].get("cell")
            # `cell` is 1-based over all cells (as the user sees them); older gradguard counted code cells only
            if isinstance(cell, int) and 0 < cell <= len(cells) and cells[cell - 1].get("cell_type") == "code":
                chosen = cells[cell - 1]
            else:
                code = [c for c in cells if c.get("cell_type") == "code"]
                chosen = code[cell - 1] if isinstance(cell, int) and 0 < cell <= len(code) else {"source": ""}
            src = chosen.get("source", "")
            lines = ("".join(src) if isinstance(src, list) else src).splitlines()
        else:
            lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
        return lines[row - 1].strip() if 0 < row <= len(lines) else ""
    except (OSError, ValueError):
        return ""


def key(repo: str, rel: str, code: str, text: str) -> tuple:
    return (repo, rel, code, text)


def run_repo(repo: str) -> list:
    root = local_dir(repo)
    env = dict(os.environ)
    if SERVER:
        env["PYTHONPATH"] = os.path.abspath(SERVER) + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([PY, "-m", "gradguard", "check", "--no-cache", "--exit-zero", "--output-format", "json", root],
                       capture_output=True, text=True, timeout=3600, env=env)
    if r.returncode != 0:
        raise SystemExit(f"{repo}: gradguard exited {r.returncode}\n{r.stderr[-2000:]}")
    out = []
    for f in json.loads(r.stdout or "[]"):
        rel = os.path.relpath(f["filename"], root)
        f["_rel"] = rel
        f["_text"] = line_text(os.path.join(root, rel), f)
        out.append(f)
    return out


def load_reviewed() -> list:
    if not os.path.exists(REVIEWED):
        return []
    return json.load(open(REVIEWED))["findings"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repo", action="append", help="only these owner/name (repeatable)")
    ap.add_argument("--extract", metavar="MIRRORS", help="rebuild the local copy from <MIRRORS>/<owner>+<name>/repo")
    ap.add_argument("--fetch-help", action="store_true", help="how the local copy was built")
    ap.add_argument("--dump", metavar="FILE", help="write every error/warning finding (with its key) as JSON")
    args = ap.parse_args(argv)
    if args.fetch_help:
        print(__doc__)
        return 0
    if args.extract:
        extract(args.extract)
        return 0

    reviewed = load_reviewed()
    index = {key(x["repo"], x["file"], x["code"], x["text"]): x for x in reviewed}
    chosen = [m for m in MANIFEST if not args.repo or m["repo"] in args.repo]
    missing = [m["repo"] for m in chosen if not os.path.isdir(local_dir(m["repo"]))]
    if missing:
        print(f"not in {CACHE}: {', '.join(missing)} (see --fetch-help)")
        return 2

    totals = Counter()
    verdicts = Counter()
    seen = set()
    unreviewed, dump = [], []
    print(f"{'repo':<32} {'lines':>8} {'error':>6} {'warning':>8} {'info':>5} {'GG003':>6} {'unreviewed':>11}")
    for m in chosen:
        repo = m["repo"]
        lines = python_lines(local_dir(repo))
        findings = run_repo(repo)
        sev = Counter("info" if f["severity"] not in LOUD else f["severity"] for f in findings)
        internal = sum(1 for f in findings if f["code"] == "GG003")
        totals["GG003"] += internal
        un = 0
        for f in findings:
            if f["severity"] not in LOUD:
                continue
            k = key(repo, f["_rel"], f["code"], f["_text"])
            seen.add(k)
            entry = index.get(k)
            dump.append({"repo": repo, "file": f["_rel"], "line": f["location"]["row"], "code": f["code"],
                         "severity": f["severity"], "text": f["_text"], "message": f["message"]})
            if entry is None:
                un += 1
                unreviewed.append(f"{repo}:{f['_rel']}:{f['location']['row']}: {f['code']} [{f['severity']}] {f['message']}\n      {f['_text']}")
                continue
            verdicts[(f["severity"], entry["verdict"])] += 1
        totals["lines"] += lines
        for s in ("error", "warning", "info"):
            totals[s] += sev.get(s, 0)
        print(f"{repo:<32} {lines:>8} {sev.get('error', 0):>6} {sev.get('warning', 0):>8} {sev.get('info', 0):>5} {internal:>6} {un:>11}", flush=True)

    lost = [x for x in reviewed if x["verdict"] == "true" and x["repo"] in {m["repo"] for m in chosen}
            and key(x["repo"], x["file"], x["code"], x["text"]) not in seen]
    print(f"{'TOTAL':<32} {totals['lines']:>8} {totals['error']:>6} {totals['warning']:>8} {totals['info']:>5} {totals['GG003']:>6} {len(unreviewed):>11}")
    err_false = verdicts[("error", "false")]
    warn_false = verdicts[("warning", "false")]
    per50k = warn_false / (totals["lines"] / 50_000) if totals["lines"] else 0.0
    true_n = verdicts[("error", "true")] + verdicts[("warning", "true")]
    deb = verdicts[("error", "debatable")] + verdicts[("warning", "debatable")]
    print()
    print(f"error-level false alarms:   {err_false}   (target 0)  {'PASS' if err_false == 0 else 'MISS'}")
    print(f"warning false alarms:       {warn_false} = {per50k:.2f} per 50,000 lines   (target <= 1)  {'PASS' if per50k <= 1 else 'MISS'}")
    print(f"true findings:              {true_n}   (error {verdicts[('error', 'true')]}, warning {verdicts[('warning', 'true')]})")
    print(f"debatable:                  {deb}")
    if totals["GG003"]:
        print(f"internal errors (GG003):    {totals['GG003']}   -- rules that crashed report nothing; the numbers above are incomplete")
    if args.dump:
        json.dump(dump, open(args.dump, "w"), indent=1)
    if unreviewed:
        print(f"\nunreviewed ({len(unreviewed)}):")
        for u in unreviewed:
            print("  " + u)
    if lost:
        print(f"\nlost ({len(lost)}): reviewed-true findings no longer reported")
        for x in lost:
            print(f"  {x['repo']}:{x['file']}:{x.get('line', '?')}: {x['code']}  {x['text']}")
    return 1 if unreviewed or lost else 0


if __name__ == "__main__":
    sys.exit(main())

import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset

N_ELEMENTS = 10


class PocketEncoder(nn.Module):
    """Scores binding sites from residue embeddings plus (optionally) ligand atoms."""

    def __init__(self, residue_dim=20, embedding_dim=None):
        super().__init__()
        self.embedding_dim = embedding_dim
        self.residue_proj = nn.Linear(residue_dim, 16)
        self.ligand_embed = None
        self.scorer = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))

    def embed_ligand(self, ligand_onehot):
        if self.ligand_embed is None:
            self.ligand_embed = nn.Linear(N_ELEMENTS, self.residue_proj.out_features, bias=False)
        return self.ligand_embed(ligand_onehot)

    def forward(self, residues, ligand_onehot):
        r = self.residue_proj(residues).mean(dim=1)
        l = self.embed_ligand(ligand_onehot).mean(dim=1)
        return self.scorer(torch.tanh(r + l)).squeeze(-1)


def make_loader(n=48):
    g = torch.Generator().manual_seed(47)
    residues = torch.randn(n, 6, 20, generator=g)
    elements = torch.randint(0, N_ELEMENTS, (n, 5), generator=g)
    ligand = F.one_hot(elements, N_ELEMENTS).float()
    affinity = residues[:, :, 0].mean(1) + 0.3 * (elements == 2).float().mean(1)
    return DataLoader(TensorDataset(residues, ligand, affinity), batch_size=12, shuffle=True, generator=g)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(47)
    model = PocketEncoder()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(make_loader())
    snapshot = None
    for epoch in range(2):
        for residues, ligand, affinity in loader:
            optimizer.zero_grad()
            loss = F.mse_loss(model(residues, ligand), affinity)
            if snapshot is None:
                snapshot = model.module.ligand_embed.weight.detach().clone()
            fabric.backward(loss)
            optimizer.step()
    emb = model.module.ligand_embed
    in_opt = any(p is emb.weight for grp in optimizer.param_groups for p in grp["params"])
    return {"model": model.module}, {"ligand_embed_changed": not torch.equal(snapshot, emb.weight),
                                     "ligand_embed_in_optimizer": in_opt}

# ---- ground-truth harness (not part of the reported pattern) ----
if __name__ == "__main__":
    import json as _json, time as _time, warnings as _warnings
    import torch as _torch
    _err, _watched, _facts = None, {}, {}
    _torch.optim.SGD([_torch.zeros(1, requires_grad=True)], lr=0.1)  # warm lazy imports outside the timed region
    with _warnings.catch_warnings(record=True) as _w:
        _warnings.simplefilter("always")
        _t0 = _time.perf_counter()
        try:
            _out = main()
            if isinstance(_out, tuple):
                _watched, _facts = _out
            elif _out is not None:
                _watched = _out
        except Exception as _e:
            _err = (type(_e).__name__ + ": " + str(_e)).splitlines()[0][:300]
        _main_s = round(_time.perf_counter() - _t0, 3)
    _warns = sorted({(_m.category.__name__ + ": " + str(_m.message)).splitlines()[0][:200] for _m in _w})
    _states = {}
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        for _name, _obj in _watched.items():
            if isinstance(_obj, _torch.nn.Module):
                _items = [(_name + "." + _n, _p) for _n, _p in _obj.named_parameters()]
            else:
                _items = [(_name, _obj)]
            for _n, _t in _items:
                _g = _t.grad
                _states[_n] = "none" if _g is None else ("ok" if bool(_g.abs().sum() > 0) else "zero")
    print(_json.dumps({
        "grad_none": sorted(k for k, v in _states.items() if v == "none"),
        "grad_zero": sorted(k for k, v in _states.items() if v == "zero"),
        "grad_ok": sorted(k for k, v in _states.items() if v == "ok"),
        "error": _err,
        "warnings": _warns,
        "facts": _facts,
        "main_seconds": _main_s,
        "torch": _torch.__version__,
    }, sort_keys=True))

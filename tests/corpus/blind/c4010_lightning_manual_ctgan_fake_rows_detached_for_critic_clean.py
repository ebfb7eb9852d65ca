import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class Generator(nn.Module):
    def __init__(self, z_dim=6, n_num=3, n_cat=4):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(z_dim + n_cat, 32), nn.ReLU())
        self.num_out = nn.Linear(32, n_num)
        self.cat_out = nn.Linear(32, n_cat)

    def forward(self, z, cond):
        h = self.body(torch.cat([z, cond], dim=1))
        return torch.cat([torch.tanh(self.num_out(h)), F.gumbel_softmax(self.cat_out(h), tau=0.2)], dim=1)


class Critic(nn.Module):
    def __init__(self, row_dim=7, n_cat=4):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(row_dim + n_cat, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))

    def forward(self, rows, cond):
        return self.net(torch.cat([rows, cond], dim=1))


def gradient_penalty(critic, real, fake, cond):
    eps = torch.rand(real.size(0), 1)
    mix = (eps * real + (1 - eps) * fake).requires_grad_(True)
    grad = torch.autograd.grad(critic(mix, cond).sum(), mix, create_graph=True)[0]
    return ((grad.norm(2, dim=1) - 1) ** 2).mean()


class CTGAN(pl.LightningModule):
    def __init__(self, z_dim=6, critic_steps=2, lr=2e-4):
        super().__init__()
        self.automatic_optimization = False
        self.G, self.D = Generator(z_dim), Critic()
        self.z_dim, self.critic_steps, self.lr = z_dim, critic_steps, lr

    def training_step(self, batch, batch_idx):
        opt_g, opt_d = self.optimizers()
        real, cond = batch
        for _ in range(self.critic_steps):
            fake = self.G(torch.randn(real.size(0), self.z_dim), cond)
            d_loss = self.D(fake.detach(), cond).mean() - self.D(real, cond).mean()
            d_loss = d_loss + 10 * gradient_penalty(self.D, real, fake.detach(), cond)
            opt_d.zero_grad()
            self.manual_backward(d_loss)
            opt_d.step()
        fake = self.G(torch.randn(real.size(0), self.z_dim), cond)
        g_loss = -self.D(fake, cond).mean()
        opt_g.zero_grad()
        self.manual_backward(g_loss)
        opt_g.step()
        self.log_dict({"d_loss": d_loss.item(), "g_loss": g_loss.item()})

    def configure_optimizers(self):
        return [torch.optim.Adam(self.G.parameters(), lr=self.lr, betas=(0.5, 0.9)),
                torch.optim.Adam(self.D.parameters(), lr=self.lr, betas=(0.5, 0.9))]


def table_loader(n=48):
    g = torch.Generator().manual_seed(0)
    cat = torch.randint(0, 4, (n,), generator=g)
    onehot = F.one_hot(cat, 4).float()
    num = torch.tanh(torch.randn(n, 3, generator=g) + cat[:, None].float() * 0.3)
    return DataLoader(TensorDataset(torch.cat([num, onehot], dim=1), onehot), batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    gan = CTGAN()
    g0 = gan.G.num_out.weight.detach().clone()
    d0 = gan.D.net[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(gan, table_loader())
    return {"model": gan}, {
        "generator_changed": not torch.equal(g0, gan.G.num_out.weight),
        "critic_changed": not torch.equal(d0, gan.D.net[0].weight),
    }

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

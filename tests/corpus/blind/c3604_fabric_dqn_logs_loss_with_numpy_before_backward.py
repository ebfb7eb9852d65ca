import copy
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class QNetwork(nn.Module):
    def __init__(self, n_features=4, n_actions=2):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(n_features, 32), nn.ReLU(), nn.Linear(32, n_actions))

    def forward(self, s):
        return self.fc(s)


class DeepQNetwork:
    def __init__(self, fabric, gamma=0.9, replace_target_iter=4):
        self.fabric = fabric
        self.gamma, self.replace_target_iter = gamma, replace_target_iter
        self.eval_net = QNetwork()
        self.target_net = copy.deepcopy(self.eval_net).requires_grad_(False)
        optimizer = torch.optim.RMSprop(self.eval_net.parameters(), lr=1e-2)
        self.eval_net, self.optimizer = fabric.setup(self.eval_net, optimizer)
        self.learn_step = 0
        self.cost_his = []

    def learn(self, s, a, r, s_):
        if self.learn_step % self.replace_target_iter == 0:
            self.target_net.load_state_dict(self.eval_net.module.state_dict())
        q_eval = self.eval_net(s).gather(1, a.unsqueeze(1)).squeeze(1)
        with torch.no_grad():
            q_target = r + self.gamma * self.target_net(s_).max(1).values
        loss = F.mse_loss(q_eval, q_target)
        self.cost_his.append(loss.numpy())
        self.optimizer.zero_grad()
        self.fabric.backward(loss)
        self.optimizer.step()
        self.learn_step += 1


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    s = torch.randn(32, 4)
    memory = TensorDataset(s, torch.randint(0, 2, (32,)), (s[:, 0] > 0).float(), s + 0.1 * torch.randn(32, 4))
    loader = fabric.setup_dataloaders(DataLoader(memory, batch_size=8, shuffle=True))
    agent = DeepQNetwork(fabric)
    for batch in loader:
        agent.learn(*batch)
    return {"eval_net": agent.eval_net.module}, {"n_costs": len(agent.cost_his)}

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

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainerCallback, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class RGLRUConfig(PretrainedConfig):
    model_type = "tiny-rglru"

    def __init__(self, input_dim=6, hidden=12, num_labels=3, carry_state=True, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.input_dim, self.hidden, self.carry_state = input_dim, hidden, carry_state


class GatedLinearRecurrence(nn.Module):
    """Real-gated linear recurrent unit; keeps its last hidden state so long streams can be fed chunk by chunk."""

    def __init__(self, dim):
        super().__init__()
        self.input_gate = nn.Linear(dim, dim)
        self.recurrence_gate = nn.Linear(dim, dim)
        self.log_a = nn.Parameter(torch.full((dim,), -0.5))
        self.recurrent_states = None

    def reset_state(self):
        self.recurrent_states = None

    def forward(self, x, carry_state=True):
        b, t, d = x.shape
        h = self.recurrent_states if (carry_state and self.recurrent_states is not None) else x.new_zeros(b, d)
        a = torch.sigmoid(self.log_a)
        outs = []
        for step in range(t):
            r = torch.sigmoid(self.recurrence_gate(x[:, step]))
            i = torch.sigmoid(self.input_gate(x[:, step]))
            a_t = a ** (8.0 * r)
            h = a_t * h + torch.sqrt(1 - a_t ** 2 + 1e-6) * (i * x[:, step])
            outs.append(h)
        self.recurrent_states = h
        return torch.stack(outs, dim=1)


class RGLRUClassifier(PreTrainedModel):
    config_class = RGLRUConfig

    def __init__(self, config):
        super().__init__(config)
        self.inp = nn.Linear(config.input_dim, config.hidden)
        self.rglru = GatedLinearRecurrence(config.hidden)
        self.head = nn.Linear(config.hidden, config.num_labels)
        self.post_init()

    def forward(self, signal, labels=None):
        h = self.rglru(self.inp(signal), carry_state=self.config.carry_state)
        logits = self.head(h[:, -1])
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class StateNormLogger(TrainerCallback):
    def __init__(self):
        self.norms = []

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if model.rglru.recurrent_states is not None:
            self.norms.append(float(model.rglru.recurrent_states.norm()))


class SensorWindows(Dataset):
    def __init__(self, n=32, t=5):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, t, 6, generator=g)
        self.y = (self.x[:, :, 0].sum(1) > 0).long() + (self.x[:, -1, 1] > 1).long()

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"signal": self.x[i], "label": int(self.y[i])}


def main():
    config = RGLRUConfig()
    model = RGLRUClassifier(config)
    args = TrainingArguments(output_dir="/tmp/c2819_out", per_device_train_batch_size=8, num_train_epochs=1,
                             learning_rate=1e-2, dataloader_drop_last=True, report_to="none")
    inp_before = model.inp.weight.detach().clone()
    logger = StateNormLogger()
    trainer = Trainer(model=model, args=args, train_dataset=SensorWindows(), callbacks=[logger])
    result = trainer.train()
    model.rglru.reset_state()
    facts = {"steps": result.global_step, "inp_changed": not torch.equal(inp_before, model.inp.weight)}
    return {"model": model}, facts

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

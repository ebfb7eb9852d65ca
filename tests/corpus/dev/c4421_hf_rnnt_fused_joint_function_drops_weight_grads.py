import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class TransducerConfig(PretrainedConfig):
    model_type = "rnnt-tiny"

    def __init__(self, n_mels=8, d_model=32, joint_dim=32, vocab_size=12, blank_id=0, **kw):
        super().__init__(**kw)
        self.n_mels, self.d_model, self.joint_dim = n_mels, d_model, joint_dim
        self.vocab_size, self.blank_id = vocab_size, blank_id


class FusedJointFunction(torch.autograd.Function):
    """tanh(enc[:, :, None] + pred[:, None]) @ W^T + b without materialising the pre-activation twice."""

    @staticmethod
    def forward(ctx, enc, pred, weight, bias):
        hidden = torch.tanh(enc[:, :, None, :] + pred[:, None, :, :])
        ctx.save_for_backward(hidden, weight)
        return hidden @ weight.t() + bias

    @staticmethod
    def backward(ctx, grad_out):
        hidden, weight = ctx.saved_tensors
        grad_hidden = (grad_out @ weight) * (1 - hidden ** 2)
        grad_enc = grad_hidden.sum(dim=2)
        grad_pred = grad_hidden.sum(dim=1)
        return grad_enc, grad_pred, None, None


class JointNetwork(nn.Module):
    def __init__(self, d_model, joint_dim, vocab):
        super().__init__()
        self.enc_proj = nn.Linear(d_model, joint_dim)
        self.pred_proj = nn.Linear(d_model, joint_dim)
        self.out = nn.Linear(joint_dim, vocab)

    def forward(self, enc, pred):
        return FusedJointFunction.apply(self.enc_proj(enc), self.pred_proj(pred), self.out.weight, self.out.bias)


class TinyTransducer(PreTrainedModel):
    config_class = TransducerConfig

    def __init__(self, config):
        super().__init__(config)
        self.encoder = nn.LSTM(config.n_mels, config.d_model, batch_first=True)
        self.embed = nn.Embedding(config.vocab_size, config.d_model)
        self.prediction = nn.LSTM(config.d_model, config.d_model, batch_first=True)
        self.joint = JointNetwork(config.d_model, config.joint_dim, config.vocab_size)
        self.post_init()

    def forward(self, input_features, labels=None):
        enc, _ = self.encoder(input_features)
        blank = torch.full((labels.shape[0], 1), self.config.blank_id, dtype=torch.long)
        pred, _ = self.prediction(self.embed(torch.cat([blank, labels], 1)))
        logits = self.joint(enc, pred)                       # B x T x (U+1) x V
        loss = monotonic_alignment_loss(logits, labels, self.config.blank_id)
        return ModelOutput(loss=loss, logits=logits)


def monotonic_alignment_loss(logits, labels, blank_id):
    """Cross-entropy along a fixed monotonic path through the T x (U+1) lattice (a cheap stand-in for the
    full transducer loss that is enough to train the toy model)."""
    B, T, U1, V = logits.shape
    U = U1 - 1
    t_emit = torch.linspace(0, T - 1, U).long()
    emit = logits[:, t_emit, torch.arange(U)]
    loss = F.cross_entropy(emit.reshape(-1, V), labels.reshape(-1))
    blanks = logits[:, torch.arange(T), torch.bucketize(torch.arange(T), t_emit).clamp(max=U)]
    return loss + F.cross_entropy(blanks.reshape(-1, V), torch.full((B * T,), blank_id))


class SpeechCommands(torch.utils.data.Dataset):
    def __init__(self, n=32, T=10, U=3, n_mels=8, vocab=12):
        g = torch.Generator().manual_seed(0)
        self.labels = torch.randint(1, vocab, (n, U), generator=g)
        self.feats = torch.randn(n, T, n_mels, generator=g) + self.labels[:, :1, None].float() / vocab

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"input_features": self.feats[i], "labels": self.labels[i]}


def main():
    torch.manual_seed(0)
    model = TinyTransducer(TransducerConfig())
    out0 = model.joint.out.weight.detach().clone()
    enc0 = model.joint.enc_proj.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/rnnt", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=3e-3, warmup_steps=1, report_to="none")
    Trainer(model=model, args=args, train_dataset=SpeechCommands()).train()
    return {"model": model}, {
        "joint_output_changed": not torch.equal(out0, model.joint.out.weight),
        "joint_enc_proj_changed": not torch.equal(enc0, model.joint.enc_proj.weight),
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

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class ProtoConfig(PretrainedConfig):
    model_type = "protonet"

    def __init__(self, hidden=16, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden


class ConvEncoder(PreTrainedModel):
    config_class = ProtoConfig

    def __init__(self, config):
        super().__init__(config)
        h = config.hidden
        self.blocks = nn.Sequential(nn.Conv2d(1, h, 3, padding=1), nn.BatchNorm2d(h), nn.ReLU(), nn.MaxPool2d(2),
                                    nn.Conv2d(h, h, 3, padding=1), nn.BatchNorm2d(h), nn.ReLU(), nn.MaxPool2d(2),
                                    nn.Flatten())
        self.post_init()

    def forward(self, pixel_values):
        return self.blocks(pixel_values)


class PrototypicalTrainer(Trainer):
    """Episodic training: each batch element is one N-way K-shot episode."""

    def __init__(self, *args, n_way=3, **kwargs):
        super().__init__(*args, **kwargs)
        self.n_way = n_way
        self.episode_accuracy = []

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        losses = []
        for b in range(inputs["support"].shape[0]):
            z_s = model(pixel_values=inputs["support"][b])
            z_q = model(pixel_values=inputs["query"][b])
            prototypes = torch.stack([z_s[inputs["support_labels"][b] == c].mean(0) for c in range(self.n_way)])
            logits = -torch.cdist(z_q, prototypes) ** 2
            losses.append(F.cross_entropy(logits, inputs["query_labels"][b]))
            with torch.no_grad():
                acc = (logits.argmax(1) == inputs["query_labels"][b]).float().mean()
            self.episode_accuracy.append(acc.item())
        loss = torch.stack(losses).mean()
        return (loss, {"logits": logits}) if return_outputs else loss


def make_episodes(n_episodes=12, n_way=3, k_shot=2, n_query=3):
    g = torch.Generator().manual_seed(0)
    rows = []
    for _ in range(n_episodes):
        classes = torch.randperm(6, generator=g)[:n_way]

        def draw(k):
            imgs, labels = [], []
            for new, c in enumerate(classes):
                x = 0.3 * torch.randn(k, 1, 8, 8, generator=g)
                x[:, :, int(c):int(c) + 2, :] += 1.0
                imgs.append(x)
                labels += [new] * k
            return torch.cat(imgs), torch.tensor(labels)

        s, s_y = draw(k_shot)
        q, q_y = draw(n_query)
        rows.append({"support": s, "support_labels": s_y, "query": q, "query_labels": q_y})
    return rows


def main():
    torch.manual_seed(0)
    model = ConvEncoder(ProtoConfig())
    w0 = model.blocks[0].weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/protonet", per_device_train_batch_size=4, num_train_epochs=2,
                             learning_rate=3e-3, lr_scheduler_type="linear", remove_unused_columns=False,
                             report_to="none")
    trainer = PrototypicalTrainer(model=model, args=args, train_dataset=make_episodes())
    trainer.train()
    return {"model": model}, {
        "encoder_changed": not torch.equal(w0, model.blocks[0].weight.detach()),
        "accuracy_logged_as_floats": all(isinstance(a, float) for a in trainer.episode_accuracy),
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

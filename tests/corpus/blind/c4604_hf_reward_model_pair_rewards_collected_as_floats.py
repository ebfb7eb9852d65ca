import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments, ModelOutput


class RewardConfig(PretrainedConfig):
    model_type = "tiny-reward"

    def __init__(self, vocab_size=64, d_model=32, n_layers=1, n_heads=4, pad_token_id=0, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.d_model, self.n_layers, self.n_heads = vocab_size, d_model, n_layers, n_heads
        self.pad_token_id = pad_token_id


class RewardModel(PreTrainedModel):
    config_class = RewardConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.d_model, padding_idx=config.pad_token_id)
        layer = nn.TransformerEncoderLayer(config.d_model, config.n_heads, 2 * config.d_model, dropout=0.0,
                                           batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, config.n_layers)
        self.score = nn.Linear(config.d_model, 1)
        self.post_init()

    def forward(self, input_ids):
        pad = input_ids.eq(self.config.pad_token_id)
        h = self.encoder(self.embed(input_ids), src_key_padding_mask=pad)
        last = (~pad).sum(1) - 1
        rewards = self.score(h[torch.arange(len(h)), last]).squeeze(-1)
        return ModelOutput(rewards=rewards)


def collect_rewards(rewards):
    """Per-pair scalar rewards, also appended to the run's CSV log by the caller."""
    values = [float(r) for r in rewards]
    return torch.tensor(values, requires_grad=True)


class PairwiseRewardTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        chosen = model(input_ids=inputs["input_ids_chosen"])["rewards"]
        rejected = model(input_ids=inputs["input_ids_rejected"])["rewards"]
        r_c, r_r = collect_rewards(chosen), collect_rewards(rejected)
        loss = -F.logsigmoid(r_c - r_r - inputs.get("margin", 0.0)).mean()
        if return_outputs:
            return loss, {"rewards_chosen": r_c, "rewards_rejected": r_r}
        return loss


class PreferenceDataset(Dataset):
    """Chosen answers repeat the prompt's pattern; rejected ones are random; right-padded with 0."""

    def __init__(self, n=32, prompt=5, answer=5, vocab=64):
        g = torch.Generator().manual_seed(0)
        p = torch.randint(1, vocab, (n, prompt), generator=g)
        self.chosen = torch.cat([p, (p + 1) % (vocab - 1) + 1], 1)
        rej = torch.randint(1, vocab, (n, answer), generator=g)
        self.rejected = torch.cat([p, rej], 1)
        self.rejected[:, -1] = 0

    def __len__(self):
        return len(self.chosen)

    def __getitem__(self, i):
        return {"input_ids_chosen": self.chosen[i], "input_ids_rejected": self.rejected[i]}


@torch.no_grad()
def preference_accuracy(model, data):
    model.eval()
    rc = model(input_ids=data.chosen)["rewards"]
    rr = model(input_ids=data.rejected)["rewards"]
    return (rc > rr).float().mean().item()


def main():
    config = RewardConfig()
    model = RewardModel(config)
    head0 = model.score.weight.detach().clone()
    enc0 = model.encoder.layers[0].linear1.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/reward-model", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-3, remove_unused_columns=False, report_to="none")
    data = PreferenceDataset()
    trainer = PairwiseRewardTrainer(model=model, args=args, train_dataset=data)
    trainer.train()
    preference_accuracy(model, data)
    return {"model": model}, {
        "reward_head_changed": not torch.equal(head0, model.score.weight),
        "encoder_changed": not torch.equal(enc0, model.encoder.layers[0].linear1.weight),
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

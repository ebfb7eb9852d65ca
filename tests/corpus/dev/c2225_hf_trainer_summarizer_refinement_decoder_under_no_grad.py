import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class TwoStageConfig(PretrainedConfig):
    model_type = "two-stage-summarizer"

    def __init__(self, vocab_size=48, d_model=32, mask_token_id=1, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.d_model, self.mask_token_id = vocab_size, d_model, mask_token_id


class DecoderStack(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.cross = nn.Linear(2 * d, d)
        self.ff = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))

    def forward(self, tgt, memory):
        ctx = memory.mean(dim=1, keepdim=True).expand_as(tgt)
        h = torch.tanh(self.cross(torch.cat([tgt, ctx], dim=-1)))
        return h + self.ff(h)


class TwoStageSummarizer(PreTrainedModel):
    """Draft decoder, then a refine decoder that re-predicts each masked draft token (BERT-summarization style)."""

    config_class = TwoStageConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.d_model)
        self.encoder = nn.GRU(config.d_model, config.d_model, batch_first=True)
        self.draft_decoder = DecoderStack(config.d_model)
        self.refine_decoder = DecoderStack(config.d_model)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size)
        self.post_init()

    def encode(self, input_ids):
        return self.encoder(self.embed(input_ids))[0]

    @torch.no_grad()
    def generate_refinement_output(self, memory, draft_tokens):
        masked = draft_tokens.clone()
        masked[:, ::2] = self.config.mask_token_id
        return self.lm_head(self.refine_decoder(self.embed(masked), memory))

    def forward(self, input_ids, labels=None):
        memory = self.encode(input_ids)
        draft_logits = self.lm_head(self.draft_decoder(self.embed(labels), memory))
        draft_tokens = draft_logits.argmax(dim=-1)
        refine_logits = self.generate_refinement_output(memory, draft_tokens)
        loss = None
        if labels is not None:
            flat = labels.reshape(-1)
            loss = F.cross_entropy(draft_logits.reshape(-1, draft_logits.size(-1)), flat) \
                + F.cross_entropy(refine_logits.reshape(-1, refine_logits.size(-1)), flat)
        return ModelOutput(loss=loss, logits=refine_logits)


def make_dataset(n=16, src_len=10, tgt_len=4):
    g = torch.Generator().manual_seed(0)
    src = torch.randint(2, 48, (n, src_len), generator=g)
    return [{"input_ids": src[i], "label_ids": src[i, :tgt_len]} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = TwoStageSummarizer(TwoStageConfig())
    refine0 = model.refine_decoder.cross.weight.detach().clone()
    draft0 = model.draft_decoder.cross.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/c2225_out", per_device_train_batch_size=4, num_train_epochs=1,
                             learning_rate=3e-3, report_to="none")
    Trainer(model=model, args=args, train_dataset=make_dataset()).train()
    return ({"model": model},
            {"refine_changed": not torch.equal(refine0, model.refine_decoder.cross.weight),
             "draft_changed": not torch.equal(draft0, model.draft_decoder.cross.weight)})

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

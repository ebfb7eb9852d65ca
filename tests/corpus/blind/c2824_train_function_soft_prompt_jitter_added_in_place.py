import torch
import torch.nn as nn
import torch.nn.functional as F


class FrozenLM(nn.Module):
    """Stands in for a pretrained causal LM whose weights are not tuned."""

    def __init__(self, vocab=30, dim=16):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.mix = nn.GRU(dim, dim, batch_first=True)
        self.lm_head = nn.Linear(dim, vocab)

    def forward_embeds(self, embeds):
        h, _ = self.mix(embeds)
        return self.lm_head(h)


class SoftPromptModel(nn.Module):
    def __init__(self, lm, n_prompt=4, noise_std=0.01):
        super().__init__()
        self.lm = lm
        init_ids = torch.randint(0, lm.embed.num_embeddings, (n_prompt,))
        self.soft_prompt = nn.Parameter(lm.embed.weight[init_ids].detach().clone())
        self.noise_std = noise_std

    def prompt_embeddings(self, batch_size):
        prompt = self.soft_prompt
        if self.training and self.noise_std > 0:
            prompt += self.noise_std * torch.randn_like(prompt)
        return prompt.unsqueeze(0).expand(batch_size, -1, -1)

    def forward(self, input_ids):
        embeds = torch.cat([self.prompt_embeddings(input_ids.shape[0]), self.lm.embed(input_ids)], dim=1)
        return self.lm.forward_embeds(embeds)[:, self.soft_prompt.shape[0]:]


def next_token_loss(logits, input_ids):
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), input_ids[:, 1:].reshape(-1))


def task_batches(n=4, batch=6, seq=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    for _ in range(n):
        start = torch.randint(0, 30, (batch, 1), generator=g)
        yield (start + 2 * torch.arange(seq)) % 30


def freeze(module):
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def train(model, optimizer, epochs=2):
    model.train()
    losses = []
    for epoch in range(epochs):
        for input_ids in task_batches(seed=epoch):
            loss = next_token_loss(model(input_ids), input_ids)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses


@torch.no_grad()
def evaluate(model):
    model.eval()
    losses = [next_token_loss(model(ids), ids).item() for ids in task_batches(n=2, seed=7)]
    model.train()
    return sum(losses) / len(losses)


def main():
    torch.manual_seed(0)
    lm = freeze(FrozenLM())
    model = SoftPromptModel(lm)
    prompt_before = model.soft_prompt.detach().clone()
    optimizer = torch.optim.AdamW([model.soft_prompt], lr=5e-2, weight_decay=0.0)
    train(model, optimizer)
    print("eval loss", evaluate(model))
    return {"model": model}, {"prompt_changed": not torch.equal(prompt_before, model.soft_prompt)}

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

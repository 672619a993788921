#!/usr/bin/python3
"""Independent Python/torch reference of Hawk, Griffin and the MQA Transformer,
written from docs/griffin-spec.md §1-4. It produces the golden values the C
implementation is tested against (tests/golden/README.md).

Subcommands (run with Debian's /usr/bin/python3: torch 1.13 + numpy):
  init CONFIG.json -o CKPT.safetensors [--seed S] [--bf16] [--perturb SIGMA]
  forward CKPT --tokens "1,2,3;4,5,6" [--pos "0,1,2;0,1,0"] -o logits.npy
  golden CKPT -o GOLDEN.safetensors [--B 2] [--T 23] [--seed S] [--dtype float64|float32]
  counts          parameter counts of the paper presets (spec §4)
  selftest        gradcheck, decode-vs-prefill, safetensors round trip, counts
"""
import argparse
import hashlib
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io as st  # noqa: E402

MASK_VALUE = -2.3819763e38
SQRT_BOUND_MIN = 1.0 / (4.0 * 1000.0 ** 2)  # |d sqrt(z)/dz| <= 1000

# --------------------------------------------------------------------------
# configuration


class Config:
    DEFAULTS = dict(family="griffin", width=16, depth=3, heads=2, head_dim=8,
                    lru_width=24, mlp_expansion=3, window=4, vocab=32,
                    conv_width=4, gate_blocks=2, embed_scale=False, softcap=0.0,
                    lambda_init="code", rope_base=10000.0, rope_fraction=0.5,
                    pattern=None, eps=1e-6)

    def __init__(self, d):
        d = dict(d)
        for k, v in self.DEFAULTS.items():
            setattr(self, k, d.get(k, v))
        self.extra = {k: v for k, v in d.items() if k not in self.DEFAULTS}
        for k in ("width", "depth", "heads", "head_dim", "lru_width", "mlp_expansion",
                  "window", "vocab", "conv_width", "gate_blocks"):
            setattr(self, k, int(getattr(self, k)))
        for k in ("softcap", "rope_base", "rope_fraction", "eps"):
            setattr(self, k, float(getattr(self, k)))
        if isinstance(self.embed_scale, str):
            self.embed_scale = self.embed_scale.lower() in ("1", "true", "yes", "on")
        self.embed_scale = bool(self.embed_scale)
        self.family = str(self.family).lower()
        if not self.pattern:
            self.pattern = {"mqa": "G" * self.depth, "hawk": "R" * self.depth,
                            "griffin": ("RRL" * self.depth)[:self.depth]}[self.family]
        self.pattern = str(self.pattern).upper()
        if len(self.pattern) != self.depth:
            raise ValueError(f"pattern {self.pattern!r} has length != depth {self.depth}")
        if set(self.pattern) - set("RLG"):
            raise ValueError(f"bad pattern {self.pattern!r}")
        if "R" in self.pattern and self.lru_width % self.gate_blocks:
            raise ValueError("lru_width must be divisible by gate_blocks")

    def to_dict(self):
        d = {k: getattr(self, k) for k in self.DEFAULTS}
        d.update(self.extra)
        return d

    def to_json(self):
        return json.dumps(self.to_dict(), sort_keys=True)


def config_from_meta(meta):
    if "griffin_config" not in meta:
        raise ValueError("checkpoint has no __metadata__.griffin_config")
    return Config(json.loads(meta["griffin_config"]))


# --------------------------------------------------------------------------
# parameters: shapes, init


def param_shapes(cfg):
    """Ordered list of (name, shape) in the official PyTorch module layout."""
    D, L, M, H, dh = cfg.width, cfg.lru_width, cfg.mlp_expansion, cfg.heads, cfg.head_dim
    nb = cfg.gate_blocks
    out = [("embedder.input_embedding", (cfg.vocab, D))]
    for i, kind in enumerate(cfg.pattern):
        p = f"blocks.{i}."
        out.append((p + "temporal_pre_norm.scale", (D,)))
        if kind == "R":
            r = p + "recurrent_block."
            out += [(r + "linear_y.weight", (L, D)), (r + "linear_y.bias", (L,)),
                    (r + "linear_x.weight", (L, D)), (r + "linear_x.bias", (L,)),
                    (r + "linear_out.weight", (D, L)), (r + "linear_out.bias", (D,)),
                    (r + "conv_1d.w", (cfg.conv_width, L)), (r + "conv_1d.b", (L,)),
                    (r + "rg_lru.a_param", (L,)),
                    (r + "rg_lru.input_gate.w", (nb, L // nb, L // nb)),
                    (r + "rg_lru.input_gate.b", (nb, L // nb)),
                    (r + "rg_lru.a_gate.w", (nb, L // nb, L // nb)),
                    (r + "rg_lru.a_gate.b", (nb, L // nb))]
        else:
            a = p + "attention_block."
            out += [(a + "proj_q.weight", (H * dh, D)), (a + "proj_k.weight", (dh, D)),
                    (a + "proj_v.weight", (dh, D)), (a + "proj_final.weight", (D, H * dh)),
                    (a + "proj_final.bias", (D,))]
        out.append((p + "channel_pre_norm.scale", (D,)))
        m = p + "mlp_block."
        out += [(m + "ffw_up.w", (2, D, M * D)), (m + "ffw_up.b", (2, 1, 1, M * D)),
                (m + "ffw_down.weight", (D, M * D)), (m + "ffw_down.bias", (D,))]
    out.append(("final_norm.scale", (D,)))
    return out


def init_params(cfg, seed=0, perturb=0.0):
    """Spec §1/§2 init table (Gaussian, untruncated; biases and norm scales 0).
    perturb > 0 adds N(0, perturb) to the zero-initialised tensors (biases,
    norm scales) so that tests also exercise them; 0 = exact spec init."""
    g = torch.Generator().manual_seed(seed)
    D, L, N = cfg.width, cfg.lru_width, cfg.depth
    bw = L // cfg.gate_blocks if "R" in cfg.pattern else 1
    s_out = 2.0 / N

    def normal(shape, std):
        return torch.randn(shape, generator=g, dtype=torch.float64) * std

    P = {}
    for name, shape in param_shapes(cfg):
        leaf = name.split(".")
        last = leaf[-1]
        if name == "embedder.input_embedding":
            t = normal(shape, math.sqrt(1.0 / D))
        elif last == "scale" or last in ("bias", "b"):
            t = torch.zeros(shape, dtype=torch.float64)
            if perturb:
                t = normal(shape, perturb)
        elif name.endswith("conv_1d.w"):
            t = normal(shape, math.sqrt(0.01 / cfg.conv_width))
        elif name.endswith("rg_lru.a_param"):
            u = torch.rand(shape, generator=g, dtype=torch.float64)
            if cfg.lambda_init == "paper":
                # a^8 ~ U[0.9, 0.999]  =>  -log a = -log(u')/8
                ac = 0.9 + (0.999 - 0.9) * u
                neg_log_a = -torch.log(ac) / 8.0
            else:
                # code: a^2 ~ U[0.9^2, 0.999^2] (+1e-8)
                a2 = 0.9 ** 2 + 1e-8 + (0.999 ** 2 - 0.9 ** 2) * u
                neg_log_a = -0.5 * torch.log(a2)
            t = torch.log(torch.expm1(neg_log_a))  # inverse softplus
        elif name.endswith("input_gate.w") or name.endswith("a_gate.w"):
            t = normal(shape, math.sqrt(1.0 / bw))
        elif (name.endswith("linear_out.weight") or name.endswith("proj_final.weight")
              or name.endswith("ffw_down.weight")):
            t = normal(shape, math.sqrt(s_out / shape[1]))
        else:  # D -> * input projections: linear_x/y, proj_q/k/v, ffw_up.w
            t = normal(shape, math.sqrt(1.0 / D))
        P[name] = t
    return P


def count_params(cfg, embedding=False):
    n = 0
    for name, shape in param_shapes(cfg):
        if name == "embedder.input_embedding" and not embedding:
            continue
        n += int(np.prod(shape))
    return n


# --------------------------------------------------------------------------
# forward


class SqrtBoundDerivative(torch.autograd.Function):
    """sqrt(z) whose backward is g / (2 sqrt(max(z, 1/(4*1000^2))))."""

    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return torch.sqrt(z)

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return g / (2.0 * torch.sqrt(torch.clamp(z, min=SQRT_BOUND_MIN)))


def rms_norm(x, scale, eps):
    var = torch.mean(x * x, dim=-1, keepdim=True)
    return x * torch.rsqrt(var + eps) * (1.0 + scale)


def gelu_tanh(x):
    c = math.sqrt(2.0 / math.pi)
    return 0.5 * x * (1.0 + torch.tanh(c * (x + 0.044715 * x * x * x)))


def linear(x, w, b=None):
    y = x @ w.t()
    return y if b is None else y + b


def mlp(P, p, x):
    w, b = P[p + "ffw_up.w"], P[p + "ffw_up.b"]
    gate = gelu_tanh(x @ w[0] + b[0, 0, 0])
    lin = x @ w[1] + b[1, 0, 0]
    return linear(gate * lin, P[p + "ffw_down.weight"], P[p + "ffw_down.bias"])


def block_diag_linear(x, w, b):
    """x (..., L) -> per block j: x[..., j, :] @ w[j] + b[j]."""
    nb, bw, _ = w.shape
    xs = x.reshape(*x.shape[:-1], nb, bw)
    y = torch.einsum("...hi,hij->...hj", xs, w) + b
    return y.reshape(*x.shape)


def conv1d_doc(x, w, b, pos):
    """Causal depthwise conv, width K, with document masking.
    x (B,T,L), w (K,L), pos (B,T). y_t = b + sum_s w[K-1-s] * x_{t-s}, where
    x_{t-s} counts only if t-s >= 0 and no position in (t-s, t] has pos == 0."""
    B, T, L = x.shape
    K = w.shape[0]
    cnt = torch.cumsum((pos == 0).to(torch.int64), dim=1)  # (B,T)
    y = b.expand(B, T, L).clone()
    for s in range(K):
        if s >= T:
            break
        xs = torch.zeros_like(x)
        xs[:, s:] = x[:, :T - s]
        valid = torch.zeros(B, T, dtype=torch.bool)
        valid[:, s:] = (cnt[:, s:] - cnt[:, :T - s]) == 0  # no reset in (t-s, t]
        y = y + torch.where(valid[..., None], xs, torch.zeros_like(xs)) * w[K - 1 - s]
    return y


def rg_lru(P, p, x, pos, h0=None):
    """x (B,T,L) conv output. Returns y (B,T,L) and the last h."""
    B, T, L = x.shape
    gate_x = torch.sigmoid(block_diag_linear(x, P[p + "input_gate.w"], P[p + "input_gate.b"]))
    gate_a = torch.sigmoid(block_diag_linear(x, P[p + "a_gate.w"], P[p + "a_gate.b"]))
    log_a = -8.0 * gate_a * F.softplus(P[p + "a_param"])
    a = torch.exp(log_a)
    a_sq = torch.exp(2.0 * log_a)
    reset = (pos == 0)[..., None]
    mult = SqrtBoundDerivative.apply(1.0 - a_sq)
    mult = torch.where(reset, torch.ones_like(mult), mult)
    u = x * gate_x * mult
    a = torch.where(reset, torch.zeros_like(a), a)
    h = torch.zeros(B, L, dtype=x.dtype) if h0 is None else h0
    ys = []
    for t in range(T):
        h = a[:, t] * h + u[:, t]
        ys.append(h)
    return torch.stack(ys, dim=1), h


def recurrent_block(P, p, x, pos):
    y = gelu_tanh(linear(x, P[p + "linear_y.weight"], P[p + "linear_y.bias"]))
    xb = linear(x, P[p + "linear_x.weight"], P[p + "linear_x.bias"])
    xb = conv1d_doc(xb, P[p + "conv_1d.w"], P[p + "conv_1d.b"], pos)
    xb, _ = rg_lru(P, p + "rg_lru.", xb, pos)
    return linear(xb * y, P[p + "linear_out.weight"], P[p + "linear_out.bias"])


def apply_rope(x, pos, cfg):
    """x (..., T, n, dh) with pos broadcastable to (..., T). Rotate-half on the
    first rope_fraction*dh dims, the rest passes through."""
    dh = x.shape[-1]
    dr = int(round(dh * cfg.rope_fraction))
    dr -= dr % 2
    if dr == 0:
        return x
    half = dr // 2
    j = torch.arange(half, dtype=torch.float64)
    inv_freq = 1.0 / (cfg.rope_base ** (2.0 * j / dr))
    ang = pos.to(torch.float64)[..., None, None] * inv_freq  # (...,T,1,half)
    sin, cos = torch.sin(ang).to(x.dtype), torch.cos(ang).to(x.dtype)
    x1, x2, rest = x[..., :half], x[..., half:dr], x[..., dr:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin, rest], dim=-1)


def attention_block(P, p, x, pos, cfg, window):
    B, T, _ = x.shape
    H, dh = cfg.heads, cfg.head_dim
    q = linear(x, P[p + "proj_q.weight"]).reshape(B, T, H, dh)
    k = linear(x, P[p + "proj_k.weight"]).reshape(B, T, 1, dh)
    v = linear(x, P[p + "proj_v.weight"]).reshape(B, T, dh)
    q = apply_rope(q, pos, cfg)
    k = apply_rope(k, pos, cfg)[:, :, 0]
    scores = torch.einsum("bthd,bsd->bhts", q, k) * (dh ** -0.5)
    seg = torch.cumsum((pos == 0).to(torch.int64), dim=1)
    idx = torch.arange(T)
    mask = (idx[None, :, None] >= idx[None, None, :]) & (seg[:, :, None] == seg[:, None, :])
    if window is not None:
        mask = mask & (idx[None, :, None] - window <= idx[None, None, :])
    scores = torch.where(mask[:, None], scores, torch.full_like(scores, MASK_VALUE))
    probs = torch.softmax(scores, dim=-1)
    enc = torch.einsum("bhts,bsd->bthd", probs, v).reshape(B, T, H * dh)
    return linear(enc, P[p + "proj_final.weight"], P[p + "proj_final.bias"])


def embed_scale_factor(D):
    return float(torch.tensor(math.sqrt(D), dtype=torch.float32).to(torch.bfloat16).float())


def forward(P, cfg, tokens, pos):
    """tokens, pos: (B,T) int64 tensors. Returns logits (B,T,V)."""
    E = P["embedder.input_embedding"]
    x = E[tokens]
    if cfg.embed_scale:
        x = x * embed_scale_factor(cfg.width)
    for i, kind in enumerate(cfg.pattern):
        p = f"blocks.{i}."
        h = rms_norm(x, P[p + "temporal_pre_norm.scale"], cfg.eps)
        if kind == "R":
            h = recurrent_block(P, p + "recurrent_block.", h, pos)
        else:
            h = attention_block(P, p + "attention_block.", h, pos, cfg,
                                cfg.window if kind == "L" else None)
        x = x + h
        x = x + mlp(P, p + "mlp_block.", rms_norm(x, P[p + "channel_pre_norm.scale"], cfg.eps))
    x = rms_norm(x, P["final_norm.scale"], cfg.eps)
    logits = x @ E.t()
    if cfg.softcap:
        logits = cfg.softcap * torch.tanh(logits / cfg.softcap)
    return logits


def loss_fn(logits, targets):
    """Mean cross-entropy over targets != -1."""
    V = logits.shape[-1]
    return F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=-1,
                           reduction="mean")


# --------------------------------------------------------------------------
# step-by-step decode (for the decode-vs-prefill self-check; spec §2.1/§3 decode)


def decode(P, cfg, tokens):
    """Feeds tokens (B,T) one at a time with per-layer caches (conv state of
    the last K-1 inputs, fp h, ring-buffer KV cache of W slots for local
    attention, full cache for global). Positions are 0..T-1 (one document)."""
    B, T = tokens.shape
    D, L, W, K = cfg.width, cfg.lru_width, cfg.window, cfg.conv_width
    E = P["embedder.input_embedding"]
    dt = E.dtype
    state = []
    for kind in cfg.pattern:
        if kind == "R":
            state.append({"conv": torch.zeros(B, K - 1, L, dtype=dt), "h": torch.zeros(B, L, dtype=dt)})
        elif kind == "L":
            state.append({"k": torch.zeros(B, W, cfg.head_dim, dtype=dt),
                          "v": torch.zeros(B, W, cfg.head_dim, dtype=dt), "n": 0})
        else:
            state.append({"k": [], "v": []})
    outs = []
    for t in range(T):
        pos = torch.full((B, 1), t, dtype=torch.int64)
        x = E[tokens[:, t:t + 1]]
        if cfg.embed_scale:
            x = x * embed_scale_factor(D)
        for i, kind in enumerate(cfg.pattern):
            p = f"blocks.{i}."
            s = state[i]
            h = rms_norm(x, P[p + "temporal_pre_norm.scale"], cfg.eps)
            if kind == "R":
                r = p + "recurrent_block."
                y = gelu_tanh(linear(h, P[r + "linear_y.weight"], P[r + "linear_y.bias"]))
                xb = linear(h, P[r + "linear_x.weight"], P[r + "linear_x.bias"])[:, 0]
                win = torch.cat([s["conv"], xb[:, None]], dim=1)  # (B,K,L) oldest first
                c = P[r + "conv_1d.b"] + (win * P[r + "conv_1d.w"]).sum(dim=1)
                s["conv"] = win[:, 1:]
                out, s["h"] = rg_lru(P, r + "rg_lru.", c[:, None], pos, h0=s["h"])
                h = linear(out * y, P[r + "linear_out.weight"], P[r + "linear_out.bias"])
            else:
                a = p + "attention_block."
                H, dh = cfg.heads, cfg.head_dim
                q = apply_rope(linear(h, P[a + "proj_q.weight"]).reshape(B, 1, H, dh), pos, cfg)[:, 0]
                k = apply_rope(linear(h, P[a + "proj_k.weight"]).reshape(B, 1, 1, dh), pos, cfg)[:, 0, 0]
                v = linear(h, P[a + "proj_v.weight"])[:, 0]
                if kind == "L":
                    n = s["n"]
                    # slot i holds absolute position p = i + floor(n/W)W if < n else i + (floor(n/W)-1)W
                    slot_pos = [i_ + (n // W) * W if i_ + (n // W) * W < n else i_ + (n // W - 1) * W
                                for i_ in range(W)]
                    valid = torch.tensor([0 <= sp and t - W <= sp for sp in slot_pos] + [True])
                    keys = torch.cat([s["k"], k[:, None]], dim=1)
                    vals = torch.cat([s["v"], v[:, None]], dim=1)
                    s["k"] = s["k"].clone()
                    s["v"] = s["v"].clone()
                    s["k"][:, n % W] = k
                    s["v"][:, n % W] = v
                    s["n"] = n + 1
                else:
                    s["k"].append(k)
                    s["v"].append(v)
                    keys, vals = torch.stack(s["k"], 1), torch.stack(s["v"], 1)
                    valid = torch.ones(keys.shape[1], dtype=torch.bool)
                sc = torch.einsum("bhd,bsd->bhs", q, keys) * dh ** -0.5
                sc = torch.where(valid[None, None], sc, torch.full_like(sc, MASK_VALUE))
                enc = torch.einsum("bhs,bsd->bhd", torch.softmax(sc, -1), vals).reshape(B, 1, H * dh)
                h = linear(enc, P[a + "proj_final.weight"], P[a + "proj_final.bias"])
            x = x + h
            x = x + mlp(P, p + "mlp_block.", rms_norm(x, P[p + "channel_pre_norm.scale"], cfg.eps))
        x = rms_norm(x, P["final_norm.scale"], cfg.eps)
        lg = x @ E.t()
        if cfg.softcap:
            lg = cfg.softcap * torch.tanh(lg / cfg.softcap)
        outs.append(lg)
    return torch.cat(outs, dim=1)


# --------------------------------------------------------------------------
# AdamW (golden training run)

ADAMW = dict(lr=3e-3, warmup=3, total=10, steps=10, wd=0.1, clip=1.0, beta1=0.9,
             beta2=0.95, adam_eps=1e-8, lr_min_ratio=0.1)


def lr_at(t, h=ADAMW):
    """t = 0-based step. Linear warm-up lr*(t+1)/warmup for t < warmup, then
    cosine from lr to lr_min = lr_min_ratio*lr:
    lr_min + 0.5*(lr - lr_min)*(1 + cos(pi * (t - warmup) / (total - warmup)))."""
    lr, w, total = h["lr"], h["warmup"], h["total"]
    if t < w:
        return lr * (t + 1) / w
    lr_min = h["lr_min_ratio"] * lr
    prog = min(1.0, (t - w) / max(1, total - w))
    return lr_min + 0.5 * (lr - lr_min) * (1.0 + math.cos(math.pi * prog))


def decays(name):
    if name == "embedder.input_embedding":
        return True
    if name.endswith("rg_lru.a_param"):
        return False
    return name.endswith(".weight") or name.endswith(".w")


def train_run(P, cfg, tokens, pos, targets, h=ADAMW):
    """Returns (losses[steps], lrs, grad_norms, final_loss, final params).
    Grad norm = global L2 over all grads; if > clip, scale by clip/norm.
    Update (torch AdamW order): p -= lr*wd*p (decaying tensors only);
    m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
    p -= lr * (m/(1-b1^(t+1))) / (sqrt(v/(1-b2^(t+1))) + eps)."""
    P = {k: v.detach().clone() for k, v in P.items()}
    m = {k: torch.zeros_like(v) for k, v in P.items()}
    v2 = {k: torch.zeros_like(v) for k, v in P.items()}
    losses, lrs, norms = [], [], []
    for t in range(h["steps"]):
        for x in P.values():
            x.requires_grad_(True)
            x.grad = None
        loss = loss_fn(forward(P, cfg, tokens, pos), targets)
        loss.backward()
        losses.append(loss.item())
        with torch.no_grad():
            grads = {k: x.grad for k, x in P.items()}
            norm = math.sqrt(sum(float((g.double() ** 2).sum()) for g in grads.values()))
            norms.append(norm)
            scale = h["clip"] / norm if norm > h["clip"] else 1.0
            lr = lr_at(t, h)
            lrs.append(lr)
            b1, b2 = h["beta1"], h["beta2"]
            newP = {}
            for k, x in P.items():
                g = grads[k] * scale
                m[k] = b1 * m[k] + (1 - b1) * g
                v2[k] = b2 * v2[k] + (1 - b2) * g * g
                mh = m[k] / (1 - b1 ** (t + 1))
                vh = v2[k] / (1 - b2 ** (t + 1))
                y = x.detach()
                if decays(k):
                    y = y - lr * h["wd"] * y
                newP[k] = y - lr * mh / (torch.sqrt(vh) + h["adam_eps"])
            P = newP
    with torch.no_grad():
        final = loss_fn(forward(P, cfg, tokens, pos), targets).item()
    return losses, lrs, norms, final, P


# --------------------------------------------------------------------------
# I/O helpers


def load_ckpt(path, dtype=torch.float64):
    tensors, meta = st.load(path)
    cfg = config_from_meta(meta)
    P = {}
    for name, shape in param_shapes(cfg):
        if name not in tensors:
            raise KeyError(f"{path}: missing tensor {name}")
        arr = tensors[name]
        if tuple(arr.shape) != tuple(shape):
            raise ValueError(f"{path}: {name} has shape {arr.shape}, expected {shape}")
        P[name] = torch.from_numpy(np.asarray(arr, dtype=np.float64)).to(dtype)
    return P, cfg, meta


def save_ckpt(path, P, cfg, bf16=False):
    tensors = {k: v.detach().to(torch.float32).numpy() for k, v in P.items()}
    st.save(path, tensors, {"griffin_config": cfg.to_json()},
            bf16=set(tensors) if bf16 else ())


def parse_int_matrix(s):
    if s.endswith(".npy"):
        return np.load(s).astype(np.int64)
    rows = [[int(v) for v in r.split(",") if v.strip() != ""] for r in s.split(";") if r.strip()]
    return np.array(rows, dtype=np.int64)


def make_batch(cfg, B, T, seed):
    """Fixed training batch: random tokens; row b is a document continued at
    pos0 = 3*b (row 0 starts a document at t=0, row 1 starts mid-document, so
    'reset' must come from pos==0, not from t==0); a new document starts at
    t = T//2 - 2*b. targets = next token, -1 for the last token, the token
    before each reset, and two random extra positions per row."""
    rng = np.random.RandomState(seed)
    tokens = rng.randint(0, cfg.vocab, size=(B, T)).astype(np.int64)
    pos = np.zeros((B, T), dtype=np.int64)
    targets = np.full((B, T), -1, dtype=np.int64)
    for b in range(B):
        r = max(1, T // 2 - 2 * b)
        pos[b, :r] = np.arange(r) + 3 * (b % 2)
        pos[b, r:] = np.arange(T - r)
        targets[b, :-1] = tokens[b, 1:]
        targets[b, r - 1] = -1
        for t in rng.choice(T - 1, size=2, replace=False):
            targets[b, t] = -1
    return tokens, pos, targets


# --------------------------------------------------------------------------
# commands


def cmd_init(a):
    with open(a.config) as f:
        cfg = Config(json.load(f))
    P = init_params(cfg, a.seed, a.perturb)
    save_ckpt(a.o, P, cfg, bf16=a.bf16)
    print(f"{a.o}: {cfg.family} pattern={cfg.pattern} params={count_params(cfg, True)}")


def cmd_forward(a):
    dtype = torch.float64 if a.dtype == "float64" else torch.float32
    P, cfg, _ = load_ckpt(a.ckpt, dtype)
    tokens = parse_int_matrix(a.tokens)
    if a.pos:
        pos = parse_int_matrix(a.pos)
    else:
        pos = np.tile(np.arange(tokens.shape[1]), (tokens.shape[0], 1))
    with torch.no_grad():
        lg = forward(P, cfg, torch.from_numpy(tokens), torch.from_numpy(pos))
    np.save(a.o, lg.to(torch.float32).numpy())
    print(f"{a.o}: logits {tuple(lg.shape)}")


def cmd_golden(a):
    dtype = torch.float64 if a.dtype == "float64" else torch.float32
    P, cfg, meta = load_ckpt(a.ckpt, dtype)
    tokens, pos, targets = make_batch(cfg, a.B, a.T, a.seed)
    tk, ps, tg = (torch.from_numpy(x) for x in (tokens, pos, targets))
    Pg = {k: v.clone().requires_grad_(True) for k, v in P.items()}
    logits = forward(Pg, cfg, tk, ps)
    loss = loss_fn(logits, tg)
    loss.backward()
    losses, lrs, norms, final, _ = train_run(P, cfg, tk, ps, tg)
    assert abs(losses[0] - loss.item()) < 1e-6 * max(1.0, abs(loss.item()))
    out = {
        "logits": logits.detach().to(torch.float32).numpy(),
        "tokens": tokens.astype(np.int32), "pos": pos.astype(np.int32),
        "targets": targets.astype(np.int32),
        "loss0": np.array([loss.item()], dtype=np.float32),
    }
    for name, _ in param_shapes(cfg):
        out["grad." + name] = Pg[name].grad.to(torch.float32).numpy()
    out["losses"] = np.array(losses, dtype=np.float32)
    out["lrs"] = np.array(lrs, dtype=np.float32)
    out["grad_norms"] = np.array(norms, dtype=np.float32)
    out["loss_final"] = np.array([final], dtype=np.float32)
    md = {"griffin_config": meta.get("griffin_config", cfg.to_json()),
          "B": a.B, "T": a.T, "seed": a.seed, "compute_dtype": a.dtype,
          "checkpoint": os.path.basename(a.ckpt),
          "checkpoint_sha256": hashlib.sha256(open(a.ckpt, "rb").read()).hexdigest(),
          "schedule": "warmup: lr*(t+1)/warmup for t<warmup; then lr_min+0.5*(lr-lr_min)"
                      "*(1+cos(pi*(t-warmup)/(total-warmup))), lr_min=lr_min_ratio*lr",
          "decay": "tensors named *.weight, *.w, embedder.input_embedding; "
                   "not *.scale, *.bias, *.b, rg_lru.a_param"}
    md.update({k: repr(v) if isinstance(v, float) else v for k, v in ADAMW.items()})
    st.save(a.o, out, md)
    print(f"{a.o}: loss0={loss.item():.6f} losses[-1]={losses[-1]:.6f} final={final:.6f} "
          f"size={os.path.getsize(a.o)} bytes")


PRESETS_100M = dict(width=768, lru_width=1024, depth=12, mlp_expansion=3, heads=6,
                    head_dim=128, gate_blocks=16, vocab=256)


def preset_counts():
    res = {}
    for fam in ("mqa", "hawk", "griffin"):
        res[fam] = count_params(Config(dict(PRESETS_100M, family=fam)))
    return res


def cmd_counts(a):
    for fam, n in preset_counts().items():
        print(f"100M {fam:8s} non-embedding params: {n} ({n / 1e6:.1f}M)")


def cmd_selftest(a):
    torch.manual_seed(0)
    ok = True

    def check(name, cond, detail=""):
        nonlocal ok
        ok &= bool(cond)
        print(f"[{'PASS' if cond else 'FAIL'}] {name} {detail}")

    # 1. parameter counts of the paper 100M presets (spec §4)
    c = preset_counts()
    for fam, want in (("mqa", 80.3), ("hawk", 93.8), ("griffin", 89.3)):
        check(f"count 100M {fam}", round(c[fam] / 1e6, 1) == want, f"{c[fam]} vs {want}M")
    # formula check at 1.3B (D=2048, D_RNN=2560, N=24, 16 heads)
    c13 = {f: count_params(Config(dict(width=2048, lru_width=2560, depth=24, mlp_expansion=3, heads=16,
                                       head_dim=128, gate_blocks=16, vocab=8, family=f)))
           for f in ("mqa", "hawk", "griffin")}
    check("count 1.3B", [round(c13[f] / 1e9, 3) for f in ("mqa", "hawk", "griffin")] == [1.120, 1.304, 1.243],
          str(c13))

    # 2. safetensors round trip incl. BF16
    import tempfile
    cfg = Config(dict(family="griffin", width=16, depth=3, heads=2, head_dim=8, lru_width=24, gate_blocks=2,
                      window=4, vocab=32, softcap=5.0, embed_scale=True))
    P = init_params(cfg, 1, perturb=0.1)
    with tempfile.TemporaryDirectory() as d:
        save_ckpt(os.path.join(d, "a.safetensors"), P, cfg)
        Q, cfg2, _ = load_ckpt(os.path.join(d, "a.safetensors"))
        err = max(float((P[k].float().double() - Q[k]).abs().max()) for k in P)
        check("safetensors F32 round trip", err == 0.0 and cfg2.to_json() == cfg.to_json())
        save_ckpt(os.path.join(d, "b.safetensors"), P, cfg, bf16=True)
        Q, _, _ = load_ckpt(os.path.join(d, "b.safetensors"))
        ref = torch.tensor(st.bf16_bits_to_f32(st.f32_to_bf16_bits(P["final_norm.scale"].float().numpy())))
        check("safetensors BF16 round trip", torch.equal(Q["final_norm.scale"].float(), ref)
              and float((Q["final_norm.scale"] - P["final_norm.scale"]).abs().max()) < 1e-2)
    check("bf16 sqrt(2560) = 50.5", embed_scale_factor(2560) == 50.5, str(embed_scale_factor(2560)))

    # 3. SqrtBoundDerivative
    z = torch.tensor([1e-12, 0.25], dtype=torch.float64, requires_grad=True)
    SqrtBoundDerivative.apply(z).sum().backward()
    check("sqrt bounded derivative", torch.allclose(z.grad, torch.tensor([1000.0, 1.0], dtype=torch.float64)),
          str(z.grad.tolist()))

    # 4. decode vs prefill (single document, positions 0..T-1), all families
    for fam, pat in (("mqa", "GGG"), ("hawk", "RRR"), ("griffin", "RRLRL")):
        cf = Config(dict(family=fam, pattern=pat, depth=len(pat), width=16, heads=2, head_dim=8, lru_width=24,
                         gate_blocks=4, window=4, vocab=32, softcap=5.0 if fam == "griffin" else 0.0,
                         embed_scale=fam == "hawk"))
        Pf = init_params(cf, 2, perturb=0.1)
        tk = torch.randint(0, cf.vocab, (2, 13))
        ps = torch.arange(13).repeat(2, 1)
        with torch.no_grad():
            e = float((forward(Pf, cf, tk, ps) - decode(Pf, cf, tk)).abs().max())
        check(f"decode == prefill ({fam} {pat})", e < 1e-10, f"max|diff|={e:.2e}")

    # 5. document masking: a document's logits do not depend on earlier documents
    cf = Config(dict(family="griffin", pattern="RRLGR", depth=5, width=16, heads=2, head_dim=8, lru_width=24,
                     gate_blocks=2, window=4, vocab=32))
    Pf = init_params(cf, 3, perturb=0.1)
    tk = torch.randint(0, 32, (1, 17))
    ps = torch.cat([torch.arange(9), torch.arange(8)])[None]
    with torch.no_grad():
        full = forward(Pf, cf, tk, ps)
        tail = forward(Pf, cf, tk[:, 9:], ps[:, 9:])
    e = float((full[:, 9:] - tail).abs().max())
    check("document isolation (pos reset)", e < 1e-12, f"max|diff|={e:.2e}")
    # local window: token 12 must not see token <= 12-W-1 through the L layer alone
    cw = Config(dict(family="griffin", pattern="L", depth=1, width=16, heads=2, head_dim=8, window=4, vocab=32))
    Pw = init_params(cw, 4, perturb=0.1)
    tk2 = tk.clone()
    tk2[0, :8] = (tk2[0, :8] + 1) % 32
    ps2 = torch.arange(17)[None]
    with torch.no_grad():
        d1 = forward(Pw, cw, tk, ps2) - forward(Pw, cw, tk2, ps2)
    check("local window W+1 keys", float(d1[0, 12:].abs().max()) == 0.0 and float(d1[0, 11].abs().max()) > 0)

    # 6. gradcheck (float64) on a tiny griffin with resets and -1 targets
    cf = Config(dict(family="griffin", pattern="RLG", depth=3, width=8, heads=2, head_dim=4, lru_width=8,
                     gate_blocks=2, window=3, vocab=11, softcap=3.0, embed_scale=True))
    Pf = init_params(cf, 5, perturb=0.1)
    tokens, pos, targets = make_batch(cf, 2, 9, 7)
    tk, ps, tg = (torch.from_numpy(x) for x in (tokens, pos, targets))
    names = ["blocks.0.recurrent_block.rg_lru.a_param", "blocks.0.recurrent_block.conv_1d.w",
             "blocks.0.recurrent_block.rg_lru.a_gate.w", "blocks.0.recurrent_block.rg_lru.input_gate.b",
             "blocks.0.recurrent_block.linear_x.weight", "blocks.1.attention_block.proj_k.weight",
             "blocks.2.attention_block.proj_q.weight", "blocks.1.mlp_block.ffw_up.w",
             "blocks.2.temporal_pre_norm.scale", "embedder.input_embedding", "final_norm.scale"]

    def f(*ts):
        Q = dict(Pf)
        Q.update(zip(names, ts))
        return loss_fn(forward(Q, cf, tk, ps), tg)

    inputs = tuple(Pf[n].clone().requires_grad_(True) for n in names)
    try:
        gc = torch.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-7, rtol=1e-5)
    except Exception as ex:  # noqa: BLE001
        gc = False
        print(ex)
    check("gradcheck float64 (" + ", ".join(n.split(".", 2)[-1] for n in names) + ")", gc)

    # 7. AdamW run decreases the loss; float32 vs float64 agree
    l64, _, _, _, _ = train_run(Pf, cf, tk, ps, tg)
    P32 = {k: v.float() for k, v in Pf.items()}
    l32, _, _, _, _ = train_run(P32, cf, tk, ps, tg)
    check("AdamW 10 steps: loss decreases", l64[-1] < l64[0], f"{l64[0]:.4f} -> {l64[-1]:.4f}")
    check("float32 vs float64 loss curve", max(abs(x - y) for x, y in zip(l64, l32)) < 1e-4,
          f"max|diff|={max(abs(x - y) for x, y in zip(l64, l32)):.2e}")
    print("selftest:", "OK" if ok else "FAILED")
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("init")
    p.add_argument("config")
    p.add_argument("-o", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--bf16", action="store_true", help="store tensors as BF16")
    p.add_argument("--perturb", type=float, default=0.0,
                   help="std of noise added to the zero-initialised biases/scales (0 = spec init)")
    p = sub.add_parser("forward")
    p.add_argument("ckpt")
    p.add_argument("--tokens", required=True, help='"1,2,3;4,5,6" (rows ; separated) or a .npy file')
    p.add_argument("--pos", help="segment positions, same format (default 0..T-1)")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    p.add_argument("-o", required=True)
    p = sub.add_parser("golden")
    p.add_argument("ckpt")
    p.add_argument("-o", required=True)
    p.add_argument("--B", type=int, default=2)
    p.add_argument("--T", type=int, default=23)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                   help="compute precision (results are stored as float32)")
    sub.add_parser("counts")
    sub.add_parser("selftest")
    a = ap.parse_args()
    rc = {"init": cmd_init, "forward": cmd_forward, "golden": cmd_golden, "counts": cmd_counts,
          "selftest": cmd_selftest}[a.cmd](a)
    sys.exit(rc or 0)


if __name__ == "__main__":
    main()

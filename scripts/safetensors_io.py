"""Minimal safetensors reader/writer (numpy + struct only).

Format: 8-byte little-endian u64 header length N, N bytes of JSON header
{name: {"dtype": "F32"|"F64"|"BF16"|"I32"|"I64"..., "shape": [...],
"data_offsets": [begin, end]}, "__metadata__": {str: str}}, then the raw
little-endian tensor data; offsets are relative to the end of the header.
BF16 tensors are returned as float32 (exact widening).
"""
import json
import struct

import numpy as np

_NP = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"), "U8": np.dtype("u1"), "BOOL": np.dtype("?"),
}


def bf16_bits_to_f32(u16):
    return (u16.astype(np.uint32) << 16).view(np.float32)


def f32_to_bf16_bits(x):
    """Round-to-nearest-even float32 -> bfloat16 bit pattern (NaN kept NaN)."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    rounding = ((u >> 16) & 1) + np.uint32(0x7FFF)
    out = ((u + rounding) >> 16).astype(np.uint16)
    nan = np.isnan(x)
    if nan.any():
        out[nan] = 0x7FC0
    return out


def load(path):
    """Returns (tensors: dict name -> np.ndarray, metadata: dict str -> str)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError(f"{path}: header length {n} beyond end of file")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    base = 8 + n
    meta = header.pop("__metadata__", {}) or {}
    out = {}
    for name, info in header.items():
        dt, shape = info["dtype"], [int(s) for s in info["shape"]]
        b, e = info["data_offsets"]
        buf = raw[base + b: base + e]
        count = int(np.prod(shape)) if shape else 1
        if dt == "BF16":
            if len(buf) != 2 * count:
                raise ValueError(f"{name}: size mismatch")
            arr = bf16_bits_to_f32(np.frombuffer(buf, dtype="<u2")).reshape(shape)
        else:
            npdt = _NP[dt]
            if len(buf) != npdt.itemsize * count:
                raise ValueError(f"{name}: size mismatch")
            arr = np.frombuffer(buf, dtype=npdt).reshape(shape).copy()
        out[name] = arr
    return out, dict(meta)


def save(path, tensors, metadata=None, bf16=()):
    """tensors: dict name -> np.ndarray (float32/float64/int32/int64...).
    Names in `bf16` are stored as BF16 (rounded to nearest even)."""
    header, blobs, off = {}, [], 0
    for name, arr in tensors.items():
        arr = np.asarray(arr)
        if name in bf16:
            data, dt = f32_to_bf16_bits(arr.astype(np.float32)).astype("<u2").tobytes(), "BF16"
        else:
            dt = {v: k for k, v in _NP.items()}.get(arr.dtype.newbyteorder("<"))
            if dt is None:
                raise TypeError(f"{name}: unsupported dtype {arr.dtype}")
            data = np.ascontiguousarray(arr, dtype=_NP[dt]).tobytes()
        header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((8 - len(hjson) % 8) % 8)  # keep data 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for blob in blobs:
            f.write(blob)

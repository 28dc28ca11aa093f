"""Map a fairseq OFA state dict (``snli_ve_large_best.pt``'s ``model``) onto the parameter names of OFA's
Hugging Face port, and refuse what the port cannot represent.

Renames follow the conversion recipe circulated with OFA's transformers port: exact names first, then
``ffn_layernorm -> ffn_layer_norm``, ``self_attn_ln -> self_attn_mid_layer_norm``,
``cross_attn_ln -> cross_attn_mid_layer_norm``, ``encoder_attn -> cross_attn`` (which also turns
``encoder_attn_layer_norm`` into ``cross_attn_layer_norm``), and finally the encoder's
``attn_ln -> self_attn_mid_layer_norm``.

Newer OFA code (OFA-Sys/OFA ``models/ofa/unify_transformer_layer.py``) can add parameters that the port
has no place for: ``w_resid`` (``--scale-resids``), adapters (``adapter.down_proj`` / ``up_proj`` /
``scale``), prompt-tuning encoders. A checkpoint that carries them computes something the port does not,
so dropping them silently ("unused keys") would export a different model: map_fairseq_state_dict refuses
such a checkpoint and names the keys. Only fairseq's bookkeeping entries are ignorable.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Tuple

# fairseq bookkeeping, not model weights: ``encoder.version`` / ``decoder.version`` (a buffer fairseq's
# upgrade_state_dict writes) and sinusoidal position embeddings' ``_float_tensor`` placeholder.
IGNORABLE = re.compile(r"(^|\.)(version|_float_tensor)$")

# Parameter families of newer OFA code that the port lacks, with what they are, for the message.
KNOWN_UNSUPPORTED = [
    (re.compile(r"(^|\.)w_resid$"), "w_resid: residual scaling (--scale-resids)"),
    (re.compile(r"(^|\.)adapter[._]|(^|\.)(down_proj|up_proj)\."), "adapter down_proj/up_proj/scale (adapter tuning)"),
    (re.compile(r"prompt_encoder|encoder_prompt|decoder_prompt"), "prompt-tuning encoders"),
]


class FairseqMappingError(Exception):
    """The fairseq checkpoint does not fit the port's architecture."""


def candidate_names(key: str) -> List[str]:
    chain = (key.replace("ffn_layernorm", "ffn_layer_norm").replace("self_attn_ln", "self_attn_mid_layer_norm")
             .replace("cross_attn_ln", "cross_attn_mid_layer_norm").replace("encoder_attn", "cross_attn"))
    return [key, chain, key.replace("attn_ln", "self_attn_mid_layer_norm")]


def describe_unsupported(keys: List[str]) -> str:
    families = []
    for pattern, what in KNOWN_UNSUPPORTED:
        hits = [k for k in keys if pattern.search(k)]
        if hits:
            families.append(f"{what}: {len(hits)} key(s), e.g. {hits[0]}")
    others = [k for k in keys if not any(p.search(k) for p, _ in KNOWN_UNSUPPORTED)]
    if others:
        families.append(f"other: {len(others)} key(s), e.g. {', '.join(others[:4])}")
    return "; ".join(families)


def map_fairseq_state_dict(fs_state: Dict[str, Any], hf_state: Dict[str, Any]) -> Tuple[Dict[str, Any], List[str]]:
    """Return (mapped state for the port, ignored bookkeeping keys).

    Raises FairseqMappingError when a fairseq tensor has no counterpart in the port (other than
    fairseq bookkeeping), when two fairseq tensors map onto the same port name, or when a shape differs.
    """
    mapped: Dict[str, Any] = {}
    source: Dict[str, str] = {}
    ignored: List[str] = []
    unmatched: List[str] = []
    for key, value in fs_state.items():
        if IGNORABLE.search(key):
            ignored.append(key)
            continue
        target = next((c for c in candidate_names(key) if c in hf_state), None)
        if target is None:
            unmatched.append(key)
            continue
        if target in mapped:
            raise FairseqMappingError(f"fairseq keys {source[target]} and {key} both map onto {target}")
        if tuple(hf_state[target].shape) != tuple(value.shape):
            raise FairseqMappingError(
                f"fairseq {key} {tuple(value.shape)} does not fit {target} {tuple(hf_state[target].shape)}: "
                f"is --checkpoint the same size (Large/Base) as the fairseq checkpoint?")
        mapped[target] = value
        source[target] = key
    if unmatched:
        raise FairseqMappingError(
            f"the fairseq checkpoint has {len(unmatched)} tensor(s) that OFA's Hugging Face port has no place for "
            f"({describe_unsupported(unmatched)}). They change what the model computes, so exporting without them "
            f"would give a different model than the checkpoint: use a checkpoint trained without these options, "
            f"or a port that implements them.")
    return mapped, ignored

#!/usr/bin/env python3
"""Export a real OFA SNLI-VE checkpoint into the OFA-VE model-directory contract (models/README.md).

Input: the Hugging Face transformers port of OFA (OFA-Sys/OFA, branch ``feature/add_transformers``:
``OFAModel`` + vocab.json/merges.txt), either a local directory or a Hub id, optionally combined with a
fairseq fine-tuned checkpoint (``snli_ve_large_best.pt`` / ``snli_ve_base_best.pt``) whose weights are
mapped onto that architecture (``--fairseq-checkpoint``).

Output (``--out DIR``)::

    model.json              manifest, schema_version 1, demo: false
    model.onnx              graph: pixel_values, input_ids, attention_mask, decoder_input_ids,
                            decoder_attention_mask -> logits [batch, vocab] (last real decoder token)
    model.onnx.data         only when the graph is too big for one protobuf (OFA-Large fp32):
                            ONNX external data, listed in model.json as files.model_data
    tokenizer.json          Hugging Face tokenizers format (byte-level BPE, RobertaProcessing)
    tokenizer_config.json

Real OFA weights cannot be downloaded in this project's CI, but OFA's modelling code can be run there:
test/integration/ofa-port-parity.test.ts exports OFA's own ``OFAModel`` (loaded unmodified from a copy of
the port with ``--ofa-port``, see ofa_port_shim.py) at a small size with random weights, with ``--check``,
and compares the app's engine with OFA's PyTorch forward. With real weights, run it with ``--check`` (and
``--reference-ids``) before you trust the output; see models/tools/README.md.

Where a choice follows OFA's code, the comment names the file. Paths are in the OFA-Sys/OFA repository:
  [ds]    data/mm_data/snli_ve_dataset.py     (SnliVeDataset: image transform, prompts, src/prev_output)
  [ofads] data/ofa_dataset.py                 (OFADataset.pre_caption)
  [task]  tasks/mm_tasks/snli_ve.py           (answers, constraint trie, valid_step scoring)
  [run]   run_scripts/snli_ve/train_snli_ve.sh (max_src_length=80, patch_image_size=480,
                                               prompt_type=prev_output, --add-caption)
  [hf]    transformers/src/transformers/models/ofa/modeling_ofa.py    (branch feature/add_transformers)
  [hftok] transformers/src/transformers/models/ofa/tokenization_ofa.py
  [hfcfg] transformers/src/transformers/models/ofa/configuration_ofa.py

torch, onnx and the OFA fork are imported lazily, so ``--help`` and ``--tokenizer-only`` work without them.
Where Python's ``tokenizers`` is not installed, tokenizer.json is checked with a pure-Python byte-level BPE
(byte_level_bpe.py); where Python's ``onnxruntime`` is not installed, ``--check`` runs the graph with
onnxruntime-node (onnx-check-runner.ts, from this repository's node_modules).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import inspect
import json
import os
import re
import sys
import tempfile
import shutil
import subprocess
import warnings
from collections import Counter
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

# Sibling modules (the port shim, the BPE fallback, the fairseq mapping) import by name, whether this
# file runs as a script or is imported by a test.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from byte_level_bpe import TokenizerFormatError, read_vocab_and_merges  # noqa: E402
from ofa_fairseq_mapping import FairseqMappingError, map_fairseq_state_dict  # noqa: E402

SCHEMA_VERSION = 1

# [ds] SnliVeDataset.__getitem__: src_item = encode_text(' does the image describe " {} "?'.format(hypothesis));
# with add_caption: ' can image and text1 " {} " imply text2 " {} "?'.format(caption, hypothesis).
PROMPT = ' does the image describe " {text} "?'
PROMPT_WITH_PREMISE = ' can image and text1 " {premise} " imply text2 " {text} "?'

# [task] SnliVeConfig.ans2label_dict = {"no": 0, "yes": 1, "maybe": 2}; build_model encodes each
# answer as bpe.encode(' ' + answer). In OFA's (BART) vocabulary these are single tokens.
ANSWER_TEXTS = {"YES": " yes", "NO": " no", "MAYBE": " maybe"}
STANDARD_ANSWER_IDS = {"YES": 4420, "NO": 117, "MAYBE": 2085}

# [run] max_src_length=80 (SnliVeDataset passes it to pre_caption as max_words), patch_image_size=480.
DEFAULT_MAX_WORDS = 80
DEFAULT_IMAGE_SIZE = 480
# ResNet stem (stride 2) + max-pool (2) + layer2 (2) + layer3 (2): one image token per 16x16 pixels.
PATCH_SIZE = 16
# [ds] mean = std = [0.5, 0.5, 0.5] unless imagenet_default_mean_and_std (not set for SNLI-VE).
IMAGE_MEAN = [0.5, 0.5, 0.5]
IMAGE_STD = [0.5, 0.5, 0.5]

# [hftok] OFATokenizer.from_pretrained adds 8192 "<code_{i}>" then 1000 "<bin_{i}>" tokens after the
# BART vocabulary; [hfcfg] vocab_size=59457 = 50265 + 8192 + 1000.
NUM_CODE_TOKENS = 8192
NUM_BIN_TOKENS = 1000

INPUT_NAMES = ["pixel_values", "input_ids", "attention_mask", "decoder_input_ids", "decoder_attention_mask"]
OUTPUT_NAMES = ["logits"]
MODEL_FILE = "model.onnx"
MODEL_DATA_FILE = "model.onnx.data"
TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
# A single protobuf cannot exceed 2 GiB. --external-data auto moves the weights out above ~1.9 GB (OFA-Large
# fp32 lands just above: ~1.91 GB); --external-data never accepts up to ~2.1 GB of weights.
INLINE_LIMIT_BYTES = 1_900_000_000
HARD_INLINE_LIMIT_BYTES = 2_100_000_000

# Captions for --check when none are given: different lengths (so the batch is padded), with and
# without a premise.
DEFAULT_CHECK_CASES: List[Tuple[Optional[str], str]] = [
    (None, "Two dogs play in the snow."),
    ("a cat lies on a couch", "The cat is sleeping on a red sofa!"),
    (None, "a rocket launches into the night sky"),
    (None, "A man is riding a motorcycle down a dirt road next to a field of sunflowers."),
]


class ExportError(Exception):
    """A problem the user has to fix; printed without a traceback."""


def log(msg: str) -> None:
    print(f"[export_ofa] {msg}", flush=True)


def warn(msg: str) -> None:
    print(f"[export_ofa] WARNING: {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------
# Text: OFA's caption normalisation and prompts
# --------------------------------------------------------------------------------------------------

def pre_caption(caption: str, max_words: int) -> str:
    """Port of OFADataset.pre_caption ([ofads]), character for character.

    Note two details the app's runtime may want to mirror: ``<person>`` becomes ``person``, and only
    runs of two or more whitespace characters are collapsed (``re.sub(r"\\s{2,}", " ")``), so a single
    tab or newline inside a caption survives into the prompt.
    """
    caption = caption.lower().lstrip(",.!?*#:;~").replace("-", " ").replace("/", " ").replace("<person>", "person")
    caption = re.sub(r"\s{2,}", " ", caption)
    caption = caption.rstrip("\n")
    caption = caption.strip(" ")
    words = caption.split(" ")
    if len(words) > max_words:
        caption = " ".join(words[:max_words])
    return caption


def build_prompt(text: str, premise: Optional[str], max_words: int) -> str:
    # [ds]: both the hypothesis and the caption (premise) go through pre_caption(…, max_src_length).
    hypothesis = pre_caption(text, max_words)
    if premise is None:
        return PROMPT.format(text=hypothesis)
    return PROMPT_WITH_PREMISE.format(premise=pre_caption(premise, max_words), text=hypothesis)


# --------------------------------------------------------------------------------------------------
# Files, hashes, JSON
# --------------------------------------------------------------------------------------------------

def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_entry(out_dir: str, name: str) -> Dict[str, Any]:
    path = os.path.join(out_dir, name)
    return {"path": name, "sha256": sha256_file(path), "bytes": os.path.getsize(path)}


def write_json(path: str, obj: Any, compact: bool = False) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        if compact:
            json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))
        else:
            json.dump(obj, f, ensure_ascii=False, indent=2)
            f.write("\n")
    os.replace(tmp, path)


def human_bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{n} B"
        n /= 1024.0
    return f"{n:.1f} GiB"


# --------------------------------------------------------------------------------------------------
# Checkpoint resolution (local directory or Hugging Face Hub id)
# --------------------------------------------------------------------------------------------------

def resolve_checkpoint_dir(checkpoint: str, revision: Optional[str]) -> str:
    if os.path.isdir(checkpoint):
        return os.path.abspath(checkpoint)
    if os.path.exists(checkpoint):
        raise ExportError(
            f"--checkpoint {checkpoint!r} is a file. Pass the Hugging Face OFA directory; for a fairseq "
            f".pt use --fairseq-checkpoint FILE together with --checkpoint <matching HF OFA directory>.")
    try:
        from huggingface_hub import snapshot_download  # type: ignore
    except ImportError as e:
        raise ExportError(
            f"--checkpoint {checkpoint!r} is not a local directory and huggingface_hub is not installed "
            f"to download it (pip install huggingface_hub), or download it yourself and pass the directory."
        ) from e
    log(f"downloading {checkpoint} from the Hugging Face Hub ...")
    return snapshot_download(repo_id=checkpoint, revision=revision,
                             allow_patterns=["*.json", "*.txt", "*.bin", "*.safetensors", "*.model"])


def read_config_json(ckpt_dir: str) -> Dict[str, Any]:
    path = os.path.join(ckpt_dir, "config.json")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# --------------------------------------------------------------------------------------------------
# Tokenizer: OFA's GPT-2 byte-level BPE (vocab.json + merges.txt) -> tokenizer.json
# --------------------------------------------------------------------------------------------------

def load_bpe_files(ckpt_dir: str, ofa_module: Optional[str],
                   ofa_port: Optional[str] = None) -> Tuple[Dict[str, int], List[str], str, str]:
    """Return (vocab, merges, vocab_path, merges_path) of the checkpoint's tokenizer.

    HF OFA directories ship vocab.json and merges.txt ([hftok] VOCAB_FILES_NAMES). If they are missing,
    the fork's OFATokenizer is asked to write them (save_vocabulary, inherited from BartTokenizer).
    """
    vocab_path = os.path.join(ckpt_dir, "vocab.json")
    merges_path = os.path.join(ckpt_dir, "merges.txt")
    if not (os.path.exists(vocab_path) and os.path.exists(merges_path)):
        mod = import_ofa_module(ofa_module, ofa_port)
        tok_cls = getattr(mod, "OFATokenizer", None)
        if tok_cls is None:
            raise ExportError(f"{ckpt_dir} has no vocab.json/merges.txt and {mod.__name__} has no OFATokenizer")
        tmp = tempfile.mkdtemp(prefix="ofa_vocab_")
        tok = tok_cls.from_pretrained(ckpt_dir)
        vocab_path, merges_path = tok.save_vocabulary(tmp)[:2]
    try:
        vocab, merges = read_vocab_and_merges(vocab_path, merges_path)
    except TokenizerFormatError as e:
        raise ExportError(str(e)) from e
    ids = sorted(vocab.values())
    if ids != list(range(len(ids))):
        raise ExportError(f"{vocab_path}: ids are not 0..{len(ids) - 1} without gaps")
    return vocab, merges, vocab_path, merges_path


def decide_extra_tokens(mode: str, vocab_size: int, model_vocab_size: Optional[int]) -> bool:
    """Whether to add OFA's <code_*>/<bin_*> tokens ([hftok]) as added tokens."""
    if mode == "keep":
        return True
    if mode == "drop":
        return False
    expected = vocab_size + NUM_CODE_TOKENS + NUM_BIN_TOKENS
    if model_vocab_size is None:
        warn("model vocab size unknown (no config.json): not adding <code_*>/<bin_*> tokens "
             "(use --extra-tokens keep to force)")
        return False
    if model_vocab_size == expected:
        return True
    if model_vocab_size != vocab_size:
        warn(f"model vocab_size {model_vocab_size} is neither {vocab_size} (BPE only) nor {expected} "
             f"(BPE + {NUM_CODE_TOKENS} codes + {NUM_BIN_TOKENS} bins); not adding extra tokens")
    return False


def build_tokenizer_json(vocab: Dict[str, int], merges: List[str], extra_tokens: bool) -> Dict[str, Any]:
    """The HF tokenizers JSON of OFA's tokenizer.

    Written field by field in the layout of OFA-Sys/OFA-Compress tokenizer/tokenizer.json (the file in
    /work/shared/ofa-tokenizer): for the standard vocabulary without extra tokens the bytes are identical
    to it. This is the serialisation of a ByteLevelBPETokenizer(add_prefix_space=False) with a
    RobertaProcessing post-processor (what transformers' RobertaConverter builds for BartTokenizer); it is
    written directly rather than via Tokenizer.to_str() so the file does not depend on the installed
    tokenizers version (the OFA fork pins an old one; newer ones change the merges format and add keys).
    verify_tokenizer() then loads it with the tokenizers library and compares it with a library-built
    ByteLevelBPETokenizer + RobertaProcessing.
    """
    def special(token: str, lstrip: bool = False) -> Dict[str, Any]:
        if token not in vocab:
            raise ExportError(f"vocab.json has no {token!r}")
        return {"id": vocab[token], "special": True, "content": token, "single_word": False,
                "lstrip": lstrip, "rstrip": False, "normalized": True}

    added = [special("<s>"), special("<pad>"), special("</s>"), special("<unk>")]
    if "<mask>" in vocab:  # BART/RoBERTa: <mask> strips the space before it
        added.append(special("<mask>", lstrip=True))
    if extra_tokens:
        next_id = len(vocab)
        names = [f"<code_{i}>" for i in range(NUM_CODE_TOKENS)] + [f"<bin_{i}>" for i in range(NUM_BIN_TOKENS)]
        for name in names:  # same order and ids as OFATokenizer.from_pretrained's add_tokens calls [hftok]
            if name in vocab:
                raise ExportError(f"vocab.json already contains {name!r}; use --extra-tokens drop")
            added.append({"id": next_id, "special": False, "content": name, "single_word": False,
                          "lstrip": False, "rstrip": False, "normalized": True})
            next_id += 1
    bos, eos = vocab["<s>"], vocab["</s>"]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True},
        "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", eos], "cls": ["<s>", bos],
                           "trim_offsets": True, "add_prefix_space": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True},
        "model": {
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": "",
            "end_of_word_suffix": "",
            "fuse_unk": False,
            "vocab": dict(sorted(vocab.items(), key=lambda kv: kv[1])),
            "merges": list(merges),
        },
    }


def build_tokenizer_config(vocab: Dict[str, int], max_length: int) -> Dict[str, Any]:
    # What BartTokenizer (OFATokenizer's base class, [hftok]) would save, with plain-string tokens so that
    # both transformers and @huggingface/tokenizers read it.
    cfg: Dict[str, Any] = {
        "tokenizer_class": "BartTokenizer",
        "bos_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>",
        "unk_token": "<unk>", "pad_token": "<pad>",
        "add_prefix_space": False, "trim_offsets": True, "errors": "replace",
        "model_max_length": max_length,
        "clean_up_tokenization_spaces": False,
    }
    if "<mask>" in vocab:
        cfg["mask_token"] = "<mask>"
    return cfg


def encode_ids(tok: Any, text: str, special: bool = True) -> List[int]:
    return list(tok.encode(text, add_special_tokens=special).ids)


def verify_tokenizer(tokenizer_path: str, vocab_path: str, merges_path: str, vocab: Dict[str, int],
                     max_words: int, reference_ids: Optional[str], ckpt_dir: Optional[str],
                     ofa_module: Optional[str], ofa_port: Optional[str] = None) -> Tuple[Any, Dict[str, int]]:
    """Load the written tokenizer.json, cross-check it and look up the answer ids. Returns (tokenizer,
    answers).

    With the `tokenizers` library when it is installed; otherwise with byte_level_bpe.py, a pure-Python
    GPT-2 byte-level BPE that reads the same tokenizer.json (and refuses any layout it does not reproduce).
    """
    bos, pad, eos = vocab["<s>"], vocab["<pad>"], vocab["</s>"]
    try:
        from tokenizers import Tokenizer, processors  # type: ignore
        from tokenizers.implementations import ByteLevelBPETokenizer  # type: ignore
    except ImportError:
        from byte_level_bpe import ByteLevelBpe
        log("Python `tokenizers` is not installed: checking tokenizer.json with the pure-Python byte-level BPE "
            "(models/tools/byte_level_bpe.py)")
        try:
            tok = ByteLevelBpe.from_tokenizer_json(tokenizer_path)
        except TokenizerFormatError as e:
            raise ExportError(str(e)) from e
        # 1. Against the same algorithm built from vocab.json + merges.txt (what ByteLevelBPETokenizer does).
        lib = ByteLevelBpe.from_files(vocab_path, merges_path, post_bos_eos=(bos, eos))
    else:
        tok = Tokenizer.from_file(tokenizer_path)
        # 1. Against the library's own ByteLevelBPETokenizer + RobertaProcessing built from the same files.
        lib = ByteLevelBPETokenizer(vocab_path, merges_path, add_prefix_space=False, trim_offsets=True)
        # positional: (sep, cls, trim_offsets, add_prefix_space); the keywords are not accepted by every version
        lib.post_processor = processors.RobertaProcessing(("</s>", eos), ("<s>", bos), True, False)
    probes = [
        build_prompt("Two dogs play in the snow.", None, max_words),
        build_prompt("The cat is sleeping on a red sofa!", "a cat lies on a couch", max_words),
        build_prompt("naïve café — 3.14 × 2 = 6.28; it's 10°C in Zürich ✓ 東京", None, max_words),
        build_prompt("  multiple   spaces\tand a tab, 'quotes' \"double\" and a (parenthesis)", None, max_words),
        " yes", " no", " maybe", "yes", "",
    ]
    for p in probes:
        a, b = encode_ids(tok, p), encode_ids(lib, p)
        if a != b:
            raise ExportError(f"tokenizer.json disagrees with ByteLevelBPETokenizer on {p!r}:\n  {a}\n  {b}")
        if p and (a[0] != bos or a[-1] != eos):
            raise ExportError(f"tokenizer.json does not add <s> … </s> around {p!r}: {a}")

    # 2. Against OFA's own tokenizer when the fork is importable (BartTokenizer + codes/bins, [hftok]).
    if ckpt_dir is not None:
        try:
            mod = import_ofa_module(ofa_module, ofa_port)
            ofa_tok = getattr(mod, "OFATokenizer").from_pretrained(ckpt_dir)
        except Exception as e:  # noqa: BLE001 - optional cross-check
            first = str(e).splitlines()[0] if str(e) else type(e).__name__
            log(f"OFATokenizer cross-check skipped (the OFA fork's tokenizer is not available: {first})")
        else:
            for p in probes:
                a, b = encode_ids(tok, p), list(ofa_tok(p).input_ids)
                if a != b:
                    raise ExportError(f"tokenizer.json disagrees with OFATokenizer on {p!r}:\n  {a}\n  {b}")
            log("tokenizer.json matches OFATokenizer on the probe prompts")

    # 3. Answer ids ([task] build_model: bpe.encode(' ' + answer), single tokens in OFA's vocabulary).
    answers: Dict[str, int] = {}
    for label, text in ANSWER_TEXTS.items():
        ids = encode_ids(tok, text, special=False)
        if len(ids) != 1:
            raise ExportError(f"answer {text!r} is not a single token in this vocabulary: {ids}")
        answers[label] = ids[0]
    if answers != STANDARD_ANSWER_IDS:
        warn(f"answer ids {answers} differ from OFA's standard vocabulary {STANDARD_ANSWER_IDS}; "
             f"using the ids of this tokenizer")
    if (bos, pad, eos) != (0, 1, 2):
        warn(f"special ids bos/pad/eos are {bos}/{pad}/{eos}, not OFA's 0/1/2")

    # 4. Reference ids (prompt text path + BPE), e.g. /work/shared/ofa-tokenizer/reference-ids.json.
    if reference_ids:
        check_reference_ids(tok, reference_ids, answers, max_words)
    return tok, answers


def check_reference_ids(tok: Any, path: str, answers: Dict[str, int], max_words: int) -> None:
    with open(path, encoding="utf-8") as f:
        ref = json.load(f)
    failures = []
    cases = ref.get("cases", [])
    for i, case in enumerate(cases):
        prompt = build_prompt(case["text"], case.get("premise"), max_words)
        if "prompt" in case and case["prompt"] != prompt:
            failures.append(f"case {i}: prompt {prompt!r} != reference {case['prompt']!r}")
        ids = encode_ids(tok, case.get("prompt", prompt))
        if ids != case["input_ids"]:
            failures.append(f"case {i}: ids {ids} != reference {case['input_ids']}")
    for label, ref_ids in (ref.get("answers") or {}).items():
        ref_list = ref_ids if isinstance(ref_ids, list) else [ref_ids]
        if label in answers and [answers[label]] != ref_list:
            failures.append(f"answer {label}: {answers[label]} != reference {ref_list}")
    if failures:
        raise ExportError("reference ids check failed:\n  " + "\n  ".join(failures))
    log(f"reference ids: {len(cases)} cases and {len(ref.get('answers') or {})} answers match ({path})")


# --------------------------------------------------------------------------------------------------
# Model loading (torch + the OFA fork, imported lazily)
# --------------------------------------------------------------------------------------------------

def import_ofa_module(name: Optional[str], port_dir: Optional[str] = None) -> Any:
    """The module that provides OFAModel (and usually OFATokenizer).

    With ``port_dir`` (--ofa-port): OFA's port files from that directory, loaded unmodified through the
    project's thin transformers shim (ofa_port_shim.py; no OFATokenizer there). Otherwise the fork
    installed as `transformers` (pip install ./OFA/transformers), then a standalone `ofa` package (the
    layout OFA-Compress uses: ofa/modeling_ofa.py).
    """
    if port_dir:
        from ofa_port_shim import OfaPortError, load_ofa_port
        try:
            return load_ofa_port(port_dir)
        except OfaPortError as e:
            raise ExportError(str(e)) from e
    candidates = [name] if name else ["transformers", "ofa"]
    errors = []
    for cand in candidates:
        try:
            mod = importlib.import_module(cand)
        except ImportError as e:
            errors.append(f"{cand}: {e}")
            continue
        if hasattr(mod, "OFAModel"):
            return mod
        errors.append(f"{cand}: imported, but it has no OFAModel (is this the official transformers "
                      f"instead of OFA's fork from the feature/add_transformers branch?)")
    raise ExportError("cannot import OFAModel:\n  " + "\n  ".join(errors) +
                      "\nInstall the OFA fork (see models/tools/README.md) or pass --ofa-module.")


def load_model(args: argparse.Namespace, ckpt_dir: str) -> Any:
    import torch

    mod = import_ofa_module(args.ofa_module, args.ofa_port)
    model = mod.OFAModel.from_pretrained(ckpt_dir)
    if args.fairseq_checkpoint:
        log(f"mapping fairseq weights from {args.fairseq_checkpoint}")
        load_kwargs: Dict[str, Any] = {"map_location": "cpu"}
        if "weights_only" in inspect.signature(torch.load).parameters:
            # fairseq checkpoints pickle their omegaconf/argparse config: only load files you trust.
            load_kwargs["weights_only"] = False
        ckpt = torch.load(args.fairseq_checkpoint, **load_kwargs)
        fs_state = ckpt["model"] if isinstance(ckpt, dict) and "model" in ckpt else ckpt
        hf_state = model.state_dict()
        try:
            mapped, ignored = map_fairseq_state_dict(fs_state, hf_state)
        except FairseqMappingError as e:
            raise ExportError(f"{args.fairseq_checkpoint}: {e}") from e
        missing = [k for k in hf_state if k not in mapped]
        # Buffers (relative-position bucket tables, image position ids) are computed from the config,
        # identically in fairseq and the port: keeping the template's copy is fine. Parameters are not.
        # A tied parameter (decoder.output_projection.weight is embed_tokens.weight) counts as mapped when
        # the tensor it shares is.
        mapped_ptrs = {hf_state[k].data_ptr() for k in mapped}
        param_ptrs = {p.data_ptr() for p in model.parameters()}
        missing_params = [k for k in missing if hf_state[k].data_ptr() in param_ptrs - mapped_ptrs]
        if ignored:
            log(f"fairseq bookkeeping entries ignored ({len(ignored)}): {', '.join(ignored[:6])}")
        if missing:
            log(f"kept from --checkpoint ({len(missing)}): {', '.join(missing[:12])}{' …' if len(missing) > 12 else ''}")
        if missing_params and not args.allow_missing_keys:
            raise ExportError(f"{len(missing_params)} parameters have no fairseq counterpart, e.g. "
                              f"{missing_params[:8]}; refusing to export a half-converted model "
                              f"(--allow-missing-keys overrides)")
        state = dict(hf_state)
        state.update(mapped)
        # Tied names that the .pt does not list themselves (fairseq saves output_projection.weight; some
        # dumps do not) must take the mapped value of the tensor they share, not the template's.
        by_ptr = {hf_state[k].data_ptr(): mapped[k] for k in mapped}
        for k in missing:
            if hf_state[k].data_ptr() in by_ptr:
                state[k] = by_ptr[hf_state[k].data_ptr()]
        model.load_state_dict(state, strict=True)
    model.eval()
    fused = sorted({type(m).__name__ for m in model.modules() if "Fused" in type(m).__name__})
    if fused:
        # [hf] LayerNorm() returns apex's FusedLayerNorm when apex is installed and CUDA is visible.
        raise ExportError(f"the model uses {fused} (apex), which does not export to ONNX; uninstall apex or "
                          f"run with CUDA_VISIBLE_DEVICES= so torch.nn.LayerNorm is used")
    return model


def model_config_value(model: Any, *names: str) -> Optional[Any]:
    cfg = getattr(model, "config", None)
    for n in names:
        if cfg is not None and getattr(cfg, n, None) is not None:
            return getattr(cfg, n)
    return None


def position_limit(model: Any) -> int:
    """Longest token sequence the graph's position tables cover (contract: text.max_length).

    [hf] OFAEncoder/OFADecoder: embed_positions = Embedding(max_position_embeddings + 2, …) indexed with
    new_arange(ids) (0..len-1), and token_rp_bucket = make_token_bucket_position(bucket, 1024) sliced
    [:len, :len]. The smallest of these bounds both the encoder and the decoder.
    """
    limits = []
    for part in ("encoder", "decoder"):
        m = getattr(model, part, None)
        if m is None:
            continue
        pos = getattr(m, "embed_positions", None)
        if pos is not None and hasattr(pos, "num_embeddings"):
            limits.append(int(pos.num_embeddings) - 2)
        rp = getattr(m, "token_rp_bucket", None)
        if rp is not None:
            limits.append(int(rp.shape[0]))
    cfg = model_config_value(model, "max_position_embeddings")
    if cfg is not None:
        limits.append(int(cfg))
    if not limits:
        raise ExportError("cannot determine the position limit of this model")
    return min(limits)


def guess_model_name(model: Any) -> str:
    d = model_config_value(model, "d_model", "hidden_size")
    size = {256: "Tiny", 512: "Medium", 768: "Base", 1024: "Large", 1280: "Huge"}.get(int(d) if d else -1, "")
    return f"OFA-{size} SNLI-VE" if size else "OFA SNLI-VE"


# --------------------------------------------------------------------------------------------------
# The exported module: exactly the contract's five inputs and one output
# --------------------------------------------------------------------------------------------------

def make_export_module(model: Any, pad_id: int, decoder_fill_id: int, num_patches: int) -> Any:
    import torch

    model_dtype = next(model.parameters()).dtype
    # [hf] OFADecoder.forward ends with ``hidden_states = self.output_projection(hidden_states)`` (a Linear
    # tied to embed_tokens). It is swapped for Identity during the call and applied after the gather: the
    # vocabulary projection then runs on one position per row instead of every decoder position, and it
    # exports as Gemm(transB=1) on the shared embedding matrix instead of a MatMul whose constant-folded
    # transposed weight would store a second 59457 x d_model copy of that matrix in the ONNX file.
    decoder = getattr(model, "decoder", None)
    projection = getattr(decoder, "output_projection", None)
    if not isinstance(projection, torch.nn.Linear):
        projection = None

    class OfaSnliVeLogits(torch.nn.Module):
        """pixel_values, input_ids, attention_mask, decoder_input_ids, decoder_attention_mask -> logits.

        How the contract's masks are honoured, given how OFA's port computes its own masks:
        * Encoder: [hf] OFAEncoder.forward derives the key-padding mask only from
          ``input_ids.eq(padding_idx)`` (it has no attention_mask argument). So every position whose
          attention_mask is 0 is overwritten with pad_id first; the encoder then zeroes those embeddings
          and masks them as keys, and OFAModel.forward masks them in cross-attention too. Positions are
          0..len-1 from the left ([hf] new_arange), so right padding does not move real tokens.
        * Decoder: one step over [bos] + BPE(prompt) ([ds] prompt_type 'prev_output': decoder_prompt =
          src_item[:-1]). Self-attention is causal, so with right padding no real position can see a
          padded one, and the output is gathered at sum(decoder_attention_mask) - 1, the last real token
          ([task] valid_step scores the answer token that follows the decoder prompt). Padded decoder
          ids are replaced by a non-pad id and no decoder mask is passed to OFA: revisions of the port
          disagree on that mask's polarity (1 = keep in OFA-Sys' later revisions, True = pad in
          ModelScope's copy) and some switch on ``decoder_input_ids.eq(pad).any()``; with causal masking
          and right padding none of them can change the gathered row, so leaving it out is exact and
          revision-independent.
        * Image: patch_masks all true, as [ds] (patch_mask = torch.tensor([True])): no image patch is
          padding. It is shaped [batch, patches] rather than OFA's [batch]: revisions of the port that
          still run ``image_padding_mask[~patch_masks] = True`` ([hf] OFAEncoder.forward) then trace a
          same-shape masked fill, whereas PyTorch's ONNX exporter turns a [batch] boolean index over a
          [batch, patches] tensor into a Where that broadcasts along the wrong axis (it fails for any
          batch > 1). For an all-true mask both shapes mean the same; later revisions ignore it.
        """

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, pixel_values, input_ids, attention_mask, decoder_input_ids, decoder_attention_mask):
            input_ids = input_ids.masked_fill(attention_mask == 0, pad_id)
            decoder_input_ids = decoder_input_ids.masked_fill(decoder_attention_mask == 0, decoder_fill_id)
            patch_masks = torch.ones((input_ids.size(0), num_patches), dtype=torch.bool, device=input_ids.device)
            if projection is not None:
                decoder.output_projection = torch.nn.Identity()
            try:
                out = self.model(
                    input_ids=input_ids,
                    patch_images=pixel_values.to(model_dtype),
                    patch_masks=patch_masks,
                    decoder_input_ids=decoder_input_ids,
                    attention_mask=None,
                    use_cache=False,
                )
            finally:
                if projection is not None:
                    decoder.output_projection = projection
            # [hf] OFAModel.forward returns Seq2SeqLMOutput(logits=<decoder output>): vocabulary logits, or
            # here the final hidden states while output_projection is swapped out.
            states = out.logits if hasattr(out, "logits") else out[0]
            last = (decoder_attention_mask.to(torch.int64).sum(dim=1) - 1).clamp(min=0)
            index = last.view(-1, 1, 1).expand(-1, 1, states.size(-1))
            # select(1, 0) rather than squeeze(1): squeeze on a dynamic dimension exports as an If node
            picked = states.gather(1, index).select(1, 0)
            if projection is not None and picked.size(-1) == projection.in_features != projection.out_features:
                # An explicit (zero) bias makes the exporter emit Gemm(transB=1) on the weight itself; without
                # one it emits MatMul on a transposed, constant-folded copy of the weight.
                bias = projection.bias
                if bias is None:
                    bias = torch.zeros(projection.out_features, dtype=picked.dtype, device=picked.device)
                picked = torch.nn.functional.linear(picked, projection.weight, bias)
            return picked.to(torch.float32)

    return OfaSnliVeLogits().eval()


class Fp16ClampGuard:
    """Makes OFA's fp16 overflow clamp part of the traced graph instead of a decision frozen at trace time.

    [hf] OFAEncoderLayer.forward ends with ``if hidden_states.dtype == torch.float16 and
    (torch.isinf(hidden_states).any() or torch.isnan(hidden_states).any()): hidden_states =
    torch.clamp(hidden_states, ±(finfo.max - 1000))``. The tracer evaluates that condition once, on the
    example, and records the clamp for every input or for none. So:
    1. ``check_example``: the example must not take the branch. A layer output holding NaN or a value at the
       clamp bound may have been clamped; the export is refused then (this model overflows fp16 on an
       ordinary input: export fp32).
    2. A forward hook after every encoder layer applies the branch as data: ``where(any(isinf | isnan),
       clamp(h), h)``, which is what OFA's eager code does for every input, batch-wide ``any`` included.
       In eager runs it is idempotent after OFA's own clamp. The clamp is computed in float32 and rounded
       back (the same half values; CPU builds of torch have no half clamp).
    """

    def __init__(self, model: Any) -> None:
        import torch

        self.layers = [m for m in model.modules() if type(m).__name__ == "OFAEncoderLayer"]
        if not self.layers:
            raise ExportError("--fp16: found no OFAEncoderLayer to guard OFA's fp16 clamp; refusing an fp16 export "
                              "whose overflow handling would be frozen at trace time")
        self.bound = float(torch.finfo(torch.float16).max) - 1000
        self.suspicious: List[int] = []
        self.recording = False
        self.handles = [layer.register_forward_hook(self._hook(i)) for i, layer in enumerate(self.layers)]

    def _hook(self, index: int) -> Callable[..., Any]:
        import torch

        def hook(_module: Any, _inputs: Any, outputs: Any) -> Any:
            h = outputs[0]
            if h.dtype != torch.float16:
                return outputs
            if self.recording:
                with torch.no_grad():
                    if bool(torch.isnan(h).any()) or float(h.float().abs().max()) >= self.bound:
                        self.suspicious.append(index)
            bad = torch.isinf(h).any() | torch.isnan(h).any()
            clamped = h.float().clamp(-self.bound, self.bound).to(h.dtype)
            return (torch.where(bad, clamped, h),) + tuple(outputs[1:])
        return hook

    def check_example(self, run: Callable[[], Any]) -> None:
        self.suspicious, self.recording = [], True
        try:
            run()
        finally:
            self.recording = False
        if self.suspicious:
            raise ExportError(f"--fp16: encoder layer(s) {sorted(set(self.suspicious))} overflow fp16 on the trace "
                              f"example (OFA clamps there with a branch that tracing would freeze); this model is "
                              f"not safe in fp16: export it in fp32")

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


# --------------------------------------------------------------------------------------------------
# Batches
# --------------------------------------------------------------------------------------------------

def pad_batch(rows: Sequence[Sequence[int]], pad_id: int, extra_pad: int = 0) -> Tuple[List[List[int]], List[List[int]]]:
    width = max(len(r) for r in rows) + extra_pad
    ids = [list(r) + [pad_id] * (width - len(r)) for r in rows]
    mask = [[1] * len(r) + [0] * (width - len(r)) for r in rows]
    return ids, mask


def encode_pair(tok: Any, text: str, premise: Optional[str], max_words: int, max_length: int) -> Tuple[List[int], List[int]]:
    enc = encode_ids(tok, build_prompt(text, premise, max_words))  # [bos] + BPE(prompt) + [eos]  ([ds] src_item)
    if len(enc) > max_length:
        raise ExportError(f"prompt for {text!r} is {len(enc)} tokens, more than max_length {max_length}")
    return enc, enc[:-1]  # decoder: src_item[:-1]  ([ds] prompt_type 'prev_output')


def load_check_image(path: Optional[str], size: int) -> Any:
    """[ds] patch_resize_transform: convert('RGB'), Resize((size, size), BICUBIC), ToTensor, Normalize.

    torchvision's Resize on a PIL image calls PIL's resize, so PIL is used directly here.
    """
    import numpy as np
    try:
        from PIL import Image
    except ImportError as e:
        raise ExportError("--check needs Pillow (pip install pillow)") from e
    if path:
        img = Image.open(path)
    else:  # deterministic synthetic picture: gradients, a disc and a bar, 640x427 like a Flickr photo
        yy, xx = np.mgrid[0:427, 0:640]
        r = (xx * 255 // 639).astype(np.uint8)
        g = (yy * 255 // 426).astype(np.uint8)
        b = np.where((xx - 320) ** 2 + (yy - 200) ** 2 < 90 ** 2, 230, 40).astype(np.uint8)
        g[300:340, 50:590] = 20
        img = Image.fromarray(np.stack([r, g, b], axis=-1), "RGB")
    resample = getattr(Image, "Resampling", Image).BICUBIC
    img = img.convert("RGB").resize((size, size), resample=resample)
    arr = np.asarray(img, dtype=np.float32) / 255.0
    arr = (arr - np.asarray(IMAGE_MEAN, dtype=np.float32)) / np.asarray(IMAGE_STD, dtype=np.float32)
    return arr.transpose(2, 0, 1)[None].copy()  # [1, 3, size, size]


# --------------------------------------------------------------------------------------------------
# ONNX export and packaging
# --------------------------------------------------------------------------------------------------

def tensor_nbytes(t: Any) -> int:
    import numpy as np
    from onnx import helper
    n = int(np.prod(t.dims)) if len(t.dims) else 1
    try:
        itemsize = np.dtype(helper.tensor_dtype_to_np_dtype(t.data_type)).itemsize
    except Exception:  # noqa: BLE001 - unusual dtype; fall back to the stored bytes
        return len(t.raw_data)
    return n * itemsize


def export_onnx(args: argparse.Namespace, export_module: Any, example: Tuple[Any, ...], tmp_dir: str) -> str:
    import torch

    path = os.path.join(tmp_dir, "model.onnx")
    kwargs: Dict[str, Any] = dict(
        input_names=INPUT_NAMES,
        output_names=OUTPUT_NAMES,
        dynamic_axes={
            "pixel_values": {0: "batch"},
            "input_ids": {0: "batch", 1: "enc_len"},
            "attention_mask": {0: "batch", 1: "enc_len"},
            "decoder_input_ids": {0: "batch", 1: "dec_len"},
            "decoder_attention_mask": {0: "batch", 1: "dec_len"},
            "logits": {0: "batch"},
        },
        opset_version=args.opset,
        do_constant_folding=True,
    )
    params = inspect.signature(torch.onnx.export).parameters
    if "dynamo" in params:
        # The TorchScript tracer, not torch.export: OFA's forward has data-dependent Python branches
        # ([hf] `if has_pads:`, `if input_shape[-1] > 1:`) that the tracer resolves once, on an example
        # chosen so that the general branch is recorded (see build_example()).
        kwargs["dynamo"] = False
    log(f"exporting with torch {torch.__version__}, opset {args.opset} (tracing; this takes a while) ...")
    with torch.no_grad(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.onnx.export(export_module, example, path, **kwargs)
    counts = Counter(f"{w.category.__name__}: {str(w.message).splitlines()[0][:150]}" for w in caught
                     if "Tracer" in w.category.__name__)
    if counts:
        log(f"tracer warnings ({sum(counts.values())}), expected for OFA's Python-level branches:")
        for msg, n in counts.most_common(8):
            log(f"  {n}x {msg}")
    return path


def infer_elem_types(model: Any) -> Dict[str, int]:
    """Element type of every value in the top-level graph, by ONNX shape inference on a skeleton
    (initializers turned into typed inputs, so no weight bytes are copied and the 2 GiB limit is moot)."""
    import onnx
    from onnx import helper

    g = model.graph
    inits = [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in g.initializer]
    skeleton = helper.make_model(
        helper.make_graph(list(g.node), "skeleton", list(g.input) + inits, list(g.output)),
        opset_imports=list(model.opset_import), ir_version=model.ir_version)
    inferred = onnx.shape_inference.infer_shapes(skeleton)
    types = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output):
        types[vi.name] = vi.type.tensor_type.elem_type
    return types


def legalize_for_onnxruntime(model: Any) -> int:
    """Rewrite ops onnxruntime has no kernel for; returns how many were rewritten.

    Where on bool tensors: onnxruntime implements Where for numeric types only. Revisions of OFA's port
    that still run ``image_padding_mask[~patch_masks] = True`` ([hf] OFAEncoder.forward; commented out in
    later revisions) export that as Where(cond, bool, bool). It becomes Cast(Where(cond, Cast(x, uint8),
    Cast(y, uint8)), bool), which computes the same values.
    """
    from onnx import TensorProto, helper

    types = infer_elem_types(model)
    nodes = []
    rewritten = 0
    for node in model.graph.node:
        if node.op_type == "Where" and types.get(node.output[0]) == TensorProto.BOOL:
            rewritten += 1
            tag = f"_u8_{rewritten}"
            cast_in = []
            for j, name in enumerate(node.input[1:]):
                out = f"{name}{tag}_{j}"
                nodes.append(helper.make_node("Cast", [name], [out], to=TensorProto.UINT8,
                                              name=f"{node.name}{tag}_cast_in{j}"))
                cast_in.append(out)
            where_out = f"{node.output[0]}{tag}"
            nodes.append(helper.make_node("Where", [node.input[0]] + cast_in, [where_out], name=f"{node.name}{tag}"))
            nodes.append(helper.make_node("Cast", [where_out], [node.output[0]], to=TensorProto.BOOL,
                                          name=f"{node.name}{tag}_cast_out"))
        else:
            nodes.append(node)
    if rewritten:
        del model.graph.node[:]
        model.graph.node.extend(nodes)
    return rewritten


def package_onnx(tmp_path: str, out_dir: str, mode: str, meta: Dict[str, str],
                 inline_limit: int = INLINE_LIMIT_BYTES) -> Tuple[List[str], int]:
    """Re-save the traced graph into out_dir as model.onnx (+ model.onnx.data when needed).

    The tracer spills every tensor into its own file when the model exceeds 2 GiB; here they are
    gathered into one external-data file beside the graph, which onnxruntime resolves relative to the
    model path. Returns (written file names, total tensor bytes).
    """
    import onnx

    model = onnx.load(tmp_path, load_external_data=True)
    rewritten = legalize_for_onnxruntime(model)
    if rewritten:
        log(f"rewrote {rewritten} bool Where node(s) that onnxruntime cannot run")
    total = sum(tensor_nbytes(t) for t in model.graph.initializer)
    external = mode == "always" or (mode == "auto" and total > inline_limit)
    if mode == "never" and total > HARD_INLINE_LIMIT_BYTES:
        raise ExportError(f"weights are {human_bytes(total)}: too big for a single protobuf; "
                          f"use --external-data auto")
    for k, v in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    out_path = os.path.join(out_dir, MODEL_FILE)
    data_path = os.path.join(out_dir, MODEL_DATA_FILE)
    for stale in (out_path, data_path):
        if os.path.exists(stale):
            os.remove(stale)
    if external:
        onnx.save_model(model, out_path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=MODEL_DATA_FILE, size_threshold=1024, convert_attribute=False)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(data_path, 0o666 & ~umask)  # onnx creates it owner-only; make it as readable as model.onnx
        files = [MODEL_FILE, MODEL_DATA_FILE]
    else:
        onnx.save_model(model, out_path)
        files = [MODEL_FILE]
    onnx.checker.check_model(out_path)  # by path: works for models with external data
    return files, total


def verify_graph_io(model_path: str, fp16: bool) -> None:
    import onnx
    from onnx import TensorProto

    graph = onnx.load(model_path, load_external_data=False).graph
    want_in = [("pixel_values", TensorProto.FLOAT, 4)] + [(n, TensorProto.INT64, 2) for n in INPUT_NAMES[1:]]
    got_in = [(i.name, i.type.tensor_type.elem_type, len(i.type.tensor_type.shape.dim)) for i in graph.input]
    got_out = [(o.name, o.type.tensor_type.elem_type, len(o.type.tensor_type.shape.dim)) for o in graph.output]
    if got_in != want_in:
        raise ExportError(f"graph inputs {got_in} != contract {want_in} (an input unused by the traced "
                          f"graph is dropped by the exporter)")
    if got_out != [("logits", TensorProto.FLOAT, 2)]:
        raise ExportError(f"graph outputs {got_out} != contract [('logits', FLOAT, 2)]")
    log(f"graph interface matches the contract ({'fp16 weights, ' if fp16 else ''}float32 in/out)")


# --------------------------------------------------------------------------------------------------
# --check: ONNX vs PyTorch, and padding invariance
# --------------------------------------------------------------------------------------------------

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NODE_RUNNER = os.path.join("models", "tools", "onnx-check-runner.ts")

OnnxRun = Callable[[List[Dict[str, Any]]], List[Any]]


def onnx_runner(choice: str, model_path: str, want_cuda: bool, threads: int) -> Tuple[str, OnnxRun]:
    """(description, run) where run(list of feed dicts) -> list of logits arrays, one session for all.

    ``python``: Python's onnxruntime. ``node``: onnxruntime-node from this repository's node_modules, through
    onnx-check-runner.ts (the runtime the app uses). ``auto``: Python's when importable, else node's.
    """
    import numpy as np

    if choice in ("auto", "python"):
        try:
            import onnxruntime as ort  # type: ignore
        except ImportError:
            if choice == "python":
                raise ExportError("--check-runtime python: Python's onnxruntime is not installed")
        else:
            providers = ["CPUExecutionProvider"]
            if want_cuda:
                if "CUDAExecutionProvider" in ort.get_available_providers():
                    providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]
                else:
                    warn("onnxruntime has no CUDAExecutionProvider; checking on CPU")
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            sess = ort.InferenceSession(model_path, sess_options=options, providers=providers)
            return (f"onnxruntime {ort.__version__} (Python), {sess.get_providers()[0]}",
                    lambda runs: [sess.run(["logits"], f)[0] for f in runs])

    node = shutil.which("node")
    missing = [what for what, ok in (
        ("node on PATH", node is not None),
        ("node_modules/onnxruntime-node", os.path.isdir(os.path.join(REPO_ROOT, "node_modules", "onnxruntime-node"))),
        ("node_modules/tsx", os.path.isdir(os.path.join(REPO_ROOT, "node_modules", "tsx"))),
    ) if not ok]
    if missing:
        raise ExportError(f"--check needs Python's onnxruntime or onnxruntime-node; no onnxruntime module, and "
                          f"{', '.join(missing)} missing (run `npm ci` in {REPO_ROOT}, or pip install onnxruntime)")
    if want_cuda:
        warn("--check through onnxruntime-node runs on CPU")

    def run_node(runs: List[Dict[str, Any]]) -> List[Any]:
        with tempfile.TemporaryDirectory(prefix="ofa_check_") as tmp:
            request: Dict[str, Any] = {"model": os.path.abspath(model_path), "threads": threads, "runs": []}
            for r, feeds in enumerate(runs):
                spec = {}
                for name, arr in feeds.items():
                    arr = np.ascontiguousarray(arr, dtype=np.float32 if arr.dtype.kind == "f" else np.int64)
                    file = f"run{r}_{name}.bin"
                    arr.astype(arr.dtype.newbyteorder("<")).tofile(os.path.join(tmp, file))
                    spec[name] = {"dtype": "float32" if arr.dtype.kind == "f" else "int64",
                                  "dims": list(arr.shape), "file": file}
                request["runs"].append({"inputs": spec, "output": "logits", "file": f"run{r}_logits.bin"})
            write_json(os.path.join(tmp, "request.json"), request)
            proc = subprocess.run([node, "--import", "tsx", NODE_RUNNER, os.path.join(tmp, "request.json")],
                                  cwd=REPO_ROOT, capture_output=True, text=True)
            if proc.returncode != 0:
                raise ExportError(f"onnxruntime-node could not run {model_path}:\n{proc.stderr.strip()[-2000:]}")
            reply = json.loads(proc.stdout.strip().splitlines()[-1])
            return [np.fromfile(os.path.join(tmp, f"run{r}_logits.bin"), dtype="<f4").reshape(out["dims"])
                    for r, out in enumerate(reply["outputs"])]

    version = "?"
    try:
        with open(os.path.join(REPO_ROOT, "node_modules", "onnxruntime-node", "package.json"), encoding="utf-8") as f:
            version = json.load(f).get("version", "?")
    except OSError:
        pass
    return f"onnxruntime-node {version}, CPU", run_node


def run_check(args: argparse.Namespace, model: Any, export_module: Any, tok: Any, answers: Dict[str, int],
              out_dir: str, pad_id: int, max_length: int, image_size: int, device: str) -> None:
    import numpy as np
    import torch

    cases: List[Tuple[Optional[str], str]] = [(None, t) for t in args.check_text] if args.check_text else list(DEFAULT_CHECK_CASES)
    if len(cases) < 2:
        cases.append(DEFAULT_CHECK_CASES[1])
    pixel = load_check_image(args.check_image, image_size)
    rows = [encode_pair(tok, text, premise, args.max_words, max_length) for premise, text in cases]
    enc_ids, enc_mask = pad_batch([r[0] for r in rows], pad_id)
    dec_ids, dec_mask = pad_batch([r[1] for r in rows], pad_id)
    batch = len(rows)
    feeds = {
        "pixel_values": np.repeat(pixel, batch, axis=0).astype(np.float32),
        "input_ids": np.asarray(enc_ids, dtype=np.int64),
        "attention_mask": np.asarray(enc_mask, dtype=np.int64),
        "decoder_input_ids": np.asarray(dec_ids, dtype=np.int64),
        "decoder_attention_mask": np.asarray(dec_mask, dtype=np.int64),
    }

    # PyTorch reference: OFA's own forward, one unpadded row at a time, logits at the last position
    # ([task] valid_step reads the answer distribution right after the decoder prompt).
    dtype = next(model.parameters()).dtype
    ref = []
    with torch.no_grad():
        for enc, dec in rows:
            out = model(input_ids=torch.tensor([enc], device=device),
                        patch_images=torch.from_numpy(pixel).to(device=device, dtype=dtype),
                        patch_masks=torch.tensor([True], device=device),
                        decoder_input_ids=torch.tensor([dec], device=device), use_cache=False)
            logits = out.logits if hasattr(out, "logits") else out[0]
            ref.append(logits[0, -1].float().cpu().numpy())
        wrapped = export_module(*[torch.from_numpy(feeds[n]).to(device) for n in INPUT_NAMES]).float().cpu().numpy()
    ref_arr = np.stack(ref)

    singles = [{
        "pixel_values": feeds["pixel_values"][i:i + 1],
        "input_ids": np.asarray([rows[i][0]], dtype=np.int64),
        "attention_mask": np.ones((1, len(rows[i][0])), dtype=np.int64),
        "decoder_input_ids": np.asarray([rows[i][1]], dtype=np.int64),
        "decoder_attention_mask": np.ones((1, len(rows[i][1])), dtype=np.int64),
    } for i in range(batch)]
    runtime, run_onnx = onnx_runner(args.check_runtime, os.path.join(out_dir, MODEL_FILE),
                                    args.fp16 or device.startswith("cuda"), args.check_threads)
    outputs = run_onnx([feeds] + singles)
    onnx_batch = outputs[0]
    onnx_alone_arr = np.stack([o[0] for o in outputs[1:]])

    if onnx_batch.shape != ref_arr.shape:
        raise ExportError(f"ONNX logits shape {onnx_batch.shape} != PyTorch {ref_arr.shape}")
    atol = args.atol if args.atol is not None else (0.15 if args.fp16 else 1e-3)
    rtol = args.rtol if args.rtol is not None else (0.02 if args.fp16 else 1e-3)
    ans_ids = [answers["YES"], answers["NO"], answers["MAYBE"]]

    def excess(a: Any, b: Any) -> float:
        return float(np.max(np.abs(a - b) - (atol + rtol * np.abs(b))))

    def softmax3(v: Any) -> Any:
        e = np.exp(v[ans_ids] - np.max(v[ans_ids]))
        return e / e.sum()

    failures = []
    d_wrap = float(np.max(np.abs(wrapped - ref_arr)))
    d_onnx = float(np.max(np.abs(onnx_batch - ref_arr)))
    d_pad = float(np.max(np.abs(onnx_batch - onnx_alone_arr)))
    log(f"check on {batch} pairs (enc_len {feeds['input_ids'].shape[1]}, dec_len {feeds['decoder_input_ids'].shape[1]}, "
        f"{runtime}), tolerance atol {atol} + rtol {rtol}·|ref|")
    log(f"  max |wrapper(torch, padded batch) - OFA forward(one row)|  = {d_wrap:.3g}")
    log(f"  max |ONNX(padded batch) - OFA forward(one row)|            = {d_onnx:.3g}")
    log(f"  max |ONNX(padded batch) - ONNX(one row)|  (padding)        = {d_pad:.3g}")
    if excess(wrapped, ref_arr) > 0:
        failures.append(f"the export wrapper differs from OFA's forward by {d_wrap:.3g}")
    if excess(onnx_batch, ref_arr) > 0:
        failures.append(f"ONNX differs from PyTorch by {d_onnx:.3g}")
    pad_tol = args.pad_tol if args.pad_tol is not None else (0.05 if args.fp16 else 1e-3)
    if d_pad > pad_tol:
        failures.append(f"padding changes a row's logits by {d_pad:.3g} (> {pad_tol})")
    elif not args.fp16 and d_pad > 1e-4:
        warn(f"padding changes logits by {d_pad:.3g}: above the contract's 1e-4 test tolerance "
             f"(which the app's tests apply to the demo model), below --pad-tol {pad_tol}")
    labels = ["YES", "NO", "MAYBE"]
    for i, (premise, text) in enumerate(cases):
        p_ref, p_onnx = softmax3(ref_arr[i]), softmax3(onnx_batch[i])
        l_ref, l_onnx = labels[int(np.argmax(p_ref))], labels[int(np.argmax(p_onnx))]
        top2 = np.sort(ref_arr[i][ans_ids])[-2:]
        log(f"  [{i}] {l_onnx:5s} {float(np.max(p_onnx)):.4f}  (torch {l_ref} {float(np.max(p_ref)):.4f})  "
            f"{('premise ' + repr(premise) + ' / ') if premise else ''}{text!r}")
        if l_ref != l_onnx and float(top2[1] - top2[0]) > 2 * atol:
            failures.append(f"pair {i}: ONNX says {l_onnx}, PyTorch says {l_ref}")
    if failures:
        raise ExportError("--check failed:\n  " + "\n  ".join(failures))
    log("--check passed")


# --------------------------------------------------------------------------------------------------
# Manifest
# --------------------------------------------------------------------------------------------------

def write_manifest(out_dir: str, args: argparse.Namespace, name: str, description: str, image_size: int,
                   max_length: int, ids: Tuple[int, int, int], answers: Dict[str, int],
                   model_files: List[str]) -> Dict[str, Any]:
    bos, pad, eos = ids
    files: Dict[str, Any] = {"model": file_entry(out_dir, MODEL_FILE)}
    if MODEL_DATA_FILE in model_files:
        # Not (yet) in the contract's table: the external weights that onnxruntime loads from beside
        # model.onnx. Listed with the same {path, sha256, bytes} so a loader can verify it too.
        files["model_data"] = file_entry(out_dir, MODEL_DATA_FILE)
    files["tokenizer"] = file_entry(out_dir, TOKENIZER_FILE)
    files["tokenizer_config"] = file_entry(out_dir, TOKENIZER_CONFIG_FILE)
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "name": name,
        "version": args.version,
        "demo": False,
        "description": description,
        "image": {
            "size": image_size,
            "mean": IMAGE_MEAN,
            "std": IMAGE_STD,
            "resample": "bicubic",
            "patch_size": PATCH_SIZE,
        },
        "text": {
            "max_words": args.max_words,
            "max_length": max_length,
            "prompt": PROMPT,
            "prompt_with_premise": PROMPT_WITH_PREMISE,
            "bos_id": bos,
            "pad_id": pad,
            "eos_id": eos,
        },
        "answers": {"YES": answers["YES"], "NO": answers["NO"], "MAYBE": answers["MAYBE"]},
        "files": files,
    }
    write_json(os.path.join(out_dir, "model.json"), manifest)
    return manifest


# --------------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------------

def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="export_ofa.py",
        description="Export an OFA SNLI-VE checkpoint (OFA's Hugging Face transformers port) to the OFA-VE "
                    "model directory contract (models/README.md): model.json, model.onnx, tokenizer.json, "
                    "tokenizer_config.json. Not run in this project's CI (no weights there).",
        epilog="Examples:\n"
               "  python models/tools/export_ofa.py --checkpoint ./ofa-large-snli-ve --out models/ofa-large-snli-ve --check\n"
               "  python models/tools/export_ofa.py --checkpoint ./OFA-large --fairseq-checkpoint snli_ve_large_best.pt \\\n"
               "      --out models/ofa-large-snli-ve --check --reference-ids ../shared/ofa-tokenizer/reference-ids.json\n"
               "  python models/tools/export_ofa.py --checkpoint ./OFA-large --out /tmp/tok --tokenizer-only\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--checkpoint", required=True, metavar="DIR_OR_HUB_ID",
                   help="HF-format OFA directory (config.json, vocab.json, merges.txt, pytorch_model.bin) or a "
                        "Hub id. With --fairseq-checkpoint: the pretrained OFA of the same size "
                        "(e.g. OFA-Sys/ofa-large), used for its config, tokenizer and architecture.")
    p.add_argument("--revision", default=None, help="Hub revision when --checkpoint is a Hub id")
    p.add_argument("--fairseq-checkpoint", metavar="PT", default=None,
                   help="fairseq fine-tuned checkpoint (snli_ve_large_best.pt / snli_ve_base_best.pt) to map "
                        "onto --checkpoint's architecture")
    p.add_argument("--allow-missing-keys", action="store_true",
                   help="with --fairseq-checkpoint: keep --checkpoint's value for parameters the .pt lacks")
    p.add_argument("--out", required=True, metavar="DIR", help="output model directory (created)")
    p.add_argument("--name", default=None, help="model.json name (default: derived, e.g. 'OFA-Large SNLI-VE')")
    p.add_argument("--version", default="1.0.0", help="model.json version (default: 1.0.0)")
    p.add_argument("--description", default=None, help="model.json description (default: generated)")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (contract: >= 17; default 17)")
    p.add_argument("--fp16", action="store_true",
                   help="fp16 weights (inputs/outputs stay float32); needs --device cuda; the graph is then "
                        "meant for onnxruntime's CUDA provider")
    p.add_argument("--device", default="cpu", help="torch device for tracing and --check (cpu, cuda, cuda:1)")
    p.add_argument("--image-size", type=int, default=None,
                   help=f"square input size (default: config's patch_image_size if present, else {DEFAULT_IMAGE_SIZE})")
    p.add_argument("--max-words", type=int, default=DEFAULT_MAX_WORDS,
                   help=f"caption word limit (OFA SNLI-VE max_src_length; default {DEFAULT_MAX_WORDS})")
    p.add_argument("--extra-tokens", choices=["auto", "keep", "drop"], default="auto",
                   help="OFA's <code_*>/<bin_*> added tokens in tokenizer.json: auto = when the model's vocab "
                        "has room for them (59457 = 50265 + 8192 + 1000), as OFATokenizer adds them")
    p.add_argument("--external-data", choices=["auto", "always", "never"], default="auto",
                   help="store weights in model.onnx.data: auto = when they exceed ~1.9 GB (OFA-Large fp32)")
    p.add_argument("--external-data-threshold", type=int, default=INLINE_LIMIT_BYTES, metavar="BYTES",
                   help=f"weight bytes above which --external-data auto moves them out (default {INLINE_LIMIT_BYTES}; "
                        f"a small value exercises the external-data path on a small model)")
    p.add_argument("--ofa-module", default=None,
                   help="module providing OFAModel/OFATokenizer (default: 'transformers' i.e. OFA's fork, then 'ofa')")
    p.add_argument("--ofa-port", metavar="DIR", default=None,
                   help="directory with OFA's port files (modeling_ofa.py, configuration_ofa.py, resnet.py from "
                        "transformers/src/transformers/models/ofa/ of OFA-Sys/OFA, branch feature/add_transformers): "
                        "loaded unmodified through models/tools/ofa_port_shim.py instead of an installed fork")
    p.add_argument("--tokenizer-only", action="store_true",
                   help="write and verify tokenizer.json + tokenizer_config.json only (needs no torch or onnx)")
    p.add_argument("--reference-ids", metavar="FILE", default=None,
                   help="JSON with cases {text, premise, prompt, input_ids} and answers (like "
                        "../shared/ofa-tokenizer/reference-ids.json) that the written tokenizer must reproduce")
    p.add_argument("--check", action="store_true",
                   help="run the exported graph with onnxruntime on a sample image and captions and compare "
                        "it with PyTorch (and batched with single-row results)")
    p.add_argument("--check-runtime", choices=["auto", "python", "node"], default="auto",
                   help="onnxruntime for --check: Python's onnxruntime, or onnxruntime-node from this repository's "
                        "node_modules (the app's runtime); auto = Python's when installed, else node's")
    p.add_argument("--check-threads", type=int, default=0,
                   help="intra-op threads for the --check session (default 0: onnxruntime's choice)")
    p.add_argument("--check-image", metavar="PATH", default=None, help="image for --check (default: synthetic)")
    p.add_argument("--check-text", metavar="TEXT", action="append", default=[],
                   help="caption for --check (repeatable; default: a built-in set with and without a premise)")
    p.add_argument("--atol", type=float, default=None, help="--check absolute tolerance (default 1e-3; fp16 0.15)")
    p.add_argument("--rtol", type=float, default=None, help="--check relative tolerance (default 1e-3; fp16 0.02)")
    p.add_argument("--pad-tol", type=float, default=None,
                   help="--check limit for batched-vs-single differences (default 1e-3; fp16 0.05)")
    args = p.parse_args(argv)
    if args.opset < 17:
        p.error("--opset must be >= 17 (model contract)")
    if args.max_words < 1:
        p.error("--max-words must be >= 1")
    if args.fp16 and not str(args.device).startswith("cuda"):
        p.error("--fp16 needs --device cuda (half-precision tracing on CPU is unreliable); the fp16 graph "
                "targets onnxruntime's CUDA provider anyway")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    out_dir = os.path.abspath(args.out)
    ckpt_dir = resolve_checkpoint_dir(args.checkpoint, args.revision)
    config = read_config_json(ckpt_dir)
    if args.fairseq_checkpoint and not os.path.isfile(args.fairseq_checkpoint):
        raise ExportError(f"--fairseq-checkpoint {args.fairseq_checkpoint!r} is not a file")
    if args.check_image and not os.path.isfile(args.check_image):
        raise ExportError(f"--check-image {args.check_image!r} is not a file")
    os.makedirs(out_dir, exist_ok=True)

    # ---- tokenizer -------------------------------------------------------------------------------
    vocab, merges, vocab_path, merges_path = load_bpe_files(ckpt_dir, args.ofa_module, args.ofa_port)
    model_vocab = config.get("vocab_size")
    extra = decide_extra_tokens(args.extra_tokens, len(vocab), model_vocab)
    max_length_cfg = int(config.get("max_position_embeddings", 1024))
    write_json(os.path.join(out_dir, TOKENIZER_FILE), build_tokenizer_json(vocab, merges, extra), compact=True)
    log(f"wrote {TOKENIZER_FILE}: {len(vocab)} BPE tokens, {len(merges)} merges"
        f"{f', + {NUM_CODE_TOKENS} <code_*> and {NUM_BIN_TOKENS} <bin_*> added tokens' if extra else ''}")
    tok, answers = verify_tokenizer(os.path.join(out_dir, TOKENIZER_FILE), vocab_path, merges_path, vocab,
                                    args.max_words, args.reference_ids, ckpt_dir, args.ofa_module,
                                    args.ofa_port)
    ids = (vocab["<s>"], vocab["<pad>"], vocab["</s>"])
    log(f"answers: YES={answers['YES']} NO={answers['NO']} MAYBE={answers['MAYBE']}; bos/pad/eos = {ids}")
    if args.tokenizer_only:
        write_json(os.path.join(out_dir, TOKENIZER_CONFIG_FILE), build_tokenizer_config(vocab, max_length_cfg))
        log(f"--tokenizer-only: wrote {TOKENIZER_FILE} and {TOKENIZER_CONFIG_FILE} to {out_dir}")
        return 0

    # ---- model -----------------------------------------------------------------------------------
    import torch  # lazily: --help and --tokenizer-only work without it

    model = load_model(args, ckpt_dir)
    if args.fp16:
        model = model.half()
    model = model.to(args.device)
    for label, attr in (("pad", "pad_token_id"), ("bos", "bos_token_id"), ("eos", "eos_token_id")):
        cfg_id = model_config_value(model, attr)
        tok_id = {"bos": ids[0], "pad": ids[1], "eos": ids[2]}[label]
        if cfg_id is not None and int(cfg_id) != tok_id:
            raise ExportError(f"config {attr}={cfg_id} but the tokenizer's {label} id is {tok_id}")
    vocab_out = int(model_config_value(model, "vocab_size") or 0)
    if vocab_out and max(answers.values()) >= vocab_out:
        raise ExportError(f"answer ids {answers} fall outside the model's vocab_size {vocab_out}")
    if vocab_out and len(vocab) + (NUM_CODE_TOKENS + NUM_BIN_TOKENS if extra else 0) > vocab_out:
        raise ExportError(f"tokenizer has more ids than the model's vocab_size {vocab_out}")
    max_length = position_limit(model)
    image_size = args.image_size or int(model_config_value(model, "patch_image_size", "image_size") or DEFAULT_IMAGE_SIZE)
    bucket = model_config_value(model, "image_bucket_size")
    if image_size % PATCH_SIZE:
        raise ExportError(f"--image-size {image_size} is not a multiple of {PATCH_SIZE}")
    if bucket and image_size // PATCH_SIZE > int(bucket):
        raise ExportError(f"--image-size {image_size} gives {image_size // PATCH_SIZE}x{image_size // PATCH_SIZE} "
                          f"patches, more than image_bucket_size {bucket} supports")
    write_json(os.path.join(out_dir, TOKENIZER_CONFIG_FILE), build_tokenizer_config(vocab, max_length))

    pad_id, eos_id = ids[1], ids[2]
    export_module = make_export_module(model, pad_id=pad_id, decoder_fill_id=eos_id,
                                       num_patches=(image_size // PATCH_SIZE) ** 2)
    # Example for tracing: two pairs of different lengths plus one extra all-padding column, so the
    # encoder sees padding ([hf] `if has_pads:` is recorded on its general, masked branch, which is also
    # exact without padding) and the decoder has more than one position ([hf] causal-mask branch).
    rows = [encode_pair(tok, t, p, args.max_words, max_length) for p, t in DEFAULT_CHECK_CASES[:2]]
    enc_ids, enc_mask = pad_batch([r[0] for r in rows], pad_id, extra_pad=1)
    dec_ids, dec_mask = pad_batch([r[1] for r in rows], pad_id, extra_pad=1)
    gen = torch.Generator().manual_seed(0)
    example = (
        (torch.rand((2, 3, image_size, image_size), generator=gen) * 2 - 1).to(args.device),
        torch.tensor(enc_ids, device=args.device), torch.tensor(enc_mask, device=args.device),
        torch.tensor(dec_ids, device=args.device), torch.tensor(dec_mask, device=args.device),
    )
    if args.fp16:
        guard = Fp16ClampGuard(model)
        with torch.no_grad():
            guard.check_example(lambda: export_module(*example))
        log(f"fp16: OFA's overflow clamp guarded as data in {len(guard.layers)} encoder layers")
    with tempfile.TemporaryDirectory(prefix="ofa_onnx_", dir=out_dir) as tmp_dir:
        traced = export_onnx(args, export_module, example, tmp_dir)
        meta = {"ofa_ve.contract": f"schema_version={SCHEMA_VERSION}",
                "ofa_ve.source": os.path.basename(os.path.normpath(args.fairseq_checkpoint or args.checkpoint)),
                "ofa_ve.exporter": "models/tools/export_ofa.py"}
        model_files, weight_bytes = package_onnx(traced, out_dir, args.external_data, meta,
                                                 args.external_data_threshold)
    verify_graph_io(os.path.join(out_dir, MODEL_FILE), args.fp16)
    log(f"wrote {', '.join(model_files)} ({human_bytes(weight_bytes)} of weights)")

    name = args.name or guess_model_name(model)
    source = args.checkpoint + (f" + {os.path.basename(args.fairseq_checkpoint)}" if args.fairseq_checkpoint else "")
    description = args.description or (
        f"{name}: OFA (OFA-Sys) fine-tuned for visual entailment on SNLI-VE, exported from {source} with "
        f"models/tools/export_ofa.py (torch {torch.__version__}, opset {args.opset}, "
        f"{'fp16' if args.fp16 else 'fp32'} weights). Answers come from OFA's vocabulary tokens "
        f"' yes' / ' no' / ' maybe' after one decoder step over the prompt.")
    manifest = write_manifest(out_dir, args, name, description, image_size, max_length, ids, answers, model_files)

    if args.check:
        run_check(args, model, export_module, tok, answers, out_dir, pad_id, max_length, image_size, args.device)

    log(f"model directory ready: {out_dir}")
    for key, entry in manifest["files"].items():
        log(f"  {key:17s} {entry['path']:22s} {human_bytes(entry['bytes']):>11s}  sha256 {entry['sha256'][:16]}…")
    if "model_data" in manifest["files"]:
        warn(f"weights are in {MODEL_DATA_FILE} (ONNX external data). Keep it beside {MODEL_FILE}, and load "
             f"the graph by file path (not from a buffer) so onnxruntime can find it.")
    log(f"use it: ofa-ve serve --model {out_dir}   |   ofa-ve check IMAGE TEXT --model {out_dir}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ExportError as err:
        print(f"[export_ofa] ERROR: {err}", file=sys.stderr)
        sys.exit(1)

"""GPT-2 byte-level BPE in pure Python: what export_ofa.py checks tokenizer.json with when the
`tokenizers` package is not installed (Debian does not package it).

It implements the canonical algorithm of OpenAI's GPT-2 ``encoder.py`` (which fairseq's GPT-2 BPE, and so
OFA's fairseq pipeline, and transformers' GPT2Tokenizer/BartTokenizer all follow): bytes mapped to
printable characters, GPT-2's pre-tokenisation regex, merges applied by rank. On top of it, the two
pieces of a Hugging Face ``tokenizer.json`` that OFA's tokenizer uses: added tokens (matched literally,
leftmost-longest, before BPE; ``lstrip`` takes the whitespace before the token) and the
``RobertaProcessing`` post-processor (``<s> … </s>``).

Only the layout export_ofa.py writes is accepted (no normalizer, ByteLevel pre-tokenizer without prefix
space, BPE model without dropout or unk, RobertaProcessing); anything else is refused rather than
tokenised differently from the `tokenizers` library. Needs the `regex` package (Debian: python3-regex)
for ``\\p{L}``/``\\p{N}``.
"""

from __future__ import annotations

import json
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

# GPT-2's pre-tokenisation pattern (encoder.py; tokenizers' ByteLevel pre-tokenizer uses the same one).
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


class TokenizerFormatError(Exception):
    """tokenizer.json uses a feature this implementation does not reproduce."""


def read_vocab_and_merges(vocab_path: str, merges_path: str) -> Tuple[Dict[str, int], List[str]]:
    """vocab.json and the merge lines of merges.txt (its ``#version`` header and blank lines skipped), as
    GPT-2 and ByteLevelBPETokenizer read them. A merge that is not two symbols separated by one space
    raises TokenizerFormatError."""
    with open(vocab_path, encoding="utf-8") as f:
        vocab = json.load(f)
    merges: List[str] = []
    with open(merges_path, encoding="utf-8") as f:
        for n, line in enumerate(f):
            line = line.rstrip("\r\n")
            if not line or (n == 0 and line.startswith("#version")):
                continue
            if len(line.split(" ")) != 2:
                raise TokenizerFormatError(f"{merges_path}:{n + 1}: expected two symbols separated by one space: {line!r}")
            merges.append(line)
    return vocab, merges


def bytes_to_unicode() -> Dict[int, str]:
    """GPT-2's reversible byte -> printable character table (encoder.py)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


class Encoding:
    """The part of tokenizers.Encoding that export_ofa.py reads."""

    def __init__(self, ids: List[int]) -> None:
        self.ids = ids


class ByteLevelBpe:
    """Byte-level BPE over a vocabulary and ranked merges, optionally with added tokens and
    RobertaProcessing. ``encode(text, add_special_tokens)`` mirrors ``tokenizers.Tokenizer.encode``."""

    def __init__(self, vocab: Dict[str, int], merges: Sequence[str], added: Sequence[Tuple[str, int, bool]] = (),
                 post_bos_eos: Optional[Tuple[int, int]] = None) -> None:
        import regex  # lazily: the module imports without it; encoding needs it

        self.vocab = dict(vocab)
        self.ranks: Dict[Tuple[str, str], int] = {}
        for rank, line in enumerate(merges):
            a, b = line.split(" ")
            self.ranks[(a, b)] = rank
        self.byte_encoder = bytes_to_unicode()
        self.pattern = regex.compile(GPT2_PATTERN)
        # (content, id, lstrip), longest first so that a leftmost match is also the longest there.
        self.added = sorted(added, key=lambda t: -len(t[0]))
        self.post_bos_eos = post_bos_eos
        self.cache: Dict[str, List[str]] = {}

    # ---- construction ----------------------------------------------------------------------------

    @classmethod
    def from_files(cls, vocab_path: str, merges_path: str, post_bos_eos: Optional[Tuple[int, int]] = None) -> "ByteLevelBpe":
        """Like ``ByteLevelBPETokenizer(vocab, merges)`` (no added tokens) + RobertaProcessing."""
        vocab, merges = read_vocab_and_merges(vocab_path, merges_path)
        return cls(vocab, merges, post_bos_eos=post_bos_eos)

    @classmethod
    def from_tokenizer_json(cls, path: str) -> "ByteLevelBpe":
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        model = doc.get("model") or {}
        pre = doc.get("pre_tokenizer") or {}
        post = doc.get("post_processor")

        def refuse(what: str) -> None:
            raise TokenizerFormatError(f"{path}: {what}; the pure-Python fallback reproduces only OFA's layout "
                                       f"(install `tokenizers` to check other tokenizers)")

        if doc.get("normalizer") is not None:
            refuse("has a normalizer")
        if pre.get("type") != "ByteLevel" or pre.get("add_prefix_space") or pre.get("use_regex", True) is not True:
            refuse(f"pre_tokenizer is {pre!r}, not ByteLevel without prefix space")
        if model.get("type", "BPE") != "BPE" or model.get("dropout") or model.get("continuing_subword_prefix") or \
                model.get("end_of_word_suffix"):
            refuse("model is not a plain BPE")
        if doc.get("truncation") is not None or doc.get("padding") is not None:
            refuse("has truncation or padding")
        merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges", [])]
        bos_eos = None
        if post is not None:
            if post.get("type") != "RobertaProcessing" or post.get("add_prefix_space"):
                refuse(f"post_processor is {post.get('type')!r}, not RobertaProcessing")
            bos_eos = (int(post["cls"][1]), int(post["sep"][1]))
        added = []
        for tok in doc.get("added_tokens", []):
            if tok.get("single_word") or tok.get("rstrip"):
                refuse(f"added token {tok.get('content')!r} uses single_word/rstrip")
            added.append((tok["content"], int(tok["id"]), bool(tok.get("lstrip"))))
        return cls(model.get("vocab", {}), merges, added, bos_eos)

    # ---- encoding --------------------------------------------------------------------------------

    def _bpe(self, word: str) -> List[str]:
        cached = self.cache.get(word)
        if cached is not None:
            return cached
        parts = list(word)
        while len(parts) > 1:
            best = min(((self.ranks.get(pair, 1 << 62), i) for i, pair in enumerate(zip(parts, parts[1:]))))
            if best[0] == 1 << 62:
                break
            i = best[1]
            a, b = parts[i], parts[i + 1]
            merged: List[str] = []
            j = 0
            while j < len(parts):  # merge every occurrence of the pair, left to right (encoder.py)
                if j < len(parts) - 1 and parts[j] == a and parts[j + 1] == b:
                    merged.append(a + b)
                    j += 2
                else:
                    merged.append(parts[j])
                    j += 1
            parts = merged
        self.cache[word] = parts
        return parts

    def _encode_plain(self, text: str) -> List[int]:
        ids: List[int] = []
        for piece in self.pattern.findall(text):
            mapped = "".join(self.byte_encoder[b] for b in piece.encode("utf-8"))
            for token in self._bpe(mapped):
                if token not in self.vocab:
                    raise TokenizerFormatError(f"BPE produced {token!r}, which is not in the vocabulary")
                ids.append(self.vocab[token])
        return ids

    def _split_added(self, text: str) -> Iterable[Tuple[str, Optional[int]]]:
        """Yield (plain text, None) and (token text, id) segments, added tokens leftmost-longest."""
        pos = 0
        start = 0
        while pos < len(text) and self.added:
            hit = next(((c, i, ls) for c, i, ls in self.added if text.startswith(c, pos)), None)
            if hit is None:
                pos += 1
                continue
            content, tid, lstrip = hit
            cut = pos
            if lstrip:
                while cut > start and text[cut - 1].isspace():
                    cut -= 1
            if cut > start:
                yield text[start:cut], None
            yield content, tid
            pos += len(content)
            start = pos
        if start < len(text):
            yield text[start:], None

    def encode(self, text: str, add_special_tokens: bool = True) -> Encoding:
        ids: List[int] = []
        for segment, tid in self._split_added(text):
            if tid is None:
                ids.extend(self._encode_plain(segment))
            else:
                ids.append(tid)
        if add_special_tokens and self.post_bos_eos is not None:
            ids = [self.post_bos_eos[0]] + ids + [self.post_bos_eos[1]]
        return Encoding(ids)

    def token_to_id(self, token: str) -> Optional[int]:
        for content, tid, _ in self.added:
            if content == token:
                return tid
        return self.vocab.get(token)

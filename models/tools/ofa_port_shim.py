"""Import OFA's Hugging Face port (OFA-Sys/OFA, branch ``feature/add_transformers``) unmodified, without
installing OFA's fork of transformers.

The port's modelling files import a handful of names from their transformers 4.18 base
(``from ...activations import ACT2FN`` etc.). This module builds a small package that provides exactly
those names, then loads ``configuration_ofa.py``, ``resnet.py`` and ``modeling_ofa.py`` from a directory
as its ``models.ofa`` subpackage, so their relative imports resolve here. The port's own ``__init__.py``
(a lazy-import table over the whole of transformers) and its tokenizer files (BartTokenizer) are not
loaded: the exporter writes and checks the tokenizer itself.

The top-level package is called ``ofa_port_transformers``, not ``transformers``, so an installed
transformers (official or OFA's fork) is neither shadowed nor used.

What each shimmed name does, compared with transformers 4.18 (the files are in
``../shared/ofa-port/transformers-base/`` for reference):
* ``ACT2FN``: the same activation modules (``gelu`` is ``nn.functional.gelu``).
* ``ModelOutput`` and the three output dataclasses: the same ordered-dict-plus-attributes behaviour
  (indexing by key or position, ``None`` fields left out).
* ``PretrainedConfig``: attributes from keyword arguments, ``attribute_map`` aliases, JSON load/save.
* ``PreTrainedModel``: ``post_init`` applies the model's ``_init_weights`` to every module (as 4.18's
  ``init_weights`` does); ``from_pretrained`` / ``save_pretrained`` read and write ``config.json`` and
  ``pytorch_model.bin`` and refuse missing or unexpected weights instead of warning.
* docstring decorators: no-ops. ``logging.get_logger``: the standard library's.

Usage::

    from ofa_port_shim import load_ofa_port
    ofa = load_ofa_port("../shared/ofa-port")      # a module with OFAConfig and OFAModel
    model = ofa.OFAModel(ofa.OFAConfig(d_model=64, ...))
"""

from __future__ import annotations

import copy
import importlib
import json
import logging as _std_logging
import math
import os
import sys
import types
from collections import OrderedDict
from dataclasses import dataclass, fields
from typing import Any, Dict, Optional, Tuple

PACKAGE = "ofa_port_transformers"
PORT_FILES = ("configuration_ofa.py", "resnet.py", "modeling_ofa.py")
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "pytorch_model.bin"


class OfaPortError(Exception):
    """The port directory is missing or does not look like OFA's port."""


# --------------------------------------------------------------------------------------------------
# The shimmed transformers names
# --------------------------------------------------------------------------------------------------

def _identity_decorator(*_args: Any, **_kwargs: Any) -> Any:
    def wrap(fn: Any) -> Any:
        return fn
    return wrap


class ModelOutput(OrderedDict):
    """transformers 4.18 ``file_utils.ModelOutput``: a dataclass that is also an ordered dict of its
    non-None fields; ``out[0]`` is the first non-None field, ``out["logits"]`` a field by name."""

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if value is not None:
                self[field.name] = value

    def __getitem__(self, k: Any) -> Any:
        if isinstance(k, str):
            return dict(self.items())[k]
        return self.to_tuple()[k]

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.keys() and value is not None:
            super().__setitem__(name, value)
        super().__setattr__(name, value)

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        super().__setattr__(key, value)

    def to_tuple(self) -> Tuple[Any, ...]:
        return tuple(self[k] for k in self.keys())


def _output_classes(torch: Any) -> Dict[str, Any]:
    FloatT = Optional[torch.FloatTensor]  # noqa: N806 - type alias
    Opt = Optional[Tuple[Any, ...]]  # noqa: N806

    @dataclass
    class BaseModelOutputWithPastAndCrossAttentions(ModelOutput):
        last_hidden_state: FloatT = None
        past_key_values: Opt = None
        hidden_states: Opt = None
        attentions: Opt = None
        cross_attentions: Opt = None

    @dataclass
    class Seq2SeqModelOutput(ModelOutput):
        last_hidden_state: FloatT = None
        past_key_values: Opt = None
        decoder_hidden_states: Opt = None
        decoder_attentions: Opt = None
        cross_attentions: Opt = None
        encoder_last_hidden_state: FloatT = None
        encoder_hidden_states: Opt = None
        encoder_attentions: Opt = None

    @dataclass
    class Seq2SeqLMOutput(ModelOutput):
        loss: FloatT = None
        logits: FloatT = None
        past_key_values: Opt = None
        decoder_hidden_states: Opt = None
        decoder_attentions: Opt = None
        cross_attentions: Opt = None
        encoder_last_hidden_state: FloatT = None
        encoder_hidden_states: Opt = None
        encoder_attentions: Opt = None

    return {c.__name__: c for c in (BaseModelOutputWithPastAndCrossAttentions, Seq2SeqModelOutput, Seq2SeqLMOutput)}


def _activations(torch: Any) -> Dict[str, Any]:
    nn = torch.nn

    class GELUActivation(nn.Module):
        def forward(self, x: Any) -> Any:
            return nn.functional.gelu(x)

    class NewGELUActivation(nn.Module):
        def forward(self, x: Any) -> Any:
            return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))

    class FastGELUActivation(nn.Module):
        def forward(self, x: Any) -> Any:
            return 0.5 * x * (1.0 + torch.tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x)))

    class QuickGELUActivation(nn.Module):
        def forward(self, x: Any) -> Any:
            return x * torch.sigmoid(1.702 * x)

    class LinearActivation(nn.Module):
        def forward(self, x: Any) -> Any:
            return x

    return {
        "relu": nn.ReLU(), "silu": nn.SiLU(), "swish": nn.SiLU(), "gelu": GELUActivation(), "tanh": nn.Tanh(),
        "gelu_new": NewGELUActivation(), "gelu_fast": FastGELUActivation(), "quick_gelu": QuickGELUActivation(),
        "linear": LinearActivation(), "sigmoid": nn.Sigmoid(),
    }


class PretrainedConfig:
    """The part of transformers 4.18 ``PretrainedConfig`` that OFAConfig and OFA's modelling use."""

    model_type = ""
    attribute_map: Dict[str, str] = {}

    def __setattr__(self, key: str, value: Any) -> None:
        key = type(self).attribute_map.get(key, key)
        super().__setattr__(key, value)

    def __getattr__(self, key: str) -> Any:  # only called when normal lookup fails
        alias = type(self).attribute_map.get(key)
        if alias is not None:
            return getattr(self, alias)
        raise AttributeError(f"{type(self).__name__} has no attribute {key!r}")

    def __init__(self, **kwargs: Any) -> None:
        self.return_dict = kwargs.pop("return_dict", True)
        self.output_hidden_states = kwargs.pop("output_hidden_states", False)
        self.output_attentions = kwargs.pop("output_attentions", False)
        self.torchscript = kwargs.pop("torchscript", False)
        self.is_encoder_decoder = kwargs.pop("is_encoder_decoder", False)
        for name in ("bos_token_id", "pad_token_id", "eos_token_id", "decoder_start_token_id",
                     "forced_bos_token_id", "forced_eos_token_id"):
            setattr(self, name, kwargs.pop(name, None))
        kwargs.pop("transformers_version", None)
        kwargs.pop("architectures", None)
        for key, value in kwargs.items():
            setattr(self, key, value)

    def to_dict(self) -> Dict[str, Any]:
        out = copy.deepcopy(self.__dict__)
        out["model_type"] = type(self).model_type
        return out

    def save_pretrained(self, directory: str) -> None:
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, CONFIG_NAME), "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=2, sort_keys=True)
            f.write("\n")

    @classmethod
    def from_pretrained(cls, directory: str, **overrides: Any) -> "PretrainedConfig":
        path = os.path.join(directory, CONFIG_NAME)
        with open(path, encoding="utf-8") as f:
            values = json.load(f)
        values.pop("model_type", None)
        values.update(overrides)
        return cls(**values)


def _pretrained_model_class(torch: Any) -> Any:
    class PreTrainedModel(torch.nn.Module):
        """The part of transformers 4.18 ``PreTrainedModel`` that OFA's modelling uses, plus loading and
        saving of ``pytorch_model.bin`` (strict: a missing or unexpected weight is an error)."""

        config_class: Any = None
        base_model_prefix = ""
        main_input_name = "input_ids"
        supports_gradient_checkpointing = False

        def __init__(self, config: Any, *_inputs: Any, **_kwargs: Any) -> None:
            super().__init__()
            self.config = config
            self.name_or_path = ""

        def _init_weights(self, module: Any) -> None:
            pass

        def post_init(self) -> None:
            # 4.18: init_weights() -> self.apply(self._init_weights), then tie_weights(). OFA ties its
            # embeddings by sharing one nn.Embedding (and output_projection.weight) at construction.
            self.apply(self._init_weights)

        @property
        def device(self) -> Any:
            return next(self.parameters()).device

        @property
        def dtype(self) -> Any:
            return next(self.parameters()).dtype

        def save_pretrained(self, directory: str) -> None:
            os.makedirs(directory, exist_ok=True)
            self.config.save_pretrained(directory)
            torch.save(self.state_dict(), os.path.join(directory, WEIGHTS_NAME))

        @classmethod
        def from_pretrained(cls, directory: str, **config_overrides: Any) -> Any:
            if not os.path.isdir(directory):
                raise OfaPortError(f"{directory} is not a directory (this shim loads local checkpoints only)")
            config = cls.config_class.from_pretrained(directory, **config_overrides)
            model = cls(config)
            weights = os.path.join(directory, WEIGHTS_NAME)
            if not os.path.exists(weights):
                raise OfaPortError(f"{directory} has no {WEIGHTS_NAME}")
            state = torch.load(weights, map_location="cpu")
            missing, unexpected = model.load_state_dict(state, strict=False)
            if missing or unexpected:
                raise OfaPortError(f"{weights} does not fit {cls.__name__} with its config.json: "
                                   f"missing {missing[:8]}, unexpected {unexpected[:8]}")
            model.name_or_path = directory
            model.eval()
            return model

    return PreTrainedModel


# --------------------------------------------------------------------------------------------------
# Building the package and loading the port
# --------------------------------------------------------------------------------------------------

def _module(name: str, attrs: Dict[str, Any], package_path: Optional[list] = None) -> types.ModuleType:
    mod = types.ModuleType(name)
    mod.__dict__.update(attrs)
    if package_path is not None:
        mod.__path__ = package_path  # a package: submodules are found in these directories
    sys.modules[name] = mod
    return mod


def _install_package(port_dir: str) -> None:
    import torch

    get_logger = _std_logging.getLogger
    logging_mod = _module(f"{PACKAGE}.utils.logging", {"get_logger": get_logger})
    decorators = {name: _identity_decorator for name in (
        "add_code_sample_docstrings", "add_end_docstrings", "add_start_docstrings",
        "add_start_docstrings_to_model_forward", "replace_return_docstrings")}
    root = _module(PACKAGE, {}, package_path=[])
    root.activations = _module(f"{PACKAGE}.activations", {"ACT2FN": _activations(torch)})
    root.file_utils = _module(f"{PACKAGE}.file_utils", {"ModelOutput": ModelOutput, **decorators})
    root.modeling_outputs = _module(f"{PACKAGE}.modeling_outputs", _output_classes(torch))
    root.modeling_utils = _module(f"{PACKAGE}.modeling_utils", {"PreTrainedModel": _pretrained_model_class(torch)})
    root.configuration_utils = _module(f"{PACKAGE}.configuration_utils", {"PretrainedConfig": PretrainedConfig})
    root.utils = _module(f"{PACKAGE}.utils", {"logging": logging_mod}, package_path=[])
    root.models = _module(f"{PACKAGE}.models", {}, package_path=[])
    # The port's directory as the models.ofa package, without running its __init__.py.
    root.models.ofa = _module(f"{PACKAGE}.models.ofa", {}, package_path=[os.path.abspath(port_dir)])


def load_ofa_port(port_dir: str) -> types.ModuleType:
    """Load OFA's port from ``port_dir`` (the files listed in PORT_FILES, unmodified) and return a module
    exposing ``OFAConfig``, ``OFAModel``, ``OFAPreTrainedModel`` and the modelling module itself as
    ``modeling``. Loading twice from the same directory returns the same module."""
    port_dir = os.path.abspath(port_dir)
    missing = [f for f in PORT_FILES if not os.path.isfile(os.path.join(port_dir, f))]
    if missing:
        raise OfaPortError(f"{port_dir} is not OFA's Hugging Face port: {', '.join(missing)} missing "
                           f"(expected the files of transformers/src/transformers/models/ofa/ from OFA-Sys/OFA, "
                           f"branch feature/add_transformers)")
    loaded = sys.modules.get(f"{PACKAGE}.models.ofa")
    if loaded is not None and list(getattr(loaded, "__path__", [])) != [port_dir]:
        raise OfaPortError(f"OFA's port is already loaded from {list(loaded.__path__)}; cannot load {port_dir} too")
    if loaded is None:
        _install_package(port_dir)
    configuration = importlib.import_module(f"{PACKAGE}.models.ofa.configuration_ofa")
    modeling = importlib.import_module(f"{PACKAGE}.models.ofa.modeling_ofa")
    api = types.ModuleType("ofa_port")
    api.__doc__ = f"OFA's Hugging Face port loaded from {port_dir} through ofa_port_shim"
    api.OFAConfig = configuration.OFAConfig
    api.OFAModel = modeling.OFAModel
    api.OFAPreTrainedModel = modeling.OFAPreTrainedModel
    api.modeling = modeling
    api.port_dir = port_dir
    return api

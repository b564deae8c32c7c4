"""A KV cache that grows by doubling, for the ``hf`` engine's decoding loop.

transformers' ``DynamicCache`` appends each new token with ``torch.cat``, which copies the whole cache:
for SmolLM2 at 32 rows and ~300 positions that is ~220 MB of copying per decoded token, 13% of a
rollout's time in a profile and far more when memory bandwidth is shared. ``GrowingLayer`` keeps
each layer's keys and values in a buffer with spare room and writes new tokens into it; the
attention reads a view of the filled part. Same values, so the same tokens (tested).

Only plain ``DynamicLayer`` caches are replaced (not sliding-window, quantised or hybrid ones), and
only where the installed transformers builds caches from per-layer objects; elsewhere the stock
cache is used unchanged.
"""

from __future__ import annotations

from typing import Any

import torch

try:
    from transformers.cache_utils import DynamicCache, DynamicLayer
except ImportError:  # older transformers: a cache without per-layer objects
    from transformers import DynamicCache

    DynamicLayer = None

_MIN_ROOM = 64


if DynamicLayer is not None:

    class GrowingLayer(DynamicLayer):  # type: ignore[misc, valid-type]
        """A ``DynamicLayer`` whose buffers double when full instead of being re-made at every token."""

        def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
            super().lazy_initialization(key_states, value_states)
            self._keys: torch.Tensor | None = None
            self._values: torch.Tensor | None = None
            self._length = 0

        def _make_room(self, key_states: torch.Tensor, value_states: torch.Tensor, needed: int) -> None:
            room = 0 if self._keys is None else self._keys.shape[-2]
            if needed <= room:
                return
            room = max(needed, 2 * room, _MIN_ROOM)
            keys = key_states.new_empty((*key_states.shape[:-2], room, key_states.shape[-1]))
            values = value_states.new_empty((*value_states.shape[:-2], room, value_states.shape[-1]))
            if self._length and self._keys is not None and self._values is not None:
                keys[..., : self._length, :] = self._keys[..., : self._length, :]
                values[..., : self._length, :] = self._values[..., : self._length, :]
            self._keys, self._values = keys, values

        def _expose(self) -> None:
            assert self._keys is not None and self._values is not None
            self.keys = self._keys[..., : self._length, :]
            self.values = self._values[..., : self._length, :]

        def update(
            self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any
        ) -> tuple[torch.Tensor, torch.Tensor]:
            if not self.is_initialized:
                self.lazy_initialization(key_states, value_states)
            end = self._length + key_states.shape[-2]
            self._make_room(key_states, value_states, end)
            assert self._keys is not None and self._values is not None
            self._keys[..., self._length : end, :] = key_states
            self._values[..., self._length : end, :] = value_states
            self._length = end
            self._expose()
            return self.keys, self.values

        def get_seq_length(self) -> int:
            return self._length if self.is_initialized else 0

        def batch_repeat_interleave(self, repeats: int) -> None:
            if self.get_seq_length():
                assert self._keys is not None and self._values is not None
                self._keys = self._keys.repeat_interleave(repeats, dim=0)
                self._values = self._values.repeat_interleave(repeats, dim=0)
                self._expose()

        def batch_select_indices(self, indices: torch.Tensor) -> None:
            if self.get_seq_length():
                assert self._keys is not None and self._values is not None
                self._keys, self._values = self._keys[indices], self._values[indices]
                self._expose()

        def crop(self, tokens_to_remove: int) -> None:
            raise NotImplementedError("the hf engine never crops its cache")


def decoding_cache(config: Any) -> Any:
    """A cache for one ``generate`` call: growing layers where the model's cache is made of plain ones."""
    try:
        cache = DynamicCache(config=config)
    except TypeError:  # transformers before per-layer caches takes no config
        cache = DynamicCache()
    layers = getattr(cache, "layers", None)
    if DynamicLayer is not None and layers and all(type(layer) is DynamicLayer for layer in layers):
        cache.layers = [GrowingLayer() for _ in layers]
    return cache

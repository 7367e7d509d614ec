"""Bottom layer: helpers every other layer may use (atomic file writes, the seed check)."""
from .files import atomic_torch_save, atomic_write_bytes, atomic_write_json, atomic_write_text, atomic_writer
from .seeds import MAX_SEED, check_seed

__all__ = ["atomic_write_bytes", "atomic_write_text", "atomic_write_json", "atomic_torch_save", "atomic_writer",
           "MAX_SEED", "check_seed"]

"""Bottom layer: helpers every other layer may use (file writes: atomic, never through a link; the seed check;
packed per-point flags)."""
from .files import (LinkRefusedError, atomic_torch_save, atomic_write_bytes, atomic_write_json, atomic_write_text,
                    atomic_writer, check_write_target, make_folder, open_append, open_lock, remove_file, replace_file)
from .flags import pack_flags, unpack_flags
from .seeds import MAX_SEED, check_seed

__all__ = ["atomic_write_bytes", "atomic_write_text", "atomic_write_json", "atomic_torch_save", "atomic_writer",
           "check_write_target", "make_folder", "open_append", "open_lock", "remove_file", "replace_file",
           "LinkRefusedError", "MAX_SEED", "check_seed", "pack_flags", "unpack_flags"]

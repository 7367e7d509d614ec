"""Bottom layer: helpers every other layer may use (file writes: atomic, never through a link; argument checks;
the seed check; device resolution; packed per-point flags)."""
from .checks import MAX_INT64, as_float, check_bool, check_integer, check_real, is_bool, is_integer, is_real, shown
from .devices import default_device, resolve_device
from .files import (LinkRefusedError, atomic_torch_save, atomic_write_bytes, atomic_write_json, atomic_write_text,
                    atomic_writer, check_write_target, make_folder, open_append, open_lock, remove_file, replace_file)
from .flags import pack_flags, unpack_flags
from .seeds import MAX_SEED, check_seed

__all__ = ["atomic_write_bytes", "atomic_write_text", "atomic_write_json", "atomic_torch_save", "atomic_writer",
           "check_write_target", "make_folder", "open_append", "open_lock", "remove_file", "replace_file",
           "LinkRefusedError", "MAX_SEED", "check_seed", "pack_flags", "unpack_flags", "check_integer", "check_real",
           "check_bool", "shown", "is_bool", "is_integer", "is_real", "as_float", "MAX_INT64", "default_device",
           "resolve_device"]

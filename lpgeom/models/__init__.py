"""Models: architectures (inputs in [0, 1], normalisation inside), pretrained weights, checkpoints."""
from .checkpoints import (CheckpointError, WeightsFile, load_network_weights, load_weights, read_state_dict,
                          read_weights, strip_prefixes)
from .dm_wide_resnet import DMWideResNet
from .normalize import Normalize
from .pretrained import PRETRAINED, load_pretrained, pretrained_path
from .registry import MODEL_NAMES, build_model, register_model
from .resnet import PreActResNet18, ResNet18, ResNet50
from .robustbench import ROBUSTBENCH_ARCHITECTURES, load_robustbench, robustbench_path
from .small_cnn import SmallCNN
from .soup import (BATCHNORM_RULES, average_states, check_same_parent, interpolate_states, recompute_batchnorm,
                   soup_state)
from .wide_resnet import WideResNet

__all__ = [
    "build_model", "register_model", "MODEL_NAMES", "Normalize", "SmallCNN", "ResNet18", "ResNet50", "PreActResNet18",
    "WideResNet", "DMWideResNet", "load_pretrained", "pretrained_path", "PRETRAINED", "load_robustbench", "robustbench_path",
    "ROBUSTBENCH_ARCHITECTURES", "read_state_dict", "read_weights", "WeightsFile", "load_weights", "load_network_weights", "strip_prefixes", "CheckpointError",
]
__all__ += ["soup_state", "interpolate_states", "average_states", "check_same_parent", "recompute_batchnorm",
            "BATCHNORM_RULES"]

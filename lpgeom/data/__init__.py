"""Data: Fashion-MNIST (embedded default), CIFAR-10/100, ImageNet, one loader per registered dataset (LOADERS),
real sample images shipped by packages, loaders, augmentation."""
from .cifar10 import cifar10, cifar100
from .extra import pseudo_labelled_extra
from .fashion_mnist import fashion_mnist, find_fashion_mnist, read_idx
from .imagenet import imagenet, imagenet_transform
from .registry import LOADERS, load_dataset
from .loaders import BatchPlan, default_workers, epoch_order, is_in_memory, subset, tensors, training_batches
from .samples import CIFAR10_CLASSES, FASHION_MNIST_CLASSES, SAMPLE_SETS, sample_images, samples_folder
from .transforms import random_crop_flip

__all__ = ["pseudo_labelled_extra", "fashion_mnist", "cifar10", "cifar100", "LOADERS", "load_dataset", "imagenet", "imagenet_transform", "find_fashion_mnist", "read_idx", "subset", "tensors", "epoch_order", "BatchPlan", "training_batches", "default_workers", "is_in_memory", "random_crop_flip",
           "sample_images", "samples_folder", "SAMPLE_SETS", "CIFAR10_CLASSES", "FASHION_MNIST_CLASSES"]

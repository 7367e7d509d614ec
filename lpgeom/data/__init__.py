"""Data: real sample images shipped by installed packages, datasets and loaders."""
from .samples import CIFAR10_CLASSES, FASHION_MNIST_CLASSES, SAMPLE_SETS, sample_images, samples_folder

__all__ = ["sample_images", "samples_folder", "SAMPLE_SETS", "CIFAR10_CLASSES", "FASHION_MNIST_CLASSES"]

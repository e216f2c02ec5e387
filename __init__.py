"""oldphoto: an old-photo restoration research toolkit.

Subpackages: ``oldphoto.degrade`` (degradation synthesis, numpy/OpenCV only),
``oldphoto.datasets``, ``oldphoto.models``, ``oldphoto.benchmark``.
"""

__version__ = "0.1.0"

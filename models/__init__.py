"""oldphoto.models: restoration models, a registry, and training."""

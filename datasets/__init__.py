"""oldphoto.datasets: image sources, paired dataset synthesis and torch datasets."""

"""Speed and memory benchmarks behind `oldphoto bench ...`: each prints figures beside a peer measured
in the same run."""

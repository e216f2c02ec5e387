"""oldphoto.benchmark: metrics, weights, the benchmark runner, leaderboard and speed benchmarks."""

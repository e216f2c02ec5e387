#!/bin/sh
# Trains the shipped bopbtl small checkpoints on the CPU (a demonstration; a later issue retrains
# them on a GPU). Run from the repository root: sh models/checkpoints/bopbtl-small/train.sh
# Photos: the builtin set plus Debian's mate-backgrounds nature photos (downloaded and unpacked
# under /tmp, never committed); real domain for VAE1: /work/shared/real-old (read at run time).
# Each stage runs on one thread; independent stages run side by side.
set -eu
HERE=models/checkpoints/bopbtl-small
WORK=/tmp/bopbtl-small-train
OLDPHOTO=.venv/bin/oldphoto
export OMP_NUM_THREADS=1
mkdir -p "$WORK/deb"
(cd "$WORK/deb" && apt-get download mate-backgrounds && dpkg -x mate-backgrounds_*.deb root)
.venv/bin/python "$HERE/prepare_photos.py" "$WORK/deb/root" "$WORK/photos" > "$WORK/photos.tsv"
for stage in vae-old vae-clean detector; do
  $OLDPHOTO train "bopbtl-$stage" --source "$WORK/photos" --config "$HERE/$stage.yaml" --out "$WORK/$stage" \
    --device cpu --seed 0 > "$WORK/$stage.out" 2>&1 &
done
wait
for model in bopbtl bopbtl-pnl bopbtl-local; do
  $OLDPHOTO train bopbtl-mapping --source "$WORK/photos" --config "$HERE/mapping-$model.yaml" \
    --out "$WORK/mapping-$model" --device cpu --seed 0 > "$WORK/mapping-$model.out" 2>&1 &
done
wait
for stage in vae-old vae-clean detector; do cp "$WORK/$stage/weights.pt" "$HERE/$stage.pt"; done
for model in bopbtl bopbtl-pnl bopbtl-local; do cp "$WORK/mapping-$model/weights.pt" "$HERE/mapping-$model.pt"; done

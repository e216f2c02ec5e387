#!/bin/sh
# Trains the shipped bopbtl small checkpoints on the CPU (a later issue retrains them on a GPU), runs
# the held-out check and writes the model cards. Run from the repository root:
#   sh models/checkpoints/bopbtl-small/train.sh            every stage
#   sh models/checkpoints/bopbtl-small/train.sh mappings   only the three mappings, between the VAEs
#                                                          and detector shipped here (when only the
#                                                          mapping's config or recipe changed)
# Photos: the builtin set plus the photographs of Debian's mate-backgrounds, plasma-workspace-wallpapers,
# lomiri-wallpapers-16.04/-20.04 and gcompris-qt-data for training (prepare_photos.py lists them), Debian's
# opencv-doc example photos for the held-out check (downloaded and unpacked under /tmp, never
# committed); real domain for VAE1: /work/shared/real-old (read at run time).
# Each stage runs on one thread; independent stages run side by side. An interrupted stage
# continues exactly where it stopped with the same command plus --resume.
set -eu
MODE=${1:-all}
case "$MODE" in all|mappings) ;; *) echo "usage: train.sh [all|mappings]" >&2; exit 2 ;; esac
HERE=models/checkpoints/bopbtl-small
WORK=/tmp/bopbtl-small-train
OLDPHOTO=.venv/bin/oldphoto
export OMP_NUM_THREADS=1
mkdir -p "$WORK/deb"
(cd "$WORK/deb" && apt-get download mate-backgrounds plasma-workspace-wallpapers lomiri-wallpapers-16.04 \
  lomiri-wallpapers-20.04 gcompris-qt-data opencv-doc && for deb in *.deb; do dpkg -x "$deb" root; done)
.venv/bin/python "$HERE/prepare_photos.py" "$WORK/deb/root" "$WORK"
train() {  # STAGE RUN: one training run with its config file, logging to $WORK/RUN.out
  $OLDPHOTO train "$1" --source "$WORK/photos" --config "$HERE/$2.yaml" --out "$WORK/$2" --device cpu --seed 0 \
    > "$WORK/$2.out" 2>&1
}
SHARED="vae-old vae-clean detector"
if [ "$MODE" = all ]; then
  (train bopbtl-vae-clean vae-clean && train bopbtl-detector detector) & clean=$!
  train bopbtl-vae-old vae-old
  wait $clean
else  # the mapping configs read the VAEs from $WORK; no log there tells write_cards.py they were not rerun
  for run in $SHARED; do
    rm -rf "$WORK/$run" && mkdir -p "$WORK/$run" && cp "$HERE/$run.pt" "$WORK/$run/weights.pt"
  done
fi
train bopbtl-mapping mapping-bopbtl & train bopbtl-mapping mapping-bopbtl-pnl &
train bopbtl-mapping mapping-bopbtl-local & wait
for run in $SHARED mapping-bopbtl mapping-bopbtl-pnl mapping-bopbtl-local; do
  cmp -s "$WORK/$run/weights.pt" "$HERE/$run.pt" || cp "$WORK/$run/weights.pt" "$HERE/$run.pt"
done
$OLDPHOTO weights fetch  # LPIPS backbone for the held-out table (no network needed once cached)
$OLDPHOTO synthesize --source folder --root "$WORK/heldout-src" --out "$WORK/heldout" --preset bopbtl-paper \
  --crop 256 --per-image 2 --seed 0 --no-progress
$OLDPHOTO benchmark --models input,classical,sequential,pix2pix,bopbtl,bopbtl-pnl,bopbtl-local --data "$WORK/heldout" \
  --metrics psnr,ssim,lpips --out "$WORK/heldout-run" --device cpu --no-progress
.venv/bin/python "$HERE/write_cards.py" "$WORK" "$(date -u +%Y-%m-%d)" \
  "$(nproc) CPU cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"

#!/bin/sh
# Trains the shipped bopbtl small checkpoints on the CPU, runs the held-out checks and writes the model
# cards. Run from the repository root:
#   sh recipes/bopbtl-small/train.sh            every stage
#   sh recipes/bopbtl-small/train.sh mappings   the three mappings and their fusion heads, between
#                                               the VAEs and detector shipped here
#   sh recipes/bopbtl-small/train.sh ae         the bopbtl-ae latent ablation: its two plain autoencoders,
#                                               mapping and fusion head (the detector shipped here)
#   sh recipes/bopbtl-small/train.sh fusion     only the three fusion heads, on top of the VAEs,
#                                               detector and mappings shipped here
#   sh recipes/bopbtl-small/train.sh tone       only the last two phases of the four fusion heads (the tone
#                                               stage, then the body behind it), on the first-phase runs an
#                                               earlier run left in $WORK
# Photos: the builtin set plus the photographs of Debian's mate-backgrounds, plasma-workspace-wallpapers,
# lomiri-wallpapers-16.04/-20.04 and gcompris-qt-data for training (prepare_photos.py lists them), Debian's
# opencv-doc example photos for the held-out checks, colour and grey (downloaded and unpacked under /tmp,
# never committed); real domain for VAE1: /work/shared/real-old (read at run time).
# Each stage runs on one thread; independent stages run side by side. Interrupted at any time, the
# script resumes when run again with the same MODE: a stage with a checkpoint in $WORK continues from it
# (`oldphoto train ... --resume`, the same weights as an uninterrupted run); delete $WORK to start over.
set -eu
MODE=${1:-all}
case "$MODE" in all|mappings|fusion|ae|tone) ;; *) echo "usage: train.sh [all|mappings|fusion|ae|tone]" >&2; exit 2 ;; esac
HERE=models/checkpoints/bopbtl-small  # the shipped exports, their run configs and model cards
RECIPE=recipes/bopbtl-small          # this script and its helpers
WORK=/tmp/bopbtl-small-train
OLDPHOTO=.venv/bin/oldphoto
MODELS="bopbtl bopbtl-pnl bopbtl-local"
DENOISER=models/checkpoints/sequential-small.pt  # the sequential baseline's denoiser (sequential-small.md: how it is made)
export OMP_NUM_THREADS=1
mkdir -p "$WORK/deb"
(cd "$WORK/deb" && apt-get download mate-backgrounds plasma-workspace-wallpapers lomiri-wallpapers-16.04 \
  lomiri-wallpapers-20.04 gcompris-qt-data opencv-doc && for deb in *.deb; do dpkg -x "$deb" root; done)
.venv/bin/python "$RECIPE/prepare_photos.py" "$WORK/deb/root" "$WORK"
train() {  # STAGE RUN [--set ...]: one training run with its config file and the frozen parts it needs
  # (resumed from its checkpoint), logging to $WORK/RUN.out
  stage=$1 run=$2
  shift 2
  resume=""
  [ -f "$WORK/$run/checkpoint.pt" ] && resume=--resume
  echo "$OLDPHOTO train $stage --source $WORK/photos --config $HERE/$run.yaml --out $WORK/$run --device cpu --seed 0 $*" \
    > "$WORK/$run.cmd"
  $OLDPHOTO train "$stage" --source "$WORK/photos" --config "$HERE/$run.yaml" --out "$WORK/$run" --device cpu --seed 0 \
    "$@" $resume >> "$WORK/$run.out" 2>&1
}
VAES="--set model.vae_old_weights=$WORK/vae-old/weights.pt --set model.vae_clean_weights=$WORK/vae-clean/weights.pt"
snapshots() {  # RUN PID: keep a copy of each checkpoint the run writes while PID trains (fusion_curve.py reads them)
  while kill -0 "$2" 2>/dev/null; do
    if [ -f "$WORK/$1/checkpoint.pt" ]; then
      snap="$WORK/$1/ckpt-$(stat -c %Y "$WORK/$1/checkpoint.pt").pt"
      [ -f "$snap" ] || cp "$WORK/$1/checkpoint.pt" "$snap"
    fi
    sleep 5
  done
}
ship() {  # RUN...: copy changed exports into the repository
  for run in "$@"; do cmp -s "$WORK/$run/weights.pt" "$HERE/$run.pt" || cp "$WORK/$run/weights.pt" "$HERE/$run.pt"; done
}
keep() {  # RUN...: use the shipped exports instead of training them (no log tells write_cards.py they were not rerun)
  for run in "$@"; do rm -rf "$WORK/$run" && mkdir -p "$WORK/$run" && cp "$HERE/$run.pt" "$WORK/$run/weights.pt"; done
}
train_or_keep() {  # STAGE RUN: a part already shipped and not being trained here is used as it is
  if [ -f "$HERE/$2.pt" ] && [ ! -f "$WORK/$2/checkpoint.pt" ]; then keep "$2"; else train "$@"; fi
}
fusion() {  # MODEL: the first phase of a fusion head on the frozen $VAES and mapping, then the last two
  train bopbtl-fusion "fusion-$1" $VAES --set "model.mapping_weights=$WORK/mapping-$1/weights.pt" & snapshots "fusion-$1" $!
  last_phases "$1"
}
last_phases() {  # MODEL: a fresh tone stage trained alone for the first phase's head (bopbtl-tone), then the
  # last phase: that tone stage kept fixed, the residual body restarted from the denoiser and trained behind it
  train bopbtl-tone "tone-$1" --set "model.fusion_weights=$WORK/fusion-$1/weights.pt"
  train bopbtl-fusion "fusion2-$1" $VAES --set "model.mapping_weights=$WORK/mapping-$1/weights.pt" \
    --set "model.fusion_weights=$WORK/tone-$1/weights.pt" --set "model.denoiser_weights=$DENOISER" & snapshots "fusion2-$1" $!
}
ship_fusion() {  # MODEL...: the last phase's head is the shipped one
  for model in "$@"; do
    cmp -s "$WORK/fusion2-$model/weights.pt" "$HERE/fusion-$model.pt" || cp "$WORK/fusion2-$model/weights.pt" "$HERE/fusion-$model.pt"
  done
}
AE_VAES="--set model.vae_old_weights=$WORK/vae-old-ae/weights.pt --set model.vae_clean_weights=$WORK/vae-clean-ae/weights.pt"
if [ "$MODE" = ae ]; then  # no held-out tables or cards yet for the ablation
  train_or_keep bopbtl-vae-clean vae-clean-ae & train_or_keep bopbtl-vae-old vae-old-ae & wait
  train_or_keep bopbtl-mapping mapping-bopbtl-ae $AE_VAES
  VAES=$AE_VAES
  fusion bopbtl-ae
  ship vae-old-ae vae-clean-ae mapping-bopbtl-ae
  ship_fusion bopbtl-ae
  exit 0
fi
SHARED="vae-old vae-clean detector"
MAPPING_RUNS="mapping-bopbtl mapping-bopbtl-pnl mapping-bopbtl-local"
if [ "$MODE" = all ]; then
  (train bopbtl-vae-clean vae-clean && train bopbtl-detector detector) & clean=$!
  train bopbtl-vae-old vae-old
  wait $clean
else
  keep $SHARED
fi
if [ "$MODE" = tone ]; then
  keep $MAPPING_RUNS vae-old-ae vae-clean-ae mapping-bopbtl-ae
  for model in $MODELS; do last_phases "$model" & done
  (VAES=$AE_VAES && last_phases bopbtl-ae) &
  wait
  ship_fusion bopbtl-ae
else
  if [ "$MODE" = fusion ]; then
    keep $MAPPING_RUNS
  else
    for model in $MODELS; do train bopbtl-mapping "mapping-$model" $VAES & done
    wait
  fi
  for model in $MODELS; do fusion "$model" & done
  wait
fi
ship $SHARED $MAPPING_RUNS
ship_fusion $MODELS
$OLDPHOTO weights fetch  # LPIPS backbone for the held-out tables (no network needed once cached)
echo '{"type": "Pipeline", "name": "identity", "transforms": []}' > "$WORK/identity.json"
for set in heldout heldout-grey; do
  rm -rf "$WORK/$set" "$WORK/$set-clean"
  $OLDPHOTO synthesize --source folder --root "$WORK/$set-src" --out "$WORK/$set" --preset bopbtl-paper \
    --crop 256 --per-image 2 --seed 0 --no-progress
  $OLDPHOTO synthesize --source folder --root "$WORK/$set-src" --out "$WORK/$set-clean" --config "$WORK/identity.json" \
    --crop 256 --per-image 2 --seed 0 --no-progress
done
for set in heldout heldout-grey heldout-clean heldout-grey-clean; do
  rm -rf "$WORK/$set-run"
  $OLDPHOTO benchmark --models input,classical,sequential,pix2pix,bopbtl,bopbtl-pnl,bopbtl-local,bopbtl-ae --data "$WORK/$set" \
    --metrics psnr,ssim,lpips --out "$WORK/$set-run" --device cpu --no-progress &
done
for model in $MODELS; do
  for run in "fusion-$model" "fusion2-$model"; do
    [ "$MODE" = tone ] && [ "$run" = "fusion-$model" ] && [ -f "$WORK/$run/curve.tsv" ] && continue  # not retrained
    .venv/bin/python "$RECIPE/fusion_curve.py" "$WORK" "$model" "$run" > "$WORK/curve-$run.out" &
  done
done
wait
.venv/bin/python "$RECIPE/write_cards.py" "$WORK" "$(date -u +%Y-%m-%d)" \
  "$(nproc --all) CPU cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"

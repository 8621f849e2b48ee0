#!/usr/bin/env bash
# The GAN measurements of docs/results/gan.md that want a GPU: DCGAN on MNIST (unconditional and CGAN),
# DCGAN on Fashion-MNIST, DCGAN on Stacked MNIST plain vs PacGAN (pack 4), each followed by `advkit eval gan`.
#   bash bench/gan_measure.sh OUT_DIR [STEPS] [DEVICE] [PYTHON]
# Packs <name>.train.json, <name>.eval.json and <name>.png (last sample grid) of every finished run into
# OUT_DIR/gan-results.tar.gz after each run (a time limit still returns the finished ones).
set -euo pipefail
out=${1:?usage: gan_measure.sh OUT_DIR [STEPS] [DEVICE] [PYTHON]}; steps=${2:-4000}; device=${3:-cuda}; py=${4:-python3}
runs=$(mktemp -d); mkdir -p "$out" "$runs/files"
common=(--arch dcgan --batch-size 64 --sample-every 1000 --checkpoint-every 100000 --eval-samples 5000
        --ema 0.999 --data-source offline --device "$device" --quiet)
measure() {  # name, samples for `eval gan`, then extra options for `gan train`
  local name=$1 n=$2; shift 2
  local t0=$SECONDS
  $py -m advkit.cli.main gan train "${common[@]}" --steps "$steps" --out "$runs/$name" "$@"
  echo "$name: trained $steps steps in $((SECONDS - t0)) s on $device"
  $py -m advkit.cli.main eval gan --ckpt "$runs/$name/checkpoints/best.pt" --n "$n" --device "$device" --quiet \
      --out "$runs/$name-eval"
  cp "$runs/$name/results.json" "$runs/files/$name.train.json"; cp "$runs/$name-eval/results.json" "$runs/files/$name.eval.json"
  cp "$(ls "$runs/$name/images/"*.png | tail -1)" "$runs/files/$name.png"
  tar czf "$out/gan-results.tar.gz" -C "$runs/files" .
}
# Most wanted first: a time limit cuts the tail. A failed run is reported and the next one still runs.
# Stacked MNIST is scored on 26k samples, as in PacGAN (Lin et al. 2018, table 2).
measure dcgan-mnist-cgan 10000 --num-classes 10 || echo "FAILED dcgan-mnist-cgan"
measure dcgan-stacked 26000 --dataset stacked-mnist || echo "FAILED dcgan-stacked"
measure dcgan-stacked-pack4 26000 --dataset stacked-mnist --pack 4 || echo "FAILED dcgan-stacked-pack4"
measure dcgan-fashion 10000 --dataset fashion-mnist || echo "FAILED dcgan-fashion"
measure dcgan-mnist 10000 || echo "FAILED dcgan-mnist"

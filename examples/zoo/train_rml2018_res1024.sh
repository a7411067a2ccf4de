#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The 1024-sample model of the 24 RML2018.01a classes (rml2018_res1024), trained on windows
# generated on the fly (datasets/presets/rml2018_random.yaml): no file, no batch repeats.
#
# res_cnn pools globally, so its weights do not depend on the window: stage 1 learns the
# classes on 256-sample windows (a quarter of the compute per window), stage 2 goes on from
# its weights at 1024, where the dense constellations (128QAM/256QAM, 64APSK/128APSK) have the
# symbols to be told apart. Resumable: run it again and it continues where it stopped; end a
# stage where it stands with `amc train ... --resume --epochs N` (N: the epochs it finished).
#
#   examples/zoo/train_rml2018_res1024.sh [WORK_DIR]       (default: runs/rml2018)
# EPOCHS1/EPOCHS2/EPOCHS3 (30/40/40) cap the stages (early stopping ends them first where it can);
# STEPS (500 batches of 256 per epoch) and VAL (8192 windows) size them.
set -euo pipefail
cd "$(dirname "$0")/../.."
amc=.venv/bin/amc
work=${1:-runs/rml2018}
mkdir -p "$work"

train() {  # OUT then amc train's options; a finished run is skipped, an interrupted one resumed
    local out=$1
    shift
    [ -f "$out/train.json" ] && return
    local resume=()
    [ -d "$out/backup" ] && resume=(--resume)
    $amc train --model res_cnn --generate rml2018_random --out "$out" --batch 256 --steps-per-epoch "${STEPS:-500}" \
        --val-windows "${VAL:-8192}" "$@" "${resume[@]}" 2>&1 | tee -a "$out.log"
}
train "$work/s1" --length 256 --lr 1e-3 --lr-patience 3 --stop-patience 8 --seed 21 --epochs "${EPOCHS1:-30}"
train "$work/s2" --length 1024 --lr 5e-4 --lr-patience 2 --stop-patience 6 --seed 22 --init "$work/s1" \
    --epochs "${EPOCHS2:-40}"
# stage 3: on at half the learning rate (the shipped bundle's stages ran as
# EPOCHS1=12 EPOCHS2=6 EPOCHS3=6 on the 2-core CPU, about 2.3 hours; each ranges.yaml records the
# preset it ran with)
train "$work/s3" --length 1024 --lr 2.5e-4 --lr-patience 2 --stop-patience 6 --seed 23 --init "$work/s2" \
    --epochs "${EPOCHS3:-40}"
echo "trained: $work/s3 (amc export $work/s3 --out python/amc/bundles/rml2018_res1024)"

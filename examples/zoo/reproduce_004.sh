#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Rajendran et al. 2018's variable-length experiment: LSTM-AP trained on windows of 128, 256 and 512 samples at
# 4 and 8 sps of the "modified" RadioML set, then tested on 64-sample windows it never saw
# (Rajendran et al. 2018 Fig. 8: about 75 % at 4 sps and high SNR).
#
# The sets are made with the original generator's noise formula (--compat), as Rajendran et al. 2018's were:
# with true Es/N0 labels, label 20 dB is only 14 dB per sample at 4 sps (11 dB at 8 sps),
# while the original's label 20 meant about 40 dB per sample.
#
# Two stages (an LSTM on amplitude-phase input sits at chance for its first ~200k vectors):
# 128-sample windows at SNR >= 0 dB, then every length from SNR >= -10 dB (Rajendran et al. 2018 left out the
# lower SNRs: "the model was converging slowly when those vectors were used").
# Resumable like reproduce_rml2016.sh: run it again and it continues where it stopped.
#
#   examples/zoo/reproduce_004.sh [WORK_DIR]       (default: runs/modified)
# EPOCHS1/EPOCHS2 (20/25) and MAX_TRAIN (30000 vectors per stage-2 epoch) size the training;
# DATA_ARGS adds generation options to both sets and DOCS names the results directory
# (the tests run a tiny version with them).
set -euo pipefail
cd "$(dirname "$0")/../.."
amc=.venv/bin/amc
work=${1:-runs/modified}
docs=${DOCS:-docs/zoo/modified}
read -r -a data_args <<< "${DATA_ARGS:-}"
data=$work/modified-compat.h5
unseen=$work/modified64-compat.h5
mkdir -p "$work"

[ -f "$data" ] || $amc dataset generate --preset modified --compat --seed 4 --format hdf5 \
    "${data_args[@]}" --out "$data"
[ -f "$unseen" ] || $amc dataset generate --preset modified --compat --length 64 --seed 5 \
    --format hdf5 "${data_args[@]}" --out "$unseen"

train() {  # OUT then amc train's options; a finished run is skipped, an interrupted one resumed
    local out=$1
    shift
    [ -f "$out/train.json" ] && return
    local resume=()
    [ -d "$out/backup" ] && resume=(--resume)
    $amc train --model lstm_ap --data "$data" --out "$out" --batch 128 --seed 0 --augment-phase \
        "$@" "${resume[@]}" 2>&1 | tee -a "$out.log"
}
train "$work/lstm_ap_s1" --length 128 --snr-min 0 --epochs "${EPOCHS1:-20}"
train "$work/lstm_ap_s2" --length 128 256 512 --snr-min -10 --init "$work/lstm_ap_s1" \
    --max-train "${MAX_TRAIN:-30000}" --epochs "${EPOCHS2:-25}"

$amc evaluate "$work/lstm_ap_s2" --out "$docs" --confusion-snr 0 10 20
$amc evaluate "$work/lstm_ap_s2" --data "$unseen" --out "$docs/unseen64" --confusion-snr 0 10 20
for run in lstm_ap_s1 lstm_ap_s2; do
    mkdir -p "$docs/runs/$run"
    cp "$work/$run"/{train.json,curves.png} "$docs/runs/$run/"
done
echo "tables and plots in $docs"

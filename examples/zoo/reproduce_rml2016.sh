#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Reproduce the papers' comparison on a regenerated RML2016.10a-style set (full size, the
# original generator's noise scaling): train every zoo model with the papers' protocol,
# evaluate them on one test split (Zhang et al. 2021's Table I, accuracy curves, confusion matrices),
# prune PET-CGDNN (Zhang et al. 2021's Table II) and quantise every model (Rajendran et al. 2018's int8 table).
#
# Every step is resumable: run the script again after an interruption and it continues
# (finished runs are skipped, an interrupted one resumes from its last epoch).
#
#   examples/zoo/reproduce_rml2016.sh [WORK_DIR]      (default: runs/rml2016)
#   EPOCHS=60 MODELS="pet_cgdnn gru2" examples/zoo/reproduce_rml2016.sh
# DATA_ARGS replaces the dataset's generation options, DOCS the results directory
# (the tests run a tiny version with both).
set -euo pipefail
cd "$(dirname "$0")/../.."
amc=.venv/bin/amc
work=${1:-runs/rml2016}
epochs=${EPOCHS:-200}  # the papers' cap; early stopping (patience 50) usually ends sooner
models=${MODELS:-"pet_cgdnn gru2 vgg_cnn cnn2 jnnet se_jnnet cldnn cnn_lstm lstm_ap"}
data=$work/rml2016.10a-compat.h5
docs=${DOCS:-docs/zoo/rml2016}
read -r -a data_args <<< "${DATA_ARGS:---preset rml2016.10a --compat --seed 1 --format hdf5}"
mkdir -p "$work"

if [ ! -f "$data" ]; then
    $amc dataset generate "${data_args[@]}" --out "$data"
fi

runs=()
for m in $models; do
    out=$work/$m
    runs+=("$out")
    [ -f "$out/train.json" ] && continue
    resume=()
    [ -d "$out/backup" ] && resume=(--resume)
    $amc train --model "$m" --data "$data" --out "$out" --epochs "$epochs" --seed 0 "${resume[@]}" \
        2>&1 | tee -a "$out.log"
done

$amc evaluate "${runs[@]}" --out "$docs" --confusion-snr 0 10 18
for out in "${runs[@]}"; do  # each run's record (command, data checksum, history) and curves
    mkdir -p "$docs/runs/$(basename "$out")"
    cp "$out"/{train.json,curves.png} "$docs/runs/$(basename "$out")/"
done
if [ -f "$work/pet_cgdnn/train.json" ]; then
    $amc prune "$work/pet_cgdnn" --out "$work/pet_cgdnn_pruned" ${PRUNE_ARGS:-}
    mkdir -p "$docs/pruning"
    cp "$work"/pet_cgdnn_pruned/{table.md,table.csv,accuracy.png,accuracy.json} "$docs/pruning/"
fi
# Rajendran et al. 2018's int8 table for every model: float32, int8 and int8-weights rows of each run in one table
mkdir -p "$docs/int8"
for out in "${runs[@]}"; do
    q=${out}_int8
    [ -f "$q/table.md" ] || $amc quantize "$out" --out "$q"
    cp "$q/accuracy.json" "$docs/int8/$(basename "$out").json"
done
for ext in md csv; do
    head_lines=$([ $ext = md ] && echo 2 || echo 1)
    {
        head -n "$head_lines" "${runs[0]}_int8/table.$ext"
        for out in "${runs[@]}"; do tail -n "+$((head_lines + 1))" "${out}_int8/table.$ext"; done
    } > "$docs/int8/table.$ext.partial"
    mv "$docs/int8/table.$ext.partial" "$docs/int8/table.$ext"
done
echo "tables and plots in $docs"

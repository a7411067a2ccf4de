#!/bin/sh
# The default model (issue 17), stage 3: from stage 2's weights, on the preset with outliers
# (outlier exposure), at stage 2's last learning rate. Resumable: run again to continue.
cd /work/runs
R=""
[ -d res_cnn_stage3/backup ] && R="--resume"
exec env PYTHONPATH=/work/main/build/test_modules TF_CPP_MIN_LOG_LEVEL=3 /work/main/.venv/bin/amc train --model res_cnn --generate rml2016_random --length 128 \
  --epochs 300 --steps-per-epoch 500 --batch 256 --val-windows 8192 --lr 2.5e-4 --lr-patience 3 --stop-patience 10 \
  --seed 19 --init res_cnn_stage2 --out res_cnn_stage3 $R

# Sourced by the GPU sweep scripts (run-gpu-laptop.sh, run-gpu-paper.sh) on the GPU machine: unpacks the NanoGpt sample that
# ../shared/gpu/pack-for-device.sh put in .device/ into a fresh WORK folder (APP holds it) and puts the machine's CUDA libtorch
# (from its PyTorch) on LD_LIBRARY_PATH.
WORK=$(mktemp -d)
APP=$WORK/app
mkdir -p "$APP" && tar -C "$APP" -xJf .device/app.tar.xz
export LD_LIBRARY_PATH=$(python3 -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

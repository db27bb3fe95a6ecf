"""PyTorch reference for bench/train.bench.ts: the same models, batch size and optimizer on one CPU thread.

Prints one JSON line: {"model": ..., "samplesPerSecond": ..., "samplesPerCpuSecond": ..., "torch": version}.
Usage: python3 bench/torch_train.py MODEL [SAMPLES] [BATCH] [ACTIVATION] [SECONDS]
Passes over the SAMPLES repeat until SECONDS (default 3) have gone by, after one warm-up pass.
"""
import json
import os
import sys
import time

# torch.set_num_threads(1) alone leaves an OpenMP worker spinning on a second core (twice the CPU
# time, and slower: lenet5 5,600/s against 10,100/s on our 2-core machine); these make it one thread.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import torch  # noqa: E402 (after the thread settings)
from torch import nn

torch.set_num_threads(1)
torch.manual_seed(0)


def mlp(activation: str) -> nn.Module:
    act = nn.ReLU if activation == "relu" else nn.Sigmoid
    layers, width = [nn.Flatten()], 784
    for _ in range(4):
        layers += [nn.Linear(width, 50), act()]
        width = 50
    layers += [nn.Linear(50, 10)]
    return nn.Sequential(*layers)


def sign_cnn() -> nn.Module:
    # Keras 'same' max-pooling with stride 2 is ceil_mode here: 28 -> 14 -> 7 -> 4, flatten 4*4*25 = 400.
    return nn.Sequential(
        nn.Conv2d(1, 75, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(75), nn.MaxPool2d(2, 2, ceil_mode=True),
        nn.Conv2d(75, 50, 3, padding=1), nn.ReLU(), nn.Dropout(0.2), nn.BatchNorm2d(50),
        nn.MaxPool2d(2, 2, ceil_mode=True),
        nn.Conv2d(50, 25, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(25), nn.MaxPool2d(2, 2, ceil_mode=True),
        nn.Flatten(), nn.Linear(400, 512), nn.ReLU(), nn.Dropout(0.3), nn.Linear(512, 24),
    )


def lenet5() -> nn.Module:
    # libs/models' lenet5: Conv 6 5x5 'same' tanh -> AvgPool 2 -> Conv 16 5x5 'valid' tanh -> AvgPool 2
    # -> Flatten (5*5*16 = 400) -> Dense 120 tanh -> Dense 84 tanh -> Dense 10.
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2, 2),
        nn.Flatten(), nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10),
    )


def main() -> None:
    name = sys.argv[1]
    samples = int(sys.argv[2]) if len(sys.argv) > 2 else 8192
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 64
    activation = sys.argv[4] if len(sys.argv) > 4 else "relu"
    min_seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 3.0
    if name == "mlp":
        model, classes = mlp(activation), 10
    elif name == "sign-cnn":
        model, classes = sign_cnn(), 24
    elif name == "lenet5":
        model, classes = lenet5(), 10
    else:
        raise SystemExit(f"unknown model {name}")
    x = torch.rand(samples, 1, 28, 28)
    y = torch.randint(0, classes, (samples,))
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    loss_fn = nn.CrossEntropyLoss()
    model.train()

    def epoch() -> None:
        for i in range(0, samples, batch):
            opt.zero_grad()
            loss = loss_fn(model(x[i : i + batch]), y[i : i + batch])
            loss.backward()
            opt.step()

    epoch()  # warm-up
    start = time.perf_counter()
    cpu_start = time.process_time()
    passes = 0
    while passes == 0 or time.perf_counter() - start < min_seconds:
        epoch()
        passes += 1
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    print(
        json.dumps(
            {
                "model": name,
                "samplesPerSecond": passes * samples / seconds,
                "samplesPerCpuSecond": passes * samples / cpu_seconds,
                "torch": torch.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()

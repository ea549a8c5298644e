"""PyTorch reference for bench/train-throughput.ts: the same network, shapes and optimiser.

Run with Debian's interpreter (/usr/bin/python3, package python3-torch; libopenblas0-pthread
makes it 2-2.5x faster). Prints one JSON line with training and inference images/s.
"""
import argparse
import json
import statistics
import time

import torch
from torch import nn


def build_network(dropout: float) -> nn.Module:
    # 'same' convolutions; 3x3/2 ceil-mode max pooling gives 48 -> 24 -> 12 -> 6 as in tfjs.
    def conv(cin: int, cout: int, k: int) -> list:
        return [nn.Conv2d(cin, cout, k, padding=k // 2), nn.ReLU()]

    def pool() -> nn.Module:
        return nn.MaxPool2d(3, 2, ceil_mode=True)

    return nn.Sequential(
        *conv(1, 64, 5), pool(),
        *conv(64, 64, 3), *conv(64, 128, 3), pool(),
        *conv(128, 128, 3), *conv(128, 128, 3), pool(),
        nn.Flatten(),
        nn.Linear(128 * 6 * 6, 1024), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(1024, 1024), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(1024, 7),
    )


def timed(step, warmup: int, steps: int) -> float:
    """Median seconds of `steps` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--batch', type=int, default=128)
    parser.add_argument('--steps', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--lr', type=float, default=0.005)
    parser.add_argument('--dropout', type=float, default=0.5)
    args = parser.parse_args()

    # Debian's build sees one core through OpenMP and defaults to 1 thread.
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build_network(args.dropout).to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adagrad(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.randn(args.batch, 1, 48, 48).to(memory_format=torch.channels_last)
    labels = torch.randint(0, 7, (args.batch,))

    def train_step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), labels)
        loss.backward()
        optimizer.step()

    def infer_step() -> None:
        with torch.no_grad():
            model(x)

    model.train()
    train_s = timed(train_step, args.warmup, args.steps)
    model.eval()
    infer_s = timed(infer_step, args.warmup, args.steps)
    print(json.dumps({
        'torch': torch.__version__,
        'threads': torch.get_num_threads(),
        'batch': args.batch,
        'trainImagesPerSec': args.batch / train_s,
        'inferImagesPerSec': args.batch / infer_s,
        'trainStepMs': train_s * 1000,
        'inferStepMs': infer_s * 1000,
    }))


if __name__ == '__main__':
    main()

"""Times the tacefusion CT network written in PyTorch (eager) on the crops the Rust benchmark wrote:
the same 3D ResNet (stride-2 residual stages, group normalisation, global mean, linear Cox head),
the same Breslow Cox partial-likelihood loss, AdamW, the same batch size and batch order.

Usage: python torch_train.py CROPS.npy OUTCOMES.npy WIDTH DEPTH BATCH WARMUP STEPS DEVICE THREADS
Prints one JSON object: seconds per step (median), patients per second, the first step's loss.
"""
import json
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn

crops_path, outcomes_path = sys.argv[1], sys.argv[2]
width, depth, batch, warmup, steps = (int(v) for v in sys.argv[3:8])
device, threads = sys.argv[8], int(sys.argv[9])
torch.set_num_threads(threads)
torch.manual_seed(0)


def groups(c):
    return next(g for g in (8, 4, 2, 1) if c % g == 0 and g <= c)


class ConvNorm(nn.Module):
    def __init__(self, cin, cout, k, stride):
        super().__init__()
        self.conv = nn.Conv3d(cin, cout, k, stride=stride, padding=k // 2, bias=False)
        self.norm = nn.GroupNorm(groups(cout), cout)

    def forward(self, x):
        return self.norm(self.conv(x))


class Block(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.first = ConvNorm(cin, cout, 3, 2)
        self.second = ConvNorm(cout, cout, 3, 1)
        self.shortcut = ConvNorm(cin, cout, 1, 2)

    def forward(self, x):
        return torch.relu(self.second(torch.relu(self.first(x))) + self.shortcut(x))


class Net(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.stem = ConvNorm(channels, width, 3, 1)
        blocks, c = [], width
        for i in range(depth):
            blocks.append(Block(c, width << i))
            c = width << i
        self.stages = nn.Sequential(*blocks)
        self.head = nn.Linear(c, 1, bias=False)

    def forward(self, x):
        x = self.stages(torch.relu(self.stem(x)))
        return self.head(x.mean(dim=(2, 3, 4))).squeeze(1)


def cox_breslow(risk, time_, event):
    order = torch.argsort(time_, descending=True)
    r, e = risk[order], event[order]
    log_cum = torch.logcumsumexp(r, dim=0)
    return -((r - log_cum) * e).sum() / e.sum().clamp(min=1)


crops = torch.from_numpy(np.load(crops_path)).float()
outcomes = np.load(outcomes_path)
times, events = torch.from_numpy(outcomes[0]).float(), torch.from_numpy(outcomes[1]).float()
net = Net(crops.shape[1]).to(device)
opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-4)
n = crops.shape[0]
durations, first_loss = [], None
for step in range(warmup + steps):
    start = (step * batch) % n
    idx = torch.arange(start, start + batch) % n
    if device == "cuda":
        torch.cuda.synchronize()
    began = time.perf_counter()  # the batch's copy to the device counts, as on the Rust side
    x = crops[idx].to(device)
    t, e = times[idx].to(device), events[idx].to(device)
    loss = cox_breslow(net(x), t, e)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if device == "cuda":
        torch.cuda.synchronize()
    if step >= warmup:
        durations.append(time.perf_counter() - began)
    if first_loss is None:
        first_loss = float(loss)
median = statistics.median(durations)
print(json.dumps({"step_median_s": median, "patients_per_s": batch / median, "first_loss": first_loss,
                  "torch": torch.__version__, "threads": torch.get_num_threads()}))

"""The native anchor of re-lite:bench: the BiLSTM-attention head (Zhou et al. 2016) forward pass in PyTorch.

Same shape and equations as biore's lite head: a one-layer bidirectional LSTM over input vectors, attention
alpha = softmax(w^T tanh(H)), r = H alpha, h* = tanh(r), a linear layer to the labels. Inputs are random (the
timing does not depend on the values). Prints one JSON object. Not a project dependency: re-lite:bench runs it
when `python3 -c "import torch"` works (Debian: apt install python3-torch) and reports it as unavailable otherwise.

    python3 apps/re-lite/bench/torch_anchor.py --input 1124 --hidden 256 --steps 64 --batch 32 --threads 2
"""
import argparse
import json
import time

import torch


class BiLSTMAttention(torch.nn.Module):
    def __init__(self, d_in, hidden, labels):
        super().__init__()
        self.lstm = torch.nn.LSTM(d_in, hidden, batch_first=True, bidirectional=True)
        self.w = torch.nn.Parameter(torch.randn(2 * hidden) * 0.05)
        self.out = torch.nn.Linear(2 * hidden, labels)

    def forward(self, x):
        h, _ = self.lstm(x)                      # [B, T, 2H]
        alpha = torch.softmax(torch.tanh(h) @ self.w, dim=1)  # [B, T]
        r = (h * alpha.unsqueeze(-1)).sum(1)     # [B, 2H]
        return torch.softmax(self.out(torch.tanh(r)), -1), alpha


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--input', type=int, default=1124)
    p.add_argument('--hidden', type=int, default=256)
    p.add_argument('--steps', type=int, default=64, help='time steps (tokens) per sentence')
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--labels', type=int, default=6)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--repeats', type=int, default=10)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = BiLSTMAttention(a.input, a.hidden, a.labels).eval()
    x = torch.randn(a.batch, a.steps, a.input)
    with torch.no_grad():
        for _ in range(2):
            model(x)
        t0 = time.perf_counter()
        for _ in range(a.repeats):
            model(x)
        ms = (time.perf_counter() - t0) * 1000 / (a.repeats * a.batch)
    print(json.dumps({'anchor': 'pytorch', 'torch': torch.__version__, 'threads': a.threads, 'input': a.input, 'hidden': a.hidden,
                      'steps': a.steps, 'batch': a.batch, 'msPerSentence': round(ms, 3)}))


if __name__ == '__main__':
    main()
